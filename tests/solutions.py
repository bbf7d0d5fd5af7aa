"""The official solutions of the exercises, written in Markdown cells.

A solution is a Markdown cell right after an exercise's answer and check
cells, folded in an HTML ``<details>`` element, which JupyterLab, Colab,
VS Code, GitHub and the site all render as a closed box («Mostrar la
solución»). «Ejecutar todas las celdas» renders it but cannot run it::

    <details>
    <summary>Mostrar la solución</summary>

    ```python
    answer = …
    print(…)
    ```

    **Salida:**

    ```text
    …what the code above prints…
    ```

    </details>

The «Salida» block is generated, never typed: ``python tests/solutions.py
notebooks/NN_x.ipynb`` executes the notebook in a real kernel with every
solution's code injected after its cell (each one alone: whatever it binds is
undone before the next cell runs, so a solution cannot lean on another one)
and writes what each printed. ``tests/test_exercises.py`` runs the same
execution and fails if a «Salida» differs from what the code prints today, or
if a registered check refuses the official ``answer``.
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
    """The Markdown cell of a solution: its code and, if it prints, its output."""
    text = f"<details>\n<summary>{SUMMARY}</summary>\n\n```python\n{code.strip()}\n```\n"
    if output:
        text += f"\n**Salida:**\n\n```text\n{output}\n```\n"
    return text + "\n</details>"


def parse(source: str):
    """(code, output or None) of a solution cell, or None if it is not one."""
    match = SOLUTION.match(source)
    if not match:
        return None
    return match["code"], match["output"]


def solutions(nb):
    """[(cell index, exercise key, code, output)] of every solution in the notebook."""
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


# Before each solution: remember what every name is bound to. After it (and
# after the probe that judges its `answer`): forget what it bound, so that the
# next solution runs with only what the notebook's own cells defined.
SAVE = "_solution_saved = {k: v for k, v in globals().items() if not k.startswith('_')}"
RESTORE = """
for _name in [n for n in globals() if not n.startswith("_")]:
    if _name not in _solution_saved:
        del globals()[_name]
globals().update(_solution_saved)
del _solution_saved, _name
"""


def output_text(cell) -> str:
    """What a code cell showed, as text: streams, results and a note for each figure."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                parts.append("[figura]\n")
            elif "text/plain" in data:
                parts.append(data["text/plain"] + "\n")
        elif output.output_type == "error":
            parts.append("\n".join(output.get("traceback", [])) + "\n")
    text = "".join(parts)
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def execute(path: Path, probe=None):
    """Execute the notebook with every solution injected; {index: (key, output, probe output)}.

    `probe(key)` returns the source of a cell run right after a solution's code
    (in the same namespace, before it is undone), e.g. to judge `answer`."""
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
    """Rewrite every «Salida» block of the notebook from a fresh execution."""
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
