"""Las reglas de la autocomprobación (`taller.exercises`), iguales en todos los ejercicios.

- **Nunca lanza**: una tabla de respuestas hostiles (infinitos, NaN, enteros
  enormes, series, tablas, arreglos de todos los tipos, objetos cuyos métodos
  fallan, identificadores raros) y una prueba de propiedades con Hypothesis;
  cada respuesta recibe un mensaje en español y ninguna traza. Corren con
  ``TALLER_STRICT_CHECKS=1``: la guarda vuelve a lanzar cualquier error, así
  que un fallo de una comprobación no se esconde detrás de un mensaje.
- **No juzga respuestas viejas ni fallidas**: celdas de verdad en un
  intérprete de IPython (``InteractiveShell.run_cell``), con los mismos
  eventos que usa JupyterLab.
- **Pistas graduadas y sin código**: la escalera avanza con cada intento, y
  ninguna pista ni diagnóstico contiene el código de la solución oficial del
  cuaderno.
- **Un vocabulario para los tipos**.

Las comprobaciones del cuaderno 01 no necesitan datos (capa unit); las demás
calculan la respuesta con los datos reales (capa data).
"""

import ast
import difflib
import fractions
import html
import importlib
import inspect
import math
import re
import subprocess
import sys
import textwrap
from decimal import Decimal

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from built_site import REPO
from taller import exercises
from taller.exercises import STRICT, answers, evaluate, history

# Sin base de ejemplos en disco (.hypothesis/): cada ejecución parte de cero.
settings.register_profile("taller", database=None)
settings.load_profile("taller")

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
for _path in NOTEBOOKS:
    try:
        importlib.import_module(f"taller.exercises.notebook{_path.name[:2]}")
    except ModuleNotFoundError:
        pass
KEYS = sorted(exercises._EXERCISES)
# Las del cuaderno 01 usan los valores del enunciado; las demás, los datos reales.
DATA_FREE = [key for key in KEYS if key.startswith("01.")]
NEEDS_DATA = [key for key in KEYS if key not in DATA_FREE]
VERDICT = re.compile(r"✅ Correcto|❌ Todavía no|⚠️ Sin juzgar|todavía no hay respuesta")


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    """La guarda vuelve a lanzar los errores: ninguno queda oculto."""
    monkeypatch.setenv(STRICT, "1")
    monkeypatch.setattr(exercises, "_TRIES", {})


def assert_spanish_message(message):
    assert isinstance(message, str)
    assert VERDICT.search(message), message
    assert "Traceback" not in message and "Error:" not in message, message


def assert_printed(capsys):
    out, err = capsys.readouterr()
    assert not err, err
    lines = out.rstrip("\n").split("\n")
    assert all(len(line) <= 79 for line in lines), out
    assert_spanish_message(out)
    return out


# --- Respuestas hostiles -------------------------------------------------


