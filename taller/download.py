"""Descarga verificada, extracción comprobada y mensajes de error en español.

Descargar un conjunto del catálogo:

1. Si su archivo comprimido ya está en la caché, se calcula su SHA-256 y, si
   coincide con el del catálogo, no se descarga nada. Si no coincide, se avisa
   y se descarga de nuevo (si eso falla, el mensaje dice también que la copia
   de la caché estaba dañada).
2. Se descarga (o se copia del espejo local) en un temporal de la misma
   carpeta, calculando la huella mientras llegan los bytes: cada archivo se
   lee una sola vez. Se deja de leer si llega más de lo que dice el catálogo
   (con un margen): un servidor que no termina nunca no llena el disco.
3. Solo si la huella coincide, el temporal se renombra al nombre definitivo
   (un renombrado atómico): nunca queda un archivo a medias ni manipulado con
   el nombre bueno, ni siquiera si dos procesos descargan lo mismo a la vez.
4. Los fallos pasajeros (conexión, tiempo de espera, HTTP 5xx, huella) se
   reintentan; un 404 o un 403 no, porque repetirlos no cambia nada.
5. La extracción (`taller.archive`) queda descrita en el manifiesto de la
   caché (`taller.cache`); si lo extraído no coincide con él, se rehace.

Variables de entorno: ``TALLER_TIMEOUT`` (segundos sin recibir datos antes de
abandonar; 60 por defecto) y ``TALLER_RETRIES`` (reintentos tras un fallo
pasajero; 2 por defecto). Además, las de `taller.catalog`.

Este módulo no importa pandas ni pyarrow, y requests y tqdm solo cuando hay
que descargar algo.
"""

import hashlib
import math
import os
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from taller import archive, cache, catalog, files
from taller.errors import TallerError

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
# Lo que se acepta por encima del tamaño del catálogo antes de cortar la descarga.
SIZE_MARGIN = 1 << 20
# Sin tamaño conocido (una URL propia), como mucho esto.
MAX_DOWNLOAD = 1 << 30
_CHUNK = 1 << 16


def _env_value(variable: str) -> str | None:
    value = os.environ.get(variable)
    return value.strip() if value and value.strip() else None


def timeout() -> float:
    """Segundos de espera sin recibir datos (``TALLER_TIMEOUT``): un número mayor que cero."""
    value = _env_value("TALLER_TIMEOUT")
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value.replace(",", "."))
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise TallerError(
            f"La variable TALLER_TIMEOUT={value!r} debe ser un número positivo de segundos, "
            "mayor que cero y finito (por ejemplo, 60)."
        )
    return seconds


def retries() -> int:
    """Reintentos tras un fallo pasajero (``TALLER_RETRIES``): un entero, 0 o más."""
    value = _env_value("TALLER_RETRIES")
    if value is None:
        return DEFAULT_RETRIES
    if not value.isdigit():
        raise TallerError(
            f"La variable TALLER_RETRIES={value!r} debe ser un número entero, 0 o más "
            "(por ejemplo, 2)."
        )
    return int(value)


def _is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


class _TooBig(Exception):
    def __init__(self, received: int, limit: int):
        super().__init__(received)
        self.received, self.limit = received, limit


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


def _copy_http(url: str, out, limit: int, bar, digest) -> None:
    import requests
    from urllib3.exceptions import ReadTimeoutError

    with requests.get(url, stream=True, timeout=timeout()) as response:
        response.raise_for_status()
        length = response.headers.get("Content-Length", "")
        if length.isdigit():
            if int(length) > limit:
                raise _TooBig(int(length), limit)
            bar.total = int(length)
            bar.refresh()
        try:
            _write_chunks(response.iter_content(_CHUNK), out, limit, bar, digest)
        except requests.ConnectionError as exc:
            reason = exc.args[0] if exc.args else None
            if isinstance(reason, ReadTimeoutError) or "Read timed out" in str(exc):
                raise _Stalled() from exc
            raise


def _copy_local(source: Path, out, limit: int, bar, digest) -> None:
    try:
        handle = open(source, "rb")  # noqa: SIM115 (se cierra abajo)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise _NotFoundLocally(source) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise _TooBig(size, limit)
        bar.total = size
        _write_chunks(iter(lambda: handle.read(_CHUNK), b""), out, limit, bar, digest)


def _write_chunks(chunks, out, limit: int, bar, digest) -> None:
    """Copia los trozos en `out` con su huella y su progreso; corta al pasar de `limit`."""
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise _TooBig(received, limit)
        out.write(chunk)
        digest.update(chunk)
        bar.update(len(chunk))


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


