"""Cada cuaderno conserva el marco del taller, cabe en su tiempo y se guarda limpio.

nbval (que `make test` ejecuta sobre `notebooks/`) vuelve a ejecutar los
cuadernos y compara las salidas; estas comprobaciones cubren lo que nbval no
cubre y solo leen los archivos `.ipynb` del repositorio (rápido, sin núcleo):

- el marco (título, «Lo que aprenderá», … «Ejercicios») en orden, con
  «Qué hace falta registrar» en cada cuaderno que carga eventos;
- la línea de tiempo ``**Tiempo:** 25 min en el programa de medio día · 40 min
  en el de día completo`` (o ``**Tiempo:** fuera del programa de medio día · …``)
  coincide con ``book/programa.yml``, la única fuente de ambos programas, y
  también las dos tablas de la página de introducción (``book/intro.md``);
- la regla del tiempo (expuesta también, con cómo se midieron sus constantes,
  en ``book/programa.yml``): palabras / WORDS_PER_MINUTE + MINUTES_PER_CELL por
  celda de código de la lección + los «⏱ N min» de cada ejercicio. El recorrido
  básico (sin los bloques «Para profundizar» ni los ejercicios marcados
  «(opcional)») cabe en la franja de medio día; el recorrido básico más los
  bloques «Para profundizar» cabe en la de día completo (los ejercicios
  opcionales son para quien termine antes, y para después del taller: no suman
  tiempo a la sesión). Lo que cuenta: las palabras de Markdown fuera de
  «Requisitos previos», «Licencia», «¿Qué sigue?» y la sección «Ejercicios»
  (los minutos de un ejercicio incluyen leerlo); las celdas de código fuera de
  «Ejercicios». Ejecute ``python tests/test_notebooks.py`` para imprimir la
  estimación de cada cuaderno;
- ningún marcado que solo MyST entienda en ninguna celda Markdown (JupyterLab,
  Colab, VS Code y GitHub lo mostrarían sin representar): ni directivas
  (```` ```{ ````, ``:::``), ni roles (``{term}``, ``{doc}``…), y los enlaces
  al glosario van al cuaderno ``glosario.ipynb``, que JupyterLab representa;
- bloques «Para profundizar»: una celda Markdown ``### Para profundizar: …``,
  plegada en JupyterLab (``jp-MarkdownHeadingCollapsed``), y todas las celdas
  hasta el siguiente encabezado, en CommonMark simple (el sitio pliega la
  sección con ``book/_ext/profundizar.py``);
- ejercicios (``### Ejercicio NN.k … ⏱ N min``): una celda de respuesta para
  quien aprende (``answer = ...  # su respuesta aquí``), una celda de
  comprobación ``taller.check("NN.k", answer)`` cuando
  ``taller/exercises/notebookNN.py`` registra esa clave, y después la solución:
  una celda Markdown con un bloque HTML ``<details>`` (``tests/solutions.py``),
  que «Ejecutar todas las celdas» no puede ejecutar y que nadie ve hasta
  abrirlo. Su código calcula ``answer``; ``tests/test_exercises.py`` lo
  ejecuta contra los datos reales y exige que la comprobación lo acepte y que
  su bloque «Salida» sea lo que imprime;
- datos: ningún cuaderno define una función de descarga propia; del 03 en
  adelante cargan a través de ``taller`` (la celda de preparación común:
  ``import taller`` con ``%pip install`` como alternativa); el 02 conserva el
  camino manual;
- se guardan ejecutados de principio a fin, sin errores, sin stderr, sin
  órdenes de shell ni rutas de este equipo; líneas de código ≤ 79 caracteres.
"""

import importlib
import json
import re
from dataclasses import dataclass, field

import pytest
import yaml

from built_site import REPO
from solutions import parse as parse_solution

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = REPO / "notebooks" / "glosario.ipynb"
PROGRAMME = yaml.safe_load((REPO / "book" / "programa.yml").read_text(encoding="utf-8"))
HALF_DAY = PROGRAMME["medio_dia"]["minutos"]
FULL_DAY = PROGRAMME["dia_completo"]["minutos"]
# Calibrado con un recorrido cronometrado (book/programa.yml explica cómo): una
# persona nueva en pandas, sola en JupyterLab, lee unas 100 palabras por minuto
# de esta prosa en español y dedica 1,3 minutos a cada celda de la lección
# (ejecutarla, leer su salida, compararla con el texto).
WORDS_PER_MINUTE = 100
MINUTES_PER_CELL = 1.3

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


def registered(nn):
    """Claves de ejercicio con autocomprobación en taller/exercises/notebookNN.py."""
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
    cells: list = field(default_factory=list)  # las celdas que siguen al enunciado


