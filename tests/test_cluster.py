"""La parte de Spark del cuaderno 09 en un clúster Spark independiente real, en
la interfaz de bucle local.

Se arrancan un maestro y un trabajador del paquete pyspark
(``bin/spark-class org.apache.spark.deploy.master.Master`` / ``...Worker``) en
127.0.0.1 con puertos libres. El cuaderno 09 se ejecuta con
``SPARK_MASTER=spark://127.0.0.1:PUERTO``; una celda inyectada, justo después
de la comparación entre DuckDB y Spark del propio cuaderno, guarda el maestro
que usó la sesión, cada consulta del cuaderno y las filas de Spark. Después la
prueba ejecuta las mismas consultas en DuckDB y compara, y comprueba con el
estado JSON del maestro que la aplicación se ejecutó de verdad allí. Las dos
JVM se paran por su identificador de proceso (cada una en su grupo de
procesos) al cerrar la fixture, pase lo que pase.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pyspark
import pytest
from nbclient import NotebookClient

from mirror import REPO

pytestmark = pytest.mark.notebooks

NOTEBOOK = REPO / "notebooks" / "09_cazar_a_escala.ipynb"
SPARK_HOME = Path(pyspark.__file__).resolve().parent
BOOT_TIMEOUT = 120  # s: una JVM en una máquina ocupada de 2 núcleos
CELL_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(ui_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


def wait_for(check, what: str, procs, logs):
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(
                    f"{what}: a Spark process exited early:\n"
                    + "\n".join(log.read_text()[-2000:] for log in logs)
                )
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{what}: not ready after {BOOT_TIMEOUT} s")


def start(args, log: Path, env) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(SPARK_HOME / "bin" / "spark-class"), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # su propio grupo de procesos: se detiene entero
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def cluster(tmp_path):
    if not shutil.which("java"):
        pytest.skip("Spark necesita Java 17 (make system-check dice cómo instalarlo)")
    port, ui, worker_port, worker_ui = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(tmp_path),
        "SPARK_WORKER_DIR": str(tmp_path / "work"),
    }
    logs = [tmp_path / "master.log", tmp_path / "worker.log"]
    procs = []
    try:
        procs.append(
            start(
                [
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--webui-port",
                    str(ui),
                ],
                logs[0],
                env,
            )
        )
        wait_for(lambda: status(ui)["status"] == "ALIVE", "master", procs, logs)
        procs.append(
            start(
                [
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(worker_port),
                    "--webui-port",
                    str(worker_ui),
                    "--cores",
                    "2",
                    "--memory",
                    "1g",
                    f"spark://127.0.0.1:{port}",
                ],
                logs[1],
                env,
            )
        )
        wait_for(lambda: status(ui)["aliveworkers"] >= 1, "worker", procs, logs)
        yield SimpleNamespace(url=f"spark://127.0.0.1:{port}", ui=ui, procs=procs)
    finally:
        for proc in reversed(procs):
            stop(proc)
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
    apps = status(cluster.ui)
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
