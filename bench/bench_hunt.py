"""La caza del cuaderno 09 sobre todo el corpus, con un motor: `make bench` la mide.

Uso: ``.venv/bin/python bench/bench_hunt.py duckdb|spark|pandas``. Imprime una
línea JSON con los segundos de la caza, de reloj y de CPU de este proceso
(abrir los datos y ejecutar las cinco consultas; en Spark, también arrancar
la sesión), y las filas de cada consulta,
para que `bench/run.py` compruebe que los tres motores encuentran lo mismo.
La memoria máxima (con la JVM de Spark) la mide `bench/run.py` desde fuera.

Las consultas son las del cuaderno 09 (mismo texto SQL); el bucle de pandas
es la versión «de toda la vida»: cada JSON con `pandas.read_json(lines=True)`,
filtrado en pandas y unido al final.
"""

import json
import sys
import time

from taller import catalog, hunt

SYSMON = hunt.SYSMON
MASKS = ["0x1010", "0x1038", "0x1410", "0x1438", "0x143a", "0x1f3fff", "0x1fffff"]
IN_MASKS = ", ".join(f"'{mask}'" for mask in MASKS)
QUERIES = {
    "hilo remoto": f"""
SELECT dataset, count(*) AS alerts FROM events
WHERE channel = '{SYSMON}' AND event_id = 8 GROUP BY dataset""",
    "hilo remoto refinada": f"""
SELECT dataset, count(*) AS alerts FROM events
WHERE channel = '{SYSMON}' AND event_id = 8
  AND NOT ((source_process = 'dwm.exe' AND target_process = 'csrss.exe'))
GROUP BY dataset""",
    "acceso a LSASS": f"""
SELECT dataset, count(*) AS alerts FROM events
WHERE channel = '{SYSMON}' AND event_id = 10
  AND target_process = 'lsass.exe' AND granted_access IN ({IN_MASKS})
GROUP BY dataset""",
    "registro de eventos": f"""
SELECT dataset, count(*) AS alerts FROM events
WHERE channel = '{SYSMON}' AND event_id IN (12, 13)
  AND (target_object LIKE '%/control/minint'
       OR target_object LIKE '%/services/eventlog/start'
       OR target_object LIKE '%/services/eventlog/%/file')
GROUP BY dataset""",
    "apilamiento LSASS": f"""
SELECT source_process, granted_access,
       count(DISTINCT dataset) AS datasets, count(*) AS events
FROM events
WHERE channel = '{SYSMON}' AND event_id = 10 AND target_process = 'lsass.exe'
GROUP BY source_process, granted_access""",
}


def run_duckdb(files):
    import duckdb

    con = duckdb.connect()
    hunt.duckdb_events(con, files)
    return {label: hunt.duckdb_rows(con, sql) for label, sql in QUERIES.items()}


def run_spark(files):
    spark = hunt.spark_session("taller-bench")
    try:
        hunt.spark_events(spark, files)
        return {label: hunt.spark_rows(spark, sql) for label, sql in QUERIES.items()}
    finally:
        spark.stop()


def run_pandas(files):
    import pandas as pd

    import taller

    def base(series):
        return series.astype("string").str.rsplit("\\", n=1).str[-1].str.lower()

    parts = []
    for name in files:
        events = pd.read_json(taller.json_path(name), lines=True)
        if "Channel" not in events:  # p. ej. un conjunto sin eventos de Sysmon
            continue
        events = events[events["Channel"] == SYSMON]
        events = events[events["EventID"].isin([8, 10, 12, 13])]
        frame = pd.DataFrame({"dataset": name, "event_id": events["EventID"]})
        for column, new in (("SourceImage", "source_process"), ("TargetImage", "target_process")):
            frame[new] = base(events[column]) if column in events else pd.NA
        frame["granted_access"] = (
            events["GrantedAccess"].astype("string").str.lower()
            if "GrantedAccess" in events
            else pd.NA
        )
        frame["target_object"] = (
            events["TargetObject"].astype("string").str.lower().str.replace("\\", "/")
            if "TargetObject" in events
            else pd.NA
        )
        parts.append(frame)
    sysmon = pd.concat(parts, ignore_index=True)

    def per_dataset(mask):
        counts = sysmon[mask.fillna(False).astype(bool)].groupby("dataset").size()
        return sorted((name, int(n)) for name, n in counts.items())

    thread = sysmon["event_id"] == 8
    expected = (sysmon["source_process"] == "dwm.exe") & (sysmon["target_process"] == "csrss.exe")
    lsass = (sysmon["event_id"] == 10) & (sysmon["target_process"] == "lsass.exe")
    key = sysmon["target_object"]
    tampering = sysmon["event_id"].isin([12, 13]) & (
        key.str.endswith("/control/minint")
        | key.str.endswith("/services/eventlog/start")
        | key.str.match(r".*/services/eventlog/.*/file$")
    )
    stack = (
        sysmon[lsass.fillna(False).astype(bool)]
        .groupby(["source_process", "granted_access"], dropna=False)
        .agg(datasets=("dataset", "nunique"), events=("dataset", "size"))
    )
    return {
        "hilo remoto": per_dataset(thread),
        "hilo remoto refinada": per_dataset(thread & ~expected.fillna(False)),
        "acceso a LSASS": per_dataset(lsass & sysmon["granted_access"].isin(MASKS)),
        "registro de eventos": per_dataset(tampering),
        "apilamiento LSASS": sorted(
            (source, access, int(row.datasets), int(row.events))
            for (source, access), row in stack.iterrows()
        ),
    }


ENGINES = {"duckdb": run_duckdb, "spark": run_spark, "pandas": run_pandas}


def main() -> int:
    engine = sys.argv[1]
    files = hunt.corpus_files(progress=False)  # ya en la caché: solo rutas
    if engine == "spark":
        hunt.hunting_table(files)  # preparada antes, como en el cuaderno
    started, cpu = time.perf_counter(), time.process_time()
    rows = ENGINES[engine](files)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu  # todos los hilos de este proceso (no la JVM)
    print(
        json.dumps(
            {
                "engine": engine,
                "seconds": seconds,
                "cpu": cpu,
                "datasets": len(catalog.corpus()),
                "rows": rows,
            },
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
