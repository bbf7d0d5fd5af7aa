"""Probar una regla: la orden `taller sigma`."""

from pathlib import Path

from taller import catalog
from taller.errors import TallerError
from taller.sigma.convert import Conversion, backend, convert, read_rule
from taller.sigma.evaluate import evaluate_duckdb, parent
from taller.sigma.events import cached_hosts, events_table, windows_hosts

# --- Probar una regla: la orden `taller sigma` -----------------------------------


def try_rule(path: Path, names: list[str] | None = None) -> tuple[list[Conversion], dict]:
    """Convierte las reglas de `path` y las evalúa en los conjuntos `names`.

    Sin `names`, en todos los conjuntos de equipo Windows de la caché. Los
    errores de la regla (YAML no válido, modificador desconocido, campos que
    ningún conjunto trae) se explican en español con `TallerError`.
    """
    path = Path(path)
    if not path.is_file():
        raise TallerError(f"No existe el archivo de regla «{path}».")
    rules = read_rule(path.read_text(encoding="utf-8"), path.name)
    backends = {dialect: backend(dialect) for dialect in ("duckdb", "spark")}
    conversions = [convert(rule, path.name, backends) for rule in rules]
    for c in conversions:
        if c.reason:
            raise TallerError(
                f"{path.name}: la regla «{c.title}» no se puede convertir: {c.reason}."
            )
    if names:
        entries = [catalog.resolve(name) for name in names]
        for entry in entries:
            if entry not in windows_hosts():
                raise TallerError(
                    f"«{entry.name}» no es un conjunto de equipo Windows: las reglas Sigma "
                    "de Windows solo se prueban en esos."
                )
        import taller

        for entry in entries:
            taller.parquet_path(entry.name)  # lo descarga si falta
    else:
        entries = cached_hosts()
        if not entries:
            raise TallerError(
                "No hay conjuntos de equipo Windows en la caché: descargue alguno con "
                "`python -m taller descargar NOMBRE` (o el corpus con --corpus)."
            )
    table = events_table(entries)
    evaluation = evaluate_duckdb(conversions, table)
    return conversions, {"evaluation": evaluation, "entries": entries}


def report(conversions, outcome, show_sql: bool = False) -> str:
    """El informe en español de `try_rule`."""
    evaluation = outcome["evaluation"]
    entries = {entry.name: entry for entry in outcome["entries"]}
    lines = []
    for c in conversions:
        lines.append(f"Regla: {c.title} ({c.id or 'sin id'})")
        if c.author:
            lines.append(f"  Autor: {c.author}")
        lines.append(f"  Técnicas: {', '.join(c.techniques) or 'ninguna etiqueta attack.tNNNN'}")
        if show_sql:
            lines.append(f"  SQL de DuckDB: {c.duckdb}")
            lines.append(f"  SQL de Spark:  {c.spark}")
        missing = evaluation.missing.get(c.path)
        if missing:
            lines.append(
                "  Aviso: campos desconocidos, que ningún conjunto trae: "
                f"{', '.join(missing)}. La regla nunca los encontrará: revise el nombre."
            )
        if c.path in evaluation.errors:
            lines.append(f"  Error del motor: {evaluation.errors[c.path]}")
            continue
        alerts = evaluation.alerts.get(c.path, {})
        own = {parent(t) for t in c.techniques}
        counts = {"TP": 0, "FP": 0, "FN": 0}
        for name, entry in sorted(entries.items()):
            simulated = {parent(t) for t in entry.techniques}
            fired = name in alerts
            if fired:
                verdict = "" if not own else ("TP" if own & simulated else "FP")
                if verdict:
                    counts[verdict] += 1
                lines.append(f"  {name}: {alerts[name]} alertas {verdict}".rstrip())
            elif own & simulated:
                counts["FN"] += 1
                lines.append(f"  {name}: no salta (FN: simula {', '.join(entry.techniques)})")
        lines.append(
            f"  Salta en {len(alerts)} de {len(entries)} conjuntos · "
            f"TP {counts['TP']} · FP {counts['FP']} · FN {counts['FN']}"
        )
    return "\n".join(lines)


def run(args) -> int:
    """`taller sigma`: prueba la regla y muestra el informe."""
    conversions, outcome = try_rule(args.regla, args.conjunto)
    print(report(conversions, outcome, args.sql))
    return 0


def add_parser(orders) -> None:
    """La suborden ``sigma`` de `taller.cli`."""
    rules = orders.add_parser(
        "sigma",
        help="prueba una regla Sigma en un conjunto o en todos los de Windows de la caché",
    )
    rules.add_argument("regla", metavar="REGLA.yml", help="archivo YAML con la regla Sigma")
    rules.add_argument(
        "--conjunto",
        action="append",
        metavar="NOMBRE",
        help="solo este conjunto (se puede repetir); por defecto, todos los de equipo "
        "Windows de la caché",
    )
    rules.add_argument("--sql", action="store_true", help="muestra el SQL de DuckDB y de Spark")
    rules.set_defaults(run=run)
