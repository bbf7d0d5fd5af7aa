"""Un JupyterLab de verdad para las pruebas, arrancado como lo arrancan la imagen,
Binder y `make lab`.

Cada servidor escucha en 127.0.0.1 con un token aleatorio, en su propia sesión,
con sus carpetas de configuración, de ejecución y de ajustes en una carpeta
temporal; al final se para por su PID."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from built_site import REPO

BIN = Path(sys.executable).parent
SMOKE = REPO / "docker" / "smoke_test.py"
INSTALL = REPO / "jupyterlab" / "install_settings.py"
BOOT_TIMEOUT = 60


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    def __init__(self, home: Path, spanish: bool, env=None, extra_args=()):
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.root = home / "raiz"
        (self.root / "trabajo").mkdir(parents=True)
        prefix, user_settings = home / "prefijo", home / "ajustes-usuario"
        (prefix / "share" / "jupyter" / "lab" / "settings").mkdir(parents=True)
        if spanish:
            # Lo mismo que ejecutan docker/Dockerfile, binder/postBuild y `make lab`.
            subprocess.run(
                [sys.executable, INSTALL, "--prefix", prefix, "--user-settings", user_settings],
                check=True,
                capture_output=True,
                timeout=60,
            )
        server_env = dict(os.environ)
        server_env.update(
            JUPYTER_TOKEN=self.token,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(user_settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
        )
        if spanish:
            # <prefix>/etc/jupyter, donde el instalador activa custom.css: con el
            # prefijo del entorno (la imagen, Binder, `make lab`) JupyterLab ya lo lee.
            server_env["JUPYTER_CONFIG_PATH"] = str(prefix / "etc" / "jupyter")
            # Y <prefix>/etc/ipython, la configuración del núcleo: el de las pruebas
            # tiene otro sys.prefix, así que va a su perfil (IPYTHONDIR), que también lee.
            profile = home / "ipython" / "profile_default"
            profile.mkdir(parents=True)
            shutil.copy(prefix / "etc" / "ipython" / "ipython_kernel_config.json", profile)
        server_env.update(env or {})
        command = [
            BIN / "jupyter-lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.app_settings_dir={prefix / 'share' / 'jupyter' / 'lab' / 'settings'}",
            *extra_args,
        ]
        if os.geteuid() == 0:  # la integración continua es root; la imagen, nunca
            command.append("--allow-root")
        self.log = open(home / "servidor.log", "w+", encoding="utf-8")
        self.process = subprocess.Popen(
            command,
            env=server_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def smoke(self, *extra, token=None):
        return subprocess.run(
            [
                sys.executable,
                SMOKE,
                "--url",
                self.url,
                "--token",
                token or self.token,
                "--limite",
                str(BOOT_TIMEOUT),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=BOOT_TIMEOUT * 3,
        )

    def wait_until_ready(self):
        """Espera a que la API responda con el token: cada prueba empieza con el servidor listo."""
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                request = urllib.request.Request(
                    f"{self.url}api/status", headers={"Authorization": f"token {self.token}"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab no respondió en {BOOT_TIMEOUT} s:\n{self.output()}")

    def api(self, path: str, method: str = "GET"):
        """Una petición a la API REST del servidor, con el token."""
        request = urllib.request.Request(
            f"{self.url}api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()

    def output(self):
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8")[-4000:]