class Raising:
    """Un objeto cuyos métodos especiales fallan todos."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError("método hostil")

    __str__ = __repr__ = __eq__ = __ne__ = __lt__ = __bool__ = __len__ = _fail
    __iter__ = __getitem__ = __float__ = __int__ = __index__ = __hash__ = _fail
    __format__ = __round__ = __abs__ = __array__ = _fail

    def __getattr__(self, name):
        raise RuntimeError(f"atributo hostil {name}")


class RaisingInt(int):
    __int__ = __index__ = __eq__ = __hash__ = __str__ = __repr__ = Raising._fail
    __float__ = __bool__ = __format__ = Raising._fail


class RaisingFloat(float):
    __float__ = __eq__ = __hash__ = __str__ = __repr__ = __format__ = Raising._fail


class RaisingStr(str):
    __str__ = __eq__ = __hash__ = __len__ = __iter__ = __getitem__ = Raising._fail
    strip = lower = split = replace = __format__ = Raising._fail


class RaisingList(list):
    __iter__ = __len__ = __getitem__ = __eq__ = __repr__ = Raising._fail


class RaisingTuple(tuple):
    __iter__ = __len__ = __getitem__ = __eq__ = __repr__ = Raising._fail


class RaisingClass(type):
    """Una metaclase hostil: hasta preguntar por el nombre del tipo falla."""

    def __getattribute__(cls, name):
        raise RuntimeError("tipo hostil")


def _object_array():
    items = np.empty(2, dtype=object)
    items[1] = Raising()
    return items


def _recursive_list():
    items = []
    items.append(items)
    return items


HOSTILE = {
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
    "np.nan": np.float64("nan"),
    "np.inf": np.float32("inf"),
    "huge int": 10**5000,
    "huge negative int": -(10**5000),
    "2**64": 2**64,
    "huge float": 1e308,
    "pd.NA": pd.NA,
    "pd.NaT": pd.NaT,
    "Timedelta": pd.Timedelta(seconds=4.5),
    "timedelta64": np.timedelta64(3, "s"),
    "Timestamp": pd.Timestamp("2020-09-20 04:00:00"),
    "int Series": pd.Series([1, 2, 3]),
    "one-int Series": pd.Series([3]),
    "bool Series": pd.Series([True, False, True]),
    "boolean Series": pd.Series([True, None], dtype="boolean"),
    "Int64 Series with NA": pd.Series([1, None], dtype="Int64"),
    "text Series": pd.Series(["a", "b"]),
    "one-text Series": pd.Series(["powershell.exe"]),
    "empty Series": pd.Series([], dtype=float),
    "DataFrame": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
    "empty DataFrame": pd.DataFrame(),
    "Index": pd.Index(["a", "b"]),
    "bool array": np.array([True, False]),
    "int array": np.array([1, 2, 3]),
    "one-int array": np.array([3]),
    "0-d array": np.array(-7),
    "0-d bool array": np.array(True),
    "float array with nan": np.array([1.5, np.nan]),
    "complex array": np.array([1 + 2j]),
    "str array": np.array(["a", "b"]),
    "object array": _object_array(),
    "datetime array": np.array(["2020-01-01"], dtype="datetime64[s]"),
    "2-D array": np.ones((2, 2)),
    "empty array": np.array([]),
    "structured array": np.zeros(2, dtype=[("x", "i4"), ("y", "f8")]),
    "raising object": Raising(),
    "raising int": RaisingInt(-7),
    "raising float": RaisingFloat(-7.0),
    "raising str": RaisingStr("svchost.exe"),
    "raising list": RaisingList(["a", "b"]),
    "raising tuple": RaisingTuple(("a",)),
    "list of raising": [Raising(), Raising()],
    "list with a raising str": ["a", RaisingStr("b")],
    "raising type": RaisingClass("Hostil", (), {})(),
    "recursive list": _recursive_list(),
    "None": None,
    "Ellipsis": ...,
    "True": True,
    "np.True_": np.True_,
    "bytes": b"3",
    "bytearray": bytearray(b"abc"),
    "complex": 1 + 2j,
    "Decimal": Decimal("3"),
    "Fraction": fractions.Fraction(7, 2),
    "set": {"a", "b"},
    "dict": {"a": 1},
    "generator": (n for n in range(3)),
    "function": print,
    "type": int,
    "module": math,
    "empty str": "",
    "blank str": "   \n\t",
    "NUL str": "\x00",
    "numeric str": "3",
    "decimal comma str": "3,5",
    "long str": "x" * 100_000,
    "emoji str": "🔥💻🛡️",
    "right-to-left str": "\u202eexe.llehsrewop",
    "list of one number": [3],
    "nested list": [[1, 2], [3]],
    "list of floats": [200.0, 1024.0],
    "list of None": [None],
}
BAD_KEYS = {
    "None": None,
    "int": 1,
    "float": 3.1,
    "bytes": b"01.1",
    "unknown": "99.9",
    "no dot": "011",
    "spaces": " 01.1 ",
    "raising str": RaisingStr("01-1"),
    "raising object": Raising(),
    "list": ["01.1"],
    "huge": "0" * 10_000,
}


def _refused(key, answer) -> bool:
    """¿Rechaza el tipo de `key` la respuesta antes de llegar a los datos?"""
    try:
        exercises._EXERCISES[key].kind.convert(answer)
    except answers.Refused:
        return True
    return False


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_answers_get_a_spanish_message_in_every_exercise(name, capsys):
    answer = HOSTILE[name]
    for key in KEYS:
        if key in NEEDS_DATA and not _refused(key, answer):
            continue  # lo juzga la comprobación con los datos: capa data, abajo
        verdict = evaluate(key, answer)
        assert_spanish_message(verdict.message)
        assert not verdict.correct
        exercises.check(key, answer)
        assert_printed(capsys)


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_bad_exercise_keys_get_a_spanish_message(name, capsys):
    verdict = evaluate(BAD_KEYS[name], 3)
    assert not verdict.correct and not verdict.judged
    assert "identificador" in verdict.message
    exercises.check(BAD_KEYS[name], 3)
    assert "identificador" in assert_printed(capsys)


def test_check_with_none_as_key_names_the_problem(capsys):
    exercises.check(None, 1)
    out = assert_printed(capsys)
    assert "no es un texto" in out and 'taller.check("03.1", answer)' in out


ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.complex_numbers()
    | st.text()
    | st.binary()
    | st.builds(Raising)
    | st.builds(RaisingStr, st.text(max_size=5))
    | st.builds(RaisingInt, st.integers()),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=3), children, max_size=3)
        | st.lists(st.integers(), max_size=5).map(np.array)
        | st.lists(st.floats(), max_size=5).map(pd.Series)
        | st.lists(st.text(), max_size=5).map(np.array)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANY, key=st.sampled_from(DATA_FREE) | st.text(max_size=6) | ANY)
def test_any_answer_and_any_key_get_a_spanish_message(answer, key):
    verdict = evaluate(key, answer)
    assert_spanish_message(verdict.message)


@settings(max_examples=300, deadline=None)
@given(answer=ANY, key=st.sampled_from(KEYS))
def test_every_kind_converts_or_refuses_anything(answer, key):
    """El conversor de cada tipo devuelve un valor normal o rechaza: nunca otra excepción."""
    kind = exercises._EXERCISES[key].kind
    try:
        value = kind.convert(answer)
    except answers.Refused as refused:
        assert isinstance(refused.advice, str)
        assert isinstance(answers.describe(answer), str)
        return
    expected_type = {
        answers.INTEGER: int,
        answers.DECIMAL: float,
        answers.TEXT: str,
        answers.TEXTS: list,
        answers.NUMBERS: list,
    }[kind]
    assert type(value) is expected_type
    if kind is answers.DECIMAL:
        assert math.isfinite(value)
    if kind is answers.TEXTS:
        assert all(type(item) is str for item in value)
    if kind is answers.NUMBERS:
        assert all(type(item) is float and math.isfinite(item) for item in value)


# Respuestas del tipo correcto pero arbitrarias: llegan a las comprobaciones
# que calculan con los datos.
PLAIN = {
    answers.INTEGER: st.integers()
    | st.integers(min_value=-3, max_value=300)
    | st.just(10**5000)
    | st.integers(min_value=-3, max_value=300).map(float),
    answers.DECIMAL: st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-10, max_value=10)
    | st.integers(min_value=-(10**30), max_value=10**30),
    answers.TEXT: st.text(min_size=1)
    | st.sampled_from(["a:b", ":", "1.2.3.4", "x\\", "$", "::80"]),
    answers.TEXTS: st.lists(st.text(), max_size=5),
    answers.NUMBERS: st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8),
}


@pytest.mark.data
@pytest.mark.parametrize("key", NEEDS_DATA)
def test_checks_with_data_survive_arbitrary_answers_of_their_type(key):
    kind = exercises._EXERCISES[key].kind

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answer=PLAIN[kind])
    def judged(answer):
        assert_spanish_message(evaluate(key, answer).message)

    judged()
    for name, answer in HOSTILE.items():
        verdict = evaluate(key, answer)
        assert_spanish_message(verdict.message)
        assert not verdict.correct, name


@pytest.mark.parametrize("key", DATA_FREE)
def test_data_free_checks_survive_arbitrary_answers_of_their_type(key):
    kind = exercises._EXERCISES[key].kind

    @settings(max_examples=200, deadline=None)
    @given(answer=PLAIN[kind])
    def judged(answer):
        assert_spanish_message(evaluate(key, answer).message)

    judged()


def test_a_bug_in_a_check_is_not_hidden(monkeypatch, capsys):
    """Con TALLER_STRICT_CHECKS=1 el error sale; sin ella, un mensaje que lo dice."""

    def broken(value):
        raise KeyError("columna")

    fake = exercises.Exercise("99.1", broken, answers.INTEGER, ("idea", "concreto"))
    monkeypatch.setitem(exercises._EXERCISES, "99.1", fake)
    with pytest.raises(KeyError):
        evaluate("99.1", 3)
    monkeypatch.delenv(STRICT)
    verdict = evaluate("99.1", 3)
    assert not verdict.judged and "error del taller" in verdict.message
    assert "KeyError" in verdict.message
    exercises.check("99.1", 3)
    assert "error del taller" in assert_printed(capsys)


# --- Un vocabulario para los tipos --------------------------------------

KIND_NAMES = {
    "un número entero",
    "un número decimal",
    "un texto",
    "una lista de textos",
    "un arreglo de números",
}


def test_every_exercise_declares_one_of_the_kinds_and_a_hint_ladder():
    kinds = {answers.INTEGER, answers.DECIMAL, answers.TEXT, answers.TEXTS, answers.NUMBERS}
    assert {kind.name for kind in kinds} == KIND_NAMES
    for key in KEYS:
        ex = exercises._EXERCISES[key]
        assert ex.kind in kinds, key
        assert len(ex.hints) >= 2 and len(set(ex.hints)) == len(ex.hints), key


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        (answers.INTEGER, "3"),
        (answers.INTEGER, 3.5),
        (answers.DECIMAL, "3.5"),
        (answers.TEXT, 3),
        (answers.TEXTS, "a"),
        (answers.NUMBERS, 3.0),
    ],
)
def test_a_wrong_type_names_what_was_expected_and_what_arrived(kind, answer):
    key = next(key for key in KEYS if exercises._EXERCISES[key].kind is kind)
    message = evaluate(key, answer).message
    assert f"Se espera {kind.name} y `answer` contiene {answers.describe(answer)}" in message


def _module_strings(module, *, accepted=True):
    """Los textos de los mensajes: las pistas y lo que devuelve cada comprobación
    (con `accepted=False`, solo lo que devuelve al rechazar: los diagnósticos)."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "hints":
            found += [elt.value for elt in node.value.elts]
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            verdict, *messages = node.value.elts
            if accepted or (isinstance(verdict, ast.Constant) and verdict.value is False):
                found += [
                    elt.value
                    for elt in messages
                    if isinstance(elt, ast.Constant) and isinstance(elt.value, str)
                ]
    return found


