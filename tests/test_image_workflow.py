"""El flujo de la imagen (.github/workflows/imagen.yml): construye para amd64 y arm64,
prueba cada plataforma con docker/test_image.sh antes de publicar y publica en
ghcr.io con una etiqueta inmutable y `latest`. Aquí no hay motor Docker: el flujo
se comprueba contra el esquema de GitHub, su paso de etiquetas se ejecuta en bash,
y el guion de prueba se revisa con ShellCheck y se ejecuta de principio a fin con
un `docker` sustituto (tests/fake_docker.py) cuyo «contenedor» es JupyterLab de
este entorno."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from built_site import REPO
from test_docker import published_image

BIN = Path(sys.executable).parent
WORKFLOW = REPO / ".github" / "workflows" / "imagen.yml"
TEST_SCRIPT = REPO / "docker" / "test_image.sh"
PLATFORMS = ["linux/amd64", "linux/arm64"]


def workflow():
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 lee `on` como True
    return data


def job():
    (only,) = workflow()["jobs"].values()
    return only


def steps():
    return job()["steps"]


def index_of(predicate):
    found = [i for i, step in enumerate(steps()) if predicate(step)]
    assert len(found) == 1, found
    return found[0]


def builds():
    return [
        (i, step)
        for i, step in enumerate(steps())
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_matches_the_schema(schema):
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, WORKFLOW],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_to_a_version():
    for step in steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), (
                step["uses"]
            )


def test_runs_on_pushes_to_the_branch_version_tags_and_pull_requests():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    on = workflow()["on"]
    assert on["push"]["branches"] == [config["repository"]["branch"]]
    assert on["push"]["tags"] == ["v*"]
    assert "pull_request" in on
    # Solo este trabajo puede escribir paquetes.
    assert workflow()["permissions"] == {"contents": "read"}
    assert job()["permissions"] == {"contents": "read", "packages": "write"}


def test_publishes_to_the_image_the_readme_and_compose_name():
    assert workflow()["env"]["IMAGE"] == published_image()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"{published_image()}:latest" in readme


def test_each_platform_is_built_loaded_and_tested_before_publishing():
    uses = [step.get("uses", "").split("@")[0] for step in steps()]
    assert "docker/setup-qemu-action" in uses and "docker/setup-buildx-action" in uses
    qemu = uses.index("docker/setup-qemu-action")
    assert "arm64" in steps()[qemu]["with"]["platforms"]

    *tests, publish = builds()
    assert [step["with"]["platforms"] for _, step in tests] == PLATFORMS
    for (position, step), platform in zip(tests, PLATFORMS, strict=True):
        assert step["with"]["load"] is True and "push" not in step["with"]
        # La etiqueta local es la que ejecuta compose.yaml.
        assert step["with"]["tags"] == "${{ env.IMAGE }}:latest"
        test = steps()[position + 1]
        assert test["run"].strip() == f"docker/test_image.sh {platform}"
        assert test["env"]["MOTOR"] == "docker"  # .ci/image, en cambio, usa buildah

    position, step = publish
    assert step["with"]["platforms"] == ",".join(PLATFORMS)
    assert step["with"]["push"] is True
    assert step["with"]["tags"] == "${{ steps.etiquetas.outputs.tags }}"
    assert all(position > i for i, _ in tests)
    # Nunca desde una solicitud de extracción, y solo desde la rama o una etiqueta de versión.
    assert "github.event_name != 'pull_request'" in step["if"]
    assert "refs/heads/main" in step["if"] and "refs/tags/v" in step["if"]
    login = index_of(lambda s: s.get("uses", "").startswith("docker/login-action@"))
    assert steps()[login]["with"]["registry"] == "ghcr.io"
    assert steps()[login]["if"] == step["if"]
    assert max(i for i, _ in tests) < login < position


def test_publishing_reuses_the_tested_layers():
    """Mismo constructor, mismo archivo, contexto y argumentos: cada paso sale de la caché."""
    settings = [
        {
            key: value
            for key, value in step["with"].items()
            if key in ("context", "file", "build-args")
        }
        for _, step in builds()
    ]
    assert all(setting == settings[0] for setting in settings), settings
    assert settings[0]["file"] == "docker/Dockerfile" and settings[0]["context"] == "."


def run_tag_step(tmp_path, **github):
    step = steps()[index_of(lambda s: s.get("id") == "etiquetas")]
    output = tmp_path / "salida"
    output.write_text("", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "IMAGE": published_image(), "GITHUB_OUTPUT": str(output)}
    env.update(github)
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    version = re.search(r"^version=(.*)$", text, re.M).group(1)
    tags = re.search(r"^tags<<FIN\n(.*?)\nFIN$", text, re.M | re.S).group(1).splitlines()
    return version, tags


def test_tags_on_the_branch_are_date_and_commit_plus_latest(tmp_path):
    sha = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
    version, tags = run_tag_step(
        tmp_path, GITHUB_SHA=sha, GITHUB_REF_TYPE="branch", GITHUB_REF_NAME="main"
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-1a2b3c4", version), version
    image = published_image()
    assert tags == [f"{image}:{version}", f"{image}:latest"]


def test_tags_on_a_version_are_version_and_commit_plus_version_and_latest(tmp_path):
    sha = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
    version, tags = run_tag_step(
        tmp_path, GITHUB_SHA=sha, GITHUB_REF_TYPE="tag", GITHUB_REF_NAME="v1.2.0"
    )
    image = published_image()
    assert version == "1.2.0-9f8e7d6"
    assert tags == [f"{image}:1.2.0-9f8e7d6", f"{image}:1.2.0", f"{image}:latest"]


def test_the_image_test_script_is_clean_and_checks_what_the_issue_asks():
    assert os.access(TEST_SCRIPT, os.X_OK)
    shellcheck = BIN / "shellcheck"
    result = subprocess.run(
        [shellcheck, "--severity=style", TEST_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = TEST_SCRIPT.read_text(encoding="utf-8")
    commands = "\n".join(
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    assert commands.startswith("set -euo pipefail")
    # Iniciado como lo hace compose, sin trabajo/ previo, sano dentro de un plazo.
    assert "--wait --wait-timeout" in commands and "--pull never" in commands
    assert "if [ -e trabajo ]" in commands
    # La prueba de humo con el contenedor, la carpeta de trabajo con escritura y
    # después nbval en cada cuaderno (con Docker, la prueba de humo también
    # espera el «healthy» del motor).
    assert re.search(r"python3 docker/smoke_test\.py ", commands)
    assert 'health_option=(--contenedor "$container")' in commands
    assert "--escribible trabajo" in commands
    assert re.search(r"--nbval .*notebooks$", commands, re.S | re.M)
    assert '"$owner" != 1000' in commands
    # El Python de la imagen es el de los cuadernos, sus datos están verificados
    # y los cuadernos se ejecutan sin red: un camino por motor.
    assert "binder/runtime.txt" in commands
    assert "python -m taller verificar" in commands
    docker_path, buildah_path = commands.rsplit('if [ "$engine" = docker ]; then', 1)[1].split(
        "\nelse\n", 1
    )
    assert "docker network disconnect" in docker_path and "offline_run()" in docker_path
    # buildah: un espacio de nombres de red propio alrededor de `buildah run`, con
    # solo la interfaz de bucle local activa (el núcleo habla con nbval por ella).
    offline = buildah_path[buildah_path.index("offline_run()") :]
    assert re.search(
        r"unshare -n -- sh -c 'ip link set lo up && exec \"\$@\"' \S+ \\\n\s*buildah run", offline
    ), offline
    # Un ejecutor sin conexión por motor: primero se demuestra que no tiene red, luego nbval.
    probe = commands.index("offline_run python -c 'import socket")
    assert probe < commands.index("offline_run python -m pytest")
    # La misma comprobación de salud que Docker: el HEALTHCHECK de la propia imagen.
    assert ".Docker.Config.Healthcheck.Test" in commands
    # Las versiones que instala en el contenedor existen.
    dev = (REPO / "requirements-dev.txt").read_text(encoding="utf-8")
    for package in ("pytest", "nbval"):
        assert re.search(rf"^{package}==\S+$", dev, re.M), package


def test_the_buildah_permission_step_is_the_compose_one():
    """Con buildah, test_image.sh lee el paso de permisos de compose.yaml con sed:
    debe obtener exactamente la orden que ejecuta Docker."""
    text = TEST_SCRIPT.read_text(encoding="utf-8")
    pipeline = re.search(r'step="\$\((.*?)\)"\n', text, re.S).group(1)
    result = subprocess.run(
        ["bash", "-c", pipeline.replace("\\\n", " ")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    (expected,) = compose["services"]["permisos-trabajo"]["command"]
    assert result.stdout.split() == expected.replace("$$", "$").split()


def test_the_image_test_script_runs_end_to_end_against_a_stand_in_docker(tmp_path, mirror_root):
    """docker/test_image.sh de verdad, con tests/fake_docker.py como `docker`: el
    «contenedor» es JupyterLab de este entorno (véase ese archivo) y los datos de
    la imagen son los archivos comprimidos del espejo."""
    state = tmp_path / "estado"
    worktree = state / "home" / "analisis-datos-jupyter"
    for relative in ["docker", "jupyterlab", "taller"]:
        shutil.copytree(
            REPO / relative, worktree / relative, ignore=shutil.ignore_patterns("__pycache__")
        )
    for relative in [
        "binder/runtime.txt",
        "requirements-dev.txt",
        "tests/nbval_sanitize.cfg",
        "notebooks/01_numpy.ipynb",
    ]:
        (worktree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / relative, worktree / relative)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests" / "fake_docker.py"}" "$@"\n'
    )
    docker.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        FAKE_DOCKER_STATE=str(state),
        FAKE_DOCKER_CACHE=str(mirror_root / "datasets"),
        PUERTO=str(port),
        LIMITE="60",
    )
    try:
        result = subprocess.run(
            ["bash", worktree / "docker" / "test_image.sh", "linux/arm64"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        stopped_by_the_script = not (state / "pid").exists()
    finally:  # la limpieza del propio guion ya detiene el servidor; esto es una red de seguridad
        subprocess.run([docker, "compose", "down"], env=env, capture_output=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Prueba de humo superada." in output
    assert "Imagen correcta para linux/arm64 (motor: docker)." in output
    assert "La caché está completa y verificada" in output
    assert "correcto: sin red (no se llega a pypi.org)" in output
    assert re.search(r"01_numpy\.ipynb \.+", output), output  # nbval ejecutó el cuaderno
    trabajo = worktree / "trabajo"
    assert (trabajo.stat().st_uid, trabajo.stat().st_gid) == (1000, 100)

    calls = [json.loads(line) for line in (state / "calls.txt").read_text().splitlines()]
    commands = [" ".join(call) for call in calls]
    up = next(i for i, c in enumerate(commands) if " up " in c)
    assert "--wait --wait-timeout 60" in commands[up] and "--pull never" in commands[up]
    disconnect = next(i for i, c in enumerate(commands) if c.startswith("network disconnect"))
    verify = next(i for i, c in enumerate(commands) if "taller verificar" in c)
    nbval = next(i for i, c in enumerate(commands) if "--nbval" in c)
    assert up < verify < disconnect < nbval
    assert any(c.endswith("down --volumes --timeout 20") for c in commands[nbval:])
    assert stopped_by_the_script


def test_ci_builds_and_tests_the_image_with_buildah_after_the_tests():
    """.ci/run → .ci/image: la imagen construida aquí (base hecha con debootstrap,
    datos del espejo del aula por la interfaz local) y comprobada por el mismo
    test_image.sh que imagen.yml ejecuta con Docker."""
    scripts = [REPO / ".ci" / "image", *sorted((REPO / "docker").glob("*.sh"))]
    for script in scripts:
        assert os.access(script, os.X_OK), script
    result = subprocess.run(
        [BIN / "shellcheck", "--severity=style", *scripts],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def commands(path):
        lines = path.read_text(encoding="utf-8").splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("#"))

    run = commands(REPO / ".ci" / "run")
    assert run.index("make test || status") < run.index(".ci/image || status")
    image = commands(REPO / ".ci" / "image")
    assert image.index("docker/build_image.sh") < image.index("MOTOR=buildah")
    assert re.search(r"MOTOR=buildah .*docker/test_image\.sh", image, re.S)
    for package in ("buildah", "debootstrap", "iproute2"):
        assert f"missing+=({package})" in image, package
    build = commands(REPO / "docker" / "build_image.sh")
    assert "docker/base_image.sh" in build and "-m taller servir --direccion 127.0.0.1" in build
    assert "--format docker" in build  # OCI descartaría HEALTHCHECK y SHELL
    assert '--build-arg "TALLER_BASE_URL=http://127.0.0.1:$port/"' in build
