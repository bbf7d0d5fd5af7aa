"""Autocomprobación de los ejercicios de los cuadernos.

En cada ejercicio quien aprende guarda su respuesta en la variable ``answer``
y ejecuta ``taller.check("03.1", answer)``. La respuesta esperada no está
escrita en ningún sitio: cada comprobación la calcula con los mismos datos que
el cuaderno (``taller.load``), de modo que no hay nada que copiar y ningún
mensaje la revela.

Las reglas, iguales para todos los ejercicios:

1. **Nunca lanza una excepción.** `check` y `evaluate` devuelven un mensaje en
   español para cualquier cosa: un identificador que no existe o que no es un
   texto, NaN, infinitos, enteros enormes, series y tablas de pandas, objetos
   cuyos métodos fallan. Todo pasa por una sola guarda (`evaluate`): si una
   comprobación falla por un error del taller, el mensaje lo dice y pide
   avisar a quien imparte el taller. Con la variable de entorno
   ``TALLER_STRICT_CHECKS=1`` (la ponen las pruebas) la guarda vuelve a lanzar
   el error, para que un fallo de una comprobación no quede oculto.
2. **No juzga respuestas viejas ni fallidas.** Dentro de Jupyter, el módulo
   `taller.exercises.history` anota las celdas que se ejecutan. Si la última
   celda que asignó ``answer`` terminó con un error, si la celda ejecutada
   justo antes de la comprobación falló, o si ``answer`` se asignó antes de
   comprobar otro ejercicio, el mensaje lo dice («⚠️ Sin juzgar») y no juzga.
   El núcleo ve ejecuciones, no ediciones: una celda editada y sin ejecutar
   sigue valiendo lo de antes (y el mensaje de «Todavía no» lo recuerda).
   Fuera de IPython no hay historial y se juzga el valor tal cual.
3. **Un vocabulario para los tipos.** Cada ejercicio declara el tipo que
   espera (`answers.INTEGER`, `DECIMAL`, `TEXT`, `TEXTS`, `NUMBERS`: «un
   número entero», «un número decimal», «un texto», «una lista de textos»,
   «un arreglo de números»). `taller.exercises.answers` convierte la
   respuesta antes de que la comprobación la vea, con las mismas reglas en
   todos los cuadernos (un texto con forma de número no es un número; el
   redondeo, el que pide el enunciado), y si no es del tipo esperado dice qué
   se esperaba y qué se recibió.
4. **Pistas graduadas.** Cada ejercicio tiene una escalera de pistas
   (``hints``): el primer intento fallido recibe la idea; los siguientes, algo
   más concreto. Ninguna pista da el código de la solución. Una respuesta
   equivocada reconocida (el total sin filtrar, la unidad equivocada...)
   recibe además su diagnóstico, que tampoco da código.
5. **«Sin bucles» donde el enunciado lo pide** (``no_loops=True``): si la
   celda que asignó ``answer`` tiene un ``for``, un ``while`` o una
   comprensión, no se acepta y el mensaje explica por qué importa.

Cada cuaderno tiene su módulo (``notebook03.py`` para ``03_...ipynb``) que
registra sus ejercicios con el decorador `exercise`::

    @exercise("03.1", INTEGER, hints=(
        "La idea: una máscara que diga en qué eventos aparece la palabra.",
        "Más concreto: los métodos de texto de pandas (str) buscan dentro...",
    ))
    def _(value):
        expected = ...
        if value == expected:
            return True, "Son los inicios de sesión de red."
        if value == total:
            return False, "Ese es el total; falta filtrar."  # diagnóstico
        return False, None  # sin diagnóstico: la pista que toque

La función recibe la respuesta ya convertida al tipo declarado y devuelve
``(correcta, mensaje)``; un mensaje ``None`` pide la pista que toque de la
escalera. ``tests/test_exercises.py`` comprueba que cada ejercicio acepta la
solución oficial del cuaderno y rechaza respuestas equivocadas verosímiles
(``WRONG`` de cada módulo), sin revelar la respuesta;
``tests/test_exercise_rules.py``, que sobrevive a respuestas hostiles, que no
juzga respuestas viejas ni fallidas en un intérprete de IPython y que sus
pistas suben de peldaño y no contienen el código de la solución.
"""

