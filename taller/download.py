"""Descarga y verificación de los conjuntos de datos, con pooch.

pooch ya resuelve lo delicado: descarga en un fichero temporal dentro de la
misma carpeta, comprueba la huella SHA-256 y solo entonces lo renombra al
nombre definitivo (un renombrado atómico). Por eso nunca queda un archivo a
medias ni manipulado con el nombre bueno, ni siquiera si dos procesos
descargan lo mismo a la vez: cada uno escribe su temporal y el último
renombrado deja un archivo igual de válido. Si el archivo ya está en la caché,
pooch vuelve a comprobar su huella y lo descarga de nuevo si no coincide.

Lo que se añade aquí:

- Un espejo local: si ``TALLER_BASE_URL`` es una carpeta, se copia el archivo
  en lugar de descargarlo, pero por el mismo camino de pooch (temporal,
  huella, renombrado) gracias a su interfaz de «downloaders».
- Una barra de progreso en español por intento, con tqdm.
- Mensajes de error en español que dicen qué conjunto falló y qué hacer, y
  una caché que queda como estaba: se borran las carpetas vacías que se
  crearon para una descarga fallida.
- La extracción del archivo junto a él (`taller.archive`), para que cargar un
  conjunto ya descargado no tenga que descomprimir nada.

Variables de entorno: ``TALLER_TIMEOUT`` (segundos sin recibir datos antes de
abandonar; 60 por defecto) y ``TALLER_REINTENTOS`` (reintentos tras un fallo
de red o de huella; 2 por defecto). Además, las de `taller.catalog`.
"""

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import requests
from tqdm import TqdmWarning, tqdm

with warnings.catch_warnings():
    # pooch importa tqdm.auto, que en un Jupyter sin ipywidgets avisa por la
    # salida de errores; el taller usa su propia barra (tqdm) y no la necesita.
    warnings.simplefilter("ignore", TqdmWarning)
    import pooch

from taller import archive, catalog
from taller.errors import TallerError

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
_CHUNK = 1 << 16

# pooch informa en inglés de cada paso; los mensajes útiles los damos nosotros.
pooch.get_logger().setLevel(logging.WARNING)


def _env_number(variable: str, default: float, kind: type):
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = -1
    if number < 0:
        raise TallerError(f"La variable {variable}={value!r} debe ser un número positivo.")
    return number


def timeout() -> float:
    """Segundos de espera sin recibir datos (``TALLER_TIMEOUT``)."""
    return _env_number("TALLER_TIMEOUT", DEFAULT_TIMEOUT, float)


def retries() -> int:
    """Reintentos tras un fallo de red o de huella (``TALLER_REINTENTOS``)."""
    return _env_number("TALLER_REINTENTOS", DEFAULT_RETRIES, int)


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class _Downloader:
    """«Downloader» de pooch: HTTP(S) o copia de un espejo local, con barra en español."""

    def __init__(self, label: str, size: int | None = None):
        self.label = label
        # Tamaño esperado: la barra empieza con su total. Nunca None: pooch hace
        # `if progressbar:` y una barra de tqdm sin total no admite bool().
        self.size = size or 1
        self.timeout = timeout()

    def __call__(self, url: str, output_file: str, pooch_instance) -> None:
        with tqdm(desc=f"Descargando {self.label}", total=self.size, unit="B",
                  unit_scale=True, unit_divisor=1024, dynamic_ncols=True) as bar:
            if _is_url(url):
                http = pooch.HTTPDownloader(progressbar=bar, chunk_size=_CHUNK,
                                            timeout=self.timeout)
                http(url, output_file, pooch_instance)
            else:
                source = Path(url)
                bar.total = source.stat().st_size
                with open(source, "rb") as src, open(output_file, "wb") as out:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
        catalog.make_readable(output_file)


