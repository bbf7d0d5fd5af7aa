"""Transporte de bytes verificado: de una URL o de un espejo local a la caché.

Lo usan la etapa de descarga del catálogo (`taller.download`) y los archivos
propios dados por URL (`fetch_url`). Cómo se copia:

1. Se descarga (o se copia del espejo local) en un temporal de la misma
   carpeta, calculando la huella mientras llegan los bytes
   (`taller.files.hash_chunks`): cada archivo se lee una sola vez. Se deja de
   leer si llega más de lo que se espera (`limit`): un servidor que no termina
   nunca no llena el disco.
2. Solo si la huella coincide (y, si se pide, el contenido es lo que dice su
   nombre), el temporal se renombra al nombre definitivo (un renombrado
   atómico): nunca queda un archivo a medias ni manipulado con el nombre
   bueno, ni siquiera si dos procesos descargan lo mismo a la vez.
3. Los fallos pasajeros (conexión, tiempo de espera, HTTP 5xx, huella) se
   reintentan (``TALLER_RETRIES``, como mucho 10); un 404 o un 403 no,
   porque repetirlos no cambia nada. Además de ``TALLER_TIMEOUT`` (cada
   espera sin datos), cada intento tiene un plazo total (`deadline`) que
   corta también a un servidor que envía un byte por segundo.
4. Cualquier fallo se explica en español, con el remedio (`taller.diagnose.explain`), y deja
   la caché como estaba.

Los ajustes (``TALLER_TIMEOUT``, ``TALLER_RETRIES``) se leen en
`taller.catalog`. Este módulo no importa pandas ni pyarrow, y requests y tqdm
solo cuando hay que descargar algo.
"""

import errno
import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from taller import archive, cache, catalog, diagnose, edge, files
from taller.errors import TallerError

# Sin tamaño conocido (una URL propia), como mucho esto.
MAX_DOWNLOAD = 1 << 30
_CHUNK = 1 << 16
# Extensiones que se saben cargar de una URL o de una ruta propia.
# .log: un registro de Zeek (TSV o JSON), que también es una tabla.
OWN_SUFFIXES = (*archive.ARCHIVE_SUFFIXES, ".jsonl", ".json", ".log")


def is_url(location: str) -> bool:
    """¿Es una URL http:// o https://?"""
    return location.lower().startswith(("http://", "https://"))


def _bar(label: str, total: int | None):
    from tqdm import tqdm

    return tqdm(
        desc=f"Descargando {label}",
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        dynamic_ncols=True,
    )


# Ritmo mínimo que se exige a una descarga entera: por debajo, se abandona.
MIN_RATE = 16 << 10  # 16 KiB/s


def deadline(wait: float, expected: int) -> float:
    """Plazo total, en segundos, de una descarga de `expected` bytes.

    `wait` (``TALLER_TIMEOUT``) solo acota cada espera sin datos: un servidor
    que envía un byte por segundo nunca la agota. El plazo total exige además
    un ritmo mínimo (`MIN_RATE`): 17 KB con ``TALLER_TIMEOUT=5`` tienen unos
    6 s; el archivo más grande del catálogo, unos minutos.
    """
    return 2 * wait + expected / MIN_RATE


