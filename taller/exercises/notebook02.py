"""Comprobaciones de los ejercicios de 02_cargar_datos.ipynb.

Cada respuesta esperada se calcula con el mismo conjunto del cuaderno
(``covenant_psremoting_command``, cargado con ``taller.load`` o abierto como
ZIP); ningún mensaje la revela. `WRONG` da respuestas equivocadas verosímiles
para tests/test_exercises.py.
"""

import zipfile
from functools import cache

from taller.exercises import exercise
from taller.exercises.answers import DECIMAL, INTEGER, TEXTS, rounded

DATASET = "covenant_psremoting_command"


@cache
def _events():
    from taller.loader import load

    return load(DATASET)


@exercise(
    "02.1",
    INTEGER,
    hints=(
        "Una máscara que marque las celdas de SourcePort que tienen valor; "
        "después, cuente sus True.",
        "El método notna() de una columna devuelve esa máscara; la suma de "
        "una máscara cuenta sus True.",
    ),
)
def _(value):
    events = _events()
    if value == int(events["SourcePort"].notna().sum()):
        return True, (
            "Solo los eventos de red llevan ese campo; en los demás, la celda queda vacía (NaN)."
        )
    if value == len(events):
        return False, (
            "Ese es el número total de eventos; cuente solo las celdas de SourcePort con valor."
        )
    if value == int(events["SourcePort"].isna().sum()):
        return False, "Ha contado las celdas vacías; se piden las que tienen valor."
    return False, None


def _member_info() -> zipfile.ZipInfo:
    from taller.download import fetch

    with zipfile.ZipFile(fetch(DATASET)) as zf:
        member = next(name for name in zf.namelist() if name.endswith(".json"))
        return zf.getinfo(member)


def _ratio() -> float:
    info = _member_info()
    return info.file_size / info.compress_size


@exercise(
    "02.2",
    DECIMAL,
    hints=(
        "El ZIP guarda, de cada miembro, su tamaño original y su tamaño "
        "comprimido; la respuesta es el primero entre el segundo, redondeado "
        "a un decimal.",
        "El método getinfo del ZipFile da, para el nombre de un miembro, un "
        "objeto con los atributos file_size y compress_size; divídalos y "
        "redondee con round a un decimal.",
    ),
)
def _(value):
    ratio = _ratio()
    if rounded(value, ratio, 1):
        return True, (
            "Los registros repiten los mismos nombres de campo en cada línea: "
            "por eso comprimen tan bien."
        )
    if abs(value - ratio) < 0.05:
        return False, "Es ese cociente, pero sin redondear: el enunciado pide un decimal."
    if abs(value - 1 / ratio) < 0.01:
        return False, "Ha dividido al revés: el tamaño original va arriba."
    return False, None


@exercise(
    "02.3",
    TEXTS,
    hints=(
        "pandas tiene un método que devuelve los valores distintos de una "
        "columna; después, ordénelos alfabéticamente en una lista.",
        "unique() sobre la columna Hostname da los nombres sin repetir; la "
        "función sorted los devuelve en una lista ordenada.",
    ),
)
def _(value):
    expected = sorted(_events()["Hostname"].dropna().unique())
    if value == expected:
        return True, (
            "Las dos estaciones de trabajo y el controlador de dominio: los tres "
            "equipos del laboratorio."
        )
    if sorted(set(value)) == expected:
        if len(value) != len(set(value)):
            return False, "Hay nombres repetidos; quédese con los valores distintos."
        return False, "Son los nombres correctos; falta ordenarlos alfabéticamente."
    if set(value) < set(expected):
        return False, "Faltan nombres: tome la columna entera, no solo unas filas."
    return False, None


# Respuestas equivocadas verosímiles, calculadas con los mismos datos.
WRONG = {
    "02.1": lambda: [
        len(_events()),  # todos los eventos
        int(_events()["SourcePort"].isna().sum()),  # las celdas vacías
    ],
    "02.2": lambda: [
        round(1 / _ratio(), 3),  # al revés
        round(_ratio()) + 1,
        _ratio(),  # sin redondear
    ],
    "02.3": lambda: [
        sorted(_events()["Hostname"].unique(), reverse=True),  # mal ordenada
        sorted(_events()["Hostname"].head(3)),  # con repetidos
        sorted(_events()["Hostname"].unique())[:2],  # incompleta
        "; ".join(sorted(_events()["Hostname"].unique())),  # un solo texto
    ],
}
