"""Every notebook keeps the workshop's frame, fits its time and is committed clean.

nbval (run on `notebooks/` by `make test`) re-executes the notebooks and
compares outputs; these checks cover what nbval does not, reading only the
committed `.ipynb` files (fast, no kernel):

- the frame (title, «Lo que aprenderá», … «Ejercicios») in order, with
  «Qué hace falta registrar» in every notebook that loads events;
- the time line ``**Tiempo:** 25 min en el programa de medio día · 40 min en
  el de día completo`` (or ``**Tiempo:** fuera del programa de medio día · …``)
  agrees with ``book/programa.yml``, the single source of both programmes,
  and so do the two tables of the intro page (``book/intro.md``);
- the time rule (also stated in ``book/programa.yml``): words / 130 + 1 per
  lesson code cell + the «⏱ N min» of each exercise. The core path (no
  «Para profundizar» blocks, no exercise marked «(opcional)») fits the
  half-day slot; the whole notebook fits the full-day slot. What counts:
  markdown words outside «Requisitos previos», «Licencia», «¿Qué sigue?» and
  the «Ejercicios» section (an exercise's minutes include reading it); code
  cells outside «Ejercicios». Run ``python tests/test_notebooks.py`` to print
  the estimate of every notebook;
- «Para profundizar» blocks: a markdown cell starting ``### Para profundizar:``
  and every cell up to the next heading; each of those cells is collapsed in
  JupyterLab (``jupyter.source_hidden``, plus ``outputs_hidden`` on code
  cells); their markdown is a MyST ``{dropdown}`` and their code cells carry a
  ``hide-…`` tag, so the site folds them too;
- exercises (``### Ejercicio NN.k … ⏱ N min``): an answer cell for the learner
  (``answer = ...  # su respuesta aquí``), a check cell
  ``taller.check("NN.k", answer)`` when ``taller/exercises/notebookNN.py``
  registers that key, then the solution: code cells tagged ``hide-cell`` and
  collapsed (``source_hidden`` and ``outputs_hidden``); everything after the
  first solution cell is collapsed too (the interpretation lives there); a
  checked solution calls ``taller.check`` again and its committed output says
  «✅ Correcto». ``tests/test_exercises.py`` proves each check accepts the
  official solution and rejects a plausible wrong answer;
- data: no notebook defines a download helper; 03 onwards load through
  ``taller`` (the preparation cell of coordination: ``import taller`` with
  ``%pip install`` as fallback); 02 keeps the manual route;
- committed executed top to bottom, without errors, stderr, shell commands or
  paths of this machine; code lines ≤ 79 characters.
"""

import importlib
import json
import re
from dataclasses import dataclass, field

import pytest
import yaml

from built_site import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PROGRAMME = yaml.safe_load((REPO / "book" / "programa.yml").read_text(encoding="utf-8"))
HALF_DAY = PROGRAMME["medio_dia"]["minutos"]
FULL_DAY = PROGRAMME["dia_completo"]["minutos"]
WORDS_PER_MINUTE = 130

FRAME = [
    "## Lo que aprenderá",
    "## Requisitos previos",
    "## Datos",
    "## Qué hace falta registrar",
    "## Licencia",
    "## Preparación",
    "## Resumen",
    "## ¿Qué sigue?",
    "## Ejercicios",
]
# 00 comprueba el entorno: no analiza datos ni tiene ejercicios.
NOT_IN = {
    "00": {"## Datos", "## Qué hace falta registrar", "## Ejercicios"},
    "01": {"## Qué hace falta registrar"},  # solo valores escritos a mano
}
# Secciones de consulta que no se leen en voz alta durante la sesión.
NOT_TIMED = {"## Requisitos previos", "## Licencia", "## ¿Qué sigue?"}
TIME_LINE = re.compile(
    r"\*\*Tiempo:\*\* (?:(\d+) min en el programa de medio día|fuera del programa de medio día)"
    r" · (\d+) min en el de día completo"
)
EXERCISE = re.compile(r"^### Ejercicio (\d\d)\.(\d+)\b(.*)$", re.M)
MINUTES = re.compile(r"⏱\s*(\d+)\s*min")
DEEP = "### Para profundizar:"


