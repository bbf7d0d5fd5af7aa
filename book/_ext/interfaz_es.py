"""Spanish for the few interface strings the themes leave in English.

sphinx-book-theme and Sphinx ship Spanish catalogues, but some strings are
missing or wrong there (launch buttons, "Link to this heading", the prefilled
text of a new issue). A reader of a Spanish workshop should not meet them, so
this extension puts our own translations in front of the themes' catalogues
and rewrites the issue link. Hard-coded template strings are overridden in
book/_templates/ (sidebar toggles, the author in the footer, the launch logos'
alternative text), and the hide-cell toggle of myst-nb loses its English
aria-label.

It also makes the site easier to read: every image in an article links to its
full-size file (a figure shrunk to a phone's width can be opened whole), and
the pages of notebooks that need Java (Spark) say that Colab cannot run them
as they are, and do not offer the Colab button.
"""

import gettext
import json
import posixpath
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
from sphinx.locale import translators
from sphinx.util.osutil import relative_uri

SPANISH = {
    "Launch on": "Abrir en",
    "Launch Thebe": "Ejecutar aquí con Thebe",
    "Launch interactive content": "Abrir contenido interactivo",
    "Suggest edit": "Sugerir un cambio",
    "Source repositories": "Repositorio de origen",
    "Download this page": "Descargar esta página",
    "Link to this heading": "Enlace a este encabezado",
    "Link to this image": "Enlace a esta imagen",
    "Link to this table": "Enlace a esta tabla",
    "Link to this code": "Enlace a este código",
    "Link to this definition": "Enlace a esta definición",
    "Repository": "Repositorio",
    "Open issue": "Informar de un problema",
    "Live Code": "Ejecutar aquí",
}


class SpanishFirst(gettext.NullTranslations):
    def gettext(self, message):
        return SPANISH.get(message) or super().gettext(message)


def put_spanish_first(app, config):
    for catalog in ("sphinx", "booktheme"):
        key = ("general", catalog)
        ours = SpanishFirst()
        if key in translators:
            ours.add_fallback(translators[key])
        translators[key] = ours


def spanish_issue_link(app, pagename, templatename, context, doctree):
    title = quote(f"Sobre la página /{pagename}.html")
    body = quote("Describa aquí el problema o la mejora.")
    for button in context.get("header_buttons", []):
        for item in button.get("buttons", [button]):
            url = item.get("url", "")
            if "/issues/new?" in url:
                item["url"] = (
                    url.split("/issues/new?")[0] + f"/issues/new?title={title}&body={body}"
                )


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """sphinx-thebe registers its inline configuration script twice (Sphinx 7.4 keeps
    both copies), and the second `const THEBE_JS_URL` is a SyntaxError in the console."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def thebe_enabled(app) -> bool:
    launch = app.config.html_theme_options.get("launch_buttons", {})
    return bool(launch.get("thebe"))


def drop_thebe_files(app, pagename, templatename, context, doctree):
    """Jupyter Book always loads sphinx-thebe, even with `launch_buttons.thebe: false`:
    without the button its scripts and stylesheet only cost a download."""
    if thebe_enabled(app):
        return
    context["script_files"][:] = [
        script
        for script in context.get("script_files", [])
        if "thebe" not in (script.filename or "")
        and "THEBE_JS_URL" not in script.attributes.get("body", "")
    ]
    context["css_files"][:] = [
        css for css in context.get("css_files", []) if "thebe" not in (css.filename or "")
    ]


def drop_thebe_config(app, doctree, docname):
    """The inline Thebe configuration sphinx-thebe appends to every page."""
    if thebe_enabled(app):
        return
    for raw in list(doctree.findall(nodes.raw)):
        if "x-thebe-config" in raw.astext() or "kernelName =" in raw.astext():
            raw.parent.remove(raw)


def visit_hidden_cell(self, node):
    """myst-nb's toggle for hide-cell, without its English aria-label ("Toggle hidden
    content"): the button's accessible name is its visible text. (The notebooks fold
    their solutions and «Para profundizar» blocks without hide-cell tags; this only
    keeps a stray one in Spanish.)"""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def link_images_to_full_size(app, doctree, docname):
    """Wrap every article image in a link to its file, as Sphinx does for scaled
    images: a click opens the figure at its natural size."""
    if app.builder.format != "html":
        return
    imgpath = relative_uri(app.builder.get_target_uri(docname), app.builder.imagedir)
    for image in list(doctree.findall(nodes.image)):
        if isinstance(image.parent, nodes.reference):
            continue
        uri = image["uri"]
        if uri in app.env.images:
            target = posixpath.join(imgpath, app.env.images[uri][1])
        elif "://" in uri or uri.startswith("data:"):
            continue
        else:
            target = uri
        link = nodes.reference("", "", internal=True, refuri=target, classes=["image-reference"])
        image.replace_self(link)
        link.append(image)


# A code cell that imports PySpark needs Java, which Colab does not have ready.
SPARK = re.compile(r"^\s*(from|import)\s+pyspark\b", re.MULTILINE)
COLAB_NOTE_TITLE = "Colab no ejecuta este cuaderno tal cual"
COLAB_NOTE = (
    "Este cuaderno usa Spark, que necesita Java 17 o superior, y Google Colab "
    "no lo ofrece preparado; por eso esta página no tiene el botón «Colab». "
    "Ábralo en Binder (el botón del cohete), en la imagen Docker del taller o en "
    "su portátil con Java instalado: el cuaderno 00 comprueba que todo esté listo."
)


def needs_java(app, docname) -> bool:
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return False
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return any(
        SPARK.search(
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        )
        for cell in cells
        if cell["cell_type"] == "code"
    )


def warn_colab_needs_java(app, doctree):
    """Right under the title of a notebook that needs Java: a note for Colab users."""
    docname = app.env.docname
    if not needs_java(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    note = nodes.admonition(classes=["warning", "aviso-colab"])
    note += nodes.title("", COLAB_NOTE_TITLE)
    note += nodes.paragraph("", COLAB_NOTE)
    title = next(iter(section.findall(nodes.title)))
    section.insert(section.index(title) + 1, note)


def drop_colab_where_java_is_needed(app, pagename, templatename, context, doctree):
    if pagename not in app.env.all_docs or not needs_java(app, pagename):
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "launch-buttons":
            button["buttons"] = [b for b in button["buttons"] if b.get("text") != "Colab"]


def setup(app):
    app.connect("config-inited", put_spanish_first, priority=900)
    app.connect("html-page-context", spanish_issue_link, priority=900)
    app.connect("html-page-context", drop_colab_where_java_is_needed, priority=900)
    app.connect("doctree-read", warn_colab_needs_java)
    app.connect("doctree-resolved", link_images_to_full_size)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    app.connect("html-page-context", drop_thebe_files, priority=900)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
