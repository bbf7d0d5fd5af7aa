"""`taller.environment` y `python -m taller comprobar`, en entornos simulados.

Cada comprobación recibe como argumento lo que revisa (la versión de Python,
cómo averiguar la versión de un paquete, dónde está `java`, la memoria libre),
así que cada situación con la que puede llegar un asistente se simula aquí sin
tocar la máquina: no hacen falta ni red, ni datos, ni Java.
"""

import hashlib
import subprocess
import sys

import pytest

from built_site import REPO
from taller import catalog, cli, environment
from taller.environment import MISSING, OK, WARNING, Finding

PINS = {"numpy": "2.4.6", "pandas": "2.3.3", "pyspark": "4.3.0", "tqdm": "4.70.1"}


def versions(**overrides):
    """Un `version_of` simulado: las versiones fijadas, con algunas cambiadas o ausentes (None)."""
    installed = {**PINS, **overrides}
    return lambda name: installed.get(name)


def test_python_version_is_the_one_binder_uses():
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-" + ".".join(map(str, environment.PYTHON))


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ((3, 11, 7), OK),
        ((3, 12, 1), WARNING),
        ((3, 10, 0), WARNING),
        ((3, 9, 18), MISSING),
    ],
)
def test_python(version, status):
    finding = environment.check_python(version)
    assert finding.status == status
    assert (finding.advice == "") == (status == OK)


