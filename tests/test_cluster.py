"""La parte de Spark del cuaderno 09 en un clúster Spark independiente real, en
la interfaz de bucle local.

Se arrancan un maestro y un trabajador del paquete pyspark en 127.0.0.1 con
puertos libres (``tests/spark_cluster.py``, que también usa ``make bench``).
El cuaderno 09 se ejecuta con ``SPARK_MASTER=spark://127.0.0.1:PUERTO``; una
celda inyectada, justo después de la comparación entre DuckDB y Spark del
propio cuaderno, guarda el maestro que usó la sesión, cada consulta del
cuaderno y las filas de Spark. Después la prueba ejecuta las mismas consultas
en DuckDB y compara, y comprueba con el estado JSON del maestro que la
aplicación se ejecutó de verdad allí. Las dos JVM se paran por su
identificador de proceso (cada una en su grupo de procesos) al cerrar la
fixture, pase lo que pase.
"""

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import spark_cluster
from mirror import REPO

pytestmark = pytest.mark.notebooks

NOTEBOOK = REPO / "notebooks" / "09_cazar_a_escala.ipynb"
CELL_TIMEOUT = 600


@pytest.fixture
def cluster(tmp_path):
    if not shutil.which("java"):
        pytest.skip("Spark necesita Java 17 (make system-check dice cómo instalarlo)")
    try:
        with spark_cluster.standalone(tmp_path) as running:
            yield running
            procs = running.procs
    except spark_cluster.ClusterError as exc:
        pytest.fail(str(exc))
    assert all(proc.poll() is not None for proc in procs)


def dump_cell(path: Path) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        "import json as _json\n"
        f"with open({str(path)!r}, 'w') as _out:\n"
        "    _json.dump({'master': spark.sparkContext.master,\n"
        "               'app': spark.sparkContext.applicationId,\n"
        "               'queries': QUERIES,\n"
        "               'spark': {label: hunt.spark_rows(spark, sql)\n"
        "                         for label, sql in QUERIES.items()}},\n"
        "              _out, default=str)\n"
    )


def as_json(rows):
    return json.loads(json.dumps(rows, default=str))


def test_notebook_09_spark_part_runs_on_a_standalone_cluster_and_agrees_with_duckdb(
    cluster, tmp_path, monkeypatch
):
    import duckdb

    from taller import hunt

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    comparison = next(
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "QUERIES = {" in cell.source
    )
    result = tmp_path / "spark.json"
    notebook.cells.insert(comparison + 1, dump_cell(result))
    monkeypatch.setenv("SPARK_MASTER", cluster.url)
    started = time.monotonic()
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    elapsed = time.monotonic() - started

    found = json.loads(result.read_text())
    assert found["master"] == cluster.url
    # La aplicación se ejecutó en este maestro (y terminó: el cuaderno la para).
    apps = spark_cluster.status(cluster.ui)
    ran = [app["id"] for app in apps["completedapps"] + apps["activeapps"]]
    assert found["app"] in ran

    con = duckdb.connect()
    hunt.duckdb_events(con)
    assert set(found["queries"]) >= {"hilo remoto", "acceso a LSASS", "apilamiento LSASS"}
    for label, sql in found["queries"].items():
        expected = as_json(hunt.duckdb_rows(con, sql))
        assert expected, f"{label}: DuckDB finds nothing; the comparison would be empty"
        assert found["spark"][label] == expected, label
    print(f"notebook 09 on {cluster.url}: {elapsed:.0f} s")
