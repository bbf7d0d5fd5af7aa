"""Un clúster Spark independiente de verdad en 127.0.0.1: un maestro y un trabajador.

Los arranca el paquete pyspark (``bin/spark-class
org.apache.spark.deploy.master.Master`` / ``...Worker``) con puertos libres. Lo
usan la prueba del cuaderno 09 en un clúster (``tests/test_cluster.py``) y la
medida de las reglas Sigma en Spark (``bench/bench_sigma.py``). Cada JVM va en
su propio grupo de procesos y se para por su identificador al salir del
bloque ``with``, pase lo que pase.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent
BOOT_TIMEOUT = 120  # s: una JVM en una máquina ocupada de 2 núcleos


class ClusterError(RuntimeError):
    """El maestro o el trabajador no arrancaron (el mensaje trae el final de sus registros)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(ui_port: int) -> dict:
    """El estado JSON del maestro (aplicaciones, trabajadores vivos)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


def _wait_for(check, what: str, procs, logs) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise ClusterError(
                    f"{what}: un proceso de Spark terminó antes de tiempo:\n"
                    + "\n".join(log.read_text()[-2000:] for log in logs if log.exists())
                )
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise ClusterError(f"{what}: no está listo tras {BOOT_TIMEOUT} s")


def _start(args, log: Path, env) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(SPARK_HOME / "bin" / "spark-class"), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # su propio grupo de procesos: se detiene entero
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def standalone(folder: Path, cores: int = 2, memory: str = "1g"):
    """Maestro y trabajador en 127.0.0.1; da ``url`` (``spark://…``), ``ui`` y ``procs``.

    Los registros y la carpeta de trabajo de Spark quedan en `folder`.
    """
    port, ui, worker_port, worker_ui = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_WORKER_DIR": str(folder / "work"),
    }
    logs = [folder / "master.log", folder / "worker.log"]
    procs = []
    try:
        master = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)]
        procs.append(_start(["org.apache.spark.deploy.master.Master", *master], logs[0], env))
        _wait_for(lambda: status(ui)["status"] == "ALIVE", "maestro", procs, logs)
        worker = [
            *("--host", "127.0.0.1", "--port", str(worker_port)),
            *("--webui-port", str(worker_ui), "--cores", str(cores), "--memory", memory),
            f"spark://127.0.0.1:{port}",
        ]
        procs.append(_start(["org.apache.spark.deploy.worker.Worker", *worker], logs[1], env))
        _wait_for(lambda: status(ui)["aliveworkers"] >= 1, "trabajador", procs, logs)
        yield SimpleNamespace(url=f"spark://127.0.0.1:{port}", ui=ui, procs=procs)
    finally:
        for proc in reversed(procs):
            _stop(proc)
