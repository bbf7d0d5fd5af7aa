"""El camino de Windows sin `make` (README.md, «En Windows»), ejecutado.

Las órdenes de PowerShell se leen del propio README, así que no pueden
separarse de lo que se prueba: se comprueba que son las que ejecuta `make`
(`make datasets` y `make lab`) y se ejecutan una a una en Linux, traducidas
solo en lo que cambia de sistema: `py -3.11` es el Python de las pruebas,
`.venv\\Scripts\\python` es `.venv/bin/python` y el repositorio se clona de la
copia local en lugar de GitHub.

Para no volver a instalar 1,2 GB, el entorno nuevo ve los paquetes ya
instalados de las pruebas (un `.pth`, y JUPYTERLAB_DIR para la aplicación web
de JupyterLab): `pip install -r requirements.txt` solo instala lo que no esté
con la versión fijada (nada, con el entorno de `make test`) y `taller comprobar`
lo confirma; el paquete `taller` sí se instala, editable, desde el clon. Los datos se descargan del
espejo de la capa data a la caché del clon; JupyterLab se arranca y se
comprueba que responde, con la interfaz en español instalada.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from mirror import REPO
from pinned import packages_without_taller

README = REPO / "README.md"
MAKEFILE = REPO / "Makefile"


def windows_commands() -> list[str]:
    """Las órdenes del bloque PowerShell del apartado «En Windows» del README."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### 4. En Windows", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```powershell\n(.*?)```", section, flags=re.S)
    return [line.strip() for line in block.splitlines() if line.strip()]


def make_recipe(target: str) -> list[str]:
    """Las órdenes de la receta de un objetivo del Makefile (líneas de continuación
    unidas), sin comentarios."""
    text = MAKEFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    recipe = []
    for line in text.split(f"\n{target}:", 1)[1].splitlines()[1:]:
        if not line.startswith("\t"):
            break
        recipe.append(" ".join(line.split("  #")[0].split()))
    return recipe


def test_the_windows_commands_are_the_ones_make_runs_without_make():
    commands = windows_commands()
    assert not any(command.split()[0] == "make" for command in commands)
    python = r".venv\Scripts\python"
    # Cada orden de `make datasets` y `make lab` tiene su equivalente, con el Python
    # del entorno en lugar de $(BIN)/python o $(BIN)/jupyter.
    for line in make_recipe("datasets") + make_recipe("lab"):
        program = line.replace("$(BIN)/jupyter lab", "$(BIN)/python -m jupyterlab")
        program = program.replace("$(BIN)/python", python).split(" --ServerApp")[0]
        assert any(command.startswith(program) for command in commands), line
    # Y las de creación del entorno (los objetivos .venv del Makefile).
    assert "py -3.11 -m venv .venv" in commands
    assert rf"{python} -m pip install -r requirements.txt" in commands
    assert rf"{python} -m pip install --no-deps --editable ." in commands
    assert commands[-1] == rf"{python} -m jupyterlab notebooks/00_comprobar_entorno.ipynb"
    assert (REPO / "notebooks" / "00_comprobar_entorno.ipynb").is_file()


def translate(command: str, clone: Path) -> list[str]:
    """Una orden del README, como se ejecuta en Linux."""
    words = command.split()
    if words[:2] == ["py", "-3.11"]:
        return [sys.executable, *words[2:]]
    if words[0] == r".venv\Scripts\python":
        return [str(clone / ".venv" / "bin" / "python"), *words[1:]]
    if words[:2] == ["git", "clone"]:
        return ["git", "clone", "--quiet", str(REPO), str(clone)]
    raise AssertionError(f"orden inesperada en el README: {command}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Capa tooling, no data: `pip install --editable .` baja de PyPI el sistema de
# construcción (setuptools), así que necesita red además de los datos.
@pytest.mark.tooling
def test_the_windows_commands_set_up_the_workshop_without_make(tmp_path, mirror_root):
    commands = windows_commands()
    clone = tmp_path / "analisis-datos-jupyter"
    assert commands[1] == "cd analisis-datos-jupyter"
    env = {
        **os.environ,
        "TALLER_BASE_URL": str(mirror_root),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "ajustes"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "HOME": str(tmp_path / "casa"),
        # La configuración de git de siempre: en la CI marca la copia como segura.
        "GIT_CONFIG_GLOBAL": os.environ.get("GIT_CONFIG_GLOBAL")
        or str(Path.home() / ".gitconfig"),
    }
    for name in ("TALLER_CACHE_DIR", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    pinned = packages_without_taller(tmp_path / "paquetes")  # los fijados de las pruebas
    # Los archivos de JupyterLab que no son módulos (la aplicación web y las
    # extensiones, como el paquete de idioma) están en share/ del entorno de las
    # pruebas, que el `.pth` no aporta.
    shared = Path(sys.prefix) / "share" / "jupyter"
    env["JUPYTERLAB_DIR"] = str(shared / "lab")
    env["JUPYTER_PATH"] = str(shared)

    def run(command, **kwargs):
        result = subprocess.run(
            translate(command, clone),
            cwd=clone if clone.exists() else tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            **kwargs,
        )
        assert result.returncode == 0, (
            f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result

    run(commands[0])  # git clone
    for command in commands[2:-1]:
        if command.startswith("py -3.11 -m venv"):
            run(command)
            (site,) = (clone / ".venv").glob("lib/python*/site-packages")
            (site / "paquetes-fijados.pth").write_text(f"{pinned}\n", encoding="utf-8")
            continue
        run(command)

    python = clone / ".venv" / "bin" / "python"
    where = subprocess.run(
        [
            python,
            "-c",
            "import taller, taller.catalog as c; print(taller.__file__, c.cache_dir())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(clone) and Path(where[1]) == clone / "datasets"
    check = subprocess.run(
        [python, "-m", "taller", "verificar"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout[-3000:]
    assert "La caché está completa y verificada" in check.stdout
    # `taller comprobar`, la revisión que recomienda el README: cada paquete con la
    # versión de requirements.txt, los datos de las lecciones y el corpus, completos.
    report = subprocess.run(
        [python, "-m", "taller", "comprobar"], cwd=clone, env=env, capture_output=True, text=True
    ).stdout
    assert "✅ Paquetes: todos los de requirements.txt, con las versiones fijadas." in report
    assert "✅ Datos:" in report and "✅ Corpus:" in report, report[-3000:]

    # La última orden abre JupyterLab: aquí, sin navegador y en un puerto libre.
    port = free_port()
    lab = subprocess.Popen(
        [
            *translate(commands[-1], clone),
            "--no-browser",
            f"--ServerApp.port={port}",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # la CI corre como root
        ],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/lab", timeout=5)
                break
            except requests.ConnectionError:
                assert lab.poll() is None, lab.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "JupyterLab no respondió en 120 s"
                time.sleep(1)
        # Sin token, JupyterLab redirige a su página de acceso: está vivo y protegido.
        assert status.status_code == 200 and "/login" in status.url
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    overrides = clone / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    assert '"es_ES"' in (overrides / "taller.json").read_text(encoding="utf-8")