def _explain(exc: Exception, label: str, url: str) -> TallerError:
    """Traduce un fallo de descarga a un mensaje en español con el remedio."""
    where = f"«{label}»"
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code
        if status == 404:
            return TallerError(
                f"El servidor no tiene {where} (HTTP 404 en {url}). Compruebe que "
                "TALLER_BASE_URL apunta a un espejo con la misma estructura que Security-Datasets."
            )
        tries = "1 reintento" if retries() == 1 else f"{retries()} reintentos"
        return TallerError(
            f"El servidor respondió con un error HTTP {status} al descargar {where} "
            f"({url}), también tras {tries}. Inténtelo más tarde o use "
            "un espejo local con TALLER_BASE_URL."
        )
    if isinstance(exc, requests.Timeout):
        return TallerError(
            f"El servidor tardó más de {timeout():g} s en responder al descargar {where} "
            f"({url}). Inténtelo de nuevo, aumente TALLER_TIMEOUT o use un espejo local "
            "con TALLER_BASE_URL."
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TallerError(
            f"La descarga de {where} se cortó antes de terminar ({url}). No se ha "
            "guardado nada; vuelva a intentarlo."
        )
    if isinstance(exc, requests.ConnectionError):
        host = urlsplit(url).netloc
        return TallerError(
            f"No se pudo conectar con {host} para descargar {where}. ¿Está sin conexión? "
            "Si el instructor ofrece un espejo local, indíquelo con la variable "
            "TALLER_BASE_URL (una URL como http://192.168.1.10:8000/ o una carpeta)."
        )
    if isinstance(exc, requests.RequestException):
        return TallerError(f"No se pudo descargar {where} desde {url}: {exc}")
    if isinstance(exc, ValueError):  # pooch: la huella SHA-256 no coincide
        return TallerError(
            f"El archivo recibido para {where} no coincide con su huella SHA-256 del "
            "catálogo: llegó incompleto, dañado o manipulado, y no se ha guardado. "
            "Vuelva a descargarlo; si se repite, revise el origen (TALLER_BASE_URL)."
        )
    if isinstance(exc, FileNotFoundError) and exc.filename == url:
        return TallerError(
            f"El espejo local no tiene {where}: falta {url}. Compruebe que "
            "TALLER_BASE_URL apunta a una copia de Security-Datasets."
        )
    return TallerError(
        f"No se pudo guardar {where} en la caché ({catalog.cache_dir()}): {exc}. "
        "Compruebe el espacio libre y los permisos, o elija otra carpeta con TALLER_CACHE_DIR."
    )


def _retrieve(get, target: Path, label: str, url: str) -> Path:
    """Llama a pooch y, si falla, borra las carpetas vacías creadas y explica el error."""
    created = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    try:
        # pooch crea la carpeta con exists() + makedirs(), que falla si otro proceso
        # la crea entre medias; exist_ok=True no tiene ese problema.
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(get())
    except BaseException as exc:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(exc, (requests.RequestException, ValueError, OSError)):
            raise _explain(exc, label, url) from None
        raise


def fetch(name: str) -> Path:
    """Ruta local del archivo comprimido de un conjunto del catálogo, ya verificado.

    Lo descarga (o copia del espejo) solo si falta o si su huella no coincide.
    """
    entry = catalog.resolve(name)
    base = catalog.base_url()
    datasets_url = base.rstrip("/") + "/datasets/"
    store = pooch.create(
        path=catalog.cache_dir(),
        base_url=datasets_url,
        registry={entry.relative_path: f"sha256:{entry.sha256}"},
        retry_if_failed=retries(),
    )
    return _retrieve(
        lambda: store.fetch(entry.relative_path, downloader=_Downloader(entry.name, entry.size)),
        entry.archive_path, entry.name, datasets_url + entry.relative_path,
    )


def fetch_url(url: str) -> Path:
    """Descarga un archivo que no está en el catálogo (sin huella que comprobar).

    Se guarda en ``<caché>/otros/`` con un nombre derivado de la URL, y no se
    vuelve a descargar si ya está.
    """
    name = pooch.utils.unique_file_name(url)
    folder = catalog.cache_dir() / "otros"
    label = Path(urlsplit(url).path).name
    return _retrieve(
        lambda: pooch.retrieve(url, known_hash=None, fname=name, path=folder,
                               downloader=_Downloader(label)),
        folder / name, label, url,
    )


def extracted_files(name: str) -> list[Path]:
    """Ficheros extraídos de un conjunto; lo descarga y extrae si hace falta."""
    entry = catalog.resolve(name)
    archive_path = fetch(entry.name)
    if entry.extract_dir.is_dir():
        return [entry.extract_dir / member for member in entry.members]
    try:
        return archive.extract(archive_path, entry.extract_dir, entry.name)
    except OSError as exc:
        raise TallerError(
            f"No se pudo extraer «{entry.name}» en la caché ({catalog.cache_dir()}): {exc}. "
            "Compruebe el espacio libre y los permisos, o elija otra carpeta con TALLER_CACHE_DIR."
        ) from None


def json_path(name: str) -> Path:
    """Ruta del JSON extraído de un conjunto (lo descarga y extrae si hace falta)."""
    entry = catalog.resolve(name)
    files = extracted_files(entry.name)
    return archive.json_file(files, entry.name, f"Están en {entry.extract_dir}.")
