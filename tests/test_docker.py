"""La imagen Docker y su archivo compose, comprobados sin motor de contenedores:
hadolint y después las instrucciones del Dockerfile, leídas una a una. El flujo
.github/workflows/imagen.yml inicia y comprueba la imagen de verdad antes de publicarla."""

import json
import os
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
    """[(INSTRUCCIÓN, argumentos)] con las líneas de continuación unidas y sin comentarios."""
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
    """Los argumentos de COPY/HEALTHCHECK sin sus --opciones."""
    return [word for word in shlex.split(arguments) if not word.startswith("--")]


def dockerignore_patterns():
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(relative):
    """La regla de .dockerignore de Docker, suficiente para nuestros patrones: gana el
    último que coincide, `!` vuelve a incluir y una carpeta cubre lo que contiene."""

    def to_regex(pattern):
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
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
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_base_image_is_debian_slim_with_the_python_of_the_notebooks_on_the_ci_debian():
    """Un solo gestor de paquetes (pip), en un entorno virtual sobre el Python de Debian:
    la base (debian:<release>-slim) se puede producir en nuestros equipos con
    debootstrap (docker/base_image.sh), así que la imagen que .ci/run construye y
    prueba es la receta que publica imagen.yml."""
    images = arguments_of("FROM")
    assert len(images) == 1
    found = re.fullmatch(r"debian:(\w+)-slim", images[0])
    assert found, images[0]
    ci = yaml.safe_load(
        (REPO / ".github" / "workflows" / "pruebas.yml").read_text(encoding="utf-8")
    )
    (job,) = ci["jobs"].values()
    image = job["container"]["image"] if isinstance(job["container"], dict) else job["container"]
    assert image.endswith(f"-{found[1]}"), (
        f"La integración continua usa {image}, la imagen {images[0]}"
    )
    # La base que .ci/run produce localmente tiene ese mismo nombre y versión.
    base_script = (REPO / "docker" / "base_image.sh").read_text(encoding="utf-8")
    assert f"image=docker.io/library/{images[0]}" in base_script
    assert f"--variant=minbase {found[1]} " in base_script
    # El python3.X de Debian de la versión de los cuadernos, en un entorno virtual.
    python = "python{}.{}".format(*sys.version_info[:2])
    (apt,) = [a for k, a in instructions() if k == "RUN" and "apt-get install" in a]
    assert python in apt.split() and f"{python}-venv" in apt.split()
    assert any(k == "RUN" and f"{python} -m venv /opt/venv" in a for k, a in instructions())
    env = " ".join(arguments_of("ENV"))
    assert "PATH=/opt/venv/bin:$PATH" in env
    text = " ".join(arguments for _, arguments in instructions()).lower()
    for other in ("conda", "mamba"):
        assert other not in text, f"El Dockerfile usa {other}: solo pip"


def test_pip_certificate_authorities_are_mounted_for_the_build_never_copied():
    """Tras un proxy que intercepta, pip necesita las CA del equipo: solo su ruta
    entra como argumento de construcción (vacío por omisión, como en GitHub), el
    archivo lo monta docker/build_image.sh y nada copia un certificado dentro."""
    assert "PIP_CA_BUNDLE=" in arguments_of("ARG")
    (install,) = [a for k, a in instructions() if k == "RUN" and "pip install" in a]
    assert '${PIP_CA_BUNDLE:+--cert "$PIP_CA_BUNDLE"}' in install
    for arguments in arguments_of("COPY") + arguments_of("ADD"):
        assert not re.search(r"\.(pem|crt)\b|cert", arguments), arguments
    build = (REPO / "docker" / "build_image.sh").read_text(encoding="utf-8")
    # Una carpeta montada sobre /mnt, vacía en la base: no queda ningún punto de montaje.
    assert '--volume "$ca_dir:/mnt:ro" --build-arg PIP_CA_BUNDLE=/mnt/pip-ca.pem' in build


