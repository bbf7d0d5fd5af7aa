"""Comprobaciones de los ejercicios de 03_filtrar_resumir.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache
from pathlib import PureWindowsPath

from taller.exercises import exercise
from taller.exercises.answers import INTEGER, TEXT

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _events():
    from taller.loader import load

    return load(PSEXEC)


def _name(text: str) -> str:
    return PureWindowsPath(text).name.lower()


def _host(text: str) -> str:
    return text.split(".")[0].lower()


@cache
def _updater_counts() -> tuple[int, int]:
    message = _events()["Message"]
    return (
        int(message.str.contains("updater", case=False, na=False).sum()),
        int(message.str.contains("updater", na=False).sum()),
    )


@exercise(
    "03.1",
    INTEGER,
    hints=(
        "Una máscara que diga en qué eventos el texto de Message contiene la "
        "palabra, sin distinguir mayúsculas; después, cuente sus True.",
        "Los métodos de texto de pandas (.str) tienen uno que busca un texto "
        "dentro de cada celda; mire sus parámetros case (mayúsculas) y na (qué "
        "hacer con las celdas vacías).",
    ),
)
def _(value):
    expected, case_sensitive = _updater_counts()
    if value == expected:
        return True, (
            "El servicio deja huella en Security, System y PowerShell: "
            "agrupe por Channel y EventID para verlo."
        )
    if value == case_sensitive:
        return False, (
            "La palabra también aparece con mayúscula («Updater»); la búsqueda "
            "no debe distinguir mayúsculas."
        )
    return False, None


@cache
def _outside_programs() -> frozenset[str]:
    events = _events()
    connections = events[(events["Channel"] == SYSMON) & (events["EventID"] == 3)]
    connections = connections[connections["Hostname"].str.startswith("WORKSTATION6")]
    outside = connections[~connections["DestinationIp"].str.startswith("172.18.")]
    return frozenset(_name(image) for image in outside["Image"])


@exercise(
    "03.2",
    TEXT,
    hints=(
        "Quédese con los eventos 3 de Sysmon de WORKSTATION6 y, de ellos, con "
        "los que van a una IP que no empieza por el prefijo del laboratorio; "
        "la columna Image dice qué programa es.",
        "query filtra el canal y el evento; str.startswith sobre Hostname "
        "elige el equipo y, negado con ~, sobre DestinationIp deja las IP de "
        "fuera. Del Image basta el nombre del archivo, tras la última barra "
        "invertida.",
    ),
)
def _(value):
    given = _name(value)
    if given in _outside_programs():
        return True, "Es el agente nuevo que el servicio arrancó, llamando a su servidor."
    if given.count(".") == 3 and given.replace(".", "").isdigit():
        return False, "Eso es una dirección IP; se pide el programa (la columna Image)."
    return False, None


@cache
def _hosts() -> tuple[frozenset[str], frozenset[str]]:
    """(equipos con procesos en Security y ninguno en Sysmon, equipos con Sysmon)."""
    events = _events()
    security = events["Channel"].str.lower() == "security"
    with_4688 = set(events.loc[security & (events["EventID"] == 4688), "Hostname"])
    with_sysmon = set(events.loc[events["Channel"] == SYSMON, "Hostname"])
    return (
        frozenset(_host(host) for host in with_4688 - with_sysmon),
        frozenset(_host(host) for host in with_sysmon),
    )


@exercise(
    "03.3",
    TEXT,
    hints=(
        "Cuente, por Hostname, los eventos 4688 de Security y los eventos 1 de "
        "Sysmon, uno al lado del otro; el equipo buscado tiene cero en Sysmon.",
        "Agrupe cada filtro por Hostname y cuente sus filas (size); junte los "
        "dos recuentos en un DataFrame, donde los equipos que faltan en uno "
        "quedan vacíos (rellénelos con 0), y busque la fila con cero en Sysmon.",
    ),
)
def _(value):
    without_sysmon, with_sysmon = _hosts()
    given = _host(value)
    if given in without_sysmon:
        return True, "Es el controlador de dominio: no tiene Sysmon instalado."
    if given in with_sysmon:
        return False, "Ese equipo sí tiene eventos de Sysmon; se busca el que no tiene ninguno."
    return False, None


WRONG = {
    "03.1": lambda: [_updater_counts()[1], 2, "seis"],
    "03.2": lambda: ["svchost.exe", "10.10.10.5", "services.exe", ["powershell.exe"]],
    "03.3": lambda: ["WORKSTATION6", "WORKSTATION5.theshire.local"],
}