def _download(
    source,
    target: Path,
    label: str,
    sha256: str | None,
    limit: int,
    check=None,
    size: int | None = None,
) -> None:
    """Descarga `source` (URL o ruta local) en `target`, verificado, con reintentos.

    Si se da `sha256`, lo recibido debe tener esa huella; `check(temporal)`
    puede comprobar algo más (que sea un archivo comprimido legible). Solo
    entonces se publica con un renombrado atómico; si algo falla, el temporal
    se borra y la excepción llega a quien llama.
    """
    attempts = 1 + retries()
    timeout()  # un valor erróneo se explica antes de empezar
    for attempt in range(attempts):
        scratch = files.temporary_name(target.parent, "-" + target.name)
        try:
            digest = hashlib.sha256()
            with open(scratch, "wb") as out, _bar(label, size) as bar:
                if isinstance(source, Path):
                    _copy_local(source, out, limit, bar, digest)
                else:
                    _copy_http(source, out, limit, bar, digest)
            if sha256 and digest.hexdigest() != sha256:
                raise _Mismatch()
            if check:
                check(scratch)
            files.make_readable(scratch)
            os.replace(scratch, target)
            return
        except Exception as exc:
            if attempt + 1 < attempts and _retriable(exc):
                time.sleep(min(attempt + 1, 5) * 0.5)
                continue
            raise
        finally:
            scratch.unlink(missing_ok=True)


def _explain(exc: BaseException, label: str, where: str, own: bool) -> TallerError | None:
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
    if isinstance(exc, _TooBig):
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
            f"El servidor dejó de enviar datos durante más de {timeout():g} s a mitad de la "
            f"descarga de {what} ({where}). No se ha guardado nada. Inténtelo de nuevo, "
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
        count = retries()
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
            f"El servidor tardó más de {timeout():g} s en responder al descargar {what} "
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