def test_starts_jupyterlab_under_tini_on_every_interface_of_the_container():
    (entrypoint,) = arguments_of("ENTRYPOINT")
    assert json.loads(entrypoint)[0] == "tini"
    (command,) = arguments_of("CMD")
    command = json.loads(command)
    assert command[:2] == ["jupyter", "lab"]
    assert "--ip=0.0.0.0" in command and "--port=8888" in command
    assert "--ServerApp.root_dir=/home/jovyan" in command
    assert arguments_of("EXPOSE") == ["8888"]


def test_runs_as_the_unprivileged_user_at_the_end():
    users = arguments_of("USER")
    assert users, "Sin USER: la imagen se quedaría con el usuario de la base"
    assert users[-1] not in ROOT_USERS


def test_java_is_installed_as_root_and_the_user_switched_back():
    sequence = instructions()
    java = [
        i
        for i, (keyword, arguments) in enumerate(sequence)
        if keyword == "RUN" and "apt-get install" in arguments
    ]
    assert len(java) == 1
    assert "openjdk-17-jre-headless" in sequence[java[0]][1].split()
    # El mismo entorno de ejecución de Java que instala Binder.
    assert "openjdk-17-jre-headless" in (REPO / "binder" / "apt.txt").read_text(encoding="utf-8")
    before = [arguments for keyword, arguments in sequence[: java[0]] if keyword == "USER"]
    after = [arguments for keyword, arguments in sequence[java[0] + 1 :] if keyword == "USER"]
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
    for path in [
        ".git/HEAD",
        ".venv/bin/python",
        "_build/html/index.html",
        ".pytest_cache/v/x",
        "taller/__pycache__/catalog.cpython-311.pyc",
        "notebooks/.ipynb_checkpoints/x.ipynb",
        "datasets/atomic/windows/x.zip",
        "datasets/README.md",
        "trabajo/mio.ipynb",
    ]:
        assert ignored(path), path
    for path in [
        "taller/catalogo.yaml",
        "requirements.txt",
        "taller/__main__.py",
        "notebooks/01_numpy.ipynb",
        "book/intro.md",
    ]:
        assert not ignored(path), path


def test_installs_the_same_requirements_as_binder():
    """La imagen instala con pip el requirements.txt del repositorio (el entorno de
    quien aprende, con las mismas versiones que binder/requirements.txt) y nada más."""
    workdir, copied, installed = Path("/"), {}, []
    for keyword, arguments in instructions():
        if keyword == "WORKDIR":
            workdir = workdir / arguments
        elif keyword == "COPY":
            *sources, destination = without_flags(arguments)
            for source in sources:
                target = workdir / destination
                # El contenido de una carpeta va al destino; un archivo, dentro de él.
                if (destination.endswith("/") or len(sources) > 1) and not source.endswith("/"):
                    target = target / Path(source).name
                copied[Path(str(target).replace("/./", "/"))] = source
        elif keyword == "RUN" and "pip install" in arguments:
            command = next(part for part in arguments.split("&&") if "pip install" in part)
            # Sin la opción opcional del certificado (véase la prueba de arriba).
            command = command.replace('${PIP_CA_BUNDLE:+--cert "$PIP_CA_BUNDLE"}', "")
            words = shlex.split(command)
            flag = next(i for i, word in enumerate(words) if word in {"-r", "--requirement"})
            requirement_file = words[flag + 1]
            # Nada instalado por nombre aparte del archivo.
            names = [
                word for word in words[words.index("install") + 1 :] if not word.startswith("-")
            ]
            assert names == [requirement_file]
            installed.append(copied[workdir / requirement_file])
    assert installed == ["requirements.txt"]
    # Se queda en la imagen junto al paquete: `taller comprobar` (cuaderno 00)
    # compara con él las versiones instaladas (taller/environment.py).
    package = next(target for target, source in copied.items() if source == "taller/")
    pins = next(target for target, source in copied.items() if source == "requirements.txt")
    assert pins == package.parent / "requirements.txt"  # catalog.REPO_ROOT
    runs = " ".join(a for k, a in instructions() if k == "RUN")
    assert not re.search(r"\brm\b[^&]*requirements\.txt", runs)
    # binder/requirements.txt es una copia literal de las mismas versiones (tests/test_binder.py).
    binder = REPO / "binder" / "requirements.txt"
    assert binder.read_bytes() == (REPO / "requirements.txt").read_bytes()


