"""Fixtures compartidas por las pruebas y las capas en que se dividen.

Capas (marcas de pytest, registradas en ``pytest.ini``; se asignan aquí, en
`pytest_collection_modifyitems`, para no repetirlas en cada archivo):

- ``unit``: Python puro, sin datos reales, sin red y sin programas externos;
  ``make test-fast`` (menos de 30 s). Cada prueba de esta capa corre con una
  caché vacía propia y ``TALLER_BASE_URL`` apuntando a un puerto cerrado, así
  que una prueba que necesite datos sin decirlo falla aquí en lugar de
  descargar a escondidas.
- ``data``: necesita Security-Datasets (usa `mirror_root`, `mirror`, `cache`...).
- ``notebooks``: los cuadernos vueltos a ejecutar con nbval (datos y Java).
- ``site``: construye el sitio con Jupyter Book y revisa el HTML.
- ``browser``: el sitio en Chromium (Playwright, axe-core).
- ``tooling``: herramientas externas: repo2docker, hadolint, check-jsonschema,
  Hunspell, y pip con el índice de paquetes (PyPI: test_windows).

Una prueba (o un archivo, con ``pytestmark``) puede declarar su capa con
``@pytest.mark.data``, etc.; lo declarado manda sobre lo deducido.

Los datos: `mirror_root` es la copia local de Security-Datasets si existe
(``tests/mirror.py`` dice dónde se busca) y, si no, una carpeta con la misma
estructura hecha con lo que descarga ``python -m taller descargar`` desde
``TALLER_BASE_URL`` o, sin esa variable, desde la versión fija de upstream;
nunca se exige que el espejo exista.

El espejo HTTP: un servidor real en 127.0.0.1 (puerto efímero, en un hilo)
que sirve esa carpeta, como haría GitHub o el espejo de un instructor, y que
puede fallar a propósito (404, 500, lentitud, cortes, bytes manipulados) para
probar cada error de descarga sin salir de la máquina.
"""

import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from urllib3.util.retry import Retry

from mirror import REPO, local_mirror, local_sigma
from taller import catalog

# El entorno tal como llega a pytest, antes de que ninguna prueba lo cambie.
ORIGINAL_ENV = dict(os.environ)

LAYERS = ("unit", "data", "notebooks", "site", "browser", "tooling")
# Capa de cada archivo de pruebas que no es de la capa unit en todas sus pruebas.
MODULE_LAYERS = {
    "test_site": "site",
    "test_links": "site",
    "test_browser": "browser",
    "test_accessibility": "browser",
    "test_lab": "browser",
    "test_binder": "tooling",
    "test_docker": "tooling",
    "test_workflows": "tooling",
    "test_ci": "tooling",
    "test_image_workflow": "tooling",
    "test_spelling": "tooling",
}
# Fixtures que delatan la capa de una prueba (también si las pide otra fixture).
FIXTURE_LAYERS = {
    "open_page": "browser",
    "browser": "browser",
    "site": "site",
    "site_url": "site",
    "mirror_root": "data",
    "mirror_server": "data",
    "mirror": "data",
    "cache": "data",
}
# En la copia descargada (sin espejo local): la lista de archivos de upstream en
# el commit fijado, según el árbol de git de GitHub (tests/test_catalog.py).
UPSTREAM_TREE = "ARBOL-UPSTREAM.txt"
# Un puerto donde no escucha nadie: lo que intente descargar en la capa unit falla.
NO_NETWORK = "http://127.0.0.1:9/"


def layer_of(item) -> str:
    declared = [name for name in LAYERS if item.get_closest_marker(name)]
    if declared:
        return declared[0]
    if item.path.suffix == ".ipynb":
        return "notebooks"
    module = MODULE_LAYERS.get(item.path.stem)
    if module:
        return module
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, layer in FIXTURE_LAYERS.items():
        if fixture in fixtures:
            return layer
    return "unit"


def pytest_ignore_collect(collection_path, config):
    """Solo los cuadernos del taller: fuera las copias ocultas (``.algo.ipynb``)."""
    if collection_path.suffix == ".ipynb" and collection_path.name.startswith("."):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = layer_of(item)
        if not item.get_closest_marker(layer):
            item.add_marker(layer)


