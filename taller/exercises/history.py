"""Lo que el núcleo sabe de las celdas ejecutadas, para no juzgar respuestas viejas.

Dentro de IPython (JupyterLab, Colab, VS Code, la consola ``ipython``), el
paquete escucha dos eventos del intérprete (``pre_run_cell`` y
``post_run_cell``) y anota, de cada celda ejecutada, su código, si asigna
``answer`` y si terminó con error (``ExecutionResult.success``). Con eso,
`refusal` decide antes de juzgar si la respuesta se puede juzgar:

- la última celda que asignó ``answer`` terminó con un error: ``answer``
  guarda el valor de antes (u otro a medias);
- la celda ejecutada justo antes de la comprobación terminó con un error;
- ``answer`` se asignó antes de comprobar *otro* ejercicio: casi seguro es la
  respuesta de ese otro ejercicio.

Lo que el núcleo **no** ve: las ediciones. Si quien aprende cambia la celda de
respuesta y no la ejecuta, el núcleo sigue teniendo el valor anterior y la
comprobación juzga ese valor; por eso el mensaje de «Todavía no» recuerda
ejecutar la celda de respuesta. Tampoco ve las asignaciones que no se leen en
el código de la celda (``globals()["answer"] = ...``, ``%run``).

Fuera de IPython (un guion de Python) no hay historial: `current` devuelve
``None`` y la comprobación juzga el valor tal cual.

`install` registra los eventos una sola vez por intérprete, aunque el paquete
se importe o se recargue (``importlib.reload``) varias veces: el historial
vive en el propio intérprete, en el atributo `ATTRIBUTE`, y al recargar se
cambian las funciones registradas sin perder lo anotado.
"""

import ast
import re
import sys
from dataclasses import dataclass, field

ATTRIBUTE = "_taller_exercise_history"
NAME = "answer"
KEEP = 1_000  # celdas que se recuerdan
_ASSIGNS = re.compile(
    rf"(?m)^[ \t]*{NAME}[ \t]*(?::[^=\n]*)?(?:[-+*/%&|^@]|//|\*\*)?=(?!=)|\b{NAME}[ \t]*:="
)
_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


@dataclass
class Cell:
    """Una celda ejecutada: número de orden, código y cómo terminó."""

    number: int
    source: str
    assigns: bool
    loops: bool
    success: bool = True
    error: str = ""
    checks: list[str] = field(default_factory=list)


