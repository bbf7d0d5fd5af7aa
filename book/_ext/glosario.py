"""Glossary terms that Markdown links can reach, from pages and from notebooks.

A `{term}` role shows raw in JupyterLab, so the workshop links a term's first
use with a plain Markdown link that reads well everywhere:

    [huella SHA-256](../book/glosario.md#term-huella-SHA-256)

MyST resolves `file.md#id` only for heading anchors and warns on any other id
("local id not found"). This extension registers the id of every term of a
`glossary` directive as one more anchor of its page, so the link resolves on
the site and a misspelt id still fails the build (`-W`).

The id is Sphinx's: "term-" and the term without accents, spaces and symbols
as hyphens, capitals kept («línea de comandos» → term-linea-de-comandos).
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
