"""Comprobaciones de los ejercicios de 05_correlacionar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache

from taller.exercises import exercise
from taller.exercises.answers import INTEGER, TEXT

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
WINRM = "covenant_psremoting_command"


def _security(name: str):
    from taller.loader import load

    events = load(name)
    security = events[events["Channel"].str.lower() == "security"]
    return security.assign(
        SubjectLogonId=security["SubjectLogonId"].str.lower(),
        TargetLogonId=security["TargetLogonId"].str.lower(),
    )


def _network_logons(name: str):
    security = _security(name)
    return security[(security["EventID"] == 4624) & (security["LogonType"] == 3)]


@cache
def _accounts() -> frozenset[str]:
    return frozenset(user.lower() for user in _network_logons(PSEXEC)["TargetUserName"])


@exercise(
    "05.1",
    TEXT,
    hints=(
        "En la tabla de recuentos, deje fuera las cuentas de equipo (las que "
        "acaban en $) y mire qué cuenta queda.",
        "El método de texto str.endswith sobre la columna TargetUserName da "
        "una máscara de las cuentas de equipo; niéguela con ~ para quedarse "
        "con las demás filas.",
    ),
)
def _(value):
    given = value.lower().rpartition("\\")[2]
    people = frozenset(user for user in _accounts() if not user.endswith("$"))
    if given in people:
        return (
            True,
            "Es la cuenta con la que el atacante entra en WORKSTATION6 desde WORKSTATION5.",
        )
    if given.endswith("$"):
        return False, "Las cuentas que acaban en «$» son de equipo; busque otra."
    if given not in _accounts():
        return False, (
            "Esa cuenta no aparece en los inicios de sesión de red de este "
            "conjunto (network_logons, el de PsExec)."
        )
    return False, None


@cache
def _unused_logons() -> tuple[int, int]:
    security = _security(PSEXEC)
    logons = _network_logons(PSEXEC)
    services = security[security["EventID"] == 4697]
    keys = set(zip(services["Hostname"], services["SubjectLogonId"], strict=True))
    used = [
        (host, logon) in keys
        for host, logon in zip(logons["Hostname"], logons["TargetLogonId"], strict=True)
    ]
    return len(used) - sum(used), len(used)


@exercise(
    "05.2",
    INTEGER,
    hints=(
        "Tras la unión externa con indicator=True, la columna _merge dice de "
        "qué tabla viene cada fila; cuente las filas que solo están en "
        "network_logons.",
        "network_logons es la tabla de la derecha de la unión. value_counts() "
        "sobre _merge le muestra las tres etiquetas posibles: compare _merge "
        "con la de «solo a la derecha» y sume la máscara.",
    ),
)
def _(value):
    expected, total = _unused_logons()
    if value == expected:
        return True, "Lo normal: casi ningún inicio de sesión de red instala un servicio."
    if value == total:
        return False, (
            "Ese es el total de inicios de sesión de red; cuente solo los que "
            "no encontraron ningún servicio al otro lado de la unión."
        )
    if value == total - expected:
        return False, (
            "Esos son los inicios de sesión que sí instalaron un servicio; se piden los que no."
        )
    return False, None


@cache
def _idle_sessions() -> tuple[int, int]:
    security = _security(WINRM)
    logons = _network_logons(WINRM)
    sessions = logons[logons["TargetUserName"] == "pgustavo"]
    processes = security[security["EventID"] == 4688]
    keys = set(zip(processes["Hostname"], processes["TargetLogonId"], strict=True))
    busy = sum(
        (host, logon) in keys
        for host, logon in zip(sessions["Hostname"], sessions["TargetLogonId"], strict=True)
    )
    return len(sessions) - busy, len(sessions)


@exercise(
    "05.3",
    INTEGER,
    hints=(
        "Una unión izquierda conserva todas las sesiones de pgustavo; las que "
        "no encontraron ningún proceso quedan marcadas en _merge como «solo "
        "a la izquierda».",
        "Filtre winrm_logons por TargetUserName (pgustavo), únalo con "
        "winrm_processes por las columnas Hostname y TargetLogonId, con una "
        "unión izquierda e indicator=True, y cuente las filas con la etiqueta "
        "de «solo a la izquierda».",
    ),
)
def _(value):
    expected, total = _idle_sessions()
    if value == expected:
        return True, "PowerShell remoto abre varias sesiones; los procesos nacen en una."
    if value == total:
        return False, (
            "Ese es el total de sesiones de red de pgustavo; cuente solo las "
            "que no encontraron ningún proceso."
        )
    return False, None


WRONG = {
    "05.1": lambda: ["MORDORDC$", "SYSTEM", sorted(_accounts())],
    "05.2": lambda: [_unused_logons()[1], 1, 0],
    "05.3": lambda: [_idle_sessions()[1], 1],
}
