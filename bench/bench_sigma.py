"""Todas las reglas de SigmaHQ para Windows contra los conjuntos de la caché.

Uso: ``.venv/bin/python bench/bench_sigma.py duckdb|spark|spark-cluster``. Convierte todas
las reglas (el tiempo de conversión aparte), prepara la tabla de eventos de los
conjuntos de equipo Windows de la caché (aparte: se hace una vez y se guarda)
y evalúa cada regla convertida en cada conjunto con el motor indicado. Imprime
una línea JSON con los segundos de cada fase, las reglas y los conjuntos, y
cuántas reglas saltan; la memoria máxima la mide `bench/run.py` desde fuera.
``spark`` es Spark local; ``spark-cluster``, un clúster independiente (un
maestro y un trabajador) en 127.0.0.1, el mismo que arranca la prueba del
cuaderno 09 en un clúster (``tests/spark_cluster.py``).
"""

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from taller import hunt, sigma

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import spark_cluster  # noqa: E402  (tests/spark_cluster.py)


@contextlib.contextmanager
def spark_for(engine: str):
    """La sesión de Spark del motor: local, o en un clúster independiente en 127.0.0.1."""
    with contextlib.ExitStack() as stack:
        if engine == "spark-cluster":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            cluster = stack.enter_context(spark_cluster.standalone(folder))
            os.environ["SPARK_MASTER"] = cluster.url
        spark = hunt.spark_session("taller-sigma-bench", memory="1g")
        try:
            yield spark
        finally:
            spark.stop()


def main(engine: str) -> None:
    root = sigma.rules_dir()
    started = time.perf_counter()
    conversions = sigma.convert_all(root)
    conversion = time.perf_counter() - started
    started = time.perf_counter()
    table = sigma.events_table()
    preparation = time.perf_counter() - started
    if engine == "duckdb":
        evaluation = sigma.evaluate_duckdb(conversions, table)
    else:
        with spark_for(engine) as spark:
            evaluation = sigma.evaluate_spark(spark, conversions, table)
    converted = sum(1 for c in conversions if c.duckdb)
    print(
        json.dumps(
            {
                "rules": len(conversions),
                "converted": converted,
                "datasets": len(evaluation.datasets),
                "conversion": conversion,
                "table": preparation,
                "query": evaluation.seconds["query"],
                "errors": len(evaluation.errors),
                "fired": sum(1 for alerts in evaluation.alerts.values() if alerts),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