def test_datasets_are_fetched_at_build_time_from_an_overridable_base_url():
    sequence = instructions()
    fetch = [
        i
        for i, (keyword, arguments) in enumerate(sequence)
        if keyword == "RUN" and "python -m taller descargar --todos" in arguments
    ]
    assert len(fetch) == 1
    build_args = [
        i
        for i, (keyword, arguments) in enumerate(sequence)
        if keyword == "ARG" and arguments.split("=")[0] == "TALLER_BASE_URL"
    ]
    assert build_args and build_args[0] < fetch[0]
    # El catálogo y el paquete auxiliar están en la imagen antes de la descarga.
    copied_before = " ".join(
        arguments for keyword, arguments in sequence[: fetch[0]] if keyword == "COPY"
    )
    assert "taller/" in copied_before and "datasets" in " ".join(
        a for k, a in sequence[: fetch[0]]
    )
    # Solo el archivo y la copia Parquet verificados: el JSON extraído (1,1 GB)
    # se borra en la misma capa y `json_path` lo vuelve a extraer si se pide.
    step = sequence[fetch[0]][1]
    assert "descargar --todos --sin-json" in step and "descargar --corpus --sin-json" in step
    assert step.index("--sin-json") < step.index("taller verificar")


def test_notebooks_import_taller_and_find_the_data_baked_into_the_image():
    """Los núcleos arrancan en notebooks/: taller debe poder importarse sin instalarlo
    desde GitHub, y su caché debe ser la carpeta llenada al construir la imagen."""
    env = {}
    for arguments in arguments_of("ENV"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            env[key] = value
    repo = "/home/jovyan/analisis-datos-jupyter"
    assert env["PYTHONPATH"] == repo
    assert env["TALLER_CACHE_DIR"] == f"{repo}/datasets"
    sequence = instructions()
    fetch = next(
        i
        for i, (keyword, arguments) in enumerate(sequence)
        if keyword == "RUN" and "descargar --todos" in arguments
    )
    assert "descargar --corpus" in sequence[fetch][1]  # también el cuaderno 09, sin conexión
    workdirs = [arguments for keyword, arguments in sequence[:fetch] if keyword == "WORKDIR"]
    assert workdirs[-1] == repo
    assert any(
        keyword == "ENV" and "TALLER_CACHE_DIR" in arguments
        for keyword, arguments in sequence[:fetch]
    )


def test_oci_labels():
    found = labels()
    for key in ("source", "licenses", "version", "title", "description"):
        assert found.get(f"org.opencontainers.image.{key}"), key
    assert found["org.opencontainers.image.licenses"] == "MIT AND CC-BY-4.0"


def test_compose_is_valid():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def published_image():
    """ghcr.io/<owner>/<name>, en minúsculas, a partir de la URL canónica de _config.yml."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    owner_name = config["repository"]["url"].removeprefix("https://github.com/").lower()
    return f"ghcr.io/{owner_name}"


def test_compose_uses_the_published_image_publishes_only_on_loopback_and_keeps_the_work_folder():
    services = compose()["services"]
    service = services["taller"]
    assert service["image"] == f"{published_image()}:latest"
    build = service["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == REPO
    assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
    ports = service["ports"]
    assert ports and all(str(port).startswith("127.0.0.1:") for port in ports), ports
    assert "127.0.0.1:8888:8888" in ports
    assert "../trabajo:/home/jovyan/trabajo" in service["volumes"]
    assert "network_mode" not in service and "privileged" not in service
    assert "user" not in service, "el contenedor debe usar el usuario sin privilegios de la imagen"


def test_compose_fixes_a_work_folder_docker_created_as_root_with_a_minimal_step():
    services = compose()["services"]
    assert set(services) == {"taller", "permisos-trabajo"}
    main, step = services["taller"], services["permisos-trabajo"]
    assert main["depends_on"] == {
        "permisos-trabajo": {"condition": "service_completed_successfully"}
    }
    assert step["image"] == main["image"]
    assert step["volumes"] == main["volumes"]
    # Root, pero sin red, de solo lectura y con CHOWN como única capacidad.
    assert step["user"] == "0:0"
    assert step["network_mode"] == "none" and step["read_only"] is True
    assert step["cap_drop"] == ["ALL"] and step["cap_add"] == ["CHOWN"]
    assert "ports" not in step and "privileged" not in step


def run_permission_step(folder):
    (script,) = compose()["services"]["permisos-trabajo"]["command"]
    script = script.replace("$$", "$").replace("/home/jovyan/trabajo", str(folder))
    return subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(os.geteuid() != 0, reason="el paso de compose se ejecuta como root")
def test_the_permission_step_gives_only_an_empty_root_folder_to_jovyan(tmp_path):
    created = tmp_path / "creada-por-docker"
    created.mkdir()
    os.chown(created, 0, 0)
    result = run_permission_step(created)
    assert result.returncode == 0, result.stderr
    assert (created.stat().st_uid, created.stat().st_gid) == (1000, 100)
    assert "ahora es de jovyan" in result.stdout

    # Una carpeta con los archivos del asistente nunca se toca, sea quien sea su dueño.
    used = tmp_path / "con-trabajo"
    used.mkdir()
    (used / "mio.ipynb").write_text("{}", encoding="utf-8")
    os.chown(used, 0, 0)
    result = run_permission_step(used)
    assert result.returncode == 0, result.stderr
    assert used.stat().st_uid == 0 and result.stdout == ""

    theirs = tmp_path / "del-usuario"
    theirs.mkdir()
    os.chown(theirs, 1234, 1234)
    assert run_permission_step(theirs).returncode == 0
    assert theirs.stat().st_uid == 1234


def test_readme_docker_section_starts_by_pulling_and_running_the_published_image():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### 2. Docker") :]
    section = section[: section.index("\n### ", 1)]
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", section, re.S).group(1)
    command = first_block.strip().splitlines()[0]
    assert re.search(rf"docker run .*{re.escape(published_image())}:latest", command), command
    assert "-p 127.0.0.1:8888:8888" in command
    assert re.search(r"-v \"?\$\{?PWD\}?/trabajo:/home/jovyan/trabajo", command), command
    assert "mkdir -p trabajo" in command  # no una carpeta de root creada por docker run
    # Construir localmente es la alternativa, más abajo.
    assert section.index("docker run") < section.index("make docker-build")


@pytest.mark.parametrize("path", [DOCKERFILE, COMPOSE, REPO / ".dockerignore"])
def test_comments_are_in_spanish(path):
    comments = [
        line.strip("# ")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("#") and "hadolint" not in line
    ]
    assert comments, path
    text = " ".join(comments).lower()
    assert re.search(r"\b(el|la|los|las|que|para)\b", text)
    assert not re.search(r"\b(the|and|with|this)\b", text)


@pytest.mark.parametrize(
    ("base_url", "passed"),
    [
        ("/srv/espejo/security-datasets", ""),  # una carpeta del equipo: fuera de la construcción
        ("http://192.168.1.10:8000/", "http://192.168.1.10:8000/"),
    ],
)
def test_make_docker_build_passes_only_an_address_into_the_build(base_url, passed):
    result = subprocess.run(
        ["make", "-n", "docker-build", f"TALLER_BASE_URL={base_url}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f'TALLER_BASE_URL="{passed}"' in result.stdout, result.stdout
