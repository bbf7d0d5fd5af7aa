"""The Docker image and its compose file, checked without a container engine:
hadolint, then the Dockerfile's instructions read one by one."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from built_site import REPO

BIN = Path(sys.executable).parent
DOCKERFILE = REPO / "docker" / "Dockerfile"
COMPOSE = REPO / "docker" / "compose.yaml"
ROOT_USERS = {"root", "0", "0:0"}


def instructions(path=DOCKERFILE):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or not line:
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    assert not pending, "El Dockerfile termina con una línea a medias"
    return result


def arguments_of(keyword):
    return [arguments for instruction, arguments in instructions() if instruction == keyword]


def without_flags(arguments):
    """COPY/HEALTHCHECK arguments without their --flags."""
    return [word for word in shlex.split(arguments) if not word.startswith("--")]


def dockerignore_patterns():
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(relative):
    """Docker's .dockerignore rule, enough for our patterns: the last matching
    pattern wins, `!` re-includes, a match on a folder covers what is inside."""

    def to_regex(pattern):
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        return re.compile(regex + "$")

    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        regex = to_regex(pattern.lstrip("!"))
        if any(regex.match(candidate) for candidate in candidates):
            verdict = not negated
    return verdict


def labels():
    found = {}
    for arguments in arguments_of("LABEL"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            found[key] = value
    return found


def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_hadolint_is_clean():
    result = subprocess.run(
        [BIN / "hadolint", "--no-color", "--failure-threshold", "info", DOCKERFILE],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_base_image_is_an_official_stack_pinned_to_a_date():
    images = arguments_of("FROM")
    assert len(images) == 1
    assert re.fullmatch(r"quay\.io/jupyter/(minimal|scipy)-notebook:\d{4}-\d{2}-\d{2}", images[0]), images[0]


def test_runs_as_the_unprivileged_user_at_the_end():
    users = arguments_of("USER")
    assert users, "Sin USER: la imagen se quedaría con el usuario de la base"
    assert users[-1] not in ROOT_USERS


def test_java_is_installed_as_root_and_the_user_switched_back():
    sequence = instructions()
    java = [i for i, (keyword, arguments) in enumerate(sequence)
            if keyword == "RUN" and "apt-get install" in arguments]
    assert len(java) == 1
    assert "openjdk-17-jre-headless" in sequence[java[0]][1].split()
    # The same Java runtime that Binder installs.
    assert "openjdk-17-jre-headless" in (REPO / "binder" / "apt.txt").read_text(encoding="utf-8")
    before = [arguments for keyword, arguments in sequence[: java[0]] if keyword == "USER"]
    after = [arguments for keyword, arguments in sequence[java[0] + 1:] if keyword == "USER"]
    assert before and before[-1] in ROOT_USERS
    assert after and after[0] not in ROOT_USERS


def test_token_authentication_is_left_on():
    text = " ".join(arguments for _, arguments in instructions()).lower()
    served = yaml.safe_dump(compose()).lower()
    for setting in ("token", "password", "identityprovider", "disable_check_xsrf"):
        assert setting not in text, f"El Dockerfile toca la autenticación: {setting}"
        assert setting not in served, f"compose.yaml toca la autenticación: {setting}"


def test_healthcheck():
    checks = arguments_of("HEALTHCHECK")
    assert len(checks) == 1
    assert not checks[0].upper().startswith("NONE")
    assert "CMD" in checks[0]


def test_every_copy_source_exists_and_reaches_the_build_context():
    copies = arguments_of("COPY") + arguments_of("ADD")
    assert copies
    for arguments in copies:
        assert "--from" not in arguments
        *sources, _destination = without_flags(arguments)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no existe en el repositorio"
            assert not ignored(source.rstrip("/")), f"COPY {source}: .dockerignore lo deja fuera"


def test_dockerignore_keeps_out_caches_environments_history_and_data():
    for path in [".git/HEAD", ".venv/bin/python", "_build/html/index.html", ".pytest_cache/v/x",
                 "taller/__pycache__/catalog.cpython-311.pyc", "notebooks/.ipynb_checkpoints/x.ipynb",
                 "datasets/atomic/windows/x.zip", "datasets/README.md", "trabajo/mio.ipynb"]:
        assert ignored(path), path
    for path in ["taller/catalogo.yaml", "requirements.txt", "taller/__main__.py",
                 "notebooks/01_numpy.ipynb", "book/intro.md"]:
        assert not ignored(path), path


def test_installs_the_same_requirements_as_binder():
    """The image pip-installs the repository's requirements.txt (the learner's
    runtime, the same pins as binder/requirements.txt) and nothing else."""
    workdir, copied, installed = Path("/"), {}, []
    for keyword, arguments in instructions():
        if keyword == "WORKDIR":
            workdir = workdir / arguments.replace("${NB_USER}", "jovyan")
        elif keyword == "COPY":
            *sources, destination = without_flags(arguments)
            for source in sources:
                target = workdir / destination
                if destination.endswith("/") or len(sources) > 1:
                    target = target / Path(source).name
                copied[Path(str(target).replace("/./", "/"))] = source
        elif keyword == "RUN" and "pip install" in arguments:
            words = shlex.split(arguments.split("&&")[0])
            flag = next(i for i, word in enumerate(words) if word in {"-r", "--requirement"})
            requirement_file = words[flag + 1]
            # Nothing installed by name beside the file.
            names = [word for word in words[words.index("install") + 1:] if not word.startswith("-")]
            assert names == [requirement_file]
            installed.append(copied[workdir / requirement_file])
    assert installed == ["requirements.txt"]
    # binder/requirements.txt is a literal copy of the same pins (tests/test_binder.py).
    binder = REPO / "binder" / "requirements.txt"
    assert binder.read_bytes() == (REPO / "requirements.txt").read_bytes()


def test_datasets_are_fetched_at_build_time_from_an_overridable_base_url():
    sequence = instructions()
    fetch = [i for i, (keyword, arguments) in enumerate(sequence)
             if keyword == "RUN" and "python -m taller descargar --todos" in arguments]
    assert len(fetch) == 1
    build_args = [i for i, (keyword, arguments) in enumerate(sequence)
                  if keyword == "ARG" and arguments.split("=")[0] == "TALLER_BASE_URL"]
    assert build_args and build_args[0] < fetch[0]
    # The catalogue and the helper package are in the image before the fetch.
    copied_before = " ".join(arguments for keyword, arguments in sequence[: fetch[0]] if keyword == "COPY")
    assert "taller/" in copied_before and "datasets" in " ".join(a for k, a in sequence[: fetch[0]])


def test_oci_labels():
    found = labels()
    for key in ("source", "licenses", "version", "title", "description"):
        assert found.get(f"org.opencontainers.image.{key}"), key
    assert found["org.opencontainers.image.licenses"] == "MIT AND CC-BY-4.0"


def test_compose_is_valid():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_publishes_only_on_loopback_and_keeps_the_work_folder():
    services = compose()["services"]
    assert len(services) == 1
    (service,) = services.values()
    build = service["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == REPO
    assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
    ports = service["ports"]
    assert ports and all(str(port).startswith("127.0.0.1:") for port in ports), ports
    assert "127.0.0.1:8888:8888" in ports
    assert "../trabajo:/home/jovyan/trabajo" in service["volumes"]
    assert "network_mode" not in service and "privileged" not in service
    assert "user" not in service, "el contenedor debe usar el usuario sin privilegios de la imagen"


@pytest.mark.parametrize("path", [DOCKERFILE, COMPOSE, REPO / ".dockerignore"])
def test_comments_are_in_spanish(path):
    comments = [line.strip("# ") for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip().startswith("#") and "hadolint" not in line]
    assert comments, path
    text = " ".join(comments).lower()
    assert re.search(r"\b(el|la|los|las|que|para)\b", text)
    assert not re.search(r"\b(the|and|with|this)\b", text)
