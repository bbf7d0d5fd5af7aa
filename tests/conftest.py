"""Fixtures compartidas por las pruebas.

El espejo HTTP: un servidor real en 127.0.0.1 (puerto efímero, en un hilo)
que sirve la copia local de Security-Datasets, como haría GitHub o el espejo
de un instructor, y que puede fallar a propósito (404, 500, lentitud, cortes,
bytes manipulados) para probar cada error de descarga sin salir de la
máquina. La copia se busca en ``<repo>/../shared/security-datasets`` o en la
variable ``TALLER_MIRROR``.
"""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("TALLER_MIRROR") or REPO.parent / "shared" / "security-datasets")


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
            self.wfile.write(data[start:start + 64 * 1024])
            time.sleep(pause)


class MirrorServer:
    """Servidor del espejo; los métodos programan cómo responde a una ruta (``/datasets/...``)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
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
        file = self.root / path.lstrip("/")
        return file.read_bytes() if file.is_file() and self.root in file.resolve().parents else None

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.behaviours.clear()
            self.extra.clear()

    def fail(self, path, status, times=None):
        """Responde `status`; si se da `times`, solo esas veces y luego sirve el fichero."""
        self.behaviours[path] = ("status", status, times)

    def delay(self, path, seconds):
        self.behaviours[path] = ("delay", seconds)

    def truncate(self, path):
        """Anuncia el tamaño completo, envía la mitad y cierra la conexión."""
        self.behaviours[path] = ("truncate", None)

    def tamper(self, path):
        """Sirve el fichero con su último byte cambiado."""
        self.behaviours[path] = ("tamper", None)

    def rendezvous(self, path, clients):
        """No responde hasta que lleguen `clients` peticiones; luego envía despacio."""
        self.behaviours[path] = ("rendezvous", threading.Barrier(clients, timeout=20))

    def serve(self, path, data: bytes):
        """Sirve bytes generados por la prueba en `path`."""
        self.extra[path] = data

    def count(self, path) -> int:
        return self.requests.count(path)


@pytest.fixture(scope="session")
def mirror_root() -> Path:
    assert (MIRROR / "datasets").is_dir(), (
        f"No está la copia de Security-Datasets en {MIRROR}; indíquela con TALLER_MIRROR."
    )
    return MIRROR


@pytest.fixture(scope="session")
def mirror_server(mirror_root):
    server = MirrorServer(mirror_root)
    server.thread.start()
    yield server
    server.released.set()
    server.httpd.shutdown()
    server.httpd.server_close()


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
    monkeypatch.setenv("TALLER_REINTENTOS", "0")
    return folder


# --- Sitio construido y navegador (pruebas de lo que ve el lector) ---
# El sitio se construye una sola vez por sesión; el navegador es el Chromium de Debian.
from browser_support import browser, open_page, site, site_url  # noqa: E402,F401