def _session(sockets: list):
    """Una sesión de requests que apunta cada socket que abre en `sockets`.

    Así el plazo total (`_copy_http`) puede cortar la conexión también mientras
    llegan las cabeceras, que requests no deja acotar en conjunto.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Plain(HTTPConnection):
        def connect(self):
            super().connect()
            sockets.append(self.sock)

    class Secure(HTTPSConnection):
        def connect(self):
            super().connect()
            sockets.append(self.sock)

    class PlainPool(HTTPConnectionPool):
        ConnectionCls = Plain

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = Secure

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": PlainPool, "https": SecurePool}

    session = requests.Session()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session


class _Watchdog:
    """Corta las conexiones de una descarga cuando vence su plazo total."""

    def __init__(self, sockets: list):
        self.sockets, self.expired, self.timer = sockets, threading.Event(), None

    def arm(self, seconds: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.seconds = seconds
        self.timer = threading.Timer(max(seconds, 0.01), self._expire)
        self.timer.daemon = True
        self.timer.start()

    def _expire(self) -> None:
        self.expired.set()
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def _copy_http(url: str, out, limit: int, bar, wait: float) -> str:
    import requests
    from urllib3.exceptions import ReadTimeoutError

    sockets: list = []
    watchdog = _Watchdog(sockets)
    start = time.monotonic()
    watchdog.arm(deadline(wait, 1 << 14))  # cabeceras: como mucho lo que tardarían 16 KiB
    try:
        with _session(sockets) as session, session.get(url, stream=True, timeout=wait) as response:
            response.raise_for_status()
            length = response.headers.get("Content-Length", "")
            expected = limit
            if length.isdigit():
                if int(length) > limit:
                    raise files.TooBig(int(length), limit)
                bar.total = expected = int(length)
                bar.refresh()
            elif bar.total:
                expected = bar.total
            watchdog.arm(deadline(wait, expected) - (time.monotonic() - start))
            digest = files.hash_chunks(response.iter_content(_CHUNK), out, limit, bar.update)[1]
    except Exception as exc:
        if watchdog.expired.is_set():
            raise diagnose.TooSlow(time.monotonic() - start, bar.n, bar.total) from exc
        if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
            # urllib no entiende la dirección a la que redirige el servidor (IPv6 mal escrita)
            raise requests.exceptions.InvalidURL(str(exc)) from exc
        if isinstance(exc, requests.ConnectionError):
            reason = exc.args[0] if exc.args else None
            if isinstance(reason, ReadTimeoutError) or "Read timed out" in str(exc):
                raise diagnose.Stalled() from exc
        raise
    finally:
        watchdog.cancel()
    if watchdog.expired.is_set():  # el corte llegó justo al final: lo leído puede estar incompleto
        raise diagnose.TooSlow(time.monotonic() - start, bar.n, bar.total)
    return digest


def _copy_local(source: Path, out, limit: int, bar, wait: float) -> str:
    try:
        handle = files.open_regular(source)
    except (FileNotFoundError, NotADirectoryError):
        raise diagnose.NotFoundLocally(source) from None
    except (IsADirectoryError, OSError) as exc:
        if isinstance(exc, IsADirectoryError) or exc.errno == errno.EINVAL:
            raise diagnose.NotFoundLocally(source, special=True) from None
        raise
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise files.TooBig(size, limit)
        bar.total = size
        return files.hash_chunks(files.chunks_of(handle, _CHUNK), out, limit, bar.update)[1]


def _retriable(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status >= 500 or status in (408, 429)
    if isinstance(
        exc,
        requests.TooManyRedirects
        | requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return False
    return isinstance(exc, diagnose.Mismatch | diagnose.Stalled | requests.RequestException)


def _download(source, target: Path, label: str, sha256, limit: int, check, size, settings):
    """Descarga `source` (URL o ruta local) en `target`, verificado, con reintentos.

    Si se da `sha256`, lo recibido debe tener esa huella; `check(temporal)`
    puede comprobar algo más (que sea un archivo comprimido legible). Solo
    entonces se publica con un renombrado atómico; si algo falla, el temporal
    se borra y la excepción llega a quien llama.
    """
    wait, retries = settings
    attempts = 1 + retries
    for attempt in range(attempts):
        scratch = files.temporary_name(target.parent, "-" + target.name)
        try:
            with open(scratch, "wb") as out, _bar(label, size) as bar:
                copy = _copy_local if isinstance(source, Path) else _copy_http
                digest = copy(source, out, limit, bar, wait)
            if sha256 and digest != sha256:
                raise diagnose.Mismatch()
            if check:
                check(scratch)
            files.publish(scratch, target)
            return
        except Exception as exc:
            if attempt + 1 < attempts and _retriable(exc):
                time.sleep(min(attempt + 1, 5) * 0.5)
                continue
            raise
        finally:
            scratch.unlink(missing_ok=True)


def retrieve(
    source,
    target: Path,
    label: str,
    where: str,
    *,
    sha256: str | None,
    limit: int,
    own: bool,
    damaged: bool = False,
    check=None,
    size: int | None = None,
) -> None:
    """Copia `source` en `target` verificado; si falla, deja la caché como estaba.

    `where` es la dirección que se nombra en los mensajes; `own`, si la dio
    quien aprende (una URL propia); `damaged`, si había en la caché una copia
    dañada (el mensaje de error lo dice también).
    """
    created = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    settings = None
    try:
        # Los ajustes se leen una vez; un valor erróneo se explica antes de empezar.
        settings = (edge.timeout(), edge.retries())
        target.parent.mkdir(parents=True, exist_ok=True)
        files.clean_stale_temporaries(target.parent)
        _download(source, target, label, sha256, limit, check, size, settings)
    except BaseException as exc:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        error = (
            exc
            if isinstance(exc, TallerError)
            else diagnose.explain(exc, label, where, own, settings)
        )
        if error is None:
            raise
        if damaged:
            error = TallerError(
                f"La copia de «{label}» que había en la caché está dañada (su SHA-256 no "
                f"coincide con el catálogo) y no se pudo descargar de nuevo. {error}"
            )
        raise error from None


def _check_download(path: Path, label: str, suffix: str) -> None:
    """Lo descargado de una URL propia debe ser lo que dice su nombre."""
    if suffix in archive.ARCHIVE_SUFFIXES:
        archive.describe(path, label)
        return
    with open(path, "rb") as handle:
        start = handle.read(4096).lstrip()
    if start[:1] != b"{":
        looks = "una página web (HTML)" if start[:1] == b"<" else "otra cosa"
        raise TallerError(
            f"Lo que devolvió la URL para «{label}» no es JSON Lines (parece {looks}). "
            "No se ha guardado nada: compruebe la URL."
        )


def url_suffix(url: str) -> str | None:
    """Extensión reconocida en la ruta de una URL (``.zip``, ``.tar.gz``, ``.json``...)."""
    name = unquote(urlsplit(url).path).lower()
    for suffix in OWN_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def fetch_url(url: str) -> Path:
    """Descarga un archivo que no está en el catálogo (sin huella que comprobar).

    Antes de guardarlo en ``<caché>/otros/`` se comprueba que está entero y
    que es lo que dice su nombre (un archivo comprimido legible, o JSON); si
    no, no se guarda nada. No se vuelve a descargar si ya está.
    """
    label = Path(unquote(urlsplit(url).path)).name or url
    suffix = url_suffix(url)
    if suffix is None:
        raise TallerError(
            f"La URL «{url}» no termina en .zip, .tar.gz ni .json: no se sabe cómo cargar "
            "lo que devuelva."
        )
    digest = files.hash_chunks([url.encode()])[1][:16]  # la URL, no el contenido
    target = catalog.cache_dir() / cache.OTHERS / f"{digest}-{label}"
    if target.is_file():
        return target
    retrieve(
        url,
        target,
        label,
        url,
        sha256=None,
        limit=MAX_DOWNLOAD,
        own=True,
        check=lambda path: _check_download(path, label, suffix),
    )
    return target
