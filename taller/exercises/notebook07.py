"""Comprobaciones de los ejercicios de 07_caso_inyeccion.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache
from pathlib import PureWindowsPath

import pandas as pd

from taller.exercises import exercise
from taller.exercises.answers import INTEGER, TEXT

SYSMON = "Microsoft-Windows-Sysmon/Operational"
EMPIRE = "empire_dllinjection_LoadLibrary_CreateRemoteThread"
COVENANT = "covenant_lolbin_wuauclt_createremotethread"
INJECTION_MASK = 0x2 | 0x8 | 0x20  # CREATE_THREAD | VM_OPERATION | VM_WRITE


def _sysmon(name: str, event_id: int) -> pd.DataFrame:
    from taller.loader import load

    events = load(name)
    sysmon = events[events["Channel"] == SYSMON]
    return sysmon[sysmon["EventID"] == event_id]


def _remote_thread(name: str) -> pd.Series:
    return _sysmon(name, 8).iloc[0]


def _names(paths) -> list[str]:
    """Nombres de archivo en minúsculas."""
    return [PureWindowsPath(str(path)).name.strip().lower() for path in paths]


@cache
def _unsigned_outside_native_images() -> frozenset[str]:
    victim = _remote_thread(EMPIRE)["TargetProcessGuid"]
    loads = _sysmon(EMPIRE, 7)
    loads = loads[loads["ProcessGuid"] == victim]
    unsigned = loads[loads["Signed"] == "false"]
    names = _names(unsigned["ImageLoaded"])
    return frozenset(name for name in names if not name.endswith(".ni.dll"))


@cache
def _signed_victim_images() -> frozenset[str]:
    victim = _remote_thread(EMPIRE)["TargetProcessGuid"]
    loads = _sysmon(EMPIRE, 7)
    loads = loads[loads["ProcessGuid"] == victim]
    return frozenset(_names(loads.loc[loads["Signed"] != "false", "ImageLoaded"]))


@exercise(
    "07.1",
    TEXT,
    hints=(
        "Los eventos 7 (carga de imagen) del proceso víctima, solo los que no "
        "van firmados, menos los .ni.dll que precompila el propio equipo.",
        "Filtre los eventos 7 cuyo ProcessGuid es el TargetProcessGuid del "
        "hilo remoto (evento 8); después, los de Signed igual a «false», y "
        "deje fuera los nombres que acaban en .ni.dll (str.endswith negado "
        "con ~).",
    ),
)
def _(value):
    given = _names([value])[0]
    if given in _unsigned_outside_native_images():
        return True, (
            "Es la DLL que el hilo remoto obligó a cargar, y la única sin firma "
            "que no es una imagen nativa de .NET generada en el propio equipo."
        )
    if given.endswith(".ni.dll"):
        return False, (
            "Un .ni.dll es código .NET que el propio equipo precompila; nunca "
            "va firmado. Déjelos fuera."
        )
    if given in _signed_victim_images():
        return False, "Esa DLL va firmada; se busca una sin firma."
    return False, None


@cache
def _write_without_thread() -> tuple[int, int]:
    masks = _sysmon(EMPIRE, 10)["GrantedAccess"].map(lambda mask: int(mask, 16))
    write = 0x8 | 0x20
    without_thread = ((masks & write) == write) & ((masks & 0x2) == 0)
    all_three = (masks & INJECTION_MASK) == INJECTION_MASK
    return int(without_thread.sum()), int(all_three.sum())


@exercise(
    "07.2",
    INTEGER,
    hints=(
        "Cada derecho es un bit de la máscara GrantedAccess: un acceso tiene "
        "un derecho si su bit está encendido. Se buscan los eventos con los "
        "bits de VM_OPERATION y VM_WRITE encendidos y el de CREATE_THREAD "
        "apagado.",
        "Pase cada máscara, un texto hexadecimal, a número (int con base 16). "
        "Con & entre ese número y el valor de un derecho (INJECTION_RIGHTS) "
        "sabrá si su bit está encendido. Combine las tres condiciones y cuente "
        "eventos, no máscaras distintas.",
    ),
)
def _(value):
    expected, all_three = _write_without_thread()
    if value == expected:
        return True, (
            "Esos accesos permiten escribir en la memoria de otro proceso, pero "
            "no crear un hilo en él: la regla no los cuenta."
        )
    if value == all_three:
        return False, (
            "Ese es el número de accesos con los tres derechos; se piden los "
            "que tienen VM_OPERATION y VM_WRITE pero no CREATE_THREAD."
        )
    return False, None


@cache
def _victim_connections() -> frozenset[tuple[str, int]]:
    victim = _remote_thread(COVENANT)["TargetProcessGuid"]
    connections = _sysmon(COVENANT, 3)
    connections = connections[connections["ProcessGuid"] == victim]
    return frozenset(
        (str(ip), int(port))
        for ip, port in zip(
            connections["DestinationIp"], connections["DestinationPort"], strict=True
        )
    )


@exercise(
    "07.3",
    TEXT,
    hints=(
        "Los eventos 3 de Sysmon cuyo ProcessGuid es el del notepad.exe "
        "víctima (el TargetProcessGuid del evento 8 de Covenant) dicen adónde "
        "conectó.",
        "Filtre covenant_sysmon por el evento 3 y por ese ProcessGuid; tome "
        "DestinationIp y DestinationPort de la primera fila y escríbalos en "
        "un texto, separados por dos puntos.",
    ),
)
def _(value):
    expected = _victim_connections()
    ip, colon, port = value.rpartition(":")
    if not colon:
        ip, port = value, ""
    ip = ip.strip()
    if port.strip().isdigit() and (ip, int(port)) in expected:
        return True, (
            "Un editor de texto recién creado que abre una conexión de red: el "
            "código inyectado ya habla con su servidor."
        )
    if ip in {address for address, _ in expected}:
        if not port.strip():
            return False, 'La IP es correcta; escriba también el puerto: "IP:puerto".'
        return False, "La IP es correcta, pero el puerto no: escríbalo sin decimales."
    return False, None


def _wrong_07_1() -> list:
    victim = _remote_thread(EMPIRE)["TargetProcessGuid"]
    loads = _sysmon(EMPIRE, 7)
    loads = loads[loads["ProcessGuid"] == victim]
    unsigned = _names(loads.loc[loads["Signed"] == "false", "ImageLoaded"])
    signed = _names(loads.loc[loads["Signed"] == "true", "ImageLoaded"])
    native = next(name for name in unsigned if name.endswith(".ni.dll"))
    return [unsigned, signed[0], "notepad.exe", native]


def _wrong_07_3() -> list:
    ip, port = sorted(_victim_connections())[0]
    source = _remote_thread(COVENANT)["SourceProcessGuid"]
    connections = _sysmon(COVENANT, 3)
    others = connections[connections["ProcessGuid"] != source]
    others = others[~others["DestinationIp"].eq(ip)]
    others = others[others["DestinationIp"].str.count(r"\.").eq(3)]  # IPv4
    other = others.iloc[0]
    return [ip, f"{other['DestinationIp']}:{other['DestinationPort']}"]


# Respuestas equivocadas verosímiles, para tests/test_exercises.py.
WRONG = {
    "07.1": _wrong_07_1,
    "07.2": lambda: list(_write_without_thread()[1:]) + [1],
    "07.3": _wrong_07_3,
}
