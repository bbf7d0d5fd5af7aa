"""La traducción complementaria de JupyterLab del taller (jupyterlab/traducciones/)
y el instalador que la añade al paquete de idioma (jupyterlab/install_settings.py).

Sin red y rápida: lee los archivos del propio JupyterLab instalado (su
JavaScript y los esquemas de sus ajustes) para saber qué cadenas traduce, y
trabaja sobre copias del paquete de idioma."""

import gettext
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jupyterlab.commands import get_app_dir

from built_site import REPO

TRANSLATIONS = REPO / "jupyterlab" / "traducciones" / "jupyterlab.json"
INSTALL = REPO / "jupyterlab" / "install_settings.py"
STRING = r'"((?:[^"\\]|\\.)*)"'


def load_installer():
    spec = importlib.util.spec_from_file_location("install_settings", INSTALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


installer = load_installer()


def unescape(text: str) -> str:
    """El texto de una cadena literal de JavaScript (escapes de JSON, \\x41 y \\')."""
    text = re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", text).replace("\\'", "'")
    try:
        return json.loads(f'"{text}"')
    except json.JSONDecodeError:
        return text


@pytest.fixture(scope="module")
def jupyterlab_strings():
    """{msgid: msgid_plural o None} que la interfaz de JupyterLab pide traducir.

    Del JavaScript: `__("…")`, `_n("…", "…", n)` y `_p("contexto", "…")`; de los
    esquemas de los ajustes: los títulos de los menús, que el servidor traduce con
    el contexto «menu»."""
    app = Path(get_app_dir())
    found = {}
    for bundle in sorted((app / "static").glob("*.js")):
        code = bundle.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"\.__\(" + STRING, code):
            found.setdefault(unescape(match.group(1)), None)
        for match in re.finditer(r"\._n\(" + STRING + "," + STRING, code):
            found[unescape(match.group(1))] = unescape(match.group(2))
        for match in re.finditer(r"\._p\(" + STRING + "," + STRING, code):
            found.setdefault(f"{unescape(match.group(1))}\x04{unescape(match.group(2))}", None)

    def menu_labels(node, inside=False):
        if isinstance(node, dict):
            for key, value in node.items():
                if inside and key == "label" and isinstance(value, str):
                    found.setdefault(f"menu\x04{value}", None)
                menu_labels(value, inside or key == "jupyter.lab.menus")
        elif isinstance(node, list):
            for item in node:
                menu_labels(item, inside)

    for schema in sorted((app / "schemas").rglob("*.json")):
        menu_labels(json.loads(schema.read_text(encoding="utf-8")))
    assert len(found) > 1000, "no se encontraron las cadenas de JupyterLab"
    return found


def ours() -> dict:
    entries = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    assert entries.pop("")["domain"] == "jupyterlab"
    return entries


def test_every_translation_is_a_string_jupyterlab_uses(jupyterlab_strings):
    """Un msgid que JupyterLab ya no usa (tras actualizarlo) no haría nada, sin avisar."""
    unknown = sorted(msgid for msgid in ours() if msgid not in jupyterlab_strings)
    assert not unknown, f"JupyterLab no usa estas cadenas: {unknown}"
    for msgid, forms in ours().items():
        plural = jupyterlab_strings[msgid]
        assert len(forms) == (1 if plural is None else 2), (msgid, forms)
        placeholders = set(re.findall(r"%\d", msgid + (plural or "")))
        for form in forms:
            assert form.strip(), msgid
            # Una traducción puede omitir un hueco («Save %1» → «Guardar»: JupyterLab
            # lo llena con «Notebook», sin traducir), nunca inventar otro.
            assert set(re.findall(r"%\d", form)) <= placeholders, (msgid, form)


def test_one_word_per_concept():
    """CONTRIBUTING.md: kernel es «núcleo»; notebook, «cuaderno»; output, «salida»."""
    wrong = {
        msgid: forms
        for msgid, forms in ours().items()
        if any(
            re.search(r"(?i)\b(kernel|intérprete|notebook|resultados?)\b", form) for form in forms
        )
    }
    assert not wrong, wrong


@pytest.fixture
def small_pack(tmp_path):
    """Un paquete de idioma con dos entradas propias, una de ellas también nuestra."""
    messages = tmp_path / "LC_MESSAGES"
    messages.mkdir()
    meta = {"domain": "jupyterlab", "language": "es-ES", "version": "jupyterlab"}
    pack = {"": meta, "Open": ["Abrir"], "Restart Kernel…": ["Reiniciar el intérprete"]}
    (messages / "jupyterlab.json").write_text(json.dumps(pack), encoding="utf-8")
    header = (
        "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"
    )
    mo = {
        b"": header.encode(),
        b"menu\x04File": b"Archivo",
        b"%1 Item\x00%1 Items": b"%1 elemento\x00%1 elementos",
    }
    (messages / "jupyterlab.mo").write_bytes(installer.write_mo(mo))
    return messages


