#!/usr/bin/env python3
"""Un sustituto de la orden `docker`, suficiente para ejecutar docker/test_image.sh
en una máquina sin motor de contenedores (tests/test_image_workflow.py).

El «contenedor» es un JupyterLab del entorno del proyecto: `compose up` crea
trabajo/ como root, igual que Docker, le aplica el paso de permisos de
docker/compose.yaml y arranca JupyterLab con los ajustes en español del taller y
un token propio que solo aparece en su registro. `exec` ejecuta la orden aquí,
con las rutas del contenedor trasladadas a las carpetas de la prueba. La caché
de datos de la «imagen» es FAKE_DOCKER_CACHE (la prueba le da el espejo local,
con la estructura de una caché). Todo lo que se le pide se añade a calls.txt en
FAKE_DOCKER_STATE."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

STATE = Path(os.environ["FAKE_DOCKER_STATE"])
HOME = STATE / "home"  # /home/jovyan del «contenedor»
WORKTREE = HOME / "analisis-datos-jupyter"  # la copia en la que se ejecuta test_image.sh
PORT = os.environ["PUERTO"]
CONTAINER = "falso-taller-1"
# Tras `network disconnect`, el Python del «contenedor» solo resuelve los
# nombres de loopback: basta para la sonda sin red del guion y los cuadernos.
OFFLINE = STATE / "sin-red"
OFFLINE_SITE = """import socket
_getaddrinfo = socket.getaddrinfo
def _loopback_only(host, *args, **kwargs):
    if host not in (None, "", "localhost", "127.0.0.1", "::1"):
        raise socket.gaierror(socket.EAI_NONAME, "sin red (docker falso)")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _loopback_only
"""
PYTHON = Path(sys.executable)


def container_path(text):
    return text.replace("/home/jovyan/analisis-datos-jupyter", str(WORKTREE)).replace(
        "/home/jovyan", str(HOME)
    )


def compose_up():
    trabajo = WORKTREE / "trabajo"
    trabajo.mkdir()  # Docker crea como root el origen de un montaje que falta
    os.chown(trabajo, 0, 0)
    (script,) = yaml.safe_load((WORKTREE / "docker" / "compose.yaml").read_text())["services"][
        "permisos-trabajo"
    ]["command"]
    script = script.replace("$$", "$").replace("/home/jovyan/trabajo", str(trabajo))
    subprocess.run(["/bin/sh", "-c", script], check=True)
    (HOME / "trabajo").symlink_to(trabajo)
    prefix = STATE / "prefijo"
    subprocess.run(
        [
            PYTHON,
            WORKTREE / "jupyterlab" / "install_settings.py",
            "--prefix",
            prefix,
            "--user-settings",
            STATE / "ajustes",
        ],
        check=True,
        capture_output=True,
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(STATE / "config"),
        JUPYTER_RUNTIME_DIR=str(STATE / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(STATE / "ajustes"),
        IPYTHONDIR=str(STATE / "ipython"),
    )
    env.pop("JUPYTER_TOKEN", None)  # JupyterLab inventa uno y lo anota, como en la imagen
    log = open(STATE / "registro.txt", "w")
    command = [
        PYTHON.parent / "jupyter-lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={PORT}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={HOME}",
        f"--LabApp.app_settings_dir={prefix}/share/jupyter/lab/settings",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    (STATE / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60  # `up --wait`: hasta que el servidor responda
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api", timeout=2)
            return 0
        except OSError:
            time.sleep(0.5)
    return 1


def compose_down():
    pid_file = STATE / "pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                os.killpg(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pid_file.unlink()
    return 0


def compose_exec(args):
    workdir = WORKTREE
    while args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "--workdir":
            workdir = Path(container_path(args.pop(0)))
    assert args.pop(0) == "taller", args
    command = [container_path(word) for word in args]
    if command[:4] == ["python", "-m", "pip", "install"]:
        return 0  # el entorno del proyecto ya tiene las herramientas de prueba
    if command[0] == "python":
        command[0] = str(PYTHON)
    # El PYTHONPATH y el TALLER_CACHE_DIR de la imagen.
    env = dict(
        os.environ, PYTHONPATH=str(WORKTREE), TALLER_CACHE_DIR=os.environ["FAKE_DOCKER_CACHE"]
    )
    if OFFLINE.exists():
        env["PYTHONPATH"] = f"{OFFLINE}{os.pathsep}{WORKTREE}"
    return subprocess.run(command, cwd=workdir, env=env).returncode


def main(argv):
    with open(STATE / "calls.txt", "a") as calls:
        calls.write(json.dumps(argv) + "\n")
    if argv[0] == "compose":
        args = argv[1:]
        while args[0] == "-f":
            args = args[2:]
        action, rest = args[0], args[1:]
        if action == "up":
            return compose_up()
        if action == "down":
            return compose_down()
        if action == "ps":
            print(CONTAINER)
            return 0
        if action == "logs":
            sys.stdout.write((STATE / "registro.txt").read_text())
            return 0
        if action == "exec":
            return compose_exec(rest)
    if argv[0] == "inspect":
        template = argv[argv.index("--format") + 1]
        print("healthy" if "Health" in template else "falso_default ")
        return 0
    if argv[0] == "cp":
        source, target = argv[1], argv[2]
        target = re.sub(rf"^{CONTAINER}:", "", target)
        target = Path(container_path(target))
        if not (target.exists() and target.samefile(source)):  # aquí, la misma carpeta
            shutil.copyfile(source, target)
        return 0
    if argv[:2] == ["network", "disconnect"]:
        OFFLINE.mkdir(exist_ok=True)
        (OFFLINE / "sitecustomize.py").write_text(OFFLINE_SITE)
        return 0
    print(f"docker falso: orden no prevista {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