MODULES = sorted({key[:2] for key in KEYS})


@pytest.mark.parametrize("nn", MODULES)
def test_messages_use_one_vocabulary(nn):
    module = importlib.import_module(f"taller.exercises.notebook{nn}")
    for text in _module_strings(module):
        assert not re.search(r"\bun (int|float|str|entero)\b|\bPista:", text), text


def test_numeric_texts_follow_the_same_rule_in_every_exercise():
    """«"3"» no es 3 en ningún ejercicio numérico (antes, sí en 02.1 y no en 01.1)."""
    for key in KEYS:
        if exercises._EXERCISES[key].kind in (answers.INTEGER, answers.DECIMAL):
            message = evaluate(key, "3").message
            assert "número entre comillas" in message, key


def test_rounding_is_the_one_the_statement_asks_for():
    # 01.2 pide un decimal: sin redondear no vale, redondeado sí.
    kib = np.array([5_120, 204_800, 1_024, 98_304, 1_048_576, 307_200, 512, 150_000]) / 1024
    assert evaluate("01.2", kib.round(1)[kib.round(1) > 100]).correct
    unrounded = evaluate("01.2", kib[kib > 100])
    assert not unrounded.correct and "sin redondear" in unrounded.message
    assert answers.rounded(26.7, 26.6967, 1) and not answers.rounded(26.6967, 26.6967, 1)
    assert answers.close(4.53, 4.532) and not answers.close(4.5, 4.532)


