"""Términos del glosario a los que llegan los enlaces Markdown, desde las páginas y los cuadernos.

Un rol `{term}` se ve en bruto en JupyterLab, así que el taller enlaza el
primer uso de un término con un enlace Markdown normal, que se lee bien en
todas partes:

    [huella SHA-256](../book/glosario.md#term-huella-SHA-256)

MyST solo resuelve `archivo.md#id` para las anclas de los encabezados y avisa
de cualquier otro id («local id not found»). Esta extensión registra el id de
cada término de una directiva `glossary` como un ancla más de su página, para
que el enlace funcione en el sitio y un id mal escrito siga haciendo fallar la
construcción (`-W`).

El id es el de Sphinx: «term-» y el término sin tildes, con los espacios y los
símbolos como guiones y las mayúsculas tal cual («línea de comandos» →
term-linea-de-comandos).
"""

from docutils import nodes


def register_term_anchors(app, doctree):
    slugs = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for term in doctree.findall(nodes.term):
        for term_id in term["ids"]:
            slugs.setdefault(term_id, (term.line or 0, term_id, term.astext()))


def setup(app):
    app.connect("doctree-read", register_term_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
