"""The glossary: one source (book/glosario.md), read on the site and in JupyterLab.

`book/glosario.md` is the only place a term is defined (Sphinx `glossary`
directive). Two readers reach it:

- **The site.** Pages link a term's first use with a plain Markdown link,
  `[huella SHA-256](glosario.md#term-huella-SHA-256)`. MyST resolves
  `file.md#id` only for heading anchors and warns on any other id ("local id
  not found"); this extension registers the id of every term as one more
  anchor of its page, so the link resolves and a misspelt id fails the build
  (`-W`). The id is Sphinx's: "term-" and the term without accents, spaces and
  symbols as hyphens, capitals kept («línea de comandos» →
  term-linea-de-comandos).
- **JupyterLab** (and VS Code, GitHub's preview). A `.md` file opens there in
  the text editor, as MyST source. So notebooks link to
  `glosario.ipynb#cell-id=term-…`: `notebooks/glosario.ipynb` is generated
  from `book/glosario.md` (``python book/_ext/glosario.py``), plain
  CommonMark, one cell per term whose cell id is the term's id. JupyterLab
  (4.1 and later) opens the notebook rendered and scrolls to the cell named
  by ``#cell-id=``; a plain ``#term-…`` anchor would be looked up before the
  cells are rendered and missed on the first click. On the site the same
  link goes to the glossary page: this extension points every link to
  `notebooks/glosario` at `book/glosario`, anchor `term-…`.
  `tests/test_glossary.py` checks that the generated notebook is up to date
  and that every anchor a notebook links to exists.
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
    """`glosario.ipynb#term-x` (the notebook for JupyterLab) → the glossary page."""

    default_priority = 500

    def apply(self, **kwargs):
        for ref in self.document.findall(addnodes.pending_xref):
            if ref.get("refdomain") == "doc" and ref.get("reftarget") == NOTEBOOK_DOC:
                ref["reftarget"] = PAGE_DOC
                target = ref.get("reftargetid") or ""
                ref["reftargetid"] = target.removeprefix("cell-id=") or None


# --- The notebook for JupyterLab -------------------------------------------------


def term_id(term: str) -> str:
    """Sphinx's id for a glossary term (sphinx.util.nodes._make_id of "term-…")."""
    from sphinx.util.nodes import _make_id

    return _make_id(f"term-{term}")


def parse(text: str):
    """(introduction, [(term, definition)]) of the glossary page, in the page's order."""
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
    """A definition in CommonMark: {term} roles become links to the anchors of this
    notebook, and links to pages of the book are made relative to notebooks/."""

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