def run_installer(tmp_path, messages):
    result = subprocess.run(
        [
            sys.executable,
            INSTALL,
            "--prefix",
            tmp_path / "prefijo",
            "--user-settings",
            tmp_path / "usuario",
            "--paquete-idioma",
            messages,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_installer_completes_the_language_pack_once(tmp_path, small_pack):
    first = run_installer(tmp_path, small_pack)
    assert str(small_pack / "jupyterlab.json") in first
    assert str(small_pack / "jupyterlab.mo") in first
    merged = json.loads((small_pack / "jupyterlab.json").read_text(encoding="utf-8"))
    # Lo que lee el navegador: las nuestras, añadidas o en lugar de las del paquete.
    assert merged["Open"] == ["Abrir"]
    assert merged["Restart Kernel…"] == ["Reiniciar el núcleo…"]
    assert merged["Run Selected Cell"] == [
        "Ejecutar la celda seleccionada",
        "Ejecutar las celdas seleccionadas",
    ]
    assert merged[""]["domain"] == "jupyterlab"
    # Lo que lee el servidor para traducir los títulos de los menús de los ajustes.
    catalog = gettext.GNUTranslations(io.BytesIO((small_pack / "jupyterlab.mo").read_bytes()))
    assert catalog.pgettext("menu", "Kernel") == "Núcleo"
    assert catalog.pgettext("menu", "Run") == "Ejecutar"
    assert catalog.pgettext("menu", "File") == "Archivo"
    assert catalog.ngettext("%1 Item", "%1 Items", 2) == "%1 elementos"

    before = {path.name: path.read_bytes() for path in small_pack.iterdir()}
    second = run_installer(tmp_path, small_pack)
    assert str(small_pack) not in second, second
    assert {path.name: path.read_bytes() for path in small_pack.iterdir()} == before


def test_the_installed_language_pack_reads_back(tmp_path):
    """Sobre una copia del paquete real: los dos archivos siguen siendo válidos."""
    copy = tmp_path / "LC_MESSAGES"
    shutil.copytree(installer.language_pack_messages(), copy)
    run_installer(tmp_path, copy)
    catalog = gettext.GNUTranslations(io.BytesIO((copy / "jupyterlab.mo").read_bytes()))
    assert catalog.pgettext("menu", "Tabs") == "Pestañas"
    assert catalog.pgettext("menu", "View") == "Ver"
    merged = json.loads((copy / "jupyterlab.json").read_text(encoding="utf-8"))
    for msgid, forms in ours().items():
        assert merged[msgid] == forms


def test_the_installer_says_what_to_do_without_the_language_pack(tmp_path):
    code = (
        "import importlib.util, runpy, sys\n"
        "importlib.util.find_spec = lambda name, *a: None\n"
        f"sys.argv = ['install_settings.py', '--prefix', {str(tmp_path)!r},"
        f" '--user-settings', {str(tmp_path / 'u')!r}]\n"
        f"runpy.run_path({str(INSTALL)!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "No está instalado el paquete de idioma de JupyterLab" in result.stderr


def test_custom_css_is_switched_on_keeping_the_rest_of_the_configuration(tmp_path):
    config = tmp_path / "etc" / "jupyter" / "jupyter_lab_config.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"LabApp": {"collaborative": false}, "ServerApp": {"ip": "x"}}')
    static = tmp_path / "static"
    changed = installer.install_custom_css(tmp_path, static)
    assert set(changed) == {config, static / "custom" / "custom.css"}
    assert json.loads(config.read_text(encoding="utf-8")) == {
        "LabApp": {"collaborative": False, "custom_css": True},
        "ServerApp": {"ip": "x"},
    }
    css = (static / "custom" / "custom.css").read_text(encoding="utf-8")
    assert ".jp-showHiddenCellsButton::after" in css and "Mostrar las celdas ocultas" in css
    assert installer.install_custom_css(tmp_path, static) == []


def test_the_kernel_help_links_are_spanish_and_merged(tmp_path):
    config = tmp_path / "etc" / "ipython" / "ipython_kernel_config.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"IPKernelApp": {"matplotlib": "inline"}}')
    assert installer.install_kernel_config(tmp_path) == [config]
    settings = json.loads(config.read_text(encoding="utf-8"))
    assert settings["IPKernelApp"] == {"matplotlib": "inline"}
    links = settings["IPythonKernel"]["help_links"]
    assert {link["text"] for link in links} >= {"Referencia de Python", "Referencia de pandas"}
    assert all(link["url"].startswith("https://") for link in links)
    assert installer.install_kernel_config(tmp_path) == []
