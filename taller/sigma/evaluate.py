"""La evaluación: cada regla contra cada conjunto, y el recuento de aciertos."""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from taller.sigma.convert import Conversion, convert_all, logsource_condition
from taller.sigma.events import cached_hosts, events_table, table_columns
from taller.sigma.rules import LOWER, RULES_COMMIT, RULES_DIGEST, RULES_TAG, rules_dir, sigma_cache

# --- La evaluación: cada regla contra cada conjunto -----------------------------


def missing_fields(conversions, columns) -> dict[str, tuple[str, ...]]:
    """{ruta de la regla: campos que usa y ningún conjunto trae}."""
    known = {name.lower() for name in columns}
    return {
        c.path: absent
        for c in conversions
        if c.duckdb and (absent := tuple(f for f in c.fields if f.lower() not in known))
    }


def view_sql(source: str, columns, extra, quote: str, lowered: bool = False) -> str:
    """SELECT sobre `source` con los campos de `extra` que no están, vacíos.

    Con `lowered`, cada campo de `extra` lleva además su copia en minúsculas
    (``<campo>__lower``), la que usa el SQL de DuckDB.
    """
    known = {name.lower(): name for name in columns}
    wanted = list(dict.fromkeys(extra))
    parts = ["*"]
    seen = set()
    for name in wanted:
        if name.lower() in seen or name.lower() == "eventid":
            continue
        seen.add(name.lower())
        if name.lower() in known:
            if lowered:
                parts.append(
                    f"lower({quote}{known[name.lower()]}{quote}) AS {quote}{name}{LOWER}{quote}"
                )
        else:
            parts.append(f"CAST(NULL AS STRING) AS {quote}{name}{quote}")
            if lowered:
                parts.append(f"CAST(NULL AS STRING) AS {quote}{name}{LOWER}{quote}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def duckdb_events(con, table: Path, conversions=()) -> None:
    """Vista ``events`` en DuckDB sobre `events_table`, con los campos ausentes vacíos."""
    fields = [f for c in conversions if c.duckdb for f in c.fields]
    view = view_sql(f"read_parquet('{table}')", table_columns(table), fields, '"', True)
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {view}")


def spark_events(spark, table: Path, conversions=()) -> None:
    """Vista ``events`` en Spark sobre `events_table` (nombres sin distinguir mayúsculas)."""
    spark.conf.set("spark.sql.caseSensitive", "false")
    spark.read.parquet(str(table)).createOrReplaceTempView("sigma_raw")
    fields = [f for c in conversions if c.spark for f in c.fields]
    view = view_sql("sigma_raw", table_columns(table), fields, "`")
    spark.sql(f"CREATE OR REPLACE TEMP VIEW events AS {view}")


def _batch_sql(conditions: list[str], source: str = "events") -> str:
    counts = ", ".join(
        f"count(*) FILTER (WHERE {condition}) AS r{index}"
        for index, condition in enumerate(conditions)
    )
    return f"SELECT dataset, {counts} FROM {source} GROUP BY dataset"


def _run_batches(
    run, conditions: dict[str, str], batch: int, source: str = "events"
) -> tuple[dict, dict]:
    """{regla: {conjunto: alertas}} y {regla: error}, por lotes de `batch` reglas.

    Un lote es una sola lectura de la tabla; si falla, se parte en dos para
    encontrar la regla que el motor no acepta.
    """
    alerts: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    pending = [list(conditions)[i : i + batch] for i in range(0, len(conditions), batch)]
    while pending:
        keys = pending.pop()
        try:
            rows = run(_batch_sql([conditions[key] for key in keys], source))
        except Exception as exc:
            if len(keys) == 1:
                errors[keys[0]] = str(exc).splitlines()[0][:200]
            else:
                half = len(keys) // 2
                pending += [keys[:half], keys[half:]]
            continue
        for key in keys:
            alerts[key] = {}
        for row in rows:
            for key, count in zip(keys, row[1:], strict=True):
                if count:
                    alerts[key][row[0]] = int(count)
    return alerts, errors


@dataclass
class Evaluation:
    """Resultado de evaluar reglas sobre conjuntos."""

    conversions: list[Conversion]
    datasets: list[str]
    alerts: dict[str, dict[str, int]]  # {ruta: {conjunto: alertas}} (solo las que saltan)
    errors: dict[str, str] = field(default_factory=dict)  # {ruta: error del motor}
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _groups(conversions, dialect: str) -> dict[tuple, list[Conversion]]:
    """Las reglas convertidas, por fuente de registro."""
    groups: dict[tuple, list[Conversion]] = {}
    for c in conversions:
        if getattr(c, dialect):
            groups.setdefault(c.logsource, []).append(c)
    return groups


def _selected(datasets) -> str:
    if not datasets:
        return ""
    listed = ", ".join("'" + name.replace("'", "''") + "'" for name in datasets)
    return f" AND dataset IN ({listed})"


def evaluate_duckdb(conversions, table: Path, datasets=None, batch: int = 100, con=None):
    """Evalúa las reglas convertidas en DuckDB (`Evaluation`).

    Por cada fuente de registro se copian a memoria solo sus eventos y las
    columnas que usan sus reglas; cada lote de reglas es una sola lectura.
    """
    import duckdb

    own = con is None
    con = duckdb.connect() if own else con
    columns = table_columns(table)
    known = {name.lower(): name for name in columns}
    started = time.perf_counter()
    alerts: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    try:
        source = f"read_parquet('{table}')"
        names = datasets or [
            row[0] for row in con.execute(f"SELECT DISTINCT dataset FROM {source}").fetchall()
        ]
        for key, group in _groups(conversions, "duckdb").items():
            used = {f.lower() for c in group for f in c.fields} | {"channel", "eventid"}
            picked = ", ".join(f'"{known[f]}"' for f in sorted(used) if f in known)
            where = logsource_condition(key, "duckdb") + _selected(datasets)
            fields = [f for c in group for f in c.fields]
            inner = f"(SELECT dataset, {picked} FROM {source} WHERE {where})"
            view = view_sql(inner, [*known.values()], fields, '"', True)
            con.execute(f"CREATE OR REPLACE TEMP TABLE events AS {view}")
            found, failed = _run_batches(
                lambda sql: con.execute(sql).fetchall(), {c.path: c.duckdb for c in group}, batch
            )
            alerts.update(found)
            errors.update(failed)
        con.execute("DROP TABLE IF EXISTS events")
    finally:
        if own:
            con.close()
    return Evaluation(
        list(conversions),
        sorted(names),
        alerts,
        errors,
        missing_fields(conversions, columns),
        {"query": time.perf_counter() - started},
    )


def evaluate_spark(spark, conversions, table: Path, datasets=None, batch: int = 50):
    """Evalúa las reglas convertidas en Spark (`Evaluation`).

    Como en DuckDB, por cada fuente de registro se guardan en la memoria de
    Spark (``cache``) solo sus eventos y las columnas que usan sus reglas, y
    cada lote de reglas los lee de ahí.
    """
    spark_events(spark, table, conversions)
    selected = ""
    if datasets:
        listed = ", ".join("'" + name.replace("'", "\\'") + "'" for name in datasets)
        selected = f" AND dataset IN ({listed})"
    started = time.perf_counter()
    names = datasets or [
        row[0] for row in spark.sql("SELECT DISTINCT dataset FROM events").collect()
    ]
    alerts: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    for key, group in _groups(conversions, "spark").items():
        # Un nombre por campo: con caseSensitive=false, ProcessId y ProcessID son el mismo.
        used = {f.lower(): f for c in group for f in c.fields}
        used.update(channel="Channel", eventid="EventID")
        picked = ", ".join(f"`{name}`" for name in used.values())
        where = logsource_condition(key, "spark") + selected
        subset = spark.sql(f"SELECT dataset, {picked} FROM events WHERE {where}").cache()
        subset.createOrReplaceTempView("sigma_subset")
        try:
            found, failed = _run_batches(
                lambda sql: [tuple(row) for row in spark.sql(sql).collect()],
                {c.path: c.spark for c in group},
                batch,
                "sigma_subset",
            )
        finally:
            subset.unpersist()
        alerts.update(found)
        errors.update(failed)
    return Evaluation(
        list(conversions),
        sorted(names),
        alerts,
        errors,
        missing_fields(conversions, table_columns(table)),
        {"query": time.perf_counter() - started},
    )


# --- Resultados guardados y recuento de aciertos ----------------------------------

RESULTS = "evaluacion.json"


def results_path() -> Path:
    """Dónde se guarda la evaluación de las reglas de SigmaHQ (en la caché)."""
    return sigma_cache() / RESULTS


def parent(technique: str) -> str:
    """La técnica sin subtécnica: T1003.001 → T1003."""
    return technique.split(".")[0]


def run_evaluation(entries=None, paths=None) -> dict:
    """Evalúa las reglas de SigmaHQ en los conjuntos de la caché y lo guarda.

    Devuelve (y guarda en `results_path`) un diccionario con las reglas, los
    conjuntos con sus técnicas y, por regla, sus alertas por conjunto, el
    motivo si no se convirtió y los campos que el corpus no trae.
    """
    from taller.files import write_atomically

    root = rules_dir()
    entries = cached_hosts() if entries is None else entries
    started = time.perf_counter()
    conversions = convert_all(root, paths)
    converted = time.perf_counter() - started
    table = events_table(entries)
    evaluation = evaluate_duckdb(conversions, table)
    results = {
        "tag": RULES_TAG,
        "commit": RULES_COMMIT,
        "digest": RULES_DIGEST,
        "datasets": {
            entry.name: {"techniques": list(entry.techniques), "path": entry.path}
            for entry in entries
        },
        "rules": [
            {
                "path": c.path,
                "id": c.id,
                "title": c.title,
                "author": c.author,
                "level": c.level,
                "techniques": list(c.techniques),
                "logsource": list(c.logsource),
                "reason": c.reason or evaluation.errors.get(c.path),
                "missing": list(evaluation.missing.get(c.path, ())),
                "alerts": evaluation.alerts.get(c.path, {}),
            }
            for c in conversions
        ],
        "seconds": {"conversion": converted, "query": evaluation.seconds["query"]},
    }
    results_path().parent.mkdir(parents=True, exist_ok=True)
    write_atomically(results_path(), json.dumps(results, ensure_ascii=False).encode())
    return results


def load_results() -> dict | None:
    """La evaluación guardada, o None si no la hay (`run_evaluation` la crea)."""
    try:
        results = json.loads(results_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if results.get("digest") == RULES_DIGEST else None


def verdicts(results: dict) -> list[dict]:
    """Una fila por regla convertida y conjunto en que salta: ¿verdadero o falso positivo?

    Es verdadero positivo si la regla y la ficha del conjunto comparten una
    técnica (a nivel de técnica: T1003.001 y T1003.002 son T1003). Las reglas
    sin etiqueta de técnica no se cuentan como aciertos ni como fallos.
    """
    rows = []
    for rule in results["rules"]:
        own = {parent(t) for t in rule["techniques"]}
        for dataset, alerts in rule["alerts"].items():
            simulated = {parent(t) for t in results["datasets"][dataset]["techniques"]}
            verdict = "sin técnica" if not own else ("TP" if own & simulated else "FP")
            rows.append(
                {
                    "rule": rule["path"],
                    "title": rule["title"],
                    "dataset": dataset,
                    "alerts": alerts,
                    "verdict": verdict,
                    "rule_techniques": ", ".join(rule["techniques"]),
                    "dataset_techniques": ", ".join(results["datasets"][dataset]["techniques"]),
                }
            )
    return rows


def technique_table(results: dict) -> list[dict]:
    """Por técnica del corpus: conjuntos que la simulan, detectados (TP), no (FN) y FP.

    TP: conjuntos que simulan la técnica en los que salta al menos una regla
    etiquetada con ella. FN: los que la simulan y ninguna de esas reglas salta.
    FP: conjuntos que no la simulan en los que salta alguna de esas reglas.
    """
    datasets = results["datasets"]
    by_technique: dict[str, set] = {}
    for rule in results["rules"]:
        for technique in {parent(t) for t in rule["techniques"]}:
            by_technique.setdefault(technique, set()).update(rule["alerts"])
    rules_count: dict[str, int] = {}
    for rule in results["rules"]:
        if rule["reason"] is None:
            for technique in {parent(t) for t in rule["techniques"]}:
                rules_count[technique] = rules_count.get(technique, 0) + 1
    simulated: dict[str, set] = {}
    for name, info in datasets.items():
        for technique in {parent(t) for t in info["techniques"]}:
            simulated.setdefault(technique, set()).add(name)
    rows = []
    for technique in sorted(simulated):
        fired = by_technique.get(technique, set())
        rows.append(
            {
                "technique": technique,
                "datasets": len(simulated[technique]),
                "rules": rules_count.get(technique, 0),
                "TP": len(simulated[technique] & fired),
                "FN": len(simulated[technique] - fired),
                "FP": len(fired - simulated[technique]),
            }
        )
    return rows
