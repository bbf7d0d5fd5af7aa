"""Comprobaciones de los ejercicios de 05_correlacionar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache

from taller.exercises import exercise

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


def _count(answer) -> int | None:
    try:
        return int(answer)
    except (TypeError, ValueError):
        return None


@cache
def _people() -> frozenset[str]:
    users = _network_logons(PSEXEC)["TargetUserName"]
    return frozenset(user.lower() for user in users if not user.endswith("$"))


@exercise("05.1")
def _(answer):
    given = str(answer).strip().lower().rpartition("\\")[2]
    if given in _people():
        return (
            True,
            "Es la cuenta con la que el atacante entra en WORKSTATION6 desde WORKSTATION5.",
        )
    if given.endswith("$"):
        return False, "Pista: las cuentas que acaban en «$» son de equipo; busque otra."
    return False, (
        'Pista: filtre con ~counts["TargetUserName"].str.endswith("$") y mire qué cuenta queda.'
    )


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


@exercise("05.2")
def _(answer):
    expected, total = _unused_logons()
    value = _count(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de inicios de sesión (un int)."
    if value == expected:
        return True, "Lo normal: casi ningún inicio de sesión de red instala un servicio."
    if value == total:
        return False, (
            "Pista: ese es el total de inicios de sesión de red; cuente solo las "
            'filas con _merge == "right_only".'
        )
    return False, (
        'Pista: con how="outer" e indicator=True, cuente las filas cuyo _merge '
        'es "right_only" (solo en network_logons).'
    )


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


@exercise("05.3")
def _(answer):
    expected, total = _idle_sessions()
    value = _count(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de sesiones (un int)."
    if value == expected:
        return True, "PowerShell remoto abre varias sesiones; los procesos nacen en una."
    if value == total:
        return False, (
            "Pista: ese es el total de sesiones de red de pgustavo; cuente las "
            'que quedan como "left_only" tras la unión izquierda.'
        )
    return False, (
        "Pista: una winrm_logons (solo pgustavo) con winrm_processes por "
        '["Hostname", "TargetLogonId"], how="left", indicator=True.'
    )


WRONG = {
    "05.1": lambda: ["MORDORDC$", "SYSTEM"],
    "05.2": lambda: [_unused_logons()[1], 1, 0],
    "05.3": lambda: [_idle_sessions()[1], 1],
}
