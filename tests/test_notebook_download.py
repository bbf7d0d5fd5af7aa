"""La descarga a mano que enseña el cuaderno 02, contra el espejo de bucle local.

El cuaderno 02 descarga su conjunto paso a paso y a la vista (sin funciones
auxiliares): `requests.get` con `timeout` y `raise_for_status()`, luego la
comprobación del SHA-256 y solo después la escritura en la caché. nbval lo
ejecuta siempre con la caché llena, así que aquí esas dos celdas se toman del
cuaderno y se ejecutan con la caché vacía contra el espejo HTTP: una descarga
buena y luego la copia reutilizada sin red; un 404, un archivo manipulado y
ningún servidor, cada uno detenido antes de guardar nada.
"""

import ast
import hashlib
import json

import pytest
import requests

from built_site import REPO
from taller import catalog

NOTEBOOK = REPO / "notebooks" / "02_cargar_datos.ipynb"
DATASET = catalog.datasets()["covenant_psremoting_command"]


def code_cells():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def cell_with(text):
    found = [code for code in code_cells() if text in code]
    assert len(found) == 1, f"02 debe tener una sola celda con {text!r}"
    return found[0]


def constants():
    """Las constantes de la celda de preparación (sus asignaciones simples de literales)."""
    preparation = cell_with("DATASET_PATH = ")
    python = "\n".join(
        line for line in preparation.splitlines() if not line.lstrip().startswith("%")
    )
    values = {}
    for node in ast.parse(python).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def run_route(base_url, cache_dir):
    """Ejecuta la celda de descarga y la de verificación, como hace el alumno."""
    namespace = {
        "hashlib": hashlib,
        "requests": requests,
        **constants(),
        "BASE_URL": base_url,
        "CACHE_DIR": cache_dir,
    }
    exec(cell_with("requests.get("), namespace)
    exec(cell_with("hashlib.sha256(data)"), namespace)
    return namespace["archive"]


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.unit
def test_the_notebook_pins_what_the_catalogue_pins():
    values = constants()
    assert values["DATASET_PATH"] == DATASET.path
    assert values["SHA256"] == DATASET.sha256
    assert values["UPSTREAM"] == catalog.upstream_url()


@pytest.mark.unit
def test_no_helper_function_only_visible_steps():
    for code in code_cells():
        python = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("%"))
        functions = [n for n in ast.walk(ast.parse(python)) if isinstance(n, ast.FunctionDef)]
        assert functions == [], f"02 define una función: {code[:60]!r}"


@pytest.mark.parametrize("slash", ["", "/"])
def test_downloads_verifies_saves_and_then_reuses_the_copy(mirror, tmp_path, capsys, slash):
    archive = run_route(mirror.url.rstrip("/") + slash, tmp_path)
    assert archive == tmp_path / DATASET.relative_path
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == DATASET.sha256
    assert run_route(mirror.url, tmp_path) == archive
    assert mirror.count("/" + DATASET.path) == 1, "la segunda vez no debe usar la red"
    assert "Huella SHA-256 correcta" in capsys.readouterr().out


def test_a_missing_file_stops_before_saving(mirror, tmp_path):
    mirror.fail("/" + DATASET.path, 404)
    with pytest.raises(requests.HTTPError, match="404"):
        run_route(mirror.url, tmp_path)
    assert files_in(tmp_path) == []


def test_a_tampered_file_is_refused_and_nothing_is_saved(mirror, tmp_path):
    mirror.tamper("/" + DATASET.path)
    with pytest.raises(ValueError, match="La huella SHA-256 no coincide"):
        run_route(mirror.url, tmp_path)
    assert files_in(tmp_path) == []


@pytest.mark.unit
def test_no_server_stops_before_saving(tmp_path):
    with pytest.raises(requests.ConnectionError):
        run_route("http://127.0.0.1:9/", tmp_path)
    assert files_in(tmp_path) == []