def _tree(source: str, shell=None) -> ast.Module | None:
    code = source
    if shell is not None:
        try:
            code = shell.transform_cell(source)
        except Exception:
            code = source
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _module_level(tree: ast.AST):
    """Los nodos del código de la celda, sin entrar en funciones ni clases."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                pending.append(child)


def analyse(source: str, shell=None) -> tuple[bool, bool]:
    """(¿asigna `answer`?, ¿tiene bucles?) según el código de una celda."""
    tree = _tree(source, shell)
    if tree is None:  # no es Python válido: basta con leerlo
        return bool(_ASSIGNS.search(source)), bool(re.search(r"\b(for|while)\b", source))
    assigns = loops = False
    for node in _module_level(tree):
        if isinstance(node, ast.Name) and node.id == NAME and isinstance(node.ctx, ast.Store):
            assigns = True
        if isinstance(node, _LOOPS):
            loops = True
    return assigns, loops


class History:
    """El historial de celdas de un intérprete de IPython."""

    def __init__(self, shell=None):
        self.shell = shell
        self.cells: list[Cell] = []
        self.running: list[Cell] = []
        self.counter = 0

    # Los dos eventos de IPython ------------------------------------------

    def pre_run_cell(self, info=None) -> None:
        source = str(getattr(info, "raw_cell", "") or "")
        self.counter += 1
        assigns, loops = analyse(source, self.shell)
        self.running.append(Cell(self.counter, source, assigns, loops))

    def post_run_cell(self, result=None) -> None:
        if not self.running:
            return
        cell = self.running.pop()
        cell.success = bool(getattr(result, "success", True))
        error = getattr(result, "error_in_exec", None) or getattr(
            result, "error_before_exec", None
        )
        if error is not None:
            cell.error = type(error).__name__
        self.cells.append(cell)
        del self.cells[:-KEEP]

    # Lo que pregunta la comprobación ---------------------------------------

    @property
    def current(self) -> Cell | None:
        """La celda que se está ejecutando (la de la comprobación)."""
        return self.running[-1] if self.running else None

    def assignment(self) -> Cell | None:
        """La celda que asignó `answer` por última vez (la actual, si lo hace)."""
        if self.current is not None and self.current.assigns:
            return self.current
        return next((cell for cell in reversed(self.cells) if cell.assigns), None)

    def refusal(self, key: str) -> str | None:
        """Por qué no se puede juzgar `answer` ahora, o ``None`` si se puede."""
        current = self.current
        if current is None or current.assigns:
            return None  # fuera de una celda, o la respuesta se calcula aquí mismo
        assigned = self.assignment()
        if assigned is not None and not assigned.success:
            return (
                f"la celda que asigna `answer` terminó con un error "
                f"({assigned.error or 'error'}), así que `answer` conserva un valor "
                "anterior. Corrija el error, ejecute esa celda hasta que termine "
                "sin errores y vuelva a comprobar."
            )
        previous = self.cells[-1] if self.cells else None
        if previous is not None and not previous.success:
            return (
                f"la celda que ejecutó justo antes terminó con un error "
                f"({previous.error or 'error'}). Corrija el error, vuelva a "
                "ejecutar la celda de respuesta y compruebe de nuevo."
            )
        if assigned is not None:
            later = [
                other
                for cell in [*self.cells, current]
                if cell.number >= assigned.number
                for other in cell.checks
                if other != key
            ]
            if later:
                return (
                    f"`answer` se asignó antes de comprobar el ejercicio {later[-1]}, "
                    "así que probablemente guarda la respuesta de ese ejercicio. "
                    "Ejecute la celda de respuesta de este ejercicio y vuelva a "
                    "comprobar."
                )
        return None

    def note_check(self, key: str) -> None:
        """Anota que la celda actual comprobó (y juzgó) el ejercicio `key`."""
        if self.current is not None:
            self.current.checks.append(key)

    def answer_loops(self) -> bool | None:
        """¿Tiene bucles la celda que asignó `answer`? ``None`` si no se sabe."""
        assigned = self.assignment()
        return None if assigned is None else assigned.loops

    def answer_stamp(self) -> int | None:
        """El número de la celda que asignó `answer`: cambia con cada intento."""
        assigned = self.assignment()
        return None if assigned is None else assigned.number


def _shell():
    """El intérprete de IPython en marcha; sin cargar IPython si nadie lo ha cargado."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def install(shell=None) -> History | None:
    """Registra el historial en el intérprete de IPython (una sola vez); lo devuelve."""
    shell = shell if shell is not None else _shell()
    events = getattr(shell, "events", None)
    if events is None:
        return None
    old = getattr(shell, ATTRIBUTE, None)
    if type(old) is History:
        return old
    history = History(shell)
    if old is not None:  # una versión anterior del módulo (recargado): se sustituye
        for name in ("pre_run_cell", "post_run_cell"):
            try:
                events.unregister(name, getattr(old, name))
            except (ValueError, AttributeError):
                pass
        for name in ("cells", "running", "counter"):
            if hasattr(old, name):
                setattr(history, name, getattr(old, name))
    events.register("pre_run_cell", history.pre_run_cell)
    events.register("post_run_cell", history.post_run_cell)
    setattr(shell, ATTRIBUTE, history)
    return history


def current() -> History | None:
    """El historial del intérprete en el que se ejecuta el código, si lo hay."""
    return install()
