"""El JupyterLab del taller, iniciado desde el entorno del proyecto como lo inician la
imagen, Binder y `make lab`: la prueba de humo que ejecuta el flujo de la imagen
(docker/smoke_test.py) pasa contra él, y la interfaz está en español en un
navegador real.

Cada servidor se ejecuta en 127.0.0.1 con un token aleatorio, en su propia sesión,
con sus carpetas de configuración, de ejecución y de ajustes en un directorio
temporal; al final se detiene por su PID."""

import re
import subprocess
import sys
import time

import pytest

from browser_support import block_other_hosts
from built_site import REPO
from lab_support import BOOT_TIMEOUT, INSTALL, SMOKE, LabServer, free_port


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("lab"), spanish=True)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def test_the_smoke_test_passes_against_the_workshop_lab(lab):
    result = lab.smoke("--esperado", "trabajo", "--escribible", "trabajo")
    assert result.returncode == 0, result.stdout + result.stderr + lab.output()
    for line in [
        "el servidor responde",
        "la API responde 403 sin token o con uno falso y 200 con el token",
        "la carpeta inicial contiene trabajo",
        "se puede escribir y borrar en trabajo/",
        "la interfaz está en español (es_ES instalado y por defecto)",
        "arranca un núcleo de Python 3 y se para",
    ]:
        assert f"correcto: {line}" in result.stdout, result.stdout
    # El archivo de sondeo se eliminó de nuevo.
    assert not list((lab.root / "trabajo").glob("prueba-de-humo-*"))


def test_the_smoke_test_fails_with_a_wrong_token(lab):
    result = lab.smoke(token="no-es-el-token")
    assert result.returncode == 1
    assert "FALLO: la API responde 403 con el token: debería ser 200" in result.stderr


def test_the_smoke_test_fails_when_a_folder_is_missing(lab):
    result = lab.smoke("--esperado", "notebooks")
    assert result.returncode == 1
    assert "FALLO: faltan notebooks en la carpeta inicial" in result.stderr


def test_the_smoke_test_notices_an_english_lab(tmp_path):
    """Sin los ajustes del taller, JupyterLab arranca en inglés, y la prueba de humo lo dice."""
    server = LabServer(tmp_path, spanish=False)
    try:
        result = server.smoke()
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout
    assert "FALLO: el idioma de la interfaz es «default», no es_ES" in result.stderr


def test_the_smoke_test_gives_up_on_a_server_that_never_answers():
    result = subprocess.run(
        [
            sys.executable,
            SMOKE,
            "--url",
            f"http://127.0.0.1:{free_port()}/",
            "--token",
            "x",
            "--limite",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no respondió antes del límite" in result.stderr


def test_menus_read_in_spanish_in_a_browser(lab, browser):
    # El Chromium de la sesión (browser_support): un segundo Playwright síncrono
    # en el mismo proceso no puede arrancar mientras el primero sigue vivo.
    context = browser.new_context(locale="es-ES", service_workers="block")
    try:
        context.set_default_timeout(BOOT_TIMEOUT * 1000)
        blocked = []
        block_other_hosts(context, lab.url, blocked)
        page = context.new_page()
        page.goto(f"{lab.url}lab?token={lab.token}")
        page.wait_for_selector(".lm-MenuBar-itemLabel")
        # Los títulos de los menús de los ajustes llegan justo después de dibujar la barra.
        page.wait_for_function(
            "[...document.querySelectorAll('.lm-MenuBar-itemLabel')]"
            ".some(label => label.textContent === 'Ejecutar')"
        )
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert menus[:4] == ["Archivo", "Editar", "Ver", "Ejecutar"], menus
        assert not {"File", "Edit", "Run", "Kernel", "Tabs", "Help"} & set(menus), menus
        # También las entradas de un menú.
        page.locator(".lm-MenuBar-itemLabel", has_text="Archivo").click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert "Guardar" in " ".join(items) or "Cerrar" in " ".join(items), items
        # Ninguna consulta de noticias o actualizaciones desde el aula.
        assert not blocked, blocked
    finally:
        context.close()


def test_spanish_settings_are_installed_everywhere_we_ship_jupyterlab():
    """La imagen, Binder y `make lab` ejecutan el mismo instalador."""
    dockerfile = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN python \S*jupyterlab/install_settings\.py", dockerfile, re.M)
    post_build = (REPO / "binder" / "postBuild").read_text(encoding="utf-8")
    assert re.search(r"^python jupyterlab/install_settings\.py", post_build, re.M)
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    lab_target = re.search(r"^lab:.*?(?=^\S|\Z)", makefile, re.M | re.S).group(0)
    assert "jupyterlab/install_settings.py" in lab_target
    assert "jupyterlab-language-pack-es-ES==" in (REPO / "requirements.txt").read_text(
        encoding="utf-8"
    )


def test_the_installer_keeps_the_users_own_settings(tmp_path):
    mine = (
        tmp_path / "usuario" / "@jupyterlab" / "mainmenu-extension" / "plugin.jupyterlab-settings"
    )
    mine.parent.mkdir(parents=True)
    mine.write_text('{"menus": []}\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            INSTALL,
            "--prefix",
            tmp_path / "prefijo",
            "--user-settings",
            tmp_path / "usuario",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert mine.read_text(encoding="utf-8") == '{"menus": []}\n'
    installed = tmp_path / "prefijo" / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    assert (installed / "taller.json").is_file()
    assert time.time() - (installed / "taller.json").stat().st_mtime < 60
