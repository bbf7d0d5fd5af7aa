"""Comprobaciones de los ejercicios de 02_cargar_datos.ipynb.

Cada respuesta esperada se calcula con el mismo conjunto del cuaderno
(``covenant_psremoting_command``, cargado con ``taller.load`` o abierto como
ZIP); ningún mensaje la revela. `WRONG` da respuestas equivocadas verosímiles
para tests/test_exercises.py.
"""

import zipfile
from functools import cache

from taller.exercises import exercise

DATASET = "covenant_psremoting_command"


@cache
def _events():
    from taller.loader import load

    return load(DATASET)


def _count(answer) -> int | None:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return int(value) if value == int(value) else None


@exercise("02.1")
def _(answer):
    events = _events()
    value = _count(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de eventos (un entero)."
    if value == int(events["SourcePort"].notna().sum()):
        return True, (
            "Solo los eventos de red llevan ese campo; en los demás, la celda queda vacía (NaN)."
        )
    if value == len(events):
        return False, (
            "Pista: ese es el número total de eventos; cuente solo las celdas "
            'con valor: df["SourcePort"].notna().sum().'
        )
    if value == int(events["SourcePort"].isna().sum()):
        return False, "Pista: ha contado las celdas vacías; use notna(), no isna()."
    return False, 'Pista: df["SourcePort"].notna() es una máscara; súmela con .sum().'


def _member_info() -> zipfile.ZipInfo:
    from taller.download import fetch

    with zipfile.ZipFile(fetch(DATASET)) as zf:
        member = next(name for name in zf.namelist() if name.endswith(".json"))
        return zf.getinfo(member)


@exercise("02.2")
def _(answer):
    info = _member_info()
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False, "Pista: la respuesta es un número con un decimal (un float)."
    if abs(value - info.file_size / info.compress_size) <= 0.051:
        return True, (
            "Los registros repiten los mismos nombres de campo en cada línea: "
            "por eso comprimen tan bien."
        )
    if abs(value - info.compress_size / info.file_size) < 0.01:
        return False, "Pista: ha dividido al revés; es file_size / compress_size."
    return False, ("Pista: use zf.getinfo(MEMBER) y divida su file_size entre su compress_size.")


@exercise("02.3")
def _(answer):
    expected = sorted(_events()["Hostname"].dropna().unique())
    if isinstance(answer, str):
        return False, "Pista: la respuesta es una lista de nombres, no un solo texto."
    try:
        given = [str(name) for name in answer]
    except TypeError:
        return False, "Pista: la respuesta es una lista de nombres de equipo."
    if given == expected:
        return True, (
            "Las dos estaciones de trabajo y el controlador de dominio: los tres "
            "equipos del laboratorio."
        )
    if sorted(set(given)) == expected:
        if len(given) != len(set(given)):
            return False, "Pista: hay nombres repetidos; use unique() antes de ordenar."
        return False, "Pista: son los nombres correctos; falta ordenarlos con sorted()."
    return False, (
        'Pista: tome la columna entera, df["Hostname"], con unique(), y ordénela con sorted().'
    )


# Respuestas equivocadas verosímiles, calculadas con los mismos datos.
WRONG = {
    "02.1": lambda: [
        len(_events()),  # todos los eventos
        int(_events()["SourcePort"].isna().sum()),  # las celdas vacías
    ],
    "02.2": lambda: [
        round(_member_info().compress_size / _member_info().file_size, 3),  # al revés
        round(_member_info().file_size / _member_info().compress_size) + 1,
    ],
    "02.3": lambda: [
        sorted(_events()["Hostname"].unique(), reverse=True),  # mal ordenada
        sorted(_events()["Hostname"].head(3)),  # con repetidos
        sorted(_events()["Hostname"].unique())[:2],  # incompleta
    ],
}
