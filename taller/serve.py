"""Espejo del aula: ``python -m taller servir``.

El instructor descarga y verifica los datos una vez (``python -m taller
descargar --todos``) y los sirve por HTTP en la red del aula. Cada asistente
descarga de ahí, con la misma verificación SHA-256, indicando la dirección en
``TALLER_BASE_URL``: nadie depende de la conexión del local a GitHub.

El espejo reproduce la estructura de Security-Datasets (``/datasets/<ruta>``)
y es de solo lectura y deliberadamente estrecho:

- Solo sirve los archivos comprimidos del catálogo que están en la caché y
  cuya huella SHA-256 coincide con la del catálogo al arrancar. La lista de
  rutas servibles se calcula entonces; una petición nunca se convierte en una
  ruta del disco, así que ``..``, ``%2e%2e`` o rutas absolutas no llevan a
  ninguna parte: todo lo que no está en la lista recibe un 404.
- Un archivo de la caché que sea un enlace simbólico, o que por cualquier otro
  camino esté fuera de la caché, no se sirve.
- Antes de enviar un archivo se comprueba que no ha cambiado desde que se
  verificó (inodo, tamaño y fecha); si cambió, se vuelve a calcular su huella
  y, si ya no es la del catálogo, no se sirve.
- Solo responde a GET y HEAD. Aguanta un aula: una cola de conexiones para
  más de 60 asistentes a la vez y un plazo (`CLIENT_TIMEOUT`) para quien se
  conecta y no pide nada o lee muy despacio.
"""

import os
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from taller import catalog, edge
from taller.files import sha256

DEFAULT_ADDRESS = "0.0.0.0"  # todas las interfaces: el espejo es para la red del aula
DEFAULT_PORT = 8000
_CHUNK = 1 << 16
# Segundos que se espera a un cliente callado (petición a medias o lectura parada).
CLIENT_TIMEOUT = 30
# Conexiones en cola antes de que el sistema rechace más: un aula de 60 a la vez.
BACKLOG = 128
_TYPES = {".zip": "application/zip", ".gz": "application/gzip"}
_NOT_FOUND = (
    "No está en el catálogo del taller. Este espejo solo sirve los conjuntos de "
    "datos del catálogo; úselo con TALLER_BASE_URL y `python -m taller descargar`.\n"
)


