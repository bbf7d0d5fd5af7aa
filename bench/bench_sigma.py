"""Todas las reglas de SigmaHQ para Windows contra los conjuntos de la caché.

Uso: ``.venv/bin/python bench/bench_sigma.py duckdb|spark``. Convierte todas
las reglas (el tiempo de conversión aparte), prepara la tabla de eventos de los
conjuntos de equipo Windows de la caché (aparte: se hace una vez y se guarda)
y evalúa cada regla convertida en cada conjunto con el motor indicado. Imprime
una línea JSON con los segundos de cada fase, las reglas y los conjuntos, y
cuántas reglas saltan; la memoria máxima la mide `bench/run.py` desde fuera.
"""

import json
import sys
import time

from taller import hunt, sigma


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
        spark = hunt.spark_session("taller-sigma-bench", memory="1g")
        try:
            evaluation = sigma.evaluate_spark(spark, conversions, table)
        finally:
            spark.stop()
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