def exercises(path):
    """Los ejercicios de la sección «Ejercicios», con las celdas que siguen a cada uno."""
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
    """[(celda de encabezado, [celdas del bloque])] de cada bloque «Para profundizar»."""
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
        lesson = self.core_words / WORDS_PER_MINUTE + self.core_code * MINUTES_PER_CELL
        return lesson + self.core_exercises

    @property
    def total(self):
        """Recorrido básico y bloques «Para profundizar»: el día completo (los ejercicios
        opcionales se hacen en paralelo, para quien termine antes)."""
        return self.core + self.deep_words / WORDS_PER_MINUTE + self.deep_code * MINUTES_PER_CELL

    def __str__(self):
        return (
            f"camino principal {self.core:.1f} min ({self.core_words} palabras, "
            f"{self.core_code} celdas, {self.core_exercises} min de ejercicios); con "
            f"«Para profundizar» {self.total:.1f} min (+{self.deep_words} palabras, "
            f"+{self.deep_code} celdas); ejercicios opcionales: {self.optional_exercises} min"
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
        if cell["cell_type"] == "markdown":
            words = prose_words(text)
            if deep:
                result.deep_words += words
            else:
                result.core_words += words
        elif text.strip():
            if deep:
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
    """{"medio_dia": {"01": 15, …}, "dia_completo": {…}} de las tablas de la introducción."""
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
    assert result.total <= full, (
        f"el camino principal con los bloques «Para profundizar» no cabe en {full} min: {result}"
    )


# Marcado que solo MyST representa: JupyterLab, Colab, VS Code y GitHub lo muestran tal cual.
MYST_ONLY = re.compile(
    r"^\s*(```+|~~~+)\s*\{|^\s*:::|\{(term|doc|ref|numref|download|dropdown|glossary)\}"
    r"|^:sorted:|\]\([^)]*glosario\.md",
    re.M,
)


@pytest.mark.parametrize("path", NOTEBOOKS + [GLOSSARY], **ids)
def test_markdown_reads_the_same_everywhere(path):
    for cell in cells(path):
        if cell["cell_type"] != "markdown":
            continue
        found = MYST_ONLY.search(source(cell))
        assert found is None, (
            f"{found[0]!r} en {source(cell)[:60]!r}: es sintaxis de MyST, que JupyterLab "
            "muestra tal cual (los enlaces al glosario van a glosario.ipynb#term-…)"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, **ids)
def test_deep_blocks_are_collapsed(path):
    for heading, block in deep_blocks(path):
        title = source(heading).splitlines()[0]
        assert block, f"{title}: el bloque está vacío"
        assert heading["metadata"].get("jp-MarkdownHeadingCollapsed") is True, (
            f"{title}: el encabezado va plegado en JupyterLab "
            "(metadatos «jp-MarkdownHeadingCollapsed»: true)"
        )
        for cell in block:
            where = f"{title} → {source(cell)[:60]!r}"
            assert not cell["metadata"].get("jupyter"), (
                f"{where}: el encabezado ya pliega el bloque; una celda plegada además "
                "se vería como «…» al desplegarlo"
            )
            assert not any(t.startswith("hide-") for t in cell["metadata"].get("tags", [])), (
                f"{where}: sin etiquetas hide-…: el sitio pliega la sección entera"
            )


def test_exercise_solutions_are_markdown():
    """Ningún cuaderno guarda una solución en una celda de código: «Ejecutar todas las
    celdas» la ejecutaría."""
    for path in NOTEBOOKS:
        for cell in cells(path):
            tags = cell["metadata"].get("tags", [])
            assert "hide-cell" not in tags, f"{path.name}: celda hide-cell: {source(cell)[:60]!r}"


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
        markdown = [c for c in exercise.cells if c["cell_type"] == "markdown"]
        solutions = [c for c in markdown if parse_solution(source(c))]
        assert len(solutions) == 1, (
            f"{where}: hace falta una solución, una celda de Markdown con "
            "<details><summary>Mostrar la solución</summary> (tests/solutions.py)"
        )
        solution = solutions[0]
        code_of_solution, _ = parse_solution(source(solution))
        if exercise.key in checked:
            assert re.search(r"^answer\s*=", code_of_solution, re.M), (
                f"{where}: el código de la solución calcula `answer`"
            )
        first = exercise.cells.index(solution)
        before = [c for c in exercise.cells[:first] if c["cell_type"] == "code"]
        assert before == code[: len(before)] and len(before) <= 2, (
            f"{where}: la solución va justo después de la celda de respuesta y de la comprobación"
        )
        call = f'taller.check("{exercise.key}", answer)'
        if exercise.key in checked:
            assert any(call in source(c) for c in before), f"{where}: falta la celda {call}"


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
    """Abierto solo (Binder, Colab, un portátil): sin órdenes de shell, sin rutas de este
    equipo; la única orden mágica permitida es el `%pip install` que instala taller si falta."""
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
