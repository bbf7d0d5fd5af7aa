"""El paquete `taller` como paquete: dónde guarda la caché según cómo se
instaló, qué importa cada orden y que importarlo no cambia nada del proceso."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import taller
from mirror import REPO  # el repositorio (el paquete puede venir de una rueda instalada)
from taller import catalog, cli


def python(code: str, **env) -> subprocess.CompletedProcess:
    """Ejecuta `code` en un Python nuevo (con el paquete del repositorio)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cache_dir_in_a_clone_installed_elsewhere_and_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("TALLER_CACHE_DIR")
    # En la copia solo si el paquete se importa de ella (editable); desde una rueda
    # instalada (versiones.yml), no.
    assert catalog.in_clone() == (catalog.REPO_ROOT == REPO)
    monkeypatch.setattr(catalog, "in_clone", lambda: True)
    assert catalog.cache_dir() == catalog.REPO_ROOT / "datasets"
    monkeypatch.setattr(catalog, "in_clone", lambda: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert catalog.cache_dir() == tmp_path / "xdg" / "taller"
    monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path / "mia"))
    assert catalog.cache_dir() == tmp_path / "mia"


HEAVY = ("pandas", "pyarrow", "requests", "pooch", "tqdm")


COMMANDS = [
    ["listar"],
    ["listar", "--buscar", "psexec"],
    ["verificar"],
    ["ruta", "no-existe"],
    ["descargar", "no-existe"],
]


def test_the_command_line_does_not_import_pandas_or_pyarrow(tmp_path):
    """Las órdenes, una tras otra en el mismo proceso: si al final no se ha cargado
    ninguno de esos módulos, ninguna orden lo cargó."""
    code = (
        "import sys; from taller import cli\n"
        f"for argv in {COMMANDS!r}:\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = python(code, TALLER_CACHE_DIR=str(tmp_path))
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_archive_knows_nothing_of_the_catalogue_and_imports_change_nothing():
    code = (
        "import os, sys\n"
        "from unittest import mock\n"
        "with mock.patch('os.umask', side_effect=AssertionError('umask al importar')):\n"
        "    import taller, taller.archive, taller.files\n"
        "    assert 'taller.catalog' not in sys.modules, 'archive importa catalog'\n"
        "    import taller.cli, taller.catalog, taller.download, taller.cache\n"
        "print('ok')"
    )
    result = python(code)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.tooling
def test_pip_install_outside_the_clone_uses_the_per_user_cache(tmp_path):
    """`pip install` en un entorno nuevo: el catálogo viaja con el paquete y la caché
    es la del usuario (aquí, con HOME apuntando a una carpeta temporal)."""
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    install = subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--no-deps", str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    home = tmp_path / "casa"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        # las dependencias (PyYAML, platformdirs...) salen del entorno de las pruebas
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
    }
    code = (
        "import taller, taller.catalog as c\n"
        "print(c.CATALOG_PATH)\nprint(c.cache_dir())\nprint(len(c.datasets()))"
    )
    result = subprocess.run(
        [venv / "bin" / "python", "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    where, cache, count = result.stdout.split("\n")[:3]
    assert Path(where).is_relative_to(venv) and Path(where).is_file()
    assert Path(cache) == home / ".cache" / "taller"
    assert int(count) == len(catalog.datasets())
    listing = subprocess.run(
        [venv / "bin" / "taller", "listar", "--buscar", "psexec"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    assert f"en la caché ({home / '.cache' / 'taller'})" in listing.stdout
    # El ejecutable instalado se presenta con su nombre y con la versión del paquete.
    version = subprocess.run(
        [venv / "bin" / "taller", "--version"], env=env, capture_output=True, text=True
    )
    assert version.stdout == f"taller {taller.__version__}\n", version.stderr
    shown = subprocess.run(
        [venv / "bin" / "taller", "descargar", "--help"], env=env, capture_output=True, text=True
    )
    assert shown.stdout.startswith("uso: taller descargar"), shown.stderr


def test_version_is_the_one_in_the_package_metadata():
    """`taller.__version__` y `--version` dicen la versión de pyproject.toml, la del
    paquete instalado; no hay una segunda copia del número que pueda quedarse atrás."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert taller.__version__ == metadata.version("taller") == project["version"]
    result = python("from taller import cli; cli.main(['--version'])")
    assert result.stdout == f"python -m taller {project['version']}\n", result.stderr


def test_version_without_installing_is_the_one_in_pyproject(monkeypatch):
    """Con el repositorio en PYTHONPATH y sin instalar, no hay metadatos: la versión
    sale de pyproject.toml y `--version` no falla."""

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert taller.__version__ == project["version"]


def test_a_copy_of_the_package_without_metadata_nor_pyproject_has_a_version(tmp_path):
    """La imagen Docker usa `taller/` por PYTHONPATH, sin instalarlo ni pyproject.toml al
    lado: la versión es «desconocida» (antes, una traza en cada orden, también
    `descargar`, porque la ayuda de `--version` la calcula)."""
    shutil.copytree(REPO / "taller", tmp_path / "taller")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import taller; "
    code += "print(taller.__file__); print(taller.__version__)"
    # -S: sin site-packages, así que tampoco hay metadatos de un paquete instalado.
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    where, version = result.stdout.splitlines()
    assert where.startswith(str(tmp_path)) and version == "desconocida", result.stderr


def test_help_names_the_program_as_it_was_called_and_points_only_to_what_ships(capsys):
    """`python -m taller --help` y `taller --help` (el ejecutable que instala pip) se
    presentan cada uno con su nombre; la ayuda remite a módulos del paquete, que viajan
    en la rueda, y no a archivos del repositorio como datasets/README.md."""
    for prog in ("python -m taller", "taller"):
        with pytest.raises(SystemExit) as done:
            cli.main(["--help"], prog=prog)
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith(f"uso: {prog} [-h] [--version] ORDEN ...")
        assert ".md" not in text and "README" not in text
        modules = re.findall(r"pydoc (taller(?:\.\w+)*)", text)
        assert modules
        for module in modules:
            assert importlib.util.find_spec(module) is not None, module
    with pytest.raises(SystemExit):
        cli.main(["--version"], prog="taller")
    assert capsys.readouterr().out == f"taller {taller.__version__}\n"


def test_corpus_help_counts_the_catalogue(capsys):
    """El tamaño del corpus que anuncia `descargar --help` sale del catálogo, no de
    un número escrito a mano que se queda viejo al regenerarlo."""
    corpus = catalog.corpus()
    with pytest.raises(SystemExit):
        cli.main(["descargar", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    total = cli._size(sum(entry.size for entry in corpus))
    assert f"el corpus de caza del cuaderno 09 ({len(corpus)} archivos, {total})" in text