@pytest.fixture(autouse=True, scope="session")
def _data_sources(tmp_path_factory):
    """De dónde salen los datos fuera de la capa unit, para toda la sesión.

    Lo mismo que ``make``: la copia local de Security-Datasets y de las reglas
    Sigma (tests/mirror.py) si existen y no se indica otra fuente; si no,
    upstream. Así ``pytest`` a secas (el trabajo de las versiones más nuevas,
    con el paquete instalado) no sale a GitHub teniendo el espejo al lado. Con
    el paquete instalado fuera de un clon, la caché es una carpeta temporal de
    la sesión, nunca la del usuario (``~/.cache/taller``). Es de sesión para
    que valga también en las fixtures de módulo, que se preparan antes.
    """
    with pytest.MonkeyPatch.context() as patch:
        for variable, found in (
            ("TALLER_BASE_URL", local_mirror),
            ("TALLER_SIGMA_URL", local_sigma),
        ):
            if not ORIGINAL_ENV.get(variable) and found():
                patch.setenv(variable, str(found()))
        if not ORIGINAL_ENV.get("TALLER_CACHE_DIR") and not catalog.in_clone():
            patch.setenv("TALLER_CACHE_DIR", str(tmp_path_factory.mktemp("cache-sesion")))
        yield


@pytest.fixture(autouse=True)
def _unit_layer_is_offline(request, monkeypatch, tmp_path_factory):
    """Capa unit: caché vacía propia y ninguna fuente de datos alcanzable."""
    if request.node.get_closest_marker("unit"):
        monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path_factory.mktemp("cache-unit")))
        monkeypatch.setenv("TALLER_BASE_URL", NO_NETWORK)
    yield


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # sin ruido en la salida de pytest
        pass

    def do_GET(self):
        mirror = self.server.mirror
        with mirror.lock:
            mirror.requests.append(self.path)
            behaviour = mirror.behaviours.get(self.path)
            if behaviour and behaviour[0] == "status" and behaviour[2] is not None:
                times = behaviour[2] - 1
                mirror.behaviours[self.path] = ("status", behaviour[1], times) if times else None
        body = mirror.body(self.path)
        kind, argument = behaviour[:2] if behaviour else (None, None)
        if kind == "status":
            self.send_error(argument)
        elif body is None:
            self.send_error(404)
        elif kind == "delay":
            mirror.released.wait(argument)
            self._send(body)
        elif kind == "truncate":
            self._send(body, length=len(body), upto=len(body) // 2)
        elif kind == "tamper":
            self._send(body[:-1] + bytes([body[-1] ^ 0xFF]))
        elif kind == "rendezvous":
            argument.wait()
            self._send(body, pause=0.02)
        else:
            self._send(body)

    def _send(self, body, length=None, upto=None, pause=0.0):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length or len(body)))
        self.end_headers()
        data = body[:upto] if upto is not None else body
        for start in range(0, len(data), 64 * 1024):
            self.wfile.write(data[start : start + 64 * 1024])
            time.sleep(pause)


class MirrorServer:
    """Servidor del espejo; los métodos programan cómo responde a una ruta (``/datasets/...``)."""

    def __init__(self, root: Path | None):
        self.root = root.resolve() if root else None
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.requests: list[str] = []
        self.behaviours: dict = {}
        self.extra: dict[str, bytes] = {}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clientes que cortan a propósito
        self.httpd.mirror = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def body(self, path: str) -> bytes | None:
        if path in self.extra:
            return self.extra[path]
        if self.root is None:
            return None
        file = self.root / path.lstrip("/")
        return (
            file.read_bytes() if file.is_file() and self.root in file.resolve().parents else None
        )

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.behaviours.clear()
            self.extra.clear()

    def fail(self, path, status, times=None):
        """Responde `status`; si se da `times`, solo esas veces y luego sirve el archivo."""
        self.behaviours[path] = ("status", status, times)

    def delay(self, path, seconds):
        self.behaviours[path] = ("delay", seconds)

    def truncate(self, path):
        """Anuncia el tamaño completo, envía la mitad y cierra la conexión."""
        self.behaviours[path] = ("truncate", None)

    def tamper(self, path):
        """Sirve el archivo con su último byte cambiado."""
        self.behaviours[path] = ("tamper", None)

    def rendezvous(self, path, clients):
        """No responde hasta que lleguen `clients` peticiones; luego envía despacio."""
        self.behaviours[path] = ("rendezvous", threading.Barrier(clients, timeout=20))

    def serve(self, path, data: bytes):
        """Sirve bytes generados por la prueba en `path`."""
        self.extra[path] = data

    def count(self, path) -> int:
        return self.requests.count(path)


