"""La página de cobertura de Sigma: las reglas de SigmaHQ medidas en el corpus.

`book/sigma.md` solo tiene la directiva ``{cobertura-sigma}``; esta extensión
la expande al construir el sitio con la evaluación guardada en la caché
(`taller.sigma.results_path`). Si falta, o se hizo con otros conjuntos que los
que hay ahora en la caché, la calcula (`taller.sigma.run_evaluation`, unos
minutos). Si no puede (no hay reglas ni conjuntos), la página lo dice y la
construcción avisa, lo que con ``-W`` la hace fallar: el sitio nunca muestra
cifras que no se midieron.
"""

from pathlib import Path

from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from taller import sigma

logger = logging.getLogger(__name__)
FIGURE = Path(__file__).resolve().parents[1] / "img" / "generado" / "sigma_cobertura.png"
LSASS_RULE = "5ef9853e-4d0e-4a70-846f-a9ca37d876da"


def technique_link(technique: str) -> str:
    url = "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"
    return f"[{technique}]({url})"


def rule_link(rule: dict) -> str:
    return f"[{rule['title']}]({sigma.RULES_URL}{rule['path']})"


def number(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text


def current_results() -> dict | None:
    """La evaluación guardada si corresponde a la caché; si no, se rehace."""
    hosts = sorted(entry.name for entry in sigma.cached_hosts())
    results = sigma.load_results()
    if results and sorted(results["datasets"]) == hosts:
        return results
    if not hosts:
        return None
    logger.info("Evaluando las reglas de SigmaHQ en %d conjuntos de la caché…", len(hosts))
    return sigma.run_evaluation()


def draw(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [row for row in rows if row["rules"]]
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    height = max(3.0, 0.28 * len(shown) + 1.2)
    fig, ax = plt.subplots(figsize=(7, height))
    labels = [row["technique"] for row in shown]
    positions = range(len(shown))
    ax.barh([p - 0.2 for p in positions], [r["TP"] for r in shown], 0.4, label="TP: detectados")
    ax.barh([p + 0.2 for p in positions], [r["FP"] for r in shown], 0.4, label="FP")
    ax.set_yticks(list(positions), labels, fontsize=11)
    ax.invert_yaxis()
    ax.set_xlabel("conjuntos", fontsize=11)
    ax.set_title("Reglas de cada técnica: verdaderos y falsos positivos", fontsize=12)
    ax.legend(fontsize=11)
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=110)
    plt.close(fig)


def markdown(results: dict) -> str:
    rules = results["rules"]
    datasets = results["datasets"]
    converted = [rule for rule in rules if rule["reason"] is None]
    reasons: dict[str, int] = {}
    for rule in rules:
        if rule["reason"]:
            key = rule["reason"].split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    fired = [rule for rule in converted if rule["alerts"]]
    missing = [rule for rule in converted if rule["missing"]]
    lines = [
        f"Reglas de SigmaHQ para Windows, etiqueta `{results['tag']}`: **{len(rules)}** "
        f"reglas, **{len(converted)}** convertidas a SQL y evaluadas en "
        f"**{len(datasets)}** conjuntos de equipo Windows de la caché; "
        f"**{len(fired)}** saltan en al menos uno. {len(missing)} reglas usan algún campo "
        "que ningún conjunto trae (nunca coincide).",
        "",
    ]
    absent = sorted({entry.name for entry in sigma.windows_hosts()} - set(datasets))
    if absent:
        lines += [
            f"No se evaluaron {len(absent)} conjuntos de equipo Windows del catálogo que no "
            "estaban en la caché al construir la página (`make datasets-windows` los "
            "descarga): " + ", ".join(f"`{name}`" for name in absent) + ".",
            "",
        ]
    lines += [
        f"Conversión: {number(results['seconds']['conversion'], 1)} s; consultas en DuckDB: "
        f"{number(results['seconds']['query'], 1)} s (medido al construir esta página).",
        "",
        "| Reglas que no se convierten | Cuántas |",
        "| --- | --- |",
    ]
    lines += [f"| {reason} | {count} |" for reason, count in sorted(reasons.items())]
    table = sigma.technique_table(results)
    draw(table)
    lines += [
        "",
        "## Cobertura por técnica",
        "",
        "Por técnica de los conjuntos: cuántos la simulan, cuántas reglas convertidas la "
        "llevan en sus etiquetas, en cuántos de esos conjuntos salta alguna (TP), en cuántos "
        "no (FN) y en cuántos conjuntos de otras técnicas salta alguna (FP).",
        "",
        "| Técnica | Conjuntos | Reglas | TP | FN | FP |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {technique_link(r['technique'])} | {r['datasets']} | {r['rules']} | {r['TP']} "
        f"| {r['FN']} | {r['FP']} |"
        for r in table
    ]
    lines += [
        "",
        "```{figure} img/generado/sigma_cobertura.png",
        ":alt: Barras horizontales por técnica de ATT&CK con dos valores: conjuntos de la "
        "técnica en los que salta alguna de sus reglas de SigmaHQ y conjuntos de otras "
        "técnicas en los que también saltan.",
        "",
        "Técnicas con alguna regla de SigmaHQ: conjuntos detectados (TP) y falsos positivos (FP).",
        "```",
        "",
        "## Técnicas que ninguna regla detecta",
        "",
    ]
    blind = [r for r in table if r["TP"] == 0]
    lines += [
        f"- {technique_link(r['technique'])}: {r['datasets']} "
        + ("conjunto, " if r["datasets"] == 1 else "conjuntos, ")
        + (
            "ninguna regla con esa etiqueta"
            if not r["rules"]
            else f"{r['rules']} reglas que no saltan"
        )
        for r in blind
    ]
    simulated = {sigma.parent(t) for info in datasets.values() for t in info["techniques"]}
    foreign: dict[str, int] = {}
    for rule in converted:
        for technique in {sigma.parent(t) for t in rule["techniques"]} - simulated:
            foreign[technique] = foreign.get(technique, 0) + 1
    common = sorted(foreign.items(), key=lambda item: (-item[1], item[0]))[:10]
    lines += [
        "",
        "Una técnica sin reglas puede estar solo renumerada: las fichas de Security-Datasets "
        "usan los identificadores de ATT&CK de cuando se grabaron y las reglas, los de la "
        "versión de ATT&CK de su etiqueta. Las técnicas de las reglas que ningún conjunto "
        "declara, con más reglas: "
        + ", ".join(f"{technique_link(t)} ({n} reglas)" for t, n in common)
        + ".",
    ]
    rows = sigma.verdicts(results)
    noisy: dict[str, dict] = {}
    for row in rows:
        if row["verdict"] == "FP":
            entry = noisy.setdefault(row["rule"], {"datasets": 0, "alerts": 0})
            entry["datasets"] += 1
            entry["alerts"] += row["alerts"]
    by_path = {rule["path"]: rule for rule in rules}
    lines += [
        "",
        "## Las reglas más ruidosas",
        "",
        "Las quince reglas que saltan en más conjuntos de otras técnicas (falsos positivos "
        "según las fichas), con sus autores.",
        "",
        "| Regla | Técnicas | Conjuntos FP | Alertas FP | Autor |",
        "| --- | --- | --- | --- | --- |",
    ]
    ranking = sorted(noisy.items(), key=lambda item: (-item[1]["datasets"], -item[1]["alerts"]))
    for path, counts in ranking[:15]:
        rule = by_path[path]
        lines.append(
            f"| {rule_link(rule)} | {', '.join(rule['techniques'])} | {counts['datasets']} "
            f"| {number(counts['alerts'])} | {rule['author'].replace('|', '/')} |"
        )
    lsass = [rule for rule in rules if rule["id"] == LSASS_RULE]
    if lsass:
        rule = lsass[0]
        lines += [
            "",
            "## Un ejemplo: volcado de LSASS",
            "",
            f"La regla {rule_link(rule)} ({', '.join(rule['techniques'])}; autor: "
            f"{rule['author']}) salta en estos conjuntos:",
            "",
            "| Conjunto | Técnicas del conjunto | Alertas | Casilla |",
            "| --- | --- | --- | --- |",
        ]
        for row in sorted(rows, key=lambda row: row["dataset"]):
            if row["rule"] == rule["path"]:
                lines.append(
                    f"| `{row['dataset']}` | {row['dataset_techniques'] or '(sin ficha)'} "
                    f"| {row['alerts']} | {row['verdict']} |"
                )
    lines += ["", "## Licencia de las reglas", "", sigma.LICENSE_NOTE]
    return "\n".join(lines)


class CoverageDirective(SphinxDirective):
    """``{cobertura-sigma}``: tablas, figura y listas de la evaluación."""

    has_content = False

    def run(self):
        try:
            results = current_results()
        except Exception as exc:  # sin reglas ni red: se dice, no se inventa
            results = None
            problem = str(exc)
        else:
            problem = "no hay conjuntos de equipo Windows en la caché"
        if results is None:
            logger.warning("Página de Sigma sin evaluación: %s", problem)
            text = (
                "**La evaluación no se pudo hacer al construir este sitio** "
                f"({problem}). Ejecute `make datasets` y vuelva a construirlo.\n\n"
                + sigma.LICENSE_NOTE
            )
        else:
            text = markdown(results)
        return self.parse_text_to_nodes(text)


def setup(app):
    app.add_directive("cobertura-sigma", CoverageDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