import importlib
import os
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from taller.exercises import history

Checker = Callable[[object], tuple[bool, str | None]]
STRICT = "TALLER_STRICT_CHECKS"
WIDTH = 79
KEY = re.compile(r"\d\d\.\d{1,2}")


@dataclass(frozen=True)
class Exercise:
    """Un ejercicio registrado: su comprobación y sus reglas."""

    key: str
    checker: Checker
    kind: object  # un answers.Kind
    hints: tuple[str, ...]
    no_loops: bool = False


@dataclass(frozen=True)
class Verdict:
    """Resultado de una comprobación: si es correcta, si se juzgó y el mensaje."""

    correct: bool
    message: str
    judged: bool = True

    def __str__(self) -> str:
        return self.message


# El registro sobrevive a importlib.reload: los módulos de los cuadernos ya
# importados no vuelven a registrar sus ejercicios.
_EXERCISES: dict[str, Exercise] = globals().get("_EXERCISES", {})
_CHECKERS = _EXERCISES  # el nombre con que lo buscan tests/test_notebooks.py y otras pruebas
# Intentos fallidos de cada ejercicio en esta sesión (para graduar las pistas).
_TRIES: dict[str, list] = globals().get("_TRIES", {})


def exercise(
    key: str, kind, *, hints: Sequence[str], no_loops: bool = False
) -> Callable[[Checker], Checker]:
    """Registra la comprobación del ejercicio `key` («03.1»: cuaderno 03, ejercicio 1).

    `kind` es el tipo de respuesta (`answers.INTEGER`...), `hints` la escalera
    de pistas (al menos dos: primero la idea, después algo más concreto) y
    `no_loops` pide rechazar las respuestas calculadas con bucles.
    """
    if len(hints) < 2:
        raise ValueError(f"{key}: hacen falta al menos dos pistas graduadas")

    def register(function: Checker) -> Checker:
        _EXERCISES[key] = Exercise(key, function, kind, tuple(hints), no_loops)
        return function

    return register


def registered(key: str) -> Exercise | None:
    """El ejercicio `key`, importando el módulo de su cuaderno si hace falta."""
    if key not in _EXERCISES:
        module = f"taller.exercises.notebook{key[:2]}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:  # falta otra cosa: un error del taller, no de la clave
                raise
            return None
    return _EXERCISES.get(key)


def _wrong_key(key) -> Verdict:
    if not issubclass(type(key), str):
        what = "no es un texto"
        hint = 'Escriba el identificador entre comillas, como en taller.check("03.1", answer).'
    else:
        what = "no existe"
        hint = (
            "Copie el identificador tal como aparece en el enunciado, entre "
            'comillas: taller.check("03.1", answer).'
        )
    shown = f"«{str.__str__(key)[:20]}» " if issubclass(type(key), str) else ""
    return Verdict(
        False,
        f"⚠️ Sin juzgar: el identificador del ejercicio {shown}{what}. {hint}",
        judged=False,
    )


def _hint(ex: Exercise, attempt: int) -> str:
    step = min(max(attempt, 1), len(ex.hints))
    return f"Pista {step} de {len(ex.hints)}: {ex.hints[step - 1]}"


LOOPS = (
    "El enunciado pide hacerlo sin bucles, y la celda que asigna `answer` "
    "tiene uno (for, while o una comprensión). Las operaciones de NumPy y "
    "pandas se aplican a todo el arreglo de una vez, en código compilado: con "
    "millones de eventos, un bucle de Python tarda cientos de veces más. "
    "Reescríbala con operaciones sobre el arreglo entero."
)