# --- Pistas graduadas y sin código ----------------------------------------


def test_hints_climb_the_ladder_with_each_attempt():
    for key in DATA_FREE:
        ex = exercises._EXERCISES[key]
        wrong = [-1.0] if ex.kind is answers.NUMBERS else -1
        for attempt, hint in enumerate(ex.hints, start=1):
            message = evaluate(key, wrong, attempt).message
            assert f"Pista {attempt} de {len(ex.hints)}: {hint}" in message
        assert ex.hints[-1] in evaluate(key, wrong, len(ex.hints) + 5).message


def _solution_code(path):
    """{clave: código de la solución oficial}, esté en celdas plegadas o en Markdown."""
    nb = nbformat.read(path, as_version=4)
    code, current = {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^#+ Ejercicio (\d\d\.\d+)", cell.source, re.M)
            if heading:
                current = heading[1]
            elif cell.source.lstrip().startswith("#"):
                current = None
            if current:
                blocks = re.findall(r"```[^\n]*\n(.*?)```", cell.source, re.S)
                blocks += [
                    html.unescape(re.sub(r"<[^>]+>", "", block))
                    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", cell.source, re.S)
                ]
                code[current] = code.get(current, "") + "\n".join(blocks)
        elif current and "hide-cell" in cell.metadata.get("tags", []):
            code[current] = code.get(current, "") + cell.source + "\n"
    return code


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("'", '"')


class _NoProse(ast.NodeTransformer):
    """Quita los textos con espacios (frases impresas), que no son código."""

    def visit_Constant(self, node):
        if isinstance(node.value, str) and " " in node.value.strip():
            return ast.copy_location(ast.Constant(""), node)
        return node


def _code_only(source: str) -> str:
    """El código de la solución sin comentarios ni frases: lo que una pista no debe copiar."""
    try:
        return ast.unparse(_NoProse().visit(ast.parse(source)))
    except SyntaxError:
        return re.sub(r"#.*", "", source)


# Trozos de código que una pista nunca debe dar (los del issue 19: una
# expresión regular entera, una máscara negada, una comparación con un valor,
# una fórmula de bits).
CODE = [
    r"\[\^",  # clase negada de una expresión regular
    r"\\[()]",  # paréntesis escapado
    r"~\s*\w+\[",  # máscara negada ya escrita
    r"[=!]=\s*[\"'\d]",  # comparación con un valor
    r"&\s*(0x|\d|\()",  # operación de bits o combinación de máscaras
    r"\w+\[[\"']\w+[\"']\]\.",  # df["columna"].método: el código de una línea
]
LONGEST = 20  # caracteres (sin espacios) en común con la solución: ya es copiarla


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] in MODULES], ids=str)
def test_hints_and_diagnoses_never_hand_over_the_solution_code(path):
    nn = path.name[:2]
    solutions = _solution_code(path)
    module = importlib.import_module(f"taller.exercises.notebook{nn}")
    keys = [key for key in KEYS if key.startswith(nn)]
    assert all(solutions.get(key, "").strip() for key in keys), (
        f"no se encuentra el código de alguna solución de {path.name}: {sorted(solutions)}"
    )
    solution = _normal("\n".join(_code_only(solutions[key]) for key in keys))
    for text in _module_strings(module, accepted=False):
        for pattern in CODE:
            assert not re.search(pattern, text), f"{nn}: código en «{text}»"
        match = difflib.SequenceMatcher(None, _normal(text), solution, autojunk=False)
        common = match.find_longest_match(0, len(_normal(text)), 0, len(solution))
        copied = _normal(text)[common.a : common.a + common.size]
        assert common.size < LONGEST, f"{nn}: la pista copia la solución: {copied}"


