"""Las secciones «Para profundizar» se convierten en cajas plegadas en el sitio.

En un cuaderno, un bloque «Para profundizar» es CommonMark simple, para que se
lea igual en JupyterLab, Colab, VS Code, GitHub y aquí: una celda de encabezado
``### Para profundizar: título`` (plegada en JupyterLab con los metadatos de
celda ``jp-MarkdownHeadingCollapsed``) seguida de celdas Markdown y de código
normales, hasta el siguiente encabezado. No hace falta ninguna directiva de
MyST, así que ninguna puede aparecer sin representar donde MyST no se usa.

En el sitio, esta transformación sustituye cada una de esas secciones por un
desplegable de sphinx-design (``<details>``) titulado con el encabezado, con
su código en línea, y que contiene las mismas celdas: la página queda plegada
como en JupyterLab. Los id de la sección se quedan en la caja, así que un
enlace al encabezado sigue llegando allí.
"""

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_design.shared import create_component

PREFIX = "Para profundizar:"


class FoldDeepSections(SphinxTransform):
    # Después de que MyST construya las secciones y antes de que Sphinx recoja
    # la tabla de contenido de la página (los bloques plegados no van en ella).
    default_priority = 500

    def apply(self, **kwargs):
        for section in list(self.document.findall(nodes.section)):
            if not section.children or not isinstance(section[0], nodes.title):
                continue
            title = section[0]
            if not title.astext().startswith(PREFIX):
                continue
            box = create_component(
                "dropdown",
                opened=False,
                type="dropdown",
                has_title=True,
                icon=None,
                chevron=None,
                container_classes=["sd-mb-3", "profundizar"],
                title_classes=[],
                body_classes=[],
            )
            heading = nodes.rubric(title.astext(), "", *title.children)
            heading["ids"] = list(section["ids"])
            for node_id in heading["ids"]:
                self.document.ids[node_id] = heading
            box += heading
            box += section.children[1:]
            box.source, box.line = section.source, section.line
            section.replace_self(box)


def setup(app):
    app.add_transform(FoldDeepSections)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