def _retrieve(
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
    """Descarga con `_download`; si falla, deja la caché como estaba y explica el error."""
    created = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        files.clean_stale_temporaries(target.parent)
        _download(source, target, label, sha256, limit, check, size)
    except BaseException as exc:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        error = exc if isinstance(exc, TallerError) else _explain(exc, label, where, own)
        if error is None:
            raise
        if damaged:
            error = TallerError(
                f"La copia de «{label}» que había en la caché está dañada (su SHA-256 no "
                f"coincide con el catálogo) y no se pudo descargar de nuevo. {error}"
            )
        raise error from None


def _mirror_source(entry: catalog.Dataset):
    """(origen, dirección para los mensajes) de un conjunto según TALLER_BASE_URL."""
    base = catalog.base_url().strip()
    if _is_url(base):
        url = base.rstrip("/") + "/" + entry.path
        return url, url
    if base.lower().startswith("file:"):
        base = url2pathname(unquote(urlsplit(base).path))
    elif "://" in base:
        raise TallerError(
            f"TALLER_BASE_URL={base!r} no es una URL http:// o https:// ni una carpeta. "
            "Indique la dirección de un espejo (http://192.168.1.10:8000/) o la ruta de "
            "una copia de Security-Datasets."
        )
    root = Path(base).expanduser()
    if not root.is_dir():
        raise TallerError(
            f"El espejo local no tiene «{entry.name}»: la carpeta «{base}» de "
            "TALLER_BASE_URL no existe (o no es una carpeta). Compruebe la ruta."
        )
    source = root / entry.path
    return source, str(source)


def _archive_digest(entry: catalog.Dataset) -> str | None:
    """Huella del archivo de la caché (None si no está); errores claros si no se lee."""
    path = entry.archive_path
    if path.is_dir():
        raise TallerError(
            f"En la caché, donde debería estar el archivo de «{entry.name}» ({path}), hay "
            "una carpeta. Bórrela (o muévala) y vuelva a descargar."
        )
    try:
        return files.sha256(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TallerError(
            f"No se puede leer el archivo de «{entry.name}» en la caché ({path}): "
            f"{exc.strerror or exc}. Compruebe sus permisos o bórrelo para descargarlo de nuevo."
        ) from None


def fetch_entry(entry: catalog.Dataset) -> Path:
    """El archivo comprimido de `entry` en la caché, verificado (descargado si hace falta)."""
    path = entry.archive_path
    digest = _archive_digest(entry)
    if digest == entry.sha256:
        return path
    source, where = _mirror_source(entry)
    limit = entry.size + max(SIZE_MARGIN, entry.size // 10) if entry.size else MAX_DOWNLOAD
    _retrieve(
        source,
        path,
        entry.name,
        where,
        sha256=entry.sha256,
        limit=limit,
        own=False,
        damaged=digest is not None,
        size=entry.size,
    )
    if digest is not None:
        cache.notice(
            f"el archivo de «{entry.name}» que había en la caché estaba dañado; "
            "se ha descargado de nuevo y verificado."
        )
    return path


def fetch(name: str) -> Path:
    """Ruta local del archivo comprimido de un conjunto del catálogo, ya verificado.

    Lo descarga (o copia del espejo) solo si falta o si su huella no coincide.
    """
    return fetch_entry(catalog.resolve(name))


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
    for suffix in (*catalog.ARCHIVE_SUFFIXES, ".jsonl", ".json"):
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
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    target = catalog.cache_dir() / cache.OTHERS / f"{digest}-{label}"
    if target.is_file():
        return target
    _retrieve(
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


# --- Extracción comprobada ---------------------------------------------------


def _extract(entry: catalog.Dataset, archive_path: Path, replace: bool) -> dict:
    """Extrae el archivo verificado con su manifiesto; devuelve el manifiesto."""
    manifest = {}

    def add_manifest(staging: Path, members) -> None:
        manifest.update(cache.new_manifest(entry, members))
        cache.write_manifest(staging, manifest)

    try:
        archive.extract(
            archive_path,
            entry.extract_dir,
            entry.name,
            replace=replace,
            before_publish=add_manifest,
        )
    except OSError as exc:
        raise TallerError(
            f"No se pudo extraer «{entry.name}» en la caché ({catalog.cache_dir()}): "
            f"{exc.strerror or exc}. Compruebe el espacio libre y los permisos, o elija otra "
            "carpeta con TALLER_CACHE_DIR."
        ) from None
    found = cache.read_manifest(entry)
    if found is None or found["archive"]["sha256"] != entry.sha256:
        return manifest  # otro proceso la publicó a la vez; la nuestra es igual de válida
    return found


def extraction(entry: catalog.Dataset, deep: bool = True) -> dict:
    """Manifiesto de la extracción verificada de `entry` (descarga y extrae si hace falta).

    Si lo extraído no coincide con el manifiesto (falta algo, cambió su
    tamaño o su huella, o se extrajo de otro archivo), se vuelve a extraer del
    archivo comprimido verificado y se avisa.
    """
    archive_path = fetch_entry(entry)
    manifest = cache.read_manifest(entry)
    problem = cache.extraction_problem(entry, manifest, deep=deep)
    if problem is None:
        return manifest
    existed = entry.extract_dir.exists()
    files.clean_stale_temporaries(entry.extract_dir.parent)
    if existed and manifest is None and _adopt(entry, archive_path):
        return cache.read_manifest(entry)
    manifest = _extract(entry, archive_path, replace=existed)
    if existed:
        cache.notice(
            f"la carpeta extraída de «{entry.name}» no era fiable ({problem}); "
            "se ha vuelto a extraer del archivo verificado."
        )
    return manifest


# Copias que dejaban versiones anteriores del taller junto al JSON.
_OLD_COPIES = (".json.arrow",)


def _adopt(entry: catalog.Dataset, archive_path: Path) -> bool:
    """Una carpeta extraída por una versión anterior del taller (sin manifiesto):
    si cada archivo coincide en tamaño y huella con el archivo verificado, se le
    escribe el manifiesto sin volver a extraer nada, en silencio."""
    members = archive.describe(archive_path, entry.name)
    for member in members:
        path = entry.extract_dir / member.name
        try:
            if path.stat().st_size != member.size or files.sha256(path) != member.sha256:
                return False
        except OSError:
            return False
    for child in entry.extract_dir.iterdir():
        if child.name.endswith(_OLD_COPIES):
            child.unlink(missing_ok=True)
    try:
        cache.write_manifest(entry.extract_dir, cache.new_manifest(entry, members))
    except OSError:
        return False
    return True


def extracted_files(name: str) -> list[Path]:
    """Archivos extraídos de un conjunto, verificados; lo descarga y extrae si hace falta."""
    entry = catalog.resolve(name)
    return [entry.extract_dir / member for member in extraction(entry)["members"]]


def json_file(entry: catalog.Dataset, deep: bool = True) -> Path:
    """Ruta del JSON extraído y verificado de `entry`."""
    manifest = extraction(entry, deep=deep)
    paths = [entry.extract_dir / member for member in manifest["members"]]
    return archive.json_file(paths, entry.name, f"Están en {entry.extract_dir}.")


def json_path(name: str) -> Path:
    """Ruta del JSON extraído de un conjunto (lo descarga, verifica y extrae si hace falta)."""
    return json_file(catalog.resolve(name))
