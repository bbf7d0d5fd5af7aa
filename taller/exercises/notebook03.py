"""Comprobaciones de los ejercicios de 03_filtrar_resumir.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache
from pathlib import PureWindowsPath

from taller.exercises import exercise

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _events():
    from taller.loader import load

    return load(PSEXEC)


def _count(answer) -> int | None:
    try:
        return int(answer)
    except (TypeError, ValueError):
        return None


def _name(answer) -> str:
    return PureWindowsPath(str(answer).strip()).name.lower()


@cache
def _updater_counts() -> tuple[int, int]:
    message = _events()["Message"]
    return (
        int(message.str.contains("updater", case=False, na=False).sum()),
        int(message.str.contains("updater", na=False).sum()),
    )


@exercise("03.1")
def _(answer):
    expected, case_sensitive = _updater_counts()
    value = _count(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de eventos (un int)."
    if value == expected:
        return True, (
            "El servicio deja huella en Security, System y PowerShell: "
            "agrupe por Channel y EventID para verlo."
        )
    if value == case_sensitive:
        return False, "Pista: «Updater» empieza por mayúscula; use case=False."
    return False, (
        'Pista: str.contains("updater", case=False, na=False) sobre la '
        "columna Message y después .sum()."
    )


@cache
def _outside_programs() -> frozenset[str]:
    events = _events()
    connections = events[(events["Channel"] == SYSMON) & (events["EventID"] == 3)]
    connections = connections[connections["Hostname"].str.startswith("WORKSTATION6")]
    outside = connections[~connections["DestinationIp"].str.startswith("172.18.")]
    return frozenset(_name(image) for image in outside["Image"])


@exercise("03.2")
def _(answer):
    expected = _outside_programs()
    given = _name(answer)
    if given in expected:
        return True, "Es el agente nuevo que el servicio arrancó, llamando a su servidor."
    if given.count(".") == 3 and given.replace(".", "").isdigit():
        return False, "Pista: eso es una dirección IP; se pide el programa (Image)."
    return False, (
        "Pista: filtre el evento 3 de Sysmon en WORKSTATION6 y quédese con las "
        "filas cuyo DestinationIp no empieza por «172.18.»; mire su Image."
    )


@cache
def _hosts_without_sysmon() -> frozenset[str]:
    events = _events()
    security = events["Channel"].str.lower() == "security"
    with_4688 = set(events.loc[security & (events["EventID"] == 4688), "Hostname"])
    with_sysmon = set(events.loc[events["Channel"] == SYSMON, "Hostname"])
    return frozenset(host.split(".")[0].lower() for host in with_4688 - with_sysmon)


@exercise("03.3")
def _(answer):
    expected = _hosts_without_sysmon()
    given = str(answer).strip().split(".")[0].lower()
    if given in expected:
        return True, "Es el controlador de dominio: no tiene Sysmon instalado."
    return False, (
        "Pista: cuente por Hostname los 4688 del canal de seguridad (sin distinguir "
        "mayúsculas) y los eventos 1 de Sysmon; busque el que tiene cero en Sysmon."
    )


WRONG = {
    "03.1": lambda: [_updater_counts()[1], 2, "seis"],
    "03.2": lambda: ["svchost.exe", "10.10.10.5", "services.exe"],
    "03.3": lambda: ["WORKSTATION6", "WORKSTATION5.theshire.local"],
}
