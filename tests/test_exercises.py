"""Cada autocomprobación acepta la solución oficial y rechaza un error verosímil.

Aquí no se escribe ni la solución ni la respuesta esperada. El patrón:

1. **La respuesta oficial sale del cuaderno.** Una solución es una celda
   Markdown (``tests/solutions.py``): «Ejecutar todas las celdas» no puede
   ejecutarla. Para cada cuaderno con soluciones se ejecuta una copia del
   cuaderno de principio a fin en un núcleo real (nbclient, carpeta de trabajo
   ``notebooks/``, como nbval), con el código de cada solución inyectado como
   una celda justo después de su celda Markdown, y después una celda más que
   evalúa ``taller.exercises.evaluate("NN.k", answer)`` sobre la ``answer``
   que la solución acaba de calcular; luego se deshace lo que asignó la
   solución, así que cada una se ejecuta solo con las celdas propias del
   cuaderno que la preceden. Así la prueba demuestra lo que ve quien aprende:
   la solución del propio cuaderno, ejecutada después de la preparación del
   propio cuaderno, se acepta, y su bloque «Salida» es exactamente lo que
   imprime hoy (``python tests/solutions.py notebooks/NN_x.ipynb`` reescribe
   los bloques).
2. **Las respuestas erróneas verosímiles salen del módulo de comprobación.**
   Cada ``taller/exercises/notebookNN.py`` declara, junto a sus comprobaciones,
   un diccionario ``WRONG = {"NN.k": callable}``; el invocable no recibe
   argumentos y devuelve una lista de respuestas que quien aprende podría dar
   de forma verosímil, calculadas a partir de los datos cuando es posible (el
   recuento sin filtrar, el otro equipo, la columna antes de la conversión…).
   Cada una debe rechazarse, y el mensaje de rechazo no debe contener la
   respuesta oficial (una comprobación nunca la revela; las respuestas de
   menos de tres caracteres no se buscan). Ejemplo::

       @exercise("03.1")
       def _(answer): ...

       WRONG = {
           "03.1": lambda: [len(_events()), len(_events()) - 1],
       }

   La celda inyectada los llama en el mismo núcleo, así que ven los mismos
   datos y el mismo entorno que el cuaderno.

Para añadir un ejercicio: registre su comprobación con ``@exercise("NN.k")``,
añada su entrada en ``WRONG``, escriba las celdas del ejercicio como describe
``tests/test_notebooks.py`` (celda de respuesta, celda de comprobación y
solución en una celda Markdown ``<details>`` cuyo código calcula ``answer``),
escriba su «Salida» con ``python tests/solutions.py notebooks/NN_x.ipynb`` y
ejecute ``.venv/bin/pytest tests/test_exercises.py -k NN``.

La prueba rápida (capa unit) solo comprueba que cada clave registrada tenga su
entrada en ``WRONG`` y un ejercicio en su cuaderno; la prueba de ejecución está
en la capa ``notebooks`` (necesita los datos, y Java para los cuadernos de
Spark). Las reglas que sigue cada comprobación (respuestas hostiles, celdas de
respuesta obsoletas o fallidas, pistas graduadas sin código, un solo
vocabulario para los tipos) se prueban en ``tests/test_exercise_rules.py``.
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
    """Código de la celda inyectada después de la solución de `key`."""
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
            # Las respuestas cortas (un recuento de 3) aparecen por azar en cualquier pista:
            # no se comprueban.
            revealed = len(official) >= 3 and re.search(
                rf"(?<![\w.]){re.escape(official)}(?!\w)", message
            )
            assert not revealed, f"{key}: el mensaje revela la respuesta: {message}"
