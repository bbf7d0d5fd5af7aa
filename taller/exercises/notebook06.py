"""Comprobaciones de los ejercicios de 06_visualizar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno
(`taller.load` y `taller.event_time`); ningún mensaje la revela.
"""

from functools import cache

import pandas as pd

from taller.exercises import exercise
from taller.exercises.answers import DECIMAL, INTEGER, close

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
VICTIM = "WORKSTATION6"


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


@exercise(
    "06.1",
    DECIMAL,
    hints=(
        "La tabla milestones tiene la hora del evento de cada hito; la "
        "respuesta es la resta de las horas de los dos hitos, en segundos.",
        "Indexe milestones por la columna milestone, tome la columna time de "
        "los dos hitos (el Sysmon 1 de powershell.exe y su Sysmon 3), reste "
        "y pase el Timedelta a segundos con total_seconds().",
    ),
)
def _(value):
    expected, by_arrival = _agent_delay()
    if close(value, expected):
        return True, (
            "Es el tiempo que pasa entre el nacimiento del agente nuevo y su "
            "primera llamada a su servidor, medido con la hora del evento."
        )
    if abs(value - expected) < 0.05:
        return False, (
            "Es ese tiempo, pero redondeado de más: guárdelo sin redondear (o "
            "con dos decimales o más)."
        )
    if abs(value - by_arrival) < 0.05:
        return False, (
            "Esa es la diferencia en @timestamp, la hora de llegada al "
            "recolector. Reste las horas del evento (la columna time)."
        )
    if abs(value - expected * 1000) < 1:
        return False, "La respuesta va en segundos, no en milisegundos."
    if abs(value + expected) < 0.05:
        return False, "Ha restado al revés: la conexión es posterior al nacimiento."
    return False, None


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


@exercise(
    "06.2",
    INTEGER,
    hints=(
        "En la tabla canales × equipos, la columna de MORDORDC tiene un "
        "recuento por canal: cuente los canales cuyo recuento es mayor que cero.",
        "pd.crosstab de la columna de canal y la de equipo da la tabla; "
        "compare su columna MORDORDC con cero y sume la máscara. Use los "
        "nombres de canal normalizados (Security y security son el mismo).",
    ),
)
def _(value):
    per_host = _channels_per_host()
    expected = int(per_host["MORDORDC"])
    if value == expected:
        return True, (
            "Del controlador de dominio no se recogieron todos los canales: la "
            "ausencia de eventos no es ausencia de actividad."
        )
    if value == len(CHANNEL_NAMES):
        return False, (
            "Ese es el número de canales del conjunto entero; cuente solo "
            "los canales con algún evento de MORDORDC."
        )
    if value in set(per_host.drop("MORDORDC")):
        return False, "Ese recuento es el de otro equipo; mire la columna de MORDORDC."
    return False, None


# Respuestas equivocadas verosímiles, para tests/test_exercises.py.
WRONG = {
    "06.1": lambda: [
        _agent_delay()[1],  # con @timestamp
        _agent_delay()[0] * 1000,  # en milisegundos
        round(_agent_delay()[0], 1),  # redondeado de más
        pd.Timedelta(seconds=_agent_delay()[0]),  # sin pasar a segundos
    ],
    "06.2": lambda: [len(CHANNEL_NAMES), int(_channels_per_host()["WORKSTATION5"])],
}
