"""Comprobaciones de los ejercicios de 01_numpy.ipynb.

Los datos de estos ejercicios son los valores escritos en el enunciado del
cuaderno; aquí se repiten y la respuesta esperada se calcula con ellos, igual
que haría el alumno. `WRONG` da, para cada ejercicio, respuestas equivocadas
verosímiles (las usa tests/test_exercises.py).
"""

import numpy as np

from taller.exercises import exercise

LOGON_IDS = np.array([4624, 4625, 4625, 4624, 4625, 4634, 4625, 4624])
LOGON_TYPES = np.array([2, 3, 3, 10, 3, 3, 2, 3])
TRANSFERS = np.array([5_120, 204_800, 1_024, 98_304, 1_048_576, 307_200, 512, 131_072])
EVENT_IDS = np.tile([4624, 4625, 4688, 4672], 2_500)


def _as_int(answer) -> int | None:
    """Un número entero, venga como int, como entero de NumPy o como arreglo de uno."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    try:
        value = np.asarray(answer)
        if value.ndim > 0 or value.dtype.kind not in "iuf":
            return None
        return int(value) if float(value) == int(value) else None
    except (TypeError, ValueError):
        return None


def _network_failures() -> int:
    return int(((LOGON_IDS == 4625) & (LOGON_TYPES == 3)).sum())


@exercise("01.1")
def _(answer):
    if isinstance(answer, np.ndarray) and answer.dtype == bool:
        return False, (
            "Pista: eso es la máscara; súmela con .sum() para contar cuántos True tiene."
        )
    value = _as_int(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de eventos (un entero)."
    if value == _network_failures():
        return True, "Esos fallos por red son los que vigilaría una regla de fuerza bruta."
    if value == int((LOGON_IDS == 4625).sum()):
        return False, (
            "Pista: ha contado todos los fallos; falta la segunda condición, "
            "(logon_types == 3), combinada con &."
        )
    if value == int((LOGON_TYPES == 3).sum()):
        return False, (
            "Pista: ha contado todos los inicios de sesión por red; falta la "
            "condición (logon_ids == 4625)."
        )
    return False, (
        "Pista: combine las dos condiciones, cada una entre paréntesis, con & y sume la máscara."
    )


def _big_transfers() -> np.ndarray:
    kib = (TRANSFERS / 1024).round(1)
    return kib[kib > 100]


@exercise("01.2")
def _(answer):
    try:
        given = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return False, "Pista: la respuesta es un arreglo de números (los KiB)."
    expected = _big_transfers()
    if given.shape == expected.shape and np.allclose(given, expected, atol=0.05):
        return True, (
            "Son las transferencias que merecería mirar primero: la conversión y "
            "el filtro se aplicaron a todo el arreglo a la vez."
        )
    big_bytes = TRANSFERS[TRANSFERS / 1024 > 100]
    if given.shape == big_bytes.shape and np.allclose(given, big_bytes):
        return False, "Pista: filtró bien, pero los valores siguen en bytes; divida entre 1024."
    if given.size == TRANSFERS.size:
        return False, "Pista: falta el filtro: use la máscara kib > 100 como índice."
    return False, (
        "Pista: convierta con transfers / 1024, redondee con .round(1) y filtre "
        "con una máscara sobre el resultado."
    )


def _bytes_saved() -> int:
    return int(EVENT_IDS.astype(np.int64).nbytes - EVENT_IDS.astype(np.uint16).nbytes)


@exercise("01.3")
def _(answer):
    value = _as_int(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de bytes (un entero)."
    if value == _bytes_saved():
        return True, "Con 16 bits por identificador basta: ocupan la cuarta parte."
    int64_bytes = int(EVENT_IDS.astype(np.int64).nbytes)
    uint16_bytes = int(EVENT_IDS.astype(np.uint16).nbytes)
    if value == int64_bytes // uint16_bytes:
        return False, "Pista: eso es cuántas veces menos ocupa; se piden los bytes ahorrados."
    if value in (int64_bytes, uint16_bytes):
        return False, (
            "Pista: ese es el tamaño de uno de los dos arreglos; reste uno del otro (nbytes)."
        )
    return False, (
        "Pista: cree el arreglo con np.tile(..., 2_500), conviértalo con "
        ".astype(np.int64) y .astype(np.uint16) y reste sus nbytes."
    )


# Respuestas equivocadas verosímiles, calculadas con los mismos datos.
WRONG = {
    "01.1": lambda: [
        int((LOGON_IDS == 4625).sum()),  # sin filtrar por tipo
        int((LOGON_TYPES == 3).sum()),  # sin filtrar por evento
        (LOGON_IDS == 4625) & (LOGON_TYPES == 3),  # la máscara sin sumar
    ],
    "01.2": lambda: [
        TRANSFERS[TRANSFERS / 1024 > 100],  # filtrado pero en bytes
        (TRANSFERS / 1024).round(1),  # convertido pero sin filtrar
    ],
    "01.3": lambda: [
        int(EVENT_IDS.astype(np.int64).nbytes // EVENT_IDS.astype(np.uint16).nbytes),
        int(EVENT_IDS.astype(np.uint16).nbytes),
    ],
}
