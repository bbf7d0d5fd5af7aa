"""Comprobaciones de los ejercicios de 10_reglas_sigma.ipynb.

La respuesta esperada se calcula aquí con `taller.sigma` sobre el mismo corpus
del cuaderno: la regla de LSASS del taller con los dos filtros, medida en
DuckDB. Ningún mensaje la revela.
"""

from functools import cache

from taller.exercises import exercise
from taller.exercises.answers import INTEGER

CONDITION = "    condition: selection\n"
FILTERS = (
    "    filter_main_wmi:\n"
    "        SourceImage|endswith: '\\wmiprvse.exe'\n"
    "    filter_main_svchost:\n"
    "        SourceImage|endswith: '\\svchost.exe'\n"
    "    condition: selection and not 1 of filter_main_*\n"
)


@cache
def _true_positives() -> tuple[int, int]:
    """(TP con los dos filtros, alertas de esos conjuntos), en el corpus."""
    import duckdb

    from taller import catalog, sigma

    path = sigma.WORKSHOP_RULES / "proc_access_win_taller_lsass_mascaras.yml"
    text = path.read_text(encoding="utf-8").replace(CONDITION, FILTERS)
    converted = sigma.convert(sigma.read_rule(text, path.name)[0], path.name)
    own = {sigma.parent(t) for t in converted.techniques}
    entries = catalog.corpus()
    with duckdb.connect() as con:
        sigma.duckdb_events(con, sigma.events_table(entries), [converted])
        alerts = dict(
            con.execute(
                f"SELECT dataset, count(*) FROM events WHERE {converted.duckdb} GROUP BY dataset"
            ).fetchall()
        )
    hits = [
        entry.name
        for entry in entries
        if entry.name in alerts and own & {sigma.parent(t) for t in entry.techniques}
    ]
    return len(hits), sum(alerts[name] for name in hits)


@exercise(
    "10.1",
    INTEGER,
    hints=(
        "El filtro nuevo es otro bloque de la sección detection, con el mismo "
        "prefijo que el de wmiprvse.exe, para que la condición lo recoja.",
        "Copie el bloque filter_main_wmi con otro nombre y otro programa, "
        "mida la regla con measure y lea la casilla TP (conjuntos, no "
        "alertas).",
    ),
)
def _(value):
    expected, alerts = _true_positives()
    if value == expected:
        return True, (
            "El filtro de svchost.exe no cuesta ningún acierto: las herramientas de "
            "volcado no se disfrazan de ese proceso en el corpus."
        )
    if value == alerts:
        return False, "Ha contado alertas; la casilla TP cuenta conjuntos."
    return False, None


# Respuestas equivocadas verosímiles (tests/test_exercises.py): las alertas en
# lugar de los conjuntos, y los conjuntos de la fila FP o uno de más.
WRONG = {
    "10.1": lambda: [_true_positives()[1], _true_positives()[0] + 1, "6"],
}
