"""Every exercise self-check accepts the official solution and rejects a plausible mistake.

Neither the solution nor the expected answer is written here. The pattern:

1. **The official answer comes from the notebook.** For every notebook with
   registered checks, a copy of the notebook is executed top to bottom in a
   real kernel (nbclient, working folder ``notebooks/``, like nbval), with one
   extra cell injected after the last solution cell of each checked exercise.
   That cell evaluates ``taller.exercises.evaluate("NN.k", answer)`` on the
   ``answer`` the solution just computed. So the test proves what the learner
   sees: the notebook's own solution, run after the notebook's own setup, is
   accepted.
2. **Plausible wrong answers come from the check module.** Each
   ``taller/exercises/notebookNN.py`` declares, next to its checks, a mapping
   ``WRONG = {"NN.k": callable}``; the callable takes no argument and returns a
   list of answers a learner could plausibly give, computed from the data where
   possible (the unfiltered count, the other host, the column before
   conversion…). Every one must be rejected, and the rejection message must not
   contain the official answer (a check never reveals it; answers shorter than
   three characters are not searched for). Example::

       @exercise("03.1")
       def _(answer): ...

       WRONG = {
           "03.1": lambda: [len(_events()), len(_events()) - 1],
       }

   The injected cell calls them in the same kernel, so they see the same data
   and environment as the notebook.

To add an exercise: register its check with ``@exercise("NN.k")``, add its
``WRONG`` entry, write the exercise cells as ``tests/test_notebooks.py``
describes (answer cell, check cell, collapsed solution ending with
``taller.check("NN.k", answer)``) and run
``.venv/bin/pytest tests/test_exercises.py -k NN``.

The fast test (unit layer) only checks that every registered key has its
``WRONG`` entry and an exercise in its notebook; the execution test runs in
the ``notebooks`` layer (it needs the data, and Java for Spark notebooks).
The rules every check follows (hostile answers, stale or failed answer cells,
graded hints without code, one vocabulary for types) are tested in
``tests/test_exercise_rules.py``.
"""

import importlib
import json
import re

import nbformat
import pytest

from built_site import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARK = "@@EJERCICIO "


def _checks(nn):
    from taller import exercises

    try:
        module = importlib.import_module(f"taller.exercises.notebook{nn}")
    except ModuleNotFoundError:
        return None, []
    keys = sorted(key for key in exercises._CHECKERS if key.startswith(f"{nn}."))
    return module, keys


CHECKED = [path for path in NOTEBOOKS if _checks(path.name[:2])[1]]


def _probe(key):
    """Source of the cell injected after the solution of `key`."""
    nn = key.partition(".")[0]
    return f"""
import importlib as _importlib
import json as _json
import os as _os
_os.environ["TALLER_STRICT_CHECKS"] = "1"  # un fallo de una comprobación sale como error
from taller.exercises import evaluate as _evaluate
_wrong = getattr(_importlib.import_module("taller.exercises.notebook{nn}"), "WRONG", {{}})
_wrong = _wrong["{key}"]() if "{key}" in _wrong else []
_verdicts = [_evaluate("{key}", _answer) for _answer in _wrong]
print({MARK!r} + _json.dumps({{
    "key": "{key}",
    "official": _evaluate("{key}", answer).correct,
    "official_repr": repr(answer),
    "wrong": [[repr(a), v.correct, v.message] for a, v in zip(_wrong, _verdicts)],
}}))
"""


def _solution_ends(nb, keys):
    """{index of the last solution cell: key} for every checked exercise."""
    ends, current = {}, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            match = re.search(r"^### Ejercicio (\d\d\.\d+)", cell.source, re.M)
            if match:
                current = match[1]
            elif cell.source.lstrip().startswith("#"):
                current = None
            continue
        if current in keys and "hide-cell" in cell.metadata.get("tags", []):
            ends[current] = index
    return {index: key for key, index in ends.items()}


@pytest.mark.unit
@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.stem)
def test_every_check_declares_plausible_wrong_answers(path):
    module, keys = _checks(path.name[:2])
    wrong = getattr(module, "WRONG", {})
    assert sorted(wrong) == keys, (
        f"{module.__name__}: WRONG debe tener una entrada por ejercicio registrado ({keys})"
    )
    nb = nbformat.read(path, as_version=4)
    assert sorted(_solution_ends(nb, keys).values()) == keys, (
        "cada ejercicio comprobado necesita su solución (celda hide-cell) en el cuaderno"
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.stem)
def test_official_solution_accepted_and_wrong_answers_rejected(path):
    from nbclient import NotebookClient

    _, keys = _checks(path.name[:2])
    nb = nbformat.read(path, as_version=4)
    for index, key in sorted(_solution_ends(nb, keys).items(), reverse=True):
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(_probe(key)))
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    ).execute()
    results = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARK):
                    found = json.loads(line[len(MARK) :])
                    results[found["key"]] = found
    assert sorted(results) == keys
    for key, found in results.items():
        assert found["official"], f"{key}: la solución oficial no pasa su comprobación"
        assert found["wrong"], f"{key}: WRONG no da ninguna respuesta equivocada"
        for answer, correct, message in found["wrong"]:
            assert not correct, f"{key}: acepta la respuesta equivocada {answer}"
            official = found["official_repr"].strip("'\"")
            # Short answers (a count of 3) appear in any hint by chance: not checked.
            revealed = len(official) >= 3 and re.search(
                rf"(?<![\w.]){re.escape(official)}(?!\w)", message
            )
            assert not revealed, f"{key}: el mensaje revela la respuesta: {message}"
