"""Comprobaciones de los ejercicios de 09_cazar_a_escala.ipynb.

Cada respuesta esperada se calcula aquí con DuckDB sobre el mismo corpus del
cuaderno (`taller.hunt`); ningún mensaje la revela.
"""

from functools import cache

from taller.exercises import exercise

SYSMON = "Microsoft-Windows-Sysmon/Operational"


@cache
def _connection():
    import duckdb

    from taller import hunt

    con = duckdb.connect()
    hunt.duckdb_events(con)
    return con


def _one(sql: str) -> int:
    return int(_connection().execute(sql).fetchall()[0][0])


def _number(answer) -> int | None:
    if isinstance(answer, bool):
        return None
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return None
    return value if value == answer else None


@exercise("09.1")
def _(answer):
    where = f"WHERE channel = '{SYSMON}' AND event_id = 10 AND target_process = 'lsass.exe'"
    expected = _one(f"SELECT count(DISTINCT dataset) FROM events {where}")
    given = _number(answer)
    if given == expected:
        return True, (
            "La mayoría del corpus toca lsass.exe: el destino solo no sirve "
            "como regla, hacen falta las máscaras."
        )
    if given is None:
        return False, "Pista: guarde en answer un número entero."
    if given == _one(f"SELECT count(*) FROM events {where}"):
        return False, ("Pista: ha contado eventos, no conjuntos. Use count(DISTINCT dataset).")
    return False, (
        "Pista: filtre channel (Sysmon), event_id = 10 y target_process = "
        "'lsass.exe', y cuente los conjuntos distintos."
    )


@exercise("09.2")
def _(answer):
    pairs = (
        f"SELECT source_process, target_process, "
        f"count(DISTINCT dataset) AS datasets, count(*) AS events "
        f"FROM events WHERE channel = '{SYSMON}' AND event_id = 8 "
        "GROUP BY source_process, target_process"
    )
    expected = _one(f"SELECT count(*) FROM ({pairs}) WHERE datasets = 1")
    given = _number(answer)
    if given == expected:
        return True, (
            "Lo raro entre conjuntos es lo primero que se mira: son casi todos "
            "los pares, porque cada herramienta inyecta a su manera."
        )
    if given is None:
        return False, "Pista: guarde en answer un número entero."
    if given == _one(f"SELECT count(*) FROM ({pairs}) WHERE events = 1"):
        return False, (
            "Pista: ha contado pares con un solo evento; el apilamiento cuenta "
            "conjuntos: count(DISTINCT dataset)."
        )
    return False, (
        "Pista: agrupe por source_process y target_process, cuente los "
        "conjuntos distintos de cada par y quédese con los que valen 1."
    )


@exercise("09.3")
def _(answer):
    where = "WHERE channel = 'Security' AND event_id = 1102"
    expected = _one(f"SELECT count(DISTINCT dataset) FROM events {where}")
    given = _number(answer)
    if given == expected:
        return True, (
            "Es el rastro del laboratorio, que borra los registros antes de "
            "grabar: como regla, saltaría en técnicas que no tienen nada que ver."
        )
    if given is None:
        return False, "Pista: guarde en answer un número entero."
    if given == _one(f"SELECT count(*) FROM events {where}"):
        return False, ("Pista: ha contado eventos, no conjuntos. Use count(DISTINCT dataset).")
    return False, (
        "Pista: el canal se llama 'Security' y el evento es el 1102; cuente "
        "los conjuntos distintos."
    )


_LSASS = (
    f"FROM events WHERE channel = '{SYSMON}' AND event_id = 10 AND target_process = 'lsass.exe'"
)
_PAIRS = (
    f"SELECT source_process, target_process, count(DISTINCT dataset) AS datasets "
    f"FROM events WHERE channel = '{SYSMON}' AND event_id = 8 "
    "GROUP BY source_process, target_process"
)
_CLEARED = "FROM events WHERE channel = 'Security' AND event_id = 1102"


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
