"""Las reglas Sigma del taller dan las mismas filas que el SQL del cuaderno 09.

Las cuatro detecciones del cuaderno 09, escritas como reglas Sigma en
`taller/reglas/`, se convierten con pySigma (`taller.sigma`) y se ejecutan en
DuckDB y en Spark sobre el corpus de caza: cada una debe devolver exactamente
las filas (conjunto, alertas) de la consulta escrita a mano en el cuaderno, que
se lee del propio cuaderno.

Las dos consultas leen los mismos eventos: la vista normalizada del cuaderno
(`taller.hunt`) se construye aquí sobre la tabla de `taller.sigma`, que también
saca los campos de los conjuntos grabados con Winlogbeat (dentro de
``event_data``). La vista del cuaderno, leída de las copias Parquet, no los ve:
por eso la regla LSASS salta además en ``empire_mimikatz_opth``.
"""

import ast
import json

import pytest

from mirror import REPO
from taller import catalog, hunt, sigma

pytestmark = pytest.mark.data

NOTEBOOK = REPO / "notebooks" / "09_cazar_a_escala.ipynb"
# Regla Sigma del taller → variable con el SQL escrito a mano en el cuaderno 09.
PAIRS = {
    "create_remote_thread_win_taller_hilo_remoto.yml": "REMOTE_THREAD",
    "create_remote_thread_win_taller_hilo_remoto_refinada.yml": "REMOTE_THREAD_REFINED",
    "proc_access_win_taller_lsass_mascaras.yml": "LSASS_ACCESS",
    "registry_event_win_taller_registro_eventos.yml": "EVENTLOG_TAMPERING",
}


def notebook_queries() -> dict[str, str]:
    """Las asignaciones de nivel superior de las celdas del cuaderno 09, ejecutadas."""
    scope = {"hunt": hunt}
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # celdas con magias de IPython
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and all(
                isinstance(target, ast.Name)
                and (target.id.isupper() or target.id in {"expected", "masks"})
                for target in node.targets
            ):
                exec(compile(ast.Module([node], []), str(NOTEBOOK), "exec"), scope)
    return {name: scope[name] for name in PAIRS.values()}


def notebook_view(table) -> str:
    """La vista ``events`` del cuaderno 09 sobre la tabla de eventos de Sigma."""
    columns = ", ".join(f'"{name}"' for name in hunt.RAW_COLUMNS)
    return hunt._duckdb_normalized(f"(SELECT dataset, {columns} FROM read_parquet('{table}'))")


def sigma_sql(condition: str) -> str:
    return f"SELECT dataset, count(*) AS alerts FROM events WHERE {condition} GROUP BY dataset"


@pytest.fixture(scope="module")
def corpus():
    files = hunt.corpus_files(progress=False)
    table = sigma.events_table(catalog.corpus())
    conversions = {name: sigma.convert_file(sigma.WORKSHOP_RULES / name)[0] for name in PAIRS}
    return files, table, conversions


def test_the_workshop_rules_convert_without_missing_fields(corpus):
    _, table, conversions = corpus
    for conversion in conversions.values():
        assert conversion.reason is None, conversion
        assert conversion.duckdb and conversion.spark
    assert sigma.missing_fields(conversions.values(), sigma.table_columns(table)) == {}


def test_duckdb_gives_the_rows_of_the_notebook_sql(corpus):
    import duckdb

    files, table, conversions = corpus
    queries = notebook_queries()
    with duckdb.connect() as con:
        con.execute(f"CREATE TEMP VIEW events AS {notebook_view(table)}")
        expected = {name: hunt.duckdb_rows(con, queries[var]) for name, var in PAIRS.items()}
    with duckdb.connect() as con:
        sigma.duckdb_events(con, table, conversions.values())
        found = {
            name: hunt.duckdb_rows(con, sigma_sql(conversions[name].duckdb)) for name in PAIRS
        }
    for name in PAIRS:
        assert expected[name], name  # cada detección salta en algún conjunto
        assert found[name] == expected[name], name


def test_spark_gives_the_rows_of_the_notebook_sql(corpus, monkeypatch):
    files, table, conversions = corpus
    # La vista del cuaderno en Spark, sobre la misma tabla (véase arriba).
    monkeypatch.setattr(hunt, "hunting_table", lambda files=None: table)
    queries = notebook_queries()
    spark = hunt.spark_session("taller-sigma")
    try:
        hunt.spark_events(spark, files)
        expected = {name: hunt.spark_rows(spark, queries[var]) for name, var in PAIRS.items()}
        sigma.spark_events(spark, table, conversions.values())
        found = {
            name: hunt.spark_rows(spark, sigma_sql(conversions[name].spark)) for name in PAIRS
        }
    finally:
        spark.stop()
    for name in PAIRS:
        assert expected[name], name
        assert found[name] == expected[name], name
