"""Use the outputs committed with each notebook; execute only a notebook that has none.

myst-nb's "auto" mode re-executes a notebook as soon as one code cell lacks
outputs, and ours have many silent cells (imports, assignments), so every build
would re-run every notebook: slow, and dependent on the data and on Java. The
site must show what nbval verified, so any notebook that carries outputs is
excluded from execution; a new notebook committed without outputs still runs.
"""

import json
from pathlib import Path


def has_outputs(path: Path) -> bool:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return any(cell.get("outputs") for cell in cells if cell["cell_type"] == "code")


def exclude_executed_notebooks(app, config):
    source = Path(app.srcdir)
    executed = [
        path.relative_to(source).as_posix()
        for path in sorted(source.glob("notebooks/*.ipynb"))
        if has_outputs(path)
    ]
    config.nb_execution_excludepatterns = [*config.nb_execution_excludepatterns, *executed]


def setup(app):
    app.connect("config-inited", exclude_executed_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