def number(path):
    return path.name[:2]


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def is_heading(cell):
    return cell["cell_type"] == "markdown" and source(cell).lstrip().startswith("#")


def headings(path):
    lines = []
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            lines += [line.strip() for line in source(cell).splitlines() if line.startswith("#")]
    return lines


def collapsed(cell):
    hidden = cell["metadata"].get("jupyter", {})
    if cell["cell_type"] == "code":
        return hidden.get("source_hidden") is True and hidden.get("outputs_hidden") is True
    return hidden.get("source_hidden") is True


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def registered(nn):
    """Exercise keys with a self-check in taller/exercises/notebookNN.py."""
    from taller import exercises

    try:
        importlib.import_module(f"taller.exercises.notebook{nn}")
    except ModuleNotFoundError:
        return set()
    return {key for key in exercises._CHECKERS if key.startswith(f"{nn}.")}


@dataclass
class Exercise:
    key: str
    heading: str
    optional: bool
    minutes: int | None
    cells: list = field(default_factory=list)  # the cells after the statement


def exercises(path):
    """The exercises of the «Ejercicios» section, with the cells that follow each."""
    found, current, inside = [], None, False
    for cell in cells(path):
        text = source(cell)
        if is_heading(cell) and text.lstrip().startswith("## "):
            inside = text.lstrip().startswith("## Ejercicios")
            current = None
        if not inside:
            continue
        match = EXERCISE.search(text) if cell["cell_type"] == "markdown" else None
        if match:
            minutes = MINUTES.search(text)
            current = Exercise(
                key=f"{match[1]}.{match[2]}",
                heading=match[0],
                optional="(opcional)" in match[3],
                minutes=int(minutes[1]) if minutes else None,
            )
            found.append(current)
        elif current is not None:
            if is_heading(cell):
                current = None
            else:
                current.cells.append(cell)
    return found


def deep_blocks(path):
    """[(heading cell, [cells of the block])] for every «Para profundizar» block."""
    blocks, current = [], None
    for cell in cells(path):
        if is_heading(cell):
            current = None
            if source(cell).lstrip().startswith(DEEP):
                current = (cell, [])
                blocks.append(current)
        elif current is not None:
            current[1].append(cell)
    return blocks


def prose_words(text):
    text = re.sub(r"\]\([^)]*\)", "]", text)  # destino de los enlaces
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"^```.*$", " ", text, flags=re.M)
    return len(re.findall(r"\w+", text))


@dataclass
class Estimate:
    core_words: int = 0
    deep_words: int = 0
    core_code: int = 0
    deep_code: int = 0
    core_exercises: int = 0
    optional_exercises: int = 0

    @property
    def core(self):
        return self.core_words / WORDS_PER_MINUTE + self.core_code + self.core_exercises

    @property
    def total(self):
        deep = self.deep_words / WORDS_PER_MINUTE + self.deep_code + self.optional_exercises
        return self.core + deep

    def __str__(self):
        return (
            f"núcleo {self.core:.0f} min ({self.core_words} palabras, {self.core_code} celdas, "
            f"{self.core_exercises} min de ejercicios); entero {self.total:.0f} min "
            f"(+{self.deep_words} palabras, +{self.deep_code} celdas, "
            f"+{self.optional_exercises} min opcionales)"
        )


def estimate(path):
    result = Estimate()
    section, deep = "", False
    for cell in cells(path):
        text = source(cell)
        if is_heading(cell):
            first = text.lstrip().splitlines()[0].strip()
            if first.startswith("## ") or first.startswith("# "):
                section = first
            deep = first.startswith(DEEP)
        if section.startswith("## Ejercicios"):
            continue
        if section in NOT_TIMED:
            continue
        hidden_code = cell["cell_type"] == "code" and collapsed(cell)
        in_deep = deep or hidden_code
        if cell["cell_type"] == "markdown":
            words = prose_words(text)
            if in_deep:
                result.deep_words += words
            else:
                result.core_words += words
        elif text.strip():
            if in_deep:
                result.deep_code += 1
            else:
                result.core_code += 1
    for exercise in exercises(path):
        if exercise.optional:
            result.optional_exercises += exercise.minutes or 0
        else:
            result.core_exercises += exercise.minutes or 0
    return result


