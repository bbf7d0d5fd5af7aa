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
   reintentan; un 404 o un 403 no, porque repetirlos no cambia nada.
4. Cualquier fallo se explica en español, con el remedio (`_explain`), y deja
   la caché como estaba.

Los ajustes (``TALLER_TIMEOUT``, ``TALLER_RETRIES``) se leen en
`taller.catalog`. Este módulo no importa pandas ni pyarrow, y requests y tqdm
solo cuando hay que descargar algo.
"""

import os
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from taller import archive, cache, catalog, files
from taller.errors import TallerError

# Sin tamaño conocido (una URL propia), como mucho esto.
MAX_DOWNLOAD = 1 << 30
_CHUNK = 1 << 16
# Extensiones que se saben cargar de una URL o de una ruta propia.
OWN_SUFFIXES = (*catalog.ARCHIVE_SUFFIXES, ".jsonl", ".json")


def is_url(location: str) -> bool:
    """¿Es una URL http:// o https://?"""
    return location.lower().startswith(("http://", "https://"))


class _Stalled(Exception):
    """El servidor dejó de enviar datos a mitad del cuerpo."""


class _Mismatch(Exception):
    """La huella de lo recibido no es la del catálogo."""


class _NotFoundLocally(Exception):
    def __init__(self, path: Path):
        super().__init__(str(path))
        self.path = path


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


def _copy_http(url: str, out, limit: int, bar, wait: float) -> str:
    import requests
    from urllib3.exceptions import ReadTimeoutError

    with requests.get(url, stream=True, timeout=wait) as response:
        response.raise_for_status()
        length = response.headers.get("Content-Length", "")
        if length.isdigit():
            if int(length) > limit:
                raise files.TooBig(int(length), limit)
            bar.total = int(length)
            bar.refresh()
        try:
            return files.hash_chunks(response.iter_content(_CHUNK), out, limit, bar.update)[1]
        except requests.ConnectionError as exc:
            reason = exc.args[0] if exc.args else None
            if isinstance(reason, ReadTimeoutError) or "Read timed out" in str(exc):
                raise _Stalled() from exc
            raise


def _copy_local(source: Path, out, limit: int, bar, wait: float) -> str:
    try:
        handle = open(source, "rb")  # noqa: SIM115 (se cierra abajo)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise _NotFoundLocally(source) from None
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
    return isinstance(exc, _Mismatch | _Stalled | requests.RequestException)


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
                raise _Mismatch()
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


def _explain(exc: BaseException, label: str, where: str, own: bool, settings):
    """Traduce un fallo de descarga a un mensaje en español con el remedio.

    `own` es True si la dirección la dio el alumno (una URL fuera del catálogo):
    entonces el remedio no es revisar ``TALLER_BASE_URL`` sino su URL.
    """
    import requests

    what = f"«{label}»"
    origin = (
        "Compruebe la URL."
        if own
        else "Compruebe que TALLER_BASE_URL apunta a un espejo con la misma estructura "
        "que Security-Datasets."
    )
    if isinstance(exc, files.TooBig):
        return TallerError(
            f"El origen envió más de {exc.limit} bytes para {what}, más de lo que puede "
            f"ocupar ({where}). Se ha detenido la descarga y no se ha guardado nada. "
            + (
                "Compruebe que la URL es la de un conjunto de datos."
                if own
                else "Revise el origen (TALLER_BASE_URL): no sirve el archivo del catálogo."
            )
        )
    if isinstance(exc, _Mismatch):
        return TallerError(
            f"El archivo recibido para {what} no coincide con su huella SHA-256 del "
            "catálogo: llegó incompleto, dañado o manipulado, y no se ha guardado. "
            "Vuelva a descargarlo; si se repite, revise el origen (TALLER_BASE_URL)."
        )
    if isinstance(exc, _NotFoundLocally):
        return TallerError(
            f"El espejo local no tiene {what}: falta {exc.path}. Compruebe que "
            "TALLER_BASE_URL apunta a una copia de Security-Datasets."
        )
    if isinstance(exc, _Stalled):
        return TallerError(
            f"El servidor dejó de enviar datos durante más de {settings[0]:g} s a mitad "
            f"de la descarga de {what} ({where}). No se ha guardado nada. Inténtelo de nuevo, "
            "aumente TALLER_TIMEOUT o use un espejo local con TALLER_BASE_URL."
        )
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status in (404, 410):
            return TallerError(f"El servidor no tiene {what} (HTTP {status} en {where}). {origin}")
        if status < 500:
            return TallerError(
                f"El servidor rechazó la descarga de {what} (HTTP {status} en {where}). {origin}"
            )
        count = settings[1]
        after = (
            ""
            if count == 0
            else (
                ", también tras 1 reintento"
                if count == 1
                else f", también tras {count} reintentos"
            )
        )
        return TallerError(
            f"El servidor respondió con un error HTTP {status} al descargar {what} "
            f"({where}){after}. Inténtelo más tarde o use un espejo local con TALLER_BASE_URL."
        )
    if isinstance(exc, requests.TooManyRedirects):
        return TallerError(
            f"El servidor redirige una y otra vez sin entregar {what} ({where}): "
            f"demasiadas redirecciones. {origin}"
        )
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidHeader,
    ):
        return TallerError(
            f"«{where}» no es una URL válida para descargar {what}. "
            + (
                "Compruebe cómo está escrita."
                if own
                else "Compruebe cómo está escrita TALLER_BASE_URL (p. ej. http://192.168.1.10:8000/)."
            )
        )
    if isinstance(exc, requests.Timeout):
        return TallerError(
            f"El servidor tardó más de {settings[0]:g} s en responder al descargar {what} "
            f"({where}). Inténtelo de nuevo, aumente TALLER_TIMEOUT o use un espejo local "
            "con TALLER_BASE_URL."
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TallerError(
            f"La descarga de {what} se cortó antes de terminar ({where}). No se ha "
            "guardado nada; vuelva a intentarlo."
        )
    if isinstance(exc, requests.ConnectionError):
        host = urlsplit(where).netloc
        return TallerError(
            f"No se pudo conectar con {host} para descargar {what}. ¿Está sin conexión? "
            + (
                "Compruebe también la URL."
                if own
                else "Si el instructor ofrece un espejo local, indíquelo con la variable "
                "TALLER_BASE_URL (una URL como http://192.168.1.10:8000/ o una carpeta)."
            )
        )
    if isinstance(exc, requests.RequestException):
        return TallerError(
            f"No se pudo descargar {what} desde {where} (error de red inesperado: "
            f"{type(exc).__name__}). Vuelva a intentarlo."
        )
    if isinstance(exc, OSError):
        return TallerError(
            f"No se pudo guardar {what} en la caché ({catalog.cache_dir()}): "
            f"{exc.strerror or exc}. Compruebe el espacio libre y los permisos, o elija otra "
            "carpeta con TALLER_CACHE_DIR."
        )
    return None


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
        settings = (catalog.timeout(), catalog.retries())
        target.parent.mkdir(parents=True, exist_ok=True)
        files.clean_stale_temporaries(target.parent)
        _download(source, target, label, sha256, limit, check, size, settings)
    except BaseException as exc:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        error = exc if isinstance(exc, TallerError) else _explain(exc, label, where, own, settings)
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
    if suffix in catalog.ARCHIVE_SUFFIXES:
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
