"""Every notebook keeps the workshop's frame and is committed executed and clean.

nbval (run on `notebooks/` by `make test`) re-executes them and compares
outputs; these checks cover what nbval does not: the lesson's structure, that
it stands alone, and that what was committed is a clean, complete run.
"""

import json
import re

import pytest

from built_site import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FRAME = [
    "## Lo que aprenderá",
    "## Requisitos previos",
    "## Datos",
    "## Licencia",
    "## Preparación",
    "## Resumen",
    "## ¿Qué sigue?",
    "## Ejercicios",
]


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def headings(path):
    lines = []
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            lines += [line.strip() for line in source(cell).splitlines() if line.startswith("#")]
    return lines


def test_the_eight_lessons_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_frame_in_order(path):
    found = headings(path)
    assert re.match(rf"# {path.name[:2]}\. \S", found[0]), f"título: {found[0]!r}"
    positions = [found.index(h) for h in FRAME if h in found]
    missing = [h for h in FRAME if h not in found]
    assert missing == [], f"faltan secciones: {missing}"
    assert positions == sorted(positions), "las secciones del esquema están desordenadas"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_hidden_solutions(path):
    all_cells = cells(path)
    start = next(i for i, c in enumerate(all_cells) if c["cell_type"] == "markdown" and "## Ejercicios" in source(c))
    solutions = [c for c in all_cells[start:] if c["cell_type"] == "code" and "hide-cell" in c["metadata"].get("tags", [])]
    assert 2 <= len(solutions) <= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_executed_without_errors(path):
    code = [c for c in cells(path) if c["cell_type"] == "code" and source(c).strip()]
    assert all(c["execution_count"] is not None for c in code), "hay celdas sin ejecutar"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "no se ejecutó de arriba abajo en una sola pasada"
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"error guardado en: {source(cell)[:80]}"
            assert output.get("name") != "stderr", f"salida de error guardada en: {source(cell)[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_self_contained(path):
    """Opened alone on Colab, a notebook can't import our helper package or run shell commands."""
    for cell in cells(path):
        if cell["cell_type"] != "code":
            continue
        text = source(cell)
        assert not re.search(r"^\s*(import|from)\s+taller\b", text, re.M), "importa el paquete taller"
        assert not re.search(r"^\s*(!|%%bash|%%sh)", text, re.M), "usa órdenes de la consola"
        assert "/work/" not in text and "/tmp/" not in text, "usa una ruta de esta máquina"