def _download_mirror(root: Path, cache: Path) -> Path:
    """Una carpeta como el espejo, con lo que descarga `taller` por su camino normal.

    ``python -m taller descargar`` (en un proceso aparte, con ``TALLER_BASE_URL``
    del entorno original o upstream, sus reintentos y una caché temporal `cache`:
    nunca la ``datasets/`` de la copia) descarga y verifica cada archivo del
    catálogo cuyo tamaño se conoce (los del espejo); aquí se copian a su ruta de
    upstream y se añaden las fichas de metadatos de upstream que comprueba
    ``test_catalog.py``, con los mismos reintentos que el paquete. Si los datos
    vienen de upstream, se guarda además la lista de archivos del commit fijado
    (el árbol de git que publica la API de GitHub, en `UPSTREAM_TREE`) y se
    descargan todas sus fichas: así el catálogo se compara con todo upstream
    también donde no hay espejo local (GitHub Actions).
    """
    entries = [entry for entry in catalog.datasets().values() if entry.size is not None]
    env = {**ORIGINAL_ENV, "PYTHONPATH": str(REPO), "TALLER_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [sys.executable, "-m", "taller", "descargar", *(entry.name for entry in entries)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, (
        "Sin espejo local (tests/mirror.py), las pruebas de datos los descargan con "
        "`python -m taller descargar`, que falló:\n"
        f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    for entry in entries:
        target = root / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache / entry.relative_path, target)
    cards = set()
    for entry in catalog.datasets().values():
        parts = entry.path.split("/")
        if entry.id and parts[1] == "compound":
            cards.add(f"datasets/compound/_metadata/{parts[2]}.yaml")
        elif entry.id:
            cards.add(f"datasets/atomic/_metadata/{entry.id}.yaml")
    upstream = not ORIGINAL_ENV.get("TALLER_BASE_URL")
    base = (ORIGINAL_ENV.get("TALLER_BASE_URL") or catalog.upstream_url()).rstrip("/")
    # Los reintentos del paquete (TALLER_RETRIES, 2 por defecto) ante los mismos
    # fallos pasajeros: conexión, tiempo de espera y HTTP 5xx; un 404 no se repite.
    attempts = int(ORIGINAL_ENV.get("TALLER_RETRIES") or 2) + 1
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        max_retries=Retry(
            total=attempts - 1,
            backoff_factor=1,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=("GET",),
        )
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)

    def copy_card(card):
        target = root / card
        target.parent.mkdir(parents=True, exist_ok=True)
        if "://" not in base:
            shutil.copyfile(Path(base) / card, target)
            return
        response = session.get(f"{base}/{card}", timeout=60)
        response.raise_for_status()
        target.write_bytes(response.content)

    if upstream:
        commit = catalog.upstream_url().rstrip("/").rsplit("/", 1)[1]
        response = session.get(
            f"https://api.github.com/repos/OTRF/Security-Datasets/git/trees/{commit}",
            params={"recursive": "1"},
            timeout=120,
        )
        response.raise_for_status()
        tree = response.json()
        assert not tree["truncated"], "la API de GitHub devolvió el árbol incompleto"
        paths = sorted(item["path"] for item in tree["tree"] if item["type"] == "blob")
        (root / UPSTREAM_TREE).write_text("\n".join(paths) + "\n", encoding="utf-8")
        cards |= {
            path
            for path in paths
            if path.startswith("datasets/") and "/_metadata/" in path and path.endswith(".yaml")
        }

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(copy_card, sorted(cards)))
    return root


@pytest.fixture(scope="session")
def mirror_root(tmp_path_factory) -> Path:
    """La copia de Security-Datasets: la local si existe; si no, descargada."""
    return local_mirror() or _download_mirror(
        tmp_path_factory.mktemp("security-datasets"), tmp_path_factory.mktemp("cache-datos")
    )


def _running(server: MirrorServer):
    server.thread.start()
    yield server
    server.released.set()
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture(scope="session")
def mirror_server(mirror_root):
    yield from _running(MirrorServer(mirror_root))


@pytest.fixture
def fake_mirror():
    """Un espejo HTTP vacío para la capa unit: solo sirve lo que la prueba le da
    con ``serve(ruta, bytes)`` y falla como se le programe; sin datos reales."""
    yield from _running(MirrorServer(None))


@pytest.fixture
def mirror(mirror_server):
    """El espejo HTTP, sin fallos programados ni peticiones anotadas."""
    mirror_server.reset()
    yield mirror_server
    mirror_server.reset()


@pytest.fixture
def cache(tmp_path, mirror, monkeypatch) -> Path:
    """Caché vacía y propia de la prueba, que descarga del espejo HTTP sin reintentos."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TALLER_CACHE_DIR", str(folder))
    monkeypatch.setenv("TALLER_BASE_URL", mirror.url)
    monkeypatch.setenv("TALLER_TIMEOUT", "5")
    monkeypatch.setenv("TALLER_RETRIES", "0")
    return folder


# --- Sitio construido y navegador (pruebas de lo que ve el lector) ---
# El sitio se construye una sola vez por sesión; el navegador es el Chromium de Debian.
from browser_support import browser, open_page, site, site_url  # noqa: E402,F401
