"""Comprobaciones de los ejercicios de 01_numpy.ipynb.

Los datos de estos ejercicios son los valores escritos en el enunciado del
cuaderno; aquí se repiten y la respuesta esperada se calcula con ellos, igual
que haría quien aprende. No necesitan descargar nada. `WRONG` da, para cada
ejercicio, respuestas equivocadas verosímiles (las usa tests/test_exercises.py).
"""

import numpy as np

from taller.exercises import exercise
from taller.exercises.answers import INTEGER, NUMBERS

LOGON_IDS = np.array([4624, 4625, 4625, 4624, 4625, 4634, 4625, 4624])
LOGON_TYPES = np.array([2, 3, 3, 10, 3, 3, 2, 3])
TRANSFERS = np.array([5_120, 204_800, 1_024, 98_304, 1_048_576, 307_200, 512, 150_000])
EVENT_IDS = np.tile([4624, 4625, 4688, 4672], 2_500)


def _network_failures() -> int:
    return int(((LOGON_IDS == 4625) & (LOGON_TYPES == 3)).sum())


@exercise(
    "01.1",
    INTEGER,
    hints=(
        "Una máscara de True/False por cada condición, combinadas para que "
        "solo queden los eventos que cumplen las dos; después, cuente los True.",
        "Compare cada arreglo con su valor (==), ponga cada comparación entre "
        "paréntesis y combínelas con &, el «y» de NumPy elemento a elemento. "
        "Una máscara se cuenta sumándola.",
    ),
)
def _(value):
    if value == _network_failures():
        return True, "Esos fallos por red son los que vigilaría una regla de fuerza bruta."
    if value == int((LOGON_IDS == 4625).sum()):
        return False, (
            "Ha contado todos los fallos; falta la segunda condición, la del "
            "tipo de inicio de sesión."
        )
    if value == int((LOGON_TYPES == 3).sum()):
        return False, (
            "Ha contado todos los inicios de sesión por red; falta la condición "
            "del identificador de evento."
        )
    return False, None


def _kib() -> np.ndarray:
    return TRANSFERS / 1024


@exercise(
    "01.2",
    NUMBERS,
    no_loops=True,
    hints=(
        "En NumPy, una operación aritmética sobre un arreglo se aplica a todos "
        "sus valores a la vez: la conversión, el redondeo y el filtro son tres "
        "operaciones sobre el arreglo entero.",
        "Divida el arreglo entre 1024, redondee el resultado a un decimal con "
        "el método round de los arreglos y use una máscara (valores mayores "
        "que 100) como índice.",
    ),
)
def _(value):
    kib = _kib()
    expected = kib.round(1)[kib.round(1) > 100]
    given = np.array(value, dtype=float)
    if given.shape == expected.shape:
        if np.allclose(given, expected, rtol=0, atol=1e-9):
            return True, (
                "Son las transferencias que merecería mirar primero: la "
                "conversión y el filtro se aplicaron a todo el arreglo a la vez."
            )
        if np.allclose(given, kib[kib > 100], rtol=0, atol=1e-9):
            return False, "Los valores son esos, pero sin redondear: el enunciado pide un decimal."
        if np.allclose(np.sort(given), np.sort(expected), rtol=0, atol=1e-9):
            return False, "Son esos valores, pero en otro orden: conserve el del arreglo original."
        if np.allclose(given, TRANSFERS[kib > 100]):
            return False, "Filtró bien, pero los valores siguen en bytes; falta pasarlos a KiB."
    if given.size == TRANSFERS.size:
        return False, "Falta el filtro: se piden solo los valores de más de 100 KiB."
    return False, None


def _bytes_saved() -> int:
    return int(EVENT_IDS.astype(np.int64).nbytes - EVENT_IDS.astype(np.uint16).nbytes)


@exercise(
    "01.3",
    INTEGER,
    hints=(
        "Cada tipo de NumPy ocupa un número fijo de bytes por valor: compare "
        "lo que ocupa el mismo arreglo guardado con cada uno de los dos tipos.",
        "Cree el arreglo con np.tile, conviértalo a cada tipo con el método "
        "astype y reste los tamaños en bytes (el atributo nbytes) de los dos.",
    ),
)
def _(value):
    if value == _bytes_saved():
        return True, "Con 16 bits por identificador basta: ocupan la cuarta parte."
    int64_bytes = int(EVENT_IDS.astype(np.int64).nbytes)
    uint16_bytes = int(EVENT_IDS.astype(np.uint16).nbytes)
    if value == int64_bytes // uint16_bytes:
        return False, "Eso es cuántas veces menos ocupa; se piden los bytes ahorrados (una resta)."
    if value in (int64_bytes, uint16_bytes):
        return False, "Ese es el tamaño de uno de los dos arreglos; falta restarle el del otro."
    return False, None


# Respuestas equivocadas verosímiles, calculadas con los mismos datos.
WRONG = {
    "01.1": lambda: [
        int((LOGON_IDS == 4625).sum()),  # sin filtrar por tipo
        int((LOGON_TYPES == 3).sum()),  # sin filtrar por evento
        (LOGON_IDS == 4625) & (LOGON_TYPES == 3),  # la máscara sin sumar
        str(_network_failures()),  # un número entre comillas
    ],
    "01.2": lambda: [
        TRANSFERS[TRANSFERS / 1024 > 100],  # filtrado pero en bytes
        (TRANSFERS / 1024).round(1),  # convertido pero sin filtrar
        _kib()[_kib() > 100],  # sin redondear
        sorted(_kib().round(1)[_kib() > 100]),  # en otro orden
    ],
    "01.3": lambda: [
        int(EVENT_IDS.astype(np.int64).nbytes // EVENT_IDS.astype(np.uint16).nbytes),
        int(EVENT_IDS.astype(np.uint16).nbytes),
    ],
}
