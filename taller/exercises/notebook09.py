"""Comprobaciones de los ejercicios de 09_cazar_a_escala.ipynb.

Cada respuesta esperada se calcula aquí con DuckDB sobre el mismo corpus del
cuaderno (`taller.hunt`); ningún mensaje la revela.
"""

from functools import cache

from taller.exercises import exercise
from taller.exercises.answers import INTEGER

SYSMON = "Microsoft-Windows-Sysmon/Operational"


@cache
def _connection():
    import duckdb

    from taller import hunt

    con = duckdb.connect()
    hunt.duckdb_events(con)
    return con


@cache
def _one(sql: str) -> int:
    return int(_connection().execute(sql).fetchall()[0][0])


_LSASS = (
    f"FROM events WHERE channel = '{SYSMON}' AND event_id = 10 AND target_process = 'lsass.exe'"
)
_PAIRS = (
    f"SELECT source_process, target_process, "
    f"count(DISTINCT dataset) AS datasets, count(*) AS events "
    f"FROM events WHERE channel = '{SYSMON}' AND event_id = 8 "
    "GROUP BY source_process, target_process"
)
_CLEARED = "FROM events WHERE channel = 'Security' AND event_id = 1102"


@exercise(
    "09.1",
    INTEGER,
    hints=(
        "Filtre los accesos (Sysmon 10) cuyo destino es lsass.exe y cuente "
        "los conjuntos distintos, no los eventos.",
        "En la vista events, ponga en el WHERE las condiciones sobre channel, "
        "event_id y target_process, y en el SELECT cuente con count y "
        "DISTINCT la columna dataset.",
    ),
)
def _(value):
    expected = _one(f"SELECT count(DISTINCT dataset) {_LSASS}")
    if value == expected:
        return True, (
            "La mayoría del corpus toca lsass.exe: el destino solo no sirve "
            "como regla, hacen falta las máscaras."
        )
    if value == _one(f"SELECT count(*) {_LSASS}"):
        return False, "Ha contado eventos, no conjuntos distintos."
    return False, None


@exercise(
    "09.2",
    INTEGER,
    hints=(
        "«Apilar» es agrupar por par origen → destino y contar en cuántos "
        "conjuntos distintos aparece cada par; lo raro es lo que aparece en "
        "uno solo.",
        "Sobre los eventos 8 de Sysmon, agrupe por las columnas "
        "source_process y target_process, cuente los conjuntos distintos de "
        "cada grupo y, después, cuente los pares en los que ese número vale 1.",
    ),
)
def _(value):
    expected = _one(f"SELECT count(*) FROM ({_PAIRS}) WHERE datasets = 1")
    if value == expected:
        return True, (
            "Lo raro entre conjuntos es lo primero que se mira: son casi todos "
            "los pares, porque cada herramienta inyecta a su manera."
        )
    if value == _one(f"SELECT count(*) FROM ({_PAIRS}) WHERE events = 1"):
        return False, (
            "Ha contado pares con un solo evento; el apilamiento cuenta conjuntos distintos."
        )
    if value == _one(f"SELECT count(*) FROM ({_PAIRS})"):
        return False, "Ese es el número total de pares; cuente solo los de un conjunto."
    return False, None


@exercise(
    "09.3",
    INTEGER,
    hints=(
        "Filtre el evento 1102 del canal Security y cuente los conjuntos "
        "distintos, no los eventos.",
        "El canal se llama exactamente «Security» en la vista events; cuente "
        "con count y DISTINCT la columna dataset.",
    ),
)
def _(value):
    expected = _one(f"SELECT count(DISTINCT dataset) {_CLEARED}")
    if value == expected:
        return True, (
            "Es el rastro del laboratorio, que borra los registros antes de "
            "grabar: como regla, saltaría en técnicas que no tienen nada que ver."
        )
    if value == _one(f"SELECT count(*) {_CLEARED}"):
        return False, "Ha contado eventos, no conjuntos distintos."
    return False, None


def _wrong_09_1():
    expected = _one(f"SELECT count(DISTINCT dataset) {_LSASS}")
    candidates = [
        _one(f"SELECT count(*) {_LSASS}"),
        _one("SELECT count(DISTINCT dataset) FROM events WHERE event_id = 10"),
    ]
    return [value for value in dict.fromkeys(candidates) if value != expected]


def _wrong_09_2():
    expected = _one(f"SELECT count(*) FROM ({_PAIRS}) WHERE datasets = 1")
    candidates = [
        _one(f"SELECT count(*) FROM ({_PAIRS})"),
        _one(f"SELECT count(*) FROM ({_PAIRS}) WHERE datasets > 1"),
    ]
    return [value for value in dict.fromkeys(candidates) if value != expected]


def _wrong_09_3():
    expected = _one(f"SELECT count(DISTINCT dataset) {_CLEARED}")
    candidates = [
        _one(f"SELECT count(*) {_CLEARED}"),
        _one(
            "SELECT count(DISTINCT dataset) FROM events "
            "WHERE channel = 'System' AND event_id = 104"
        ),
    ]
    return [value for value in dict.fromkeys(candidates) if value != expected]


WRONG = {"09.1": _wrong_09_1, "09.2": _wrong_09_2, "09.3": _wrong_09_3}
