"""GitHub Actions: las pruebas se ejecutan en cada solicitud de incorporación y
en cada push a main; el sitio se publica con la orden del README solo después
de que pasen; las versiones más nuevas permitidas se prueban aparte. Los flujos
se validan contra el esquema de GitHub que trae check-jsonschema (sin red)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from built_site import REPO, SITE

BIN = Path(sys.executable).parent
WORKFLOWS = REPO / ".github" / "workflows"
PUBLISH = WORKFLOWS / "publicar.yml"
TESTS = WORKFLOWS / "pruebas.yml"
NEWEST = WORKFLOWS / "versiones.yml"
ALL = (PUBLISH, TESTS, NEWEST)
# Lo que instala `make` (los dos entornos y el paquete): la clave de cada caché.
INSTALLED = {"requirements.txt", "requirements-dev.txt", "pyproject.toml"}


def load(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 lee la clave `on` como True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job):
    return job.get("steps", [])


def uses(job, action):
    """El paso de `job` que usa `action` (cualquier versión), o None."""
    return next(
        (step for step in steps(job) if step.get("uses", "").split("@")[0] == action), None
    )


def runs(job):
    return [step["run"].strip() for step in steps(job) if "run" in step]


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_workflows_match_the_schema(schema):
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, *ALL],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ALL, ids=lambda path: path.name)
def test_actions_are_pinned_to_a_version(path):
    for job in load(path)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(
                    r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]
                ), step["uses"]


def test_site_is_built_with_the_readme_command_and_deployed_only_after_the_tests_pass():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    tests = load(TESTS)
    workflow = load(PUBLISH)
    # Se lanza cuando termina «Pruebas» en la rama publicada, no con cada push.
    assert "push" not in workflow["on"]
    trigger = workflow["on"]["workflow_run"]
    assert trigger["workflows"] == [tests["name"]]
    assert trigger["types"] == ["completed"]
    assert trigger["branches"] == [config["repository"]["branch"]]
    assert tests["on"]["push"]["branches"] == [config["repository"]["branch"]]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"]

    jobs = workflow["jobs"]
    build = next(job for job in jobs.values() if uses(job, "actions/upload-pages-artifact"))
    # Solo si las pruebas de un push pasaron; construye el commit que se probó.
    condition = " ".join(build["if"].split())
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition
    assert uses(build, "actions/checkout")["with"]["ref"].startswith(
        "${{ github.event.workflow_run.head_sha"
    )
    assert "make book" in runs(build)
    assert "make book" in (REPO / "README.md").read_text(encoding="utf-8")
    assert uses(build, "actions/configure-pages")
    python = uses(build, "actions/setup-python")
    assert python["with"]["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    # `make book` instala los dos entornos y el paquete: la caché depende de los tres.
    assert set(python["with"]["cache-dependency-path"].split()) == INSTALLED
    # El artefacto es la carpeta que escribe `make book`.
    artifact = Path(uses(build, "actions/upload-pages-artifact")["with"]["path"])
    assert (REPO / artifact).resolve() == SITE.resolve()

    build_name = next(name for name, job in jobs.items() if job is build)
    deploy = next(job for job in jobs.values() if uses(job, "actions/deploy-pages"))
    assert deploy["needs"] in (build_name, [build_name])
    assert deploy["environment"]["name"] == "github-pages"


def test_tests_run_on_pull_requests_and_pushes_with_the_ci_script_and_python_3_11():
    workflow = load(TESTS)
    assert "pull_request" in workflow["on"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert uses(job, "actions/checkout")
    commands = runs(job)
    assert commands[-1] == "bash .ci/run"
    # Como root en el contenedor, en una copia de otro usuario: git exige marcarla
    # como segura, después de sacarla y antes de las pruebas (tests/test_ci.py
    # ejecuta este mismo paso en una copia así).
    assert commands[0] == 'git config --global --add safe.directory "$GITHUB_WORKSPACE"'
    names = [step.get("uses", step.get("run", "")).split("@")[0] for step in steps(job)]
    assert names.index("actions/checkout") < 1 < names.index("bash .ci/run")
    # Debian con el Python de binder/runtime.txt, como la máquina de la integración
    # continua local: .ci/run instala sus paquetes del sistema con los nombres de
    # Debian, como root; privilegiado para que `unshare -n` funcione (tests/test_ci.py).
    container = job["container"]
    assert re.fullmatch(
        rf"python:{sys.version_info.major}\.{sys.version_info.minor}(\.\d+)?-bookworm",
        container["image"],
    )
    assert "--privileged" in container["options"].split()
    assert (REPO / "binder" / "runtime.txt").read_text(
        encoding="utf-8"
    ).strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"
    # La caché de pip, con la clave de todo lo que se instala.
    key = uses(job, "actions/cache")["with"]["key"]
    assert set(re.findall(r"'([^']+)'", key)) == INSTALLED


def test_newest_allowed_versions_are_tested_from_the_built_wheel():
    """El flujo aparte de las versiones más nuevas: construye la rueda, la instala con
    scripts/newest-allowed.sh y ejecuta las capas unit y data contra el paquete
    instalado (pythonpath sin «.», para que no se importe el del repositorio)."""
    workflow = load(NEWEST)
    assert {"pull_request", "push", "schedule"} <= set(workflow["on"])
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    python = uses(job, "actions/setup-python")
    assert python["with"]["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    build, install, test = runs(job)
    assert build == "python -m pip wheel --no-deps --wheel-dir dist ."
    assert install == "bash scripts/newest-allowed.sh /tmp/nuevas dist"
    assert test == '/tmp/nuevas/bin/pytest -o pythonpath=tests -m "unit or data" tests'
    assert (REPO / "scripts" / "newest-allowed.sh").is_file()
    ini = (REPO / "pytest.ini").read_text(encoding="utf-8")
    assert re.search(r"^pythonpath = \. tests$", ini, flags=re.M)  # lo que -o sustituye


def test_workflows_do_not_depend_on_the_local_mirror():
    for path in ALL:
        settings = yaml.safe_dump(load(path))  # sin los comentarios
        assert "shared/security-datasets" not in settings
        assert "TALLER_BASE_URL" not in settings
