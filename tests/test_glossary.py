"""Un solo glosario (book/glosario.md), legible sin conexión en JupyterLab y en el sitio.

Los cuadernos enlazan un término a ``glosario.ipynb#term-…``: el cuaderno generado a
partir de la página del glosario con ``python book/_ext/glosario.py``, CommonMark
simple con un ancla HTML por término, que JupyterLab representa y hasta la que se
desplaza. El sitio lleva los mismos enlaces a su página del glosario
(``book/_ext/glosario.py``). Las páginas del libro enlazan a ``glosario.md#term-…``;
la construcción del sitio (``-W``) rechaza el que falte.
"""

import importlib.util
import json
import re

from built_site import REPO

spec = importlib.util.spec_from_file_location("glosario", REPO / "book" / "_ext" / "glosario.py")
glosario = importlib.util.module_from_spec(spec)
spec.loader.exec_module(glosario)

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LINK = re.compile(r"\]\((?:\.\./notebooks/)?glosario\.(ipynb|md)#(?:cell-id=)?([^)\s]+)\)")


def markdown_of(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def anchors():
    """Los identificadores de celda del cuaderno del glosario (JupyterLab va a `#cell-id=…`)."""
    cells = json.loads(glosario.NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return {cell["id"] for cell in cells if cell["id"].startswith("term-")}


def test_the_glossary_notebook_is_generated_from_the_page():
    assert glosario.NOTEBOOK.read_text(encoding="utf-8") == glosario.build_notebook(), (
        "notebooks/glosario.ipynb no corresponde a book/glosario.md: "
        "ejecute python book/_ext/glosario.py"
    )


def test_every_term_has_its_anchor_and_no_myst_is_left():
    _, entries = glosario.parse(glosario.SOURCE.read_text(encoding="utf-8"))
    assert len(entries) >= 20
    assert anchors() == {glosario.term_id(term) for term, _ in entries}
    text = markdown_of(glosario.NOTEBOOK)
    assert not re.search(r"\{term\}|:sorted:|```\{", text)
    for target in re.findall(r"\]\(#cell-id=([^)]+)\)", text):
        assert target in anchors(), f"enlace interno a un término que no existe: {target}"


def test_notebooks_link_terms_to_existing_anchors():
    used = 0
    for path in NOTEBOOKS:
        for kind, target in LINK.findall(markdown_of(path)):
            assert kind == "ipynb", f"{path.name}: enlace a glosario.md, no a glosario.ipynb"
            assert "#cell-id=term-" in markdown_of(path), f"{path.name}: use #cell-id=term-…"
            assert target in anchors(), f"{path.name}: el término {target} no está en el glosario"
            used += 1
    assert used >= 10, "Los cuadernos casi no enlazan con el glosario"


def test_term_ids_are_the_sites():
    assert glosario.term_id("línea de comandos") == "term-linea-de-comandos"
    assert glosario.term_id("ATT&CK") == "term-ATT-CK"