def test_the_code_detector_catches_the_old_hints():
    """Las pistas que el issue 19 señaló habrían fallado la prueba de arriba."""
    old = [
        r"re.search(r\"frombase64string\('([^']+)'\)\", script, re.IGNORECASE)",
        '~counts["TargetUserName"].str.endswith("$")',
        '_merge == "right_only"',
        "(valor & 0x28) == 0x28 y (valor & 0x2) == 0",
        'df["SourcePort"].notna().sum()',
    ]
    for text in old:
        assert any(re.search(pattern, text) for pattern in CODE), text


# --- Respuestas viejas o fallidas, en un intérprete de IPython de verdad ----

SETUP_01 = textwrap.dedent("""\
    import numpy as np
    logon_ids = np.array([4624, 4625, 4625, 4624, 4625, 4634, 4625, 4624])
    logon_types = np.array([2, 3, 3, 10, 3, 3, 2, 3])
    transfers = np.array(
        [5_120, 204_800, 1_024, 98_304, 1_048_576, 307_200, 512, 150_000]
    )
""")
RIGHT_01_1 = "answer = int(((logon_ids == 4625) & (logon_types == 3)).sum())"
RIGHT_01_2 = "kib = (transfers / 1024).round(1)\nanswer = kib[kib > 100]"


