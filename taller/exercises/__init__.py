"""Autocomprobación de los ejercicios de los cuadernos.

En cada ejercicio el alumno guarda su respuesta en una variable y llama a
``taller.check("03.1", answer)``. La respuesta esperada no está escrita en
ningún sitio: cada comprobación la calcula con los mismos datos que el
cuaderno (``taller.load``), de modo que no hay nada que copiar y el mensaje
nunca la revela. Si la respuesta no es correcta, el mensaje da una pista
pensada para el error más probable.

Cada cuaderno tiene su módulo (``notebook03.py`` para ``03_...ipynb``) que
registra sus ejercicios con el decorador `exercise`::

    @exercise("03.1")
    def _(answer):
        expected = ...
        if answer == expected:
            return True, "Son los inicios de sesión de red."
        return False, "Pista: ¿filtró también por LogonType?"

La función devuelve ``(correcta, mensaje)``. Las pruebas
(``tests/test_exercises.py``) comprueban que cada ejercicio acepta la
solución oficial y rechaza una respuesta equivocada verosímil.
"""

import importlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from taller.errors import TallerError

Checker = Callable[[object], tuple[bool, str]]
_CHECKERS: dict[str, Checker] = {}


@dataclass(frozen=True)
class Verdict:
    """Resultado de una comprobación: si es correcta y el mensaje para el alumno."""

    correct: bool
    message: str

    def __str__(self) -> str:
        return self.message


def exercise(key: str) -> Callable[[Checker], Checker]:
    """Registra la comprobación del ejercicio `key` («03.1»: cuaderno 03, ejercicio 1)."""

    def register(function: Checker) -> Checker:
        _CHECKERS[key] = function
        return function

    return register


def _checker(key: str) -> Checker:
    notebook = key.partition(".")[0]
    try:
        importlib.import_module(f"taller.exercises.notebook{notebook}")
    except ModuleNotFoundError:
        pass
    if key not in _CHECKERS:
        raise TallerError(
            f"No hay ningún ejercicio «{key}». Copie el identificador tal como "
            "aparece en el enunciado, por ejemplo «03.1»."
        )
    return _CHECKERS[key]


def evaluate(key: str, answer) -> Verdict:
    """Comprueba `answer` sin imprimir nada (lo usan `check` y las pruebas)."""
    checker = _checker(key)
    if answer is None or answer is Ellipsis:
        return Verdict(
            False,
            f"Ejercicio {key}: todavía no hay respuesta. Escriba su código en la "
            "celda de respuesta, guarde el resultado en `answer` y vuelva a "
            "ejecutar esta celda.",
        )
    correct, message = checker(answer)
    mark = "✅ Correcto" if correct else "❌ Todavía no"
    return Verdict(correct, f"Ejercicio {key}: {mark}. {message}".rstrip())


def check(key: str, answer) -> None:
    """Dice en español si `answer` resuelve el ejercicio `key` y, si no, da una pista.

    El mensaje se parte a 79 columnas, el ancho del código de los cuadernos,
    para que se lea entero en JupyterLab y en la página del libro.
    """
    print(textwrap.fill(evaluate(key, answer).message, width=79))