def code_cells(path):
    return [c for c in cells(path) if c["cell_type"] == "code" and source(c).strip()]


ids = {"ids": lambda p: p.stem}


def test_every_programmed_notebook_is_there():
    assert [number(p) for p in NOTEBOOKS] == sorted(FULL_DAY), (
        "los cuadernos no coinciden con los de book/programa.yml"
    )
    assert sorted(HALF_DAY) == sorted(FULL_DAY)


def intro_programmes():
    """{"medio_dia": {"01": 15, …}, "dia_completo": {…}} from the intro page's tables."""
    text = (REPO / "book" / "intro.md").read_text(encoding="utf-8")
    found, current = {}, None
    for line in text.splitlines():
        if line.startswith("### Medio día"):
            current = found.setdefault("medio_dia", {})
        elif line.startswith("### Día completo"):
            current = found.setdefault("dia_completo", {})
        elif line.startswith("#"):
            current = None
        elif current is not None:
            match = re.search(r"notebooks/(\d\d)_\w+`.*\|\s*(\d+)\s*\|\s*$", line)
            if match:
                current[match[1]] = int(match[2])
    return found


def test_intro_page_states_the_same_programmes():
    stated = intro_programmes()
    assert stated.get("medio_dia") == {k: v for k, v in HALF_DAY.items() if v is not None}, (
        "book/intro.md (medio día) no coincide con book/programa.yml"
    )
    assert stated.get("dia_completo") == FULL_DAY, (
        "book/intro.md (día completo) no coincide con book/programa.yml"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_frame_in_order(path):
    found = headings(path)
    assert re.match(rf"# {number(path)}\. \S", found[0]), f"título: {found[0]!r}"
    code = "\n".join(source(c) for c in code_cells(path))
    frame = [h for h in FRAME if h not in NOT_IN.get(number(path), set())]
    if not re.search(r"taller\.load\(|read_json\(", code):
        frame = [h for h in frame if h != "## Qué hace falta registrar"]
    positions = [found.index(h) for h in frame if h in found]
    missing = [h for h in frame if h not in found]
    assert missing == [], f"faltan secciones: {missing}"
    assert positions == sorted(positions), "las secciones del esquema están desordenadas"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_time_line_agrees_with_the_programmes(path):
    text = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    lines = TIME_LINE.findall(text)
    assert len(lines) == 1, (
        "falta la línea «**Tiempo:** N min en el programa de medio día · M min en el de "
        "día completo» (una sola vez)"
    )
    half, full = lines[0]
    expected_half = HALF_DAY[number(path)]
    assert (int(half) if half else None) == expected_half, (
        "medio día: no coincide con book/programa.yml"
    )
    assert int(full) == FULL_DAY[number(path)], "día completo: no coincide con book/programa.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_time_rule_fits_the_slots(path):
    result = estimate(path)
    half, full = HALF_DAY[number(path)], FULL_DAY[number(path)]
    if half is not None:
        assert result.core <= half, (
            f"el camino principal no cabe en {half} min: {result}. Pase lo que no es "
            "imprescindible a bloques «Para profundizar» o recórtelo."
        )
    assert result.total <= full, f"el cuaderno entero no cabe en {full} min: {result}"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_deep_blocks_are_collapsed(path):
    for heading, block in deep_blocks(path):
        title = source(heading).splitlines()[0]
        assert block, f"{title}: el bloque está vacío"
        for cell in block:
            where = f"{title} → {source(cell)[:60]!r}"
            assert collapsed(cell), f"{where}: no está plegada en JupyterLab (metadata jupyter)"
            if cell["cell_type"] == "markdown":
                assert "{dropdown}" in source(cell).splitlines()[0], (
                    f"{where}: el texto va dentro de un ```{{dropdown}} para el sitio"
                )
            else:
                tags = cell["metadata"].get("tags", [])
                assert any(tag.startswith("hide-") for tag in tags), (
                    f"{where}: falta la etiqueta hide-cell (o hide-input) para el sitio"
                )


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if number(p) != "00"], **ids)
def test_exercises_are_for_doing(path):
    found = exercises(path)
    assert 1 <= len(found) <= 4, f"{len(found)} ejercicios"
    checked = registered(number(path))
    keys = [exercise.key for exercise in found]
    assert len(set(keys)) == len(keys), f"identificadores repetidos: {keys}"
    assert checked <= set(keys), f"comprobaciones sin ejercicio: {sorted(checked - set(keys))}"
    for exercise in found:
        where = f"Ejercicio {exercise.key}"
        assert exercise.key.startswith(number(path) + "."), f"{where}: número de otro cuaderno"
        assert exercise.minutes, f"{where}: falta «⏱ N min» en el enunciado"
        code = [c for c in exercise.cells if c["cell_type"] == "code"]
        assert code, f"{where}: no tiene celdas de código"
        answer = code[0]
        assert not collapsed(answer) and "su respuesta aquí" in source(answer), (
            f"{where}: la primera celda de código es la del alumno, visible, con "
            "«answer = ...  # su respuesta aquí»"
        )
        solutions = [c for c in code if "hide-cell" in c["metadata"].get("tags", [])]
        assert solutions, f"{where}: falta la solución (celda con la etiqueta hide-cell)"
        first = exercise.cells.index(solutions[0])
        for cell in exercise.cells[first:]:
            assert collapsed(cell), (
                f"{where}: la solución y su interpretación van plegadas en JupyterLab "
                f"(jupyter.source_hidden/outputs_hidden): {source(cell)[:60]!r}"
            )
        call = f'taller.check("{exercise.key}", answer)'
        visible = [c for c in exercise.cells[:first] if c["cell_type"] == "code"]
        if exercise.key in checked:
            assert any(call in source(c) for c in visible), f"{where}: falta la celda {call}"
            final = [c for c in solutions if call in source(c)]
            assert final, f"{where}: la solución debe terminar llamando a {call}"
            assert "✅ Correcto" in output_text(final[-1]), (
                f"{where}: la salida guardada de la solución no dice «✅ Correcto»"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_no_download_helper(path):
    for cell in code_cells(path):
        text = source(cell)
        assert not re.search(r"^\s*def\s+(fetch|download|descargar)\w*", text, re.M), (
            "define su propio ayudante de descarga: use taller (o, en 02, los pasos a la vista)"
        )


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if number(p) >= "03"], **ids)
def test_loads_through_taller(path):
    code = "\n".join(source(c) for c in code_cells(path))
    assert re.search(r"try:\n\s+import taller\nexcept ImportError:", code), (
        "falta la celda de preparación: try: import taller / except ImportError: %pip install…"
    )
    assert re.search(r"taller\.(load|parquet_path)\(", code), "no carga los datos con taller"
    assert "read_json(" not in code and "requests." not in code, (
        "lee o descarga los datos a mano en lugar de usar taller"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_committed_executed_without_errors(path):
    code = code_cells(path)
    assert all(c["execution_count"] is not None for c in code), "hay celdas sin ejecutar"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        "no se ejecutó de arriba abajo en una sola pasada"
    )
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"error guardado en: {source(cell)[:80]}"
            assert output.get("name") != "stderr", (
                f"salida de error guardada en: {source(cell)[:80]}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_runs_anywhere(path):
    """Opened alone (Binder, Colab, a laptop): no shell commands, no paths of this machine;
    the only magic allowed is the `%pip install` that installs taller when it is missing."""
    for cell in code_cells(path):
        text = source(cell)
        assert not re.search(r"^\s*(!|%%bash|%%sh|%sx|%system)", text, re.M), (
            "usa órdenes de la consola"
        )
        for line in re.findall(r"^\s*%pip.*$", text, re.M):
            assert "install" in line and "taller" in line, f"%pip inesperado: {line.strip()}"
        assert "/work/" not in text and "/tmp/" not in text, "usa una ruta de esta máquina"


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_code_lines_fit_the_page(path):
    long = [
        line
        for cell in code_cells(path)
        for line in source(cell).splitlines()
        if len(line) > 79 and "noqa: E501" not in line
    ]
    assert long == [], f"{len(long)} líneas de más de 79 caracteres: {long[:3]}"


if __name__ == "__main__":
    # Para el informe: la estimación de cada cuaderno según la regla.
    for notebook in NOTEBOOKS:
        half, full = HALF_DAY[number(notebook)], FULL_DAY[number(notebook)]
        print(f"{notebook.stem}: {estimate(notebook)} · programa {half}/{full} min")
