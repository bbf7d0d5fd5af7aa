"""Las condiciones de la integración continua, reproducidas aquí.

- **Root en la copia de otro usuario.** En GitHub, pruebas.yml ejecuta las
  pruebas como root dentro de un contenedor, en una copia que sacó el usuario
  del ejecutor: git se niega entonces a trabajar en ella («dubious ownership»)
  y las pruebas que lo llaman fallan. Aquí se clona el repositorio en una
  carpeta temporal, se le da otro dueño (nobody, 65534) y, como root, se
  ejecutan las pruebas que llaman a git: sin el paso del flujo fallan; con el
  mismo paso (leído de pruebas.yml), pasan.
- **Capas sin red.** La capa unit se vuelve a ejecutar entera en un espacio de
  nombres de red nuevo (`unshare -n`), sin más interfaz que la de bucle local:
  si una prueba de esa capa necesitara red, fallaría aquí. La capa data
  también: con la copia local de Security-Datasets al lado, pasa entera sin
  red (necesita datos, no conexión); sin ella, falla diciendo que no puede
  conectar (entonces sí necesita la red, para llegar a upstream).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mirror import REPO, local_mirror

WORKFLOW = REPO / ".github" / "workflows" / "pruebas.yml"
NOBODY = 65534
# Las pruebas que ejecutan git (las busca `git_tests`, para que no se quede ninguna fuera).
GIT_CALL = '["git",'


def safe_directory_step() -> str:
    """La orden del paso de pruebas.yml que marca la copia como segura."""
    (job,) = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"].values()
    (command,) = [
        step["run"].strip() for step in job["steps"] if "safe.directory" in step.get("run", "")
    ]
    return command


def git_tests() -> list[str]:
    """Los archivos de pruebas que llaman a git."""
    return sorted(
        path.name
        for path in (REPO / "tests").glob("test_*.py")
        if GIT_CALL in path.read_text(encoding="utf-8") and path.name != "test_ci.py"
    )


def as_root(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def foreign_clone(tmp_path_factory):
    """Un clon del repositorio (el commit actual) cuyo dueño es nobody, como la
    copia de GitHub vista por root desde el contenedor."""
    if os.geteuid() != 0:
        pytest.fail(
            "Esta prueba reproduce la integración continua, que se ejecuta como root "
            "(bash .ci/run): ejecútela como root o con `make test` en la CI."
        )
    root = tmp_path_factory.mktemp("ajena")
    clone = root / "repo"
    result = as_root(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)])
    assert result.returncode == 0, result.stderr
    # Los archivos de las pruebas, como están ahora (aún sin commit, si es el caso).
    for path in git_tests():
        shutil.copy2(REPO / "tests" / path, clone / "tests" / path)
    shutil.copy2(REPO / "tests" / "conftest.py", clone / "tests" / "conftest.py")
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(root)], check=True)
    assert clone.stat().st_uid == NOBODY != os.geteuid()
    return clone


def run_git_tests(clone: Path, home: Path, workspace_step: bool):
    """Las pruebas que llaman a git (sin las de datos ni la de Windows, que repiten la
    misma llamada con datos), como root en `clone`, con un HOME vacío y, si
    `workspace_step`, después del paso de pruebas.yml."""
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GITHUB_WORKSPACE": str(clone),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("GIT_DIR", None)
    if workspace_step:
        step = as_root(["bash", "-c", safe_directory_step()], cwd=clone, env=env)
        assert step.returncode == 0, step.stderr
    return as_root(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not data and not tooling",
            *(f"tests/{name}" for name in git_tests()),
        ],
        cwd=clone,
        env=env,
    )


def test_some_tests_call_git():
    assert git_tests() == ["test_catalog.py", "test_windows.py"]


def test_git_refuses_a_clone_owned_by_another_user_as_root(foreign_clone, tmp_path):
    """La condición de GitHub se reproduce: sin el paso, git y sus pruebas fallan."""
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": str(tmp_path / "g")}
    status = as_root(["git", "status", "--short"], cwd=foreign_clone, env=env)
    assert status.returncode != 0
    assert "dubious ownership" in status.stderr
    result = run_git_tests(foreign_clone, tmp_path / "sin-paso", workspace_step=False)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "test_git_ignores_the_cache_but_not_the_catalogue" in result.stdout


def test_the_workflow_step_makes_the_git_tests_pass_as_root(foreign_clone, tmp_path):
    result = run_git_tests(foreign_clone, tmp_path / "con-paso", workspace_step=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


# Levanta la interfaz de bucle local del espacio de nombres nuevo (sin `ip`, que no
# siempre está), comprueba que no hay salida a ninguna otra dirección y ejecuta pytest.
OFFLINE = """
import fcntl, os, socket, struct, sys
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    request = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0))
    flags = struct.unpack("16sH", request[:18])[1]
    fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))
with socket.socket() as s:
    s.settimeout(5)
    try:
        s.connect(("140.82.112.3", 443))  # github.com
    except OSError as exc:
        print("sin red:", exc.strerror, flush=True)
    else:
        sys.exit("¡hay red dentro de unshare -n!")
os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])
"""


def run_offline(*pytest_args, env=None):
    unshare = shutil.which("unshare")
    assert unshare, "falta unshare (util-linux)"
    # Como root basta con -n; sin serlo, un espacio de nombres de usuario (-r) lo permite.
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    return subprocess.run(
        [unshare, *flags, sys.executable, "-c", OFFLINE, *pytest_args],
        cwd=REPO,
        env=env or os.environ,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_unit_layer_passes_without_network(tmp_path):
    """Toda la capa unit en un espacio de nombres de red nuevo: no puede salir de la
    máquina, ni siquiera al índice de paquetes."""
    result = run_offline("-q", "-p", "no:cacheprovider", "-m", "unit", "tests")
    output = result.stdout + result.stderr
    assert result.stdout.startswith("sin red:"), output[-3000:]
    assert result.returncode == 0, output[-5000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_the_data_layer_needs_the_mirror_not_the_network():
    """La capa data entera sin red: le basta la copia local; sin ella, necesita upstream."""
    result = run_offline("-q", "-p", "no:cacheprovider", "-m", "data", "tests")
    output = result.stdout + result.stderr
    assert result.stdout.startswith("sin red:"), output[-3000:]
    if local_mirror() is not None:
        assert result.returncode == 0, output[-5000:]
        assert " passed" in result.stdout and " failed" not in result.stdout
    else:
        assert result.returncode != 0
        assert "No se pudo conectar" in output, output[-3000:]
