"""Comprobaciones de los ejercicios de 07_caso_inyeccion.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

from functools import cache
from pathlib import PureWindowsPath

import pandas as pd

from taller.exercises import exercise

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


def _names(answer) -> list[str]:
    """Nombres de archivo en minúsculas, tanto si llega un texto como una lista."""
    if isinstance(answer, str):
        answer = [answer]
    try:
        items = list(answer)
    except TypeError:
        return []
    return [PureWindowsPath(str(item)).name.strip().lower() for item in items]


@cache
def _unsigned_outside_native_images() -> frozenset[str]:
    victim = _remote_thread(EMPIRE)["TargetProcessGuid"]
    loads = _sysmon(EMPIRE, 7)
    loads = loads[loads["ProcessGuid"] == victim]
    unsigned = loads[loads["Signed"] == "false"]
    names = _names(unsigned["ImageLoaded"])
    return frozenset(name for name in names if not name.endswith(".ni.dll"))


@exercise("07.1")
def _(answer):
    expected = _unsigned_outside_native_images()
    given = set(_names(answer))
    if given == expected:
        return True, (
            "Es la DLL que el hilo remoto obligó a cargar, y la única sin firma "
            "que no es una imagen nativa de .NET generada en el propio equipo."
        )
    if any(name.endswith(".ni.dll") for name in given):
        return False, (
            "Pista: los archivos .ni.dll son imágenes nativas de .NET que se "
            "generan en el equipo y nunca van firmadas; déjelos fuera."
        )
    if not given:
        return False, (
            'Pista: escriba el nombre del archivo como texto, por ejemplo "ejemplo.dll".'
        )
    return False, (
        "Pista: filtre los eventos 7 por el ProcessGuid de la víctima "
        '(TargetProcessGuid del evento 8) y por Signed == "false".'
    )


@cache
def _write_without_thread() -> tuple[int, int]:
    masks = _sysmon(EMPIRE, 10)["GrantedAccess"].map(lambda mask: int(mask, 16))
    write = 0x8 | 0x20
    without_thread = ((masks & write) == write) & ((masks & 0x2) == 0)
    all_three = (masks & INJECTION_MASK) == INJECTION_MASK
    return int(without_thread.sum()), int(all_three.sum())


@exercise("07.2")
def _(answer):
    expected, all_three = _write_without_thread()
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return False, "Pista: la respuesta es un número de eventos (un int)."
    if value == expected:
        return True, (
            "Esos accesos permiten escribir en la memoria de otro proceso, pero "
            "no crear un hilo en él: la regla no los cuenta."
        )
    if value == all_three:
        return False, (
            "Pista: ese es el número de accesos con los tres derechos; el "
            "ejercicio pide los que tienen VM_OPERATION y VM_WRITE pero no "
            "CREATE_THREAD (el bit 0x2 apagado)."
        )
    return False, (
        "Pista: convierta cada máscara con int(mask, 16) y compruebe los bits "
        "con &: (valor & 0x28) == 0x28 y (valor & 0x2) == 0. Cuente eventos, "
        "no máscaras distintas."
    )


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


def _endpoints(answer) -> set[tuple[str, int]] | None:
    items = [answer] if isinstance(answer, (str, tuple)) else answer
    result = set()
    try:
        for item in items:
            if isinstance(item, str):
                ip, _, port = item.strip().rpartition(":")
                if not ip:
                    return {(port, -1)}
                item = (ip, port)
            ip, port = item
            result.add((str(ip).strip(), int(port)))
    except (TypeError, ValueError):
        return None
    return result


@exercise("07.3")
def _(answer):
    expected = _victim_connections()
    given = _endpoints(answer)
    if given is None:
        return False, 'Pista: escriba la respuesta como "IP:puerto".'
    if given == expected:
        return True, (
            "Un editor de texto recién creado que abre una conexión de red: el "
            "código inyectado ya habla con su servidor."
        )
    if {ip for ip, _ in given} == {ip for ip, _ in expected}:
        return False, 'Pista: la IP es correcta; escriba también el puerto, "IP:puerto".'
    return False, (
        "Pista: busque los eventos 3 de Sysmon cuyo ProcessGuid es el "
        "TargetProcessGuid del evento 8 de Covenant, no los del origen."
    )


def _wrong_07_1() -> list:
    victim = _remote_thread(EMPIRE)["TargetProcessGuid"]
    loads = _sysmon(EMPIRE, 7)
    loads = loads[loads["ProcessGuid"] == victim]
    unsigned = _names(loads.loc[loads["Signed"] == "false", "ImageLoaded"])
    signed = _names(loads.loc[loads["Signed"] == "true", "ImageLoaded"])
    return [unsigned, signed[:1], "notepad.exe"]


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
