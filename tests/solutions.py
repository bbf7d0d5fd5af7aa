"""Las soluciones oficiales de los ejercicios, escritas en celdas Markdown.

Una solución es una celda Markdown situada justo después de las celdas de
respuesta y de comprobación de un ejercicio, plegada en un elemento HTML
``<details>``, que JupyterLab, Colab, VS Code, GitHub y el sitio muestran como
una caja cerrada («Mostrar la solución»). «Ejecutar todas las celdas» la
muestra, pero no puede ejecutarla::

    <details>
    <summary>Mostrar la solución</summary>

    ```python
    answer = …
    print(…)
    ```

    **Salida:**

    ```text
    …lo que imprime el código de arriba…
    ```

    </details>

El bloque «Salida» se genera, nunca se escribe a mano: ``python tests/solutions.py
notebooks/NN_x.ipynb`` ejecuta el cuaderno en un núcleo real con el código de
cada solución inyectado después de su celda (cada una sola: lo que asigna se
deshace antes de que se ejecute la celda siguiente, así que una solución no
puede apoyarse en otra) y escribe lo que imprimió cada una.
``tests/test_exercises.py`` hace la misma ejecución y falla si un bloque
«Salida» difiere de lo que el código imprime hoy, o si una comprobación
registrada rechaza la ``answer`` oficial.
"""

import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SUMMARY = "Mostrar la solución"
EXERCISE = re.compile(r"^### Ejercicio (\d\d\.\d+)", re.M)
SOLUTION = re.compile(
    r"\A<details>\n<summary>" + re.escape(SUMMARY) + r"</summary>\n\n"
    r"```python\n(?P<code>.*?)\n```\n"
    r"(?:\n\*\*Salida:\*\*\n\n```text\n(?P<output>.*?)\n```\n)?"
    r"\n</details>\s*\Z",
    re.S,
)
MARK = "@@SALIDA "


def solution_markdown(code: str, output: str | None) -> str:
    """La celda Markdown de una solución: su código y, si imprime, su salida."""
    text = f"<details>\n<summary>{SUMMARY}</summary>\n\n```python\n{code.strip()}\n```\n"
    if output:
        text += f"\n**Salida:**\n\n```text\n{output}\n```\n"
    return text + "\n</details>"


def parse(source: str):
    """(código, salida o None) de una celda de solución, o None si no lo es."""
    match = SOLUTION.match(source)
    if not match:
        return None
    return match["code"], match["output"]


def solutions(nb):
    """[(índice de celda, clave del ejercicio, código, salida)] de cada solución del cuaderno."""
    found, key = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        heading = EXERCISE.search(cell.source)
        if heading:
            key = heading[1]
            continue
        if cell.source.lstrip().startswith("#"):
            key = None
        parsed = parse(cell.source)
        if parsed and key:
            found.append((index, key, *parsed))
    return found


# Antes de cada solución: recordar a qué está ligado cada nombre. Después (y
# después de la sonda que juzga su `answer`): olvidar lo que ligó, para que la
# siguiente solución se ejecute solo con lo que definieron las celdas del cuaderno.
SAVE = "_solution_saved = {k: v for k, v in globals().items() if not k.startswith('_')}"
RESTORE = """
for _name in [n for n in globals() if not n.startswith("_")]:
    if _name not in _solution_saved:
        del globals()[_name]
globals().update(_solution_saved)
del _solution_saved, _name
"""


def output_text(cell) -> str:
    """Lo que mostró una celda de código, como texto: flujos, resultados y una nota por figura."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                parts.append("[figura: ejecute el código para verla]\n")
            elif "text/plain" in data:
                parts.append(data["text/plain"] + "\n")
        elif output.output_type == "error":
            parts.append("\n".join(output.get("traceback", [])) + "\n")
    text = "".join(parts)
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def execute(path: Path, probe=None):
    """Ejecuta el cuaderno con cada solución inyectada; {índice: (clave, salida, sonda)}.

    `probe(key)` devuelve el código de una celda que se ejecuta justo después del
    código de una solución (en el mismo espacio de nombres, antes de deshacerlo),
    p. ej. para juzgar `answer`."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    found = solutions(nb)
    injected = {}
    for index, key, code, _ in sorted(found, reverse=True):
        cells = [nbformat.v4.new_code_cell(SAVE), nbformat.v4.new_code_cell(code)]
        if probe is not None:
            cells.append(nbformat.v4.new_code_cell(probe(key)))
        cells.append(nbformat.v4.new_code_cell(RESTORE))
        nb.cells[index + 1 : index + 1] = cells
        injected[index] = cells
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    ).execute()
    results = {}
    for index, key, _, _ in found:
        cells = injected[index]
        probe_text = output_text(cells[2]) if probe is not None else ""
        results[index] = (key, output_text(cells[1]), probe_text)
    return results


def write_outputs(path: Path) -> int:
    """Reescribe cada bloque «Salida» del cuaderno a partir de una ejecución nueva."""
    results = execute(path)
    nb = nbformat.read(path, as_version=4)
    changed = 0
    for index, key, code, output in solutions(nb):
        new = results[index][1] or None
        if new != output:
            changed += 1
            print(f"{path.name}: {key}: salida {'nueva' if output is None else 'cambiada'}")
        nb.cells[index].source = solution_markdown(code, new)
    nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        write_outputs(Path(name))
    print(json.dumps({"cuadernos": len(sys.argv) - 1}))
