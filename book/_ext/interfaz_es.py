"""Spanish for the few interface strings the themes leave in English.

sphinx-book-theme and Sphinx ship Spanish catalogues, but some strings are
missing or wrong there (launch buttons, "Link to this heading", the prefilled
text of a new issue). A reader of a Spanish workshop should not meet them, so
this extension puts our own translations in front of the themes' catalogues
and rewrites the issue link. Three hard-coded template strings are overridden in
book/_templates/, and the hide-cell toggle of myst-nb loses its English aria-label.
"""

import gettext
from html import escape
from urllib.parse import quote

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
from sphinx.locale import translators

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
                item["url"] = url.split("/issues/new?")[0] + f"/issues/new?title={title}&body={body}"


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


def visit_hidden_cell(self, node):
    """myst-nb's toggle for hide-cell, without its English aria-label ("Toggle hidden
    content"): the button's accessible name is its visible text, «Mostrar la solución»."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def setup(app):
    app.connect("config-inited", put_spanish_first, priority=900)
    app.connect("html-page-context", spanish_issue_link, priority=900)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
