"""El montaje: dos entornos fijados y un solo sitio para cada ajuste compartido.

- Todo módulo de terceros que importa el proyecto (paquete, pruebas, bench,
  scripts, extensiones del libro, cuadernos) está fijado con == en
  requirements.txt (el entorno del alumno) o en requirements-dev.txt (el del
  mantenedor, que incluye el anterior).
- Dónde está el espejo lo dice solo tests/mirror.py; las opciones del libro
  están solo en el Makefile; los programas del sistema, solo en
  .ci/system-packages.
- pre-commit usa el mismo ruff que `make check`; cada capa es una marca registrada.
"""

import ast
import configparser
import importlib.metadata
import json
import re
import sys

import yaml

from conftest import LAYERS
from mirror import REPO

SOURCES = ["taller", "tests", "bench", "scripts", "book/_ext", "jupyterlab", "docker"]


def pins(name):
    """{distribución (normalizada): versión} fijadas en un archivo de requisitos y sus -r."""
    found = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        line = line.partition("#")[0].strip()
        if line.startswith("-r "):
            found.update(pins(line.removeprefix("-r ").strip()))
        elif line:
            assert "==" in line, f"{name}: «{line}» no está fijado con =="
            package, version = line.split("==")
            found[normalise(package)] = version
    return found


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(code):
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def notebook_code(path):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            # Sin magias de IPython (%pip, !orden): no son Python.
            yield "\n".join(
                "" if line.lstrip().startswith(("%", "!")) else line
                for line in source.splitlines()
            )


def project_imports():
    """{módulo de primer nivel: primer archivo que lo importa}, sin la biblioteca
    estándar ni los módulos del propio proyecto."""
    local = {"taller"}
    files = []
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*.py")):
            local.add(path.stem)
            files.append((path, path.read_text(encoding="utf-8")))
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        files.extend((path, code) for code in notebook_code(path))
    found = {}
    for path, code in files:
        try:
            modules = list(imported_modules(code))
        except SyntaxError:  # una celda a medio escribir: nbval ya la señala
            continue
        for module in modules:
            if module not in sys.stdlib_module_names and module not in local:
                found.setdefault(module, path.relative_to(REPO))
    return found


def test_every_imported_package_is_pinned():
    pinned = pins("requirements-dev.txt")
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(project_imports().items()):
        names = {normalise(name) for name in distributions.get(module, [module])}
        if not names & set(pinned):
            missing.append(f"{module} ({where}; paquete {', '.join(sorted(names))})")
    assert not missing, "Importados pero sin fijar en requirements*.txt: " + "; ".join(missing)


def test_the_maintainer_environment_is_the_learner_one_plus_tools():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    text = (REPO / "requirements-dev.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in text.splitlines()
    assert runtime.items() <= dev.items()
    for tool in ["pytest", "nbval", "playwright", "jupyter-book", "sphinx", "ruff", "pre-commit"]:
        assert tool in dev and tool not in runtime, tool


def test_pre_commit_runs_the_pinned_ruff():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in hooks} >= {"ruff-check", "ruff-format"}
    ruff = f"ruff=={pins('requirements-dev.txt')['ruff']}"
    for hook in hooks:
        assert hook["additional_dependencies"] == [ruff], hook["id"]


def test_every_layer_is_a_registered_marker():
    ini = configparser.ConfigParser()
    ini.read(REPO / "pytest.ini", encoding="utf-8")
    registered = [line.split(":")[0].strip() for line in ini["pytest"]["markers"].splitlines()]
    assert [name for name in registered if name] == list(LAYERS)


def code_files(folders=(*SOURCES, "notebooks", ".ci", ".github")):
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.name != "test_build.py":
                yield path
    yield REPO / "Makefile"


def code_of(path):
    """Lo que ejecuta un archivo, sin comentarios (el texto puede nombrar los ajustes)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return "\n".join(
            line.partition(" #")[0]
            for line in text.splitlines()
            if not line.lstrip().startswith("#")
        )
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def places(pattern, **where):
    return sorted(
        str(path.relative_to(REPO))
        for path in code_files(**where)
        if re.search(pattern, code_of(path))
    )


def test_one_place_for_the_mirror_location():
    computed = r'"shared"\s*/\s*"security-datasets"|=\s*"?\.\./shared/security-datasets'
    assert places(computed) == ["tests/mirror.py"]


def test_one_place_for_the_book_flags():
    assert places(r"--keep-going") == ["Makefile"]


def test_one_place_for_the_system_packages():
    # Lo que comprueban `make system-check` y .ci/run (la prueba de ortografía
    # puede nombrar el paquete en su propio mensaje de error).
    assert places(r"hunspell-es", folders=(".ci", ".github")) == [".ci/system-packages"]
