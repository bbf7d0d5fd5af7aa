"""Comprobaciones de los ejercicios de 06_visualizar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno
(`taller.load` y `taller.event_time`); ningún mensaje la revela.
"""

from functools import cache

import pandas as pd

from taller.exercises import exercise

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
VICTIM = "WORKSTATION6"
TOLERANCE = 0.01  # segundos: Sysmon da milisegundos


def _events() -> pd.DataFrame:
    from taller.loader import load

    return load(PSEXEC)


def _host(events: pd.DataFrame) -> pd.Series:
    return events["Hostname"].str.split(".").str[0].str.upper()


@cache
def _agent_delay() -> tuple[float, float]:
    """(segundos en hora del evento, segundos en @timestamp) entre el nacimiento
    del powershell.exe del servicio y su conexión a su servidor."""
    from taller.clocks import event_time

    events = _events()
    events = events[(events["Channel"] == SYSMON) & _host(events).eq(VICTIM)]
    created = events[events["EventID"] == 1]
    created = created[created["ParentImage"].str.lower().str.endswith("\\cmd.exe")]
    agent = created[created["Image"].str.lower().str.endswith("\\powershell.exe")]
    connections = events[events["EventID"] == 3]
    connection = connections[connections["ProcessGuid"].isin(agent["ProcessGuid"])]
    times = event_time(events)
    first = connection.index[0]
    born = agent.index[0]
    by_event = (times[first] - times[born]).total_seconds()
    by_arrival = (events.at[first, "@timestamp"] - events.at[born, "@timestamp"]).total_seconds()
    return by_event, by_arrival


def _seconds(answer) -> float | None:
    if isinstance(answer, pd.Timedelta):
        return answer.total_seconds()
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


@exercise("06.1")
def _(answer):
    expected, by_arrival = _agent_delay()
    value = _seconds(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de segundos (un float)."
    if abs(value - expected) <= TOLERANCE:
        return True, (
            "Es el tiempo que pasa entre el nacimiento del agente nuevo y su "
            "primera llamada a su servidor, medido con la hora del evento."
        )
    if abs(value - by_arrival) <= TOLERANCE:
        return False, (
            "Pista: esa es la diferencia en @timestamp, la hora de llegada al "
            "recolector. Reste las horas del evento (la columna time)."
        )
    if abs(value - expected * 1000) <= TOLERANCE * 1000:
        return False, "Pista: la respuesta va en segundos, no en milisegundos."
    return False, (
        "Pista: reste la hora del evento de la conexión (Sysmon 3 a 10.10.10.5) "
        "menos la del nacimiento de powershell.exe (Sysmon 1) y use "
        ".total_seconds()."
    )


CHANNEL_NAMES = {
    "microsoft-windows-sysmon/operational": "Sysmon",
    "security": "Security",
    "system": "System",
    "windows powershell": "PowerShell",
    "microsoft-windows-powershell/operational": "PowerShell/Operational",
    "microsoft-windows-wmi-activity/operational": "WMI",
    "microsoft-windows-taskscheduler/operational": "TaskScheduler",
}


@cache
def _channels_per_host() -> pd.Series:
    events = _events()
    channels = events["Channel"].str.lower().map(CHANNEL_NAMES)
    return channels.groupby(_host(events)).nunique()


@exercise("06.2")
def _(answer):
    per_host = _channels_per_host()
    expected = int(per_host["MORDORDC"])
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return False, "Pista: la respuesta es un número de canales (un int)."
    if value == expected:
        return True, (
            "Del controlador de dominio no se recogieron todos los canales: la "
            "ausencia de eventos no es ausencia de actividad."
        )
    if value == len(CHANNEL_NAMES):
        return False, (
            "Pista: ese es el número de canales del conjunto entero; cuente solo "
            "las celdas de MORDORDC con algún evento."
        )
    return False, (
        "Pista: en la tabla de pd.crosstab, cuente en la columna MORDORDC las "
        "filas mayores que cero (normalice antes Security/security)."
    )


# Respuestas equivocadas verosímiles, para tests/test_exercises.py.
WRONG = {
    "06.1": lambda: [_agent_delay()[1], _agent_delay()[0] * 1000],
    "06.2": lambda: [len(CHANNEL_NAMES), int(_channels_per_host()["WORKSTATION5"])],
}
