"""Every exercise self-check accepts the official solution and rejects a plausible mistake.

Neither the solution nor the expected answer is written here. The pattern:

1. **The official answer comes from the notebook.** A solution is a Markdown
   cell (``tests/solutions.py``): «Ejecutar todas las celdas» cannot run it.
   For every notebook with solutions, a copy of the notebook is executed top
   to bottom in a real kernel (nbclient, working folder ``notebooks/``, like
   nbval), with each solution's code injected as a cell right after its
   Markdown cell, then one more cell that evaluates
   ``taller.exercises.evaluate("NN.k", answer)`` on the ``answer`` the
   solution just computed; what the solution bound is then undone, so each
   solution runs with only the notebook's own cells before it. So the test
   proves what the learner sees: the notebook's own solution, run after the
   notebook's own setup, is accepted, and its «Salida» block is exactly what
   it prints today (``python tests/solutions.py notebooks/NN_x.ipynb``
   rewrites the blocks).
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
describes (answer cell, check cell, solution in a Markdown ``<details>``
cell whose code computes ``answer``), write its «Salida» with
``python tests/solutions.py notebooks/NN_x.ipynb`` and run
``.venv/bin/pytest tests/test_exercises.py -k NN``.

The fast test (unit layer) only checks that every registered key has its
``WRONG`` entry and an exercise in its notebook; the execution test runs in
the ``notebooks`` layer (it needs the data, and Java for Spark notebooks).
"""

import importlib
import json
import re

import nbformat
import pytest

from built_site import REPO
from solutions import execute, solutions

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
WITH_SOLUTIONS = [p for p in NOTEBOOKS if solutions(nbformat.read(p, as_version=4))]


def _probe(key):
    """Source of the cell injected after the solution of `key`."""
    nn = key.partition(".")[0]
    return f"""
import importlib as _importlib
import json as _json
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


@pytest.mark.unit
@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.stem)
def test_every_check_declares_plausible_wrong_answers(path):
    module, keys = _checks(path.name[:2])
    wrong = getattr(module, "WRONG", {})
    assert sorted(wrong) == keys, (
        f"{module.__name__}: WRONG debe tener una entrada por ejercicio registrado ({keys})"
    )
    nb = nbformat.read(path, as_version=4)
    solved = {key for _, key, _, _ in solutions(nb)}
    assert set(keys) <= solved, (
        "cada ejercicio comprobado necesita su solución (celda de Markdown con "
        f"<details>, tests/solutions.py) en el cuaderno: faltan {sorted(set(keys) - solved)}"
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", WITH_SOLUTIONS, ids=lambda p: p.stem)
def test_official_solution_accepted_and_wrong_answers_rejected(path):
    _, keys = _checks(path.name[:2])
    nb = nbformat.read(path, as_version=4)
    executed = execute(path, probe=lambda key: _probe(key) if key in keys else "")
    results = {}
    for index, key, _, output in solutions(nb):
        _, printed, probe = executed[index]
        assert printed == (output or ""), (
            f"{key}: la «Salida» de la solución no es lo que imprime hoy su código; "
            f"vuelva a generarla con python tests/solutions.py notebooks/{path.name}\n"
            f"--- guardada:\n{output}\n--- ahora:\n{printed}"
        )
        for line in probe.splitlines():
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