def _judge(key, answer, attempt, shell_history) -> Verdict:
    if not issubclass(type(key), str):
        return _wrong_key(key)
    key = str.__str__(key)  # un str normal, aunque llegue una subclase con trampas
    if not KEY.fullmatch(key):
        return _wrong_key(key)
    ex = registered(key)
    if ex is None:
        return _wrong_key(key)
    prefix = f"Ejercicio {key}:"
    if shell_history is not None:
        reason = shell_history.refusal(key)
        if reason:
            return Verdict(False, f"{prefix} ⚠️ Sin juzgar: {reason}", judged=False)
    if answer is None or answer is Ellipsis:
        return Verdict(
            False,
            f"{prefix} todavía no hay respuesta. Escriba su código en la celda de "
            "respuesta, guarde el resultado en `answer` y vuelva a ejecutar esta "
            "celda.",
            judged=False,
        )
    from taller.exercises import answers

    try:
        value = ex.kind.convert(answer)
    except answers.Refused as refused:
        message = (
            f"{prefix} ❌ Todavía no. Se espera {ex.kind.name} y `answer` "
            f"contiene {answers.describe(answer)}. {refused.advice}"
        )
        return Verdict(False, message.rstrip())
    if ex.no_loops and shell_history is not None and shell_history.answer_loops():
        return Verdict(False, f"{prefix} ❌ Todavía no. {LOOPS}")
    correct, message = ex.checker(value)
    if correct:
        return Verdict(True, f"{prefix} ✅ Correcto. {message}".rstrip())
    hint = _hint(ex, attempt() if callable(attempt) else attempt)
    text = f"{message} {hint}" if message else hint
    return Verdict(False, f"{prefix} ❌ Todavía no. {text} {REMINDER}")


REMINDER = "(Si cambió la celda de respuesta, ejecútela antes de comprobar.)"


def _guarded(function, *args) -> Verdict:
    """Ejecuta `function` y convierte cualquier error en un mensaje (salvo en modo estricto)."""
    try:
        return function(*args)
    except Exception as error:
        if os.environ.get(STRICT) == "1":
            raise
        from taller.errors import TallerError

        if isinstance(error, TallerError):  # faltan los datos, sin conexión...
            return Verdict(False, f"⚠️ Sin juzgar: {error}", judged=False)
        return Verdict(
            False,
            "⚠️ Sin juzgar: la comprobación falló por un error del taller "
            f"({type(error).__name__}), no de su respuesta. Avise a quien "
            "imparte el taller; mientras tanto, compare con la solución.",
            judged=False,
        )


def evaluate(key, answer, attempt: int = 1, *, shell_history=None) -> Verdict:
    """Juzga `answer` sin imprimir nada (lo usan `check` y las pruebas).

    `attempt` es el número de intento fallido (elige el peldaño de la escalera
    de pistas); `shell_history` es el historial de IPython (`history.History`)
    o ``None`` para juzgar el valor tal cual. Nunca lanza una excepción, salvo
    con ``TALLER_STRICT_CHECKS=1``.
    """
    return _guarded(_judge, key, answer, attempt, shell_history)


def _attempt(key: str, shell_history) -> int:
    """Número de intento fallido: cuenta cada asignación nueva de `answer`.

    Fuera de IPython no se sabe cuándo cambia `answer`: cuenta cada llamada.
    """
    tries = _TRIES.setdefault(key, [])
    stamp = shell_history.answer_stamp() if shell_history is not None else None
    if stamp is None or stamp not in tries:
        tries.append(stamp)
    return len(tries)


def _check(key, answer) -> Verdict:
    shell_history = history.current()
    if issubclass(type(key), str):
        key = str.__str__(key)
    verdict = _judge(key, answer, lambda: _attempt(key, shell_history), shell_history)
    if verdict.judged and shell_history is not None:
        shell_history.note_check(key)
    return verdict


def check(key, answer) -> None:
    """Dice en español si `answer` resuelve el ejercicio `key` y, si no, da una pista.

    El mensaje se parte a 79 columnas, el ancho del código de los cuadernos,
    para que se lea entero en JupyterLab y en la página del libro.
    """
    print(textwrap.fill(_guarded(_check, key, answer).message, width=WIDTH))
