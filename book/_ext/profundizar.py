"""«Para profundizar» sections become folded boxes on the site.

In a notebook, a «Para profundizar» block is plain CommonMark, so that it
reads the same in JupyterLab, Colab, VS Code, GitHub and here: a heading cell
``### Para profundizar: título`` (collapsed in JupyterLab with the cell
metadata ``jp-MarkdownHeadingCollapsed``) followed by ordinary Markdown and
code cells, up to the next heading. No MyST directive is needed, so none can
show up raw where MyST is not rendered.

On the site, this transform replaces each such section with a sphinx-design
dropdown (``<details>``) titled with the heading, inline code included, and
containing the same cells: the page stays folded as in JupyterLab. The
section's ids stay on the box, so a link to the heading still lands there.
"""

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_design.shared import create_component

PREFIX = "Para profundizar:"


class FoldDeepSections(SphinxTransform):
    # After MyST has built the sections, before Sphinx collects the page's
    # table of contents (the folded blocks do not belong in it).
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
