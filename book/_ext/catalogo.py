"""La página del catálogo: cada conjunto de Security-Datasets por táctica y técnica de ATT&CK.

`book/catalogo.md` solo contiene la directiva `{catalogo-conjuntos}`; esta
extensión la expande al construir el sitio a partir de `taller/catalogo.yaml`
(que genera `scripts/generate_catalog.py` con los metadatos de upstream), así
que la página no puede contradecir al catálogo que usa el paquete. Cada
conjunto enlaza su ficha de metadatos de upstream en el commit fijado; los que
usan las lecciones van marcados. Al final, los archivos de upstream que no se
pueden verificar (sin huella SHA-256 conocida) y las fichas sin archivo.
"""

from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "taller" / "catalogo.yaml"

# Nombres en español de las tácticas de MITRE ATT&CK (Enterprise).
TACTICS = {
    "TA0043": "Reconocimiento",
    "TA0042": "Desarrollo de recursos",
    "TA0001": "Acceso inicial",
    "TA0002": "Ejecución",
    "TA0003": "Persistencia",
    "TA0004": "Escalada de privilegios",
    "TA0005": "Evasión de defensas",
    "TA0006": "Acceso a credenciales",
    "TA0007": "Descubrimiento",
    "TA0008": "Movimiento lateral",
    "TA0009": "Recolección",
    "TA0011": "Mando y control",
    "TA0010": "Exfiltración",
    "TA0040": "Impacto",
}


def technique_url(technique: str) -> str:
    return "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"


def link(text: str, url: str) -> nodes.reference:
    return nodes.reference("", text, refuri=url)


def dataset_item(name: str, entry: dict, blob: str) -> nodes.list_item:
    paragraph = nodes.paragraph()
    paragraph += nodes.literal(text=name)
    paragraph += nodes.Text(f": {entry['titulo']} ({entry['tipo']}")
    if entry["ficha"]:
        paragraph += nodes.Text(", ")
        paragraph += link("ficha", blob + entry["ficha"])
    paragraph += nodes.Text(", ")
    paragraph += link("archivo", blob + entry["ruta"])
    paragraph += nodes.Text(")")
    if entry["cuadernos"] or entry["seleccion"]:
        used = ", ".join(entry["cuadernos"]) or "descargar --todos"
        paragraph += nodes.Text(" · ")
        paragraph += nodes.strong(text=f"en el taller: {used}")
    return nodes.list_item("", paragraph)


class CatalogDirective(SphinxDirective):
    """``{catalogo-conjuntos}``: una lista por táctica y luego una por técnica."""

    has_content = False

    def run(self):
        self.env.note_dependency(str(CATALOG))
        catalog = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
        origin = catalog["origen"]
        blob = f"{origin['repositorio']}/blob/{origin['commit']}/"
        entries = catalog["conjuntos"]
        result = []

        total = nodes.paragraph()
        with_card = sum(1 for entry in entries.values() if entry["ficha"])
        total += nodes.Text(
            f"{len(entries)} conjuntos ({with_card} con ficha de metadatos), "
            f"de Security-Datasets en el commit {origin['commit'][:7]}."
        )
        result.append(total)

        # Las fichas emparejan cada técnica con sus tácticas, pero el catálogo
        # guarda las dos listas por separado: se agrupa por cada una, sin cruzarlas.
        by_tactic: dict[str, list[str]] = {}
        by_technique: dict[str, list[str]] = {}
        for name, entry in entries.items():
            for tactic in entry["tacticas"] or ["—"]:
                by_tactic.setdefault(tactic, []).append(name)
            for technique in entry["tecnicas"] or ["—"]:
                by_technique.setdefault(technique, []).append(name)

        def count(names):
            return " · 1 conjunto" if len(names) == 1 else f" · {len(names)} conjuntos"

        def listing(names):
            items = nodes.bullet_list()
            for name in names:
                items += dataset_item(name, entries[name], blob)
            return items

        result.append(nodes.rubric(text="Por táctica", ids=["por-tactica"]))
        order = [t for t in TACTICS if t in by_tactic]
        order += sorted(t for t in by_tactic if t not in TACTICS and t != "—")
        order += ["—"] if "—" in by_tactic else []
        for tactic in order:
            heading = nodes.paragraph()
            if tactic == "—":
                heading += nodes.strong(text="Sin táctica en la ficha (o sin ficha)")
            else:
                heading += link(
                    f"{TACTICS.get(tactic, tactic)} ({tactic})",
                    f"https://attack.mitre.org/tactics/{tactic}/",
                )
            heading += nodes.Text(count(by_tactic[tactic]))
            result += [heading, listing(by_tactic[tactic])]

        result.append(nodes.rubric(text="Por técnica", ids=["por-tecnica"]))
        techniques = sorted(t for t in by_technique if t != "—")
        techniques += ["—"] if "—" in by_technique else []
        for technique in techniques:
            heading = nodes.paragraph()
            if technique == "—":
                heading += nodes.strong(text="Sin técnica en la ficha (o sin ficha)")
            else:
                heading += link(technique, technique_url(technique))
            heading += nodes.Text(count(by_technique[technique]))
            result += [heading, listing(by_technique[technique])]

        unverifiable = catalog.get("sin_huella") or []
        if unverifiable:
            result.append(
                nodes.rubric(text="Archivos que no se pueden verificar", ids=["sin-huella"])
            )
            note = nodes.paragraph()
            note += nodes.Text(
                f"{len(unverifiable)} archivos publicados en Security-Datasets en este commit "
                "no tienen huella SHA-256 conocida: el taller no puede comprobar que su "
                "descarga sea lo publicado, así que no los cataloga ni los descarga "
                "(`python -m taller descargar` lo explica si se le piden)."
            )
            result.append(note)
            items = nodes.bullet_list()
            for item in unverifiable:
                paragraph = nodes.paragraph()
                paragraph += nodes.literal(text=item["ruta"])
                paragraph += nodes.Text(f": {item['titulo']} (" if item["titulo"] else " (")
                if item["ficha"]:
                    paragraph += link("ficha", blob + item["ficha"])
                    paragraph += nodes.Text(", ")
                paragraph += link("archivo", blob + item["ruta"])
                paragraph += nodes.Text(")")
                items += nodes.list_item("", paragraph)
            result.append(items)

        orphans = catalog.get("fichas_sin_archivo") or []
        if orphans:
            result.append(
                nodes.rubric(text="Fichas sin archivo publicado", ids=["fichas-sin-archivo"])
            )
            items = nodes.bullet_list()
            for card in orphans:
                paragraph = nodes.paragraph()
                paragraph += link(card["id"], blob + card["ficha"])
                paragraph += nodes.Text(
                    f": {card['titulo']} (enlaza un archivo que "
                    "upstream no publica en este commit)"
                )
                items += nodes.list_item("", paragraph)
            result.append(items)
        return result


def setup(app):
    app.add_directive("catalogo-conjuntos", CatalogDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