def servable_files(root: Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Rutas URL (``/datasets/...``) de los archivos que se pueden servir, y avisos.

    Un archivo se sirve si está en el catálogo, existe en la caché como archivo
    normal (no un enlace simbólico), queda dentro de la caché y su SHA-256
    coincide con el del catálogo.
    """
    root = Path(root or catalog.cache_dir())
    real_root = root.resolve()
    files, problems = {}, []
    for entry in catalog.datasets().values():
        path = root / entry.relative_path
        if not path.exists() and not path.is_symlink():
            if entry.selected:  # los demás (corpus, resto de upstream) son opcionales
                problems.append(f"{entry.name}: no está en la caché")
            continue
        steps = [
            root.joinpath(*Path(entry.relative_path).parts[: i + 1])
            for i in range(len(Path(entry.relative_path).parts))
        ]
        real = path.resolve()
        if (
            any(step.is_symlink() for step in steps)
            or real_root not in real.parents
            or not real.is_file()
        ):
            problems.append(
                f"{entry.name}: no es un archivo normal dentro de la caché; no se sirve"
            )
            continue
        if sha256(real) != entry.sha256:
            problems.append(f"{entry.name}: su SHA-256 no coincide con el catálogo; no se sirve")
            continue
        files["/datasets/" + entry.relative_path] = Servable(real, entry.sha256, _stamp(real))
    return files, problems


def _stamp(path: Path) -> tuple:
    info = path.stat()
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class Servable:
    """Un archivo verificado del espejo: su ruta, su huella y cómo era al verificarlo."""

    def __init__(self, path: Path, digest: str, stamp: tuple):
        self.path, self.digest, self.stamp = path, digest, stamp

    def still_good(self) -> bool:
        """¿Sigue siendo el archivo que se verificó? Si cambió, se vuelve a verificar."""
        try:
            if self.path.is_symlink() or not self.path.is_file():
                return False
            stamp = _stamp(self.path)
            if stamp != self.stamp:
                if sha256(self.path) != self.digest:
                    return False
                self.stamp = stamp
        except OSError:
            return False
        return True


class _Handler(BaseHTTPRequestHandler):
    server_version = "taller-espejo"
    sys_version = ""
    timeout = CLIENT_TIMEOUT  # socket.settimeout de cada conexión

    def log_message(self, format, *args):
        sys.stderr.write(f"{self.address_string()} · {format % args}\n")

    def _target(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        target = self.server.files.get(path)
        # Se vuelve a comprobar en cada petición: que nadie haya cambiado el
        # archivo (ni por un enlace simbólico) desde que arrancó el espejo.
        if target is None or not target.still_good():
            return None
        return target.path

    def _answer(self, send_body: bool) -> None:
        target = self._target()
        if target is None:
            body = _NOT_FOUND.encode("utf-8")
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        with open(target, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            self.send_response(HTTPStatus.OK)
            self.send_header(
                "Content-Type", _TYPES.get(target.suffix.lower(), "application/octet-stream")
            )
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                while chunk := handle.read(_CHUNK):
                    self.wfile.write(chunk)

    def do_GET(self):  # noqa: N802 (nombre que exige http.server)
        self._answer(send_body=True)

    def do_HEAD(self):  # noqa: N802
        self._answer(send_body=False)

    def send_error(self, code, message=None, explain=None):
        # Las respuestas de error de http.server (405, 400...) van en inglés y en HTML.
        reason = _ERRORS.get(int(code), "la petición no es válida")
        body = f"Error {int(code)}: {reason}.\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


_ERRORS = {
    400: "la petición no es HTTP válida",
    408: "la petición tardó demasiado en llegar",
    414: "la dirección pedida es demasiado larga",
    431: "las cabeceras de la petición son demasiado grandes",
    501: "el espejo del taller solo admite GET y HEAD",
    505: "versión de HTTP no admitida",
}


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = BACKLOG  # listen(): el valor por defecto (5) no da para un aula

    def __init__(self, address: str, port: int, files: dict[str, Path]):
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, port), _Handler)
        self.files = files


def _listen_problem(exc: OSError, address: str, port: int) -> str:
    """Por qué no se puede escuchar, con el remedio de esa causa."""
    import errno

    where = f"{address}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"el puerto {port} ya está en uso en {address}. Elija otro con --puerto (p. ej. 8001)."
        )
    if exc.errno == errno.EACCES:
        return (
            f"no hay permiso para escuchar en {where} (los puertos por debajo de 1024 exigen "
            "privilegios). Elija otro con --puerto (p. ej. 8000)."
        )
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (
            f"la dirección {address} no es de este equipo (o no existe). Use 0.0.0.0 (todas "
            "las interfaces) o una de sus direcciones: "
            + (", ".join(lan_addresses()) or "127.0.0.1")
            + "."
        )
    return f"no se puede escuchar en {where} ({exc.strerror or exc})."


def lan_addresses() -> list[str]:
    """Direcciones IPv4 de este equipo en la red local (sin enviar nada)."""
    found = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # dirección de documentación: no sale ningún paquete
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        found += socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        pass
    return [address for address in dict.fromkeys(found) if not address.startswith("127.")]


def urls(address: str, port: int) -> list[str]:
    """Las URL base que deben usar los asistentes."""
    if address in ("0.0.0.0", "::", ""):
        hosts = lan_addresses() or ["127.0.0.1"]
    else:
        hosts = [address]
    # Una dirección IPv6 va entre corchetes en una URL.
    return ["http://" + (f"[{host}]" if ":" in host else host) + f":{port}/" for host in hosts]


def serve(address: str = DEFAULT_ADDRESS, port: int = DEFAULT_PORT) -> int:
    """Sirve la caché verificada hasta Ctrl+C; devuelve el código de salida."""
    address, port = edge.address(address), edge.port(port)
    root = catalog.cache_dir()
    print(f"Comprobando la caché {root}…", flush=True)
    files, problems = servable_files(root)
    for problem in problems:
        print(f"  aviso: {problem}", flush=True)
    if not files:
        print(
            "Error: no hay ningún conjunto verificado que servir. Descárguelos antes con "
            "`python -m taller descargar --todos`.",
            file=sys.stderr,
        )
        return 1
    try:
        server = MirrorServer(address, port, files)
    except OSError as exc:
        print(f"Error: {_listen_problem(exc, address, port)}", file=sys.stderr)
        return 1
    port = server.server_address[1]
    lessons = {"/datasets/" + entry.relative_path for entry in catalog.selection()}
    corpus = {"/datasets/" + entry.relative_path for entry in catalog.corpus()}
    hunting = len(corpus & files.keys())
    print(
        f"Espejo del aula: {len(lessons & files.keys())} de {len(lessons)} conjuntos "
        "verificados (los de las lecciones)"
        + (f" y {hunting} de {len(corpus)} del corpus de caza" if hunting else "")
        + f", solo lectura, en {address}:{port}."
    )
    print("Los asistentes descargan los datos con:")
    for url in urls(address, port):
        print(f"  TALLER_BASE_URL={url} python -m taller descargar --todos")
        if corpus & files.keys():  # el corpus de caza del cuaderno 09
            print(f"  TALLER_BASE_URL={url} python -m taller descargar --corpus")
    print("Pulse Ctrl+C para pararlo.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nEspejo parado.")
    finally:
        server.server_close()
    return 0
