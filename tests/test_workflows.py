"""GitHub Actions: the site is published with the README's command and the
tests run on every pull request. Validated against the GitHub workflow schema
bundled with check-jsonschema (no network)."""

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


def load(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job):
    return job.get("steps", [])


def uses(job, action):
    """The step of `job` that uses `action` (any version), or None."""
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
        [BIN / "check-jsonschema", "--builtin-schema", schema, PUBLISH, TESTS],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [PUBLISH, TESTS], ids=lambda path: path.name)
def test_actions_are_pinned_to_a_version(path):
    for job in load(path)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(
                    r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]
                ), step["uses"]


def test_site_is_built_with_the_readme_command_and_deployed_on_pushes_to_the_branch():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    workflow = load(PUBLISH)
    assert workflow["on"]["push"]["branches"] == [config["repository"]["branch"]]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"]

    jobs = workflow["jobs"]
    build = next(job for job in jobs.values() if uses(job, "actions/upload-pages-artifact"))
    assert "make book" in runs(build)
    assert "make book" in (REPO / "README.md").read_text(encoding="utf-8")
    assert uses(build, "actions/configure-pages")
    python = uses(build, "actions/setup-python")
    assert python["with"]["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    # The artefact is the folder `make book` writes.
    artifact = Path(uses(build, "actions/upload-pages-artifact")["with"]["path"])
    assert (REPO / artifact).resolve() == SITE.resolve()

    build_name = next(name for name, job in jobs.items() if job is build)
    deploy = next(job for job in jobs.values() if uses(job, "actions/deploy-pages"))
    assert deploy["needs"] in (build_name, [build_name])
    assert deploy["environment"]["name"] == "github-pages"


def test_tests_run_on_pull_requests_with_the_ci_script_and_python_3_11():
    workflow = load(TESTS)
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert uses(job, "actions/checkout")
    assert "bash .ci/run" in runs(job)
    # Debian with the Python of binder/runtime.txt, like the local CI machine:
    # .ci/run installs its system packages with Debian's names, as root.
    image = job["container"]["image"] if isinstance(job["container"], dict) else job["container"]
    assert re.fullmatch(
        rf"python:{sys.version_info.major}\.{sys.version_info.minor}(\.\d+)?-bookworm", image
    )
    assert (REPO / "binder" / "runtime.txt").read_text(
        encoding="utf-8"
    ).strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"


def test_workflows_do_not_depend_on_the_local_mirror():
    for path in (PUBLISH, TESTS):
        settings = yaml.safe_dump(load(path))  # without the comments
        assert "shared/security-datasets" not in settings
        assert "TALLER_BASE_URL" not in settings