def test_pins_are_read_from_requirements(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comentario\nPyYAML==6.0.4\nnumpy == 2.4.6  # arrays\n-r otro.txt\n")
    assert environment.pinned_requirements(path) == {"pyyaml": "6.0.4", "numpy": "2.4.6"}
    assert environment.pinned_requirements(tmp_path / "no-existe.txt") is None


def test_the_real_requirements_pin_every_essential_package():
    pins = environment.pinned_requirements(REPO / "requirements.txt")
    assert set(environment.ESSENTIAL) <= set(pins)


def test_packages_as_pinned():
    finding = environment.check_packages(PINS, versions())
    assert finding.status == OK and "todos los de requirements.txt" in finding.summary


def test_an_essential_package_missing_is_missing_and_says_how_to_install():
    finding = environment.check_packages(PINS, versions(pandas=None))
    assert finding.status == MISSING
    assert "pandas" in finding.summary and "pip install -r requirements.txt" in finding.advice


def test_other_versions_or_a_secondary_package_missing_only_warn():
    finding = environment.check_packages(PINS, versions(numpy="2.0.0", tqdm=None))
    assert finding.status == WARNING
    assert finding.details == ("falta tqdm", "numpy 2.0.0 (el taller fija 2.4.6)")


def test_without_requirements_only_the_essentials_are_checked():
    finding = environment.check_packages({}, lambda name: "1.0")
    assert finding.status == OK and "no se encontró requirements.txt" in finding.summary


def fake_entry(name, content, cache):
    digest = hashlib.sha256(content).hexdigest()
    path = f"datasets/atomic/windows/x/host/{name}.zip"
    entry = catalog.Dataset(
        name, None, name, "host", (), (), path, digest, len(content), (f"{name}.json",), ()
    )
    assert entry.archive_path.parent.parent.parent.parent.parent == cache
    return entry


@pytest.fixture
def fake_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_datasets_present_and_verified(fake_cache):
    entries = [fake_entry("a", b"uno", fake_cache), fake_entry("b", b"dos", fake_cache)]
    for entry, content in zip(entries, [b"uno", b"dos"], strict=True):
        entry.archive_path.parent.mkdir(parents=True, exist_ok=True)
        entry.archive_path.write_bytes(content)
    finding = environment.check_datasets(entries)
    assert finding.status == OK and "huella SHA-256 correcta" in finding.summary


def test_datasets_missing_or_damaged(fake_cache):
    good, damaged, missing = (fake_entry(n, n.encode(), fake_cache) for n in ("a", "b", "c"))
    good.archive_path.parent.mkdir(parents=True)
    good.archive_path.write_bytes(b"a")
    damaged.archive_path.write_bytes(b"otra cosa")
    finding = environment.check_datasets([good, damaged, missing])
    assert finding.status == MISSING
    assert "descargar --todos" in finding.advice
    assert finding.details == ("falta c", "dañado (la huella no coincide): b")


def test_an_empty_cache_says_what_to_download():
    finding = environment.check_datasets()  # capa unit: caché vacía propia
    assert finding.status == MISSING and "faltan" in finding.summary


@pytest.mark.parametrize(
    ("output", "status"),
    [
        ('openjdk version "17.0.15" 2025-04-15', OK),
        ('openjdk version "21" 2023-09-19', OK),
        ('java version "1.8.0_392"', MISSING),
        ('openjdk version "11.0.21" 2023-10-17', MISSING),
        ("algo inesperado", MISSING),
    ],
)
def test_java_version(output, status):
    finding = environment.check_java({}, lambda name: "/usr/bin/java", lambda java: output)
    assert finding.status == status


def test_java_missing_says_how_to_install(tmp_path):
    finding = environment.check_java({"JAVA_HOME": str(tmp_path)}, lambda name: None)
    assert finding.status == MISSING and "openjdk-17-jre-headless" in finding.advice


def test_java_home_wins_over_the_path(tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("")
    seen = []

    def output(path):
        seen.append(path)
        return 'openjdk version "17.0.1"'

    environment.check_java({"JAVA_HOME": str(tmp_path)}, lambda name: "/usr/bin/java", output)
    assert seen == [str(java)]


def test_java_that_cannot_run(tmp_path):
    def broken(java):
        raise subprocess.TimeoutExpired(java, 30)

    finding = environment.check_java({}, lambda name: "/usr/bin/java", broken)
    assert finding.status == MISSING


@pytest.mark.parametrize(
    ("gib", "status", "words"),
    [
        (8, OK, "bastan para todos"),
        (1.5, WARNING, "Binder"),
        (0.5, WARNING, "Shut Down All Kernels"),
    ],
)
def test_memory(gib, status, words):
    finding = environment.check_memory(int(gib * environment.GIB))
    assert finding.status == status
    assert words in str(finding)


def test_memory_amount_can_be_left_out_of_deterministic_output():
    finding = environment.check_memory(3 * environment.GIB, show_amount=False)
    assert "GB libres" not in finding.summary
    assert environment.memory_amount(int(1.5 * environment.GIB)) == "1,5 GB"


def test_verdict_and_exit_code(monkeypatch, capsys):
    fine = [Finding("Python", OK, "3.11."), Finding("Memoria", WARNING, "poca.", "Cierre.")]
    monkeypatch.setattr(environment, "run_checks", lambda: fine)
    assert cli.main(["comprobar"]) == 0
    out = capsys.readouterr().out
    assert "✅ Python: 3.11." in out and "   → Cierre." in out
    assert "Puede empezar el taller" in out

    broken = fine + [Finding("Java", MISSING, "no está instalado.", "Instale Java 17.")]
    monkeypatch.setattr(environment, "run_checks", lambda: broken)
    assert cli.main(["comprobar"]) == 1
    assert "Falta algo imprescindible (Java)" in capsys.readouterr().out


def test_all_is_ready():
    assert environment.verdict([Finding("Python", OK, "3.11.")]).startswith("Todo listo")


def test_the_check_does_not_import_pandas():
    code = (
        "import sys, taller.environment as e; e.check_packages(); "
        "assert 'pandas' not in sys.modules, 'importa pandas'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_an_incomplete_corpus_only_warns(fake_cache):
    entry = fake_entry("corpus", b"x", fake_cache)
    finding = environment.check_corpus([entry])
    assert finding.status == WARNING and "descargar --corpus" in finding.advice
    entry.archive_path.parent.mkdir(parents=True)
    entry.archive_path.write_bytes(b"x")
    assert environment.check_corpus([entry]).status == OK


def test_outside_the_repository_it_says_what_to_pip_install():
    finding = environment.check_packages({}, lambda name: None if name == "pyspark" else "1")
    assert finding.status == MISSING and "%pip install pyspark" in finding.advice
