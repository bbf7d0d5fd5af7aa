"""El glosario: una sola fuente (book/glosario.md), leída en el sitio y en JupyterLab.

`book/glosario.md` es el único lugar donde se define un término (directiva
`glossary` de Sphinx). Llegan a él dos lectores:

- **El sitio.** Las páginas enlazan el primer uso de un término con un enlace
  Markdown simple, `[huella SHA-256](glosario.md#term-huella-SHA-256)`. MyST
  resuelve `archivo.md#id` solo para las anclas de encabezado y avisa con
  cualquier otro id («local id not found»); esta extensión registra el id de
  cada término como un ancla más de su página, así que el enlace se resuelve y
  un id mal escrito hace fallar la construcción (`-W`). El id es el de Sphinx:
  «term-» y el término sin tildes, con espacios y símbolos como guiones y las
  mayúsculas conservadas («línea de comandos» → term-linea-de-comandos).
- **JupyterLab** (y VS Code, la vista previa de GitHub). Allí un archivo `.md`
  se abre en el editor de texto, como fuente MyST. Por eso los cuadernos
  enlazan a `glosario.ipynb#cell-id=term-…`: `notebooks/glosario.ipynb` se
  genera a partir de `book/glosario.md` (``python book/_ext/glosario.py``), en
  CommonMark simple, con una celda por término cuyo id de celda es el id del
  término. JupyterLab (4.1 y posteriores) abre el cuaderno ya representado y se
  desplaza a la celda nombrada por ``#cell-id=``; un ancla ``#term-…`` simple se
  buscaría antes de que se representen las celdas y fallaría en el primer clic.
  En el sitio, el mismo enlace lleva a la página del glosario: esta extensión
  dirige cada enlace a `notebooks/glosario` hacia `book/glosario`, ancla
  `term-…`. `tests/test_glossary.py` comprueba que el cuaderno generado está al
  día y que existe cada ancla a la que enlaza un cuaderno.
"""

import re
import unicodedata
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "book" / "glosario.md"
NOTEBOOK = REPO / "notebooks" / "glosario.ipynb"
NOTEBOOK_DOC = "notebooks/glosario"
PAGE_DOC = "book/glosario"


def register_term_anchors(app, doctree):
    slugs = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for term in doctree.findall(nodes.term):
        for term_id in term["ids"]:
            slugs.setdefault(term_id, (term.line or 0, term_id, term.astext()))


class GlossaryNotebookLinks(SphinxTransform):
    """`glosario.ipynb#term-x` (el cuaderno para JupyterLab) → la página del glosario."""

    default_priority = 500

    def apply(self, **kwargs):
        for ref in self.document.findall(addnodes.pending_xref):
            if ref.get("refdomain") == "doc" and ref.get("reftarget") == NOTEBOOK_DOC:
                ref["reftarget"] = PAGE_DOC
                target = ref.get("reftargetid") or ""
                ref["reftargetid"] = target.removeprefix("cell-id=") or None


# --- El cuaderno para JupyterLab -------------------------------------------------


def term_id(term: str) -> str:
    """El id de Sphinx de un término del glosario (sphinx.util.nodes._make_id de «term-…»)."""
    from sphinx.util.nodes import _make_id

    return _make_id(f"term-{term}")


def parse(text: str):
    """(introducción, [(término, definición)]) de la página del glosario, en su orden."""
    intro, _, rest = text.partition("```{glossary}\n")
    body = rest.rpartition("\n```")[0]
    entries = []
    for line in body.splitlines():
        if line.startswith(":"):  # opciones de la directiva (:sorted:)
            continue
        if line and not line[0].isspace():
            entries.append((line.strip(), []))
        elif entries:
            entries[-1][1].append(line[2:] if line.startswith("  ") else line.strip())
    return intro.strip(), [(term, "\n".join(lines).strip()) for term, lines in entries]


def plain_markdown(text: str) -> str:
    """Una definición en CommonMark: los roles {term} pasan a ser enlaces a las anclas de
    este cuaderno, y los enlaces a páginas del libro se hacen relativos a notebooks/."""

    def role(match):
        label, target = match[1], match[2] or match[1]
        return f"[{label.strip()}](#cell-id={term_id(target.strip())})"

    text = re.sub(r"\{term\}`([^`<]+?)(?:\s*<([^>]+)>)?`", role, text)
    return re.sub(r"\]\((?![a-z]+:|#)([^)]+\.md[^)]*)\)", r"](../book/\1)", text)


def notebook_cells():
    intro, entries = parse(SOURCE.read_text(encoding="utf-8"))
    header = (
        f"{intro}\n\n"
        "*Este cuaderno se genera a partir de `book/glosario.md`, la página del "
        "glosario del sitio: para cambiar un término, edite esa página y ejecute "
        "`python book/_ext/glosario.py`.*"
    )
    entries.sort(key=lambda entry: unicodedata.normalize("NFD", entry[0].lower()))
    cells = [("glosario", header)]
    for term, definition in entries:
        cells.append((term_id(term), f"### {term}\n\n{plain_markdown(definition)}"))
    return cells


def build_notebook():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(text, id=cell_id) for cell_id, text in notebook_cells()
    ]
    return nbformat.writes(nb) + "\n"


def setup(app):
    app.connect("doctree-read", register_term_anchors)
    app.add_transform(GlossaryNotebookLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    NOTEBOOK.write_text(build_notebook(), encoding="utf-8")
    print(f"Escrito {NOTEBOOK.relative_to(REPO)}")
