"""Spanish for the few interface strings the themes leave in English.

sphinx-book-theme and Sphinx ship Spanish catalogues, but some strings are
missing or wrong there (launch buttons, "Link to this heading", the prefilled
text of a new issue). A reader of a Spanish workshop should not meet them, so
this extension puts our own translations in front of the themes' catalogues
and rewrites the issue link. Two hard-coded template strings are overridden in
book/_templates/.
"""

import gettext
from urllib.parse import quote

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


def setup(app):
    app.connect("config-inited", put_spanish_first, priority=900)
    app.connect("html-page-context", spanish_issue_link, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