class Session:
    """Un intérprete de IPython que ejecuta celdas como JupyterLab."""

    def __init__(self, shell, capsys):
        self.shell, self.capsys = shell, capsys

    def run(self, source: str) -> str:
        self.capsys.readouterr()
        self.shell.run_cell(source, store_history=True)
        return self.capsys.readouterr().out

    def check(self, key: str) -> str:
        out = self.run(f'taller.check("{key}", answer)')
        lines = out.rstrip("\n").split("\n")
        assert all(len(line) <= 79 for line in lines), out
        assert_spanish_message(out)
        return out


@pytest.fixture
def session(capsys, tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    # Recargar taller es importarlo de nuevo: registra el historial en este intérprete.
    shell.run_cell("import importlib, taller\nimportlib.reload(taller)")
    shell.run_cell(SETUP_01)
    yield Session(shell, capsys)
    InteractiveShell.clear_instance()


def test_a_failed_answer_cell_is_not_judged(session):
    """El caso del issue 19: respuesta equivocada, celda que falla, comprobación."""
    session.run("answer = 5")
    assert "❌ Todavía no" in session.check("01.1")
    failed = session.run(
        "answer = int(((logon_ids == 4625) & (logon_types == 3)).sum()) + hostnme"
    )
    assert "NameError" in failed
    out = session.check("01.1")
    assert "⚠️ Sin juzgar" in out and "NameError" in out and "Correcto" not in out


def test_a_failed_answer_cell_after_a_right_answer_is_not_accepted(session):
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")
    session.run("answer = logon_ids[logon_types == 3].hostnme")
    out = session.check("01.1")
    assert "⚠️ Sin juzgar" in out and "AttributeError" in out
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")


def test_an_answer_cell_with_a_syntax_error_is_not_judged(session):
    session.run(RIGHT_01_1)
    session.run("answer = (logon_ids == 4625")
    out = session.check("01.1")
    assert "⚠️ Sin juzgar" in out and "SyntaxError" in out


def test_a_failure_just_before_the_check_is_not_judged(session):
    session.run(RIGHT_01_1)
    session.run("1 / 0")
    out = session.check("01.1")
    assert "⚠️ Sin juzgar" in out and "ZeroDivisionError" in out
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")


def test_the_answer_of_another_exercise_is_not_judged(session):
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")
    out = session.check("01.2")
    assert "⚠️ Sin juzgar" in out and "01.1" in out
    session.run(RIGHT_01_2)
    assert "✅ Correcto" in session.check("01.2")


def test_checking_the_same_exercise_again_is_judged(session):
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")
    assert "✅ Correcto" in session.check("01.1")


def test_an_answer_computed_in_the_check_cell_is_judged(session):
    session.run(RIGHT_01_1)
    session.check("01.1")
    out = session.run(RIGHT_01_2 + '\ntaller.check("01.2", answer)')
    assert "✅ Correcto" in out


def test_a_loop_is_refused_where_the_statement_says_without_loops(session):
    session.run("answer = np.array([round(t / 1024, 1) for t in transfers if t / 1024 > 100])")
    out = session.check("01.2")
    assert "❌ Todavía no" in out and "sin bucles" in out
    session.run(RIGHT_01_2)
    assert "✅ Correcto" in session.check("01.2")


def test_hints_advance_only_with_a_new_answer(session):
    hints = exercises._EXERCISES["01.1"].hints
    session.run("answer = 7")
    assert "Pista 1 de" in session.check("01.1")
    assert "Pista 1 de" in session.check("01.1")  # la misma respuesta: el mismo peldaño
    session.run("answer = 6")
    assert "Pista 2 de" in session.check("01.1")
    session.run("answer = 1")
    assert f"Pista {len(hints)} de" in session.check("01.1")


def test_the_history_is_registered_once(session):
    def registered():
        return [
            callback
            for name in ("pre_run_cell", "post_run_cell")
            for callback in session.shell.events.callbacks[name]
            if getattr(callback, "__self__", None).__class__.__name__ == "History"
        ]

    assert len(registered()) == 2
    session.run(
        "import importlib, taller, taller.exercises, taller.exercises.history\n"
        "import taller\n"
        "importlib.reload(taller.exercises.history)\n"
        "importlib.reload(taller.exercises)\n"
        "importlib.reload(taller)"
    )
    assert len(registered()) == 2
    session.run(RIGHT_01_1)
    assert "✅ Correcto" in session.check("01.1")


def test_the_history_reads_assignments_and_loops():
    assert history.analyse("answer = 3") == (True, False)
    assert history.analyse("answer += 1") == (True, False)
    assert history.analyse("x = [answer for answer in y]")[1]
    assert history.analyse("for t in x:\n    answer = t") == (True, True)
    assert history.analyse("def f():\n    answer = 3") == (False, False)
    assert history.analyse('taller.check("01.1", answer)') == (False, False)
    assert history.analyse("answer == 3") == (False, False)
    assert history.analyse("answer = (") == (True, False)  # no es Python: se lee el texto
    assert history.analyse("%time answer = 3")[0] is False  # sin intérprete, la magia no cuenta


def test_plain_python_judges_the_value_as_it_is():
    """Sin IPython no hay historial: se juzga el valor y no se carga IPython."""
    code = (
        "import sys, taller\n"
        'taller.check("01.1", 3)\n'
        'taller.check("01.1", 4)\n'
        'taller.check("01.1", 4)\n'
        'print("IPython" in sys.modules)\n'
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stderr == ""
    assert "✅ Correcto" in result.stdout
    assert "Pista 1 de" in result.stdout and "Pista 2 de" in result.stdout  # cada llamada cuenta
    assert result.stdout.rstrip().endswith("False")
