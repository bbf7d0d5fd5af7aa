"""Por qué falló una descarga, en español, con el remedio de esa causa y solo de esa.

`taller.transfer` copia los bytes; cuando algo falla, `explain` traduce la
excepción a un `TallerError` que nombra la causa real: el código HTTP (un 429
es «demasiadas peticiones», no un espejo mal configurado), el protocolo (una
redirección a ``ftp://`` es cosa del servidor, no de cómo se escribió
``TALLER_BASE_URL``; un servidor que no habla HTTP, o ``https://`` contra un
espejo que solo habla ``http://``), una descarga demasiado lenta o un disco
lleno. Ninguna dirección sale con sus credenciales (`taller.edge.redact`).
"""

import errno
import re

from taller import catalog, edge, files
from taller.errors import TallerError


class Stalled(Exception):
    """El servidor dejó de enviar datos a mitad del cuerpo."""


class TooSlow(Exception):
    """La descarga entera pasó de su plazo total (`taller.transfer.deadline`)."""

    def __init__(self, seconds: float, received: int, total: int | None):
        super().__init__(seconds)
        self.seconds, self.received, self.total = seconds, received, total


class Mismatch(Exception):
    """La huella de lo recibido no es la del catálogo."""


class NotFoundLocally(Exception):
    def __init__(self, path, special: bool = False):
        super().__init__(str(path))
        self.path, self.special = path, special


def _redirect_target(exc) -> str | None:
    """La URL a la que redirigió el servidor, si el error viene de una redirección."""
    found = re.search(r"['\"]((?:[a-z][a-z0-9+.-]*:)[^'\"]*)['\"]", str(exc), re.IGNORECASE)
    return found[1] if found else None


def _protocol_problem(exc) -> str | None:
    """¿El otro extremo no habla el protocolo que se esperaba?"""
    text = repr(exc)
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return (
            "el servidor no habla https:// (TLS) en esa dirección; si es un espejo del aula "
            "(`taller servir`), use http:// en TALLER_BASE_URL"
        )
    if "BadStatusLine" in text or "RemoteDisconnected" in text or "InvalidChunkLength" in text:
        return "lo que respondió en esa dirección y puerto no es un servidor web (HTTP)"
    return None


def explain(exc: BaseException, label: str, where: str, own: bool, settings):
    """Traduce un fallo de descarga a un mensaje en español con el remedio.

    `own` es True si la dirección la dio el alumno (una URL fuera del catálogo):
    entonces el remedio no es revisar ``TALLER_BASE_URL`` sino su URL.
    """
    import requests

    what, where = f"«{label}»", edge.redact(where)
    setting = "la URL" if own else "TALLER_BASE_URL"
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
    if isinstance(exc, Mismatch):
        return TallerError(
            f"El archivo recibido para {what} no coincide con su huella SHA-256 del "
            "catálogo: llegó incompleto, dañado o manipulado, y no se ha guardado. "
            "Vuelva a descargarlo; si se repite, revise el origen (TALLER_BASE_URL)."
        )
    if isinstance(exc, NotFoundLocally):
        if exc.special:
            return TallerError(
                f"En el espejo local, {exc.path} no es un archivo normal (es una tubería, un "
                f"dispositivo o una carpeta): no se copia {what}. Compruebe que "
                "TALLER_BASE_URL apunta a una copia de Security-Datasets."
            )
        return TallerError(
            f"El espejo local no tiene {what}: falta {exc.path}. Compruebe que "
            "TALLER_BASE_URL apunta a una copia de Security-Datasets."
        )
    if isinstance(exc, Stalled):
        return TallerError(
            f"El servidor dejó de enviar datos durante más de {settings[0]:g} s a mitad "
            f"de la descarga de {what} ({where}). No se ha guardado nada. Inténtelo de nuevo, "
            "aumente TALLER_TIMEOUT o use un espejo local con TALLER_BASE_URL."
        )
    if isinstance(exc, TooSlow):
        total = f" de {exc.total}" if exc.total else ""
        return TallerError(
            f"La descarga de {what} ({where}) es demasiado lenta: en {exc.seconds:.0f} s, el "
            f"plazo total que se le da, llegaron {exc.received}{total} bytes. No se ha "
            "guardado nada. "
            + (
                "Inténtelo más tarde, o descárguelo por otro medio y cárguelo con su ruta."
                if own
                else "Inténtelo más tarde o use un espejo más cercano con TALLER_BASE_URL "
                "(el del aula, `taller servir`)."
            )
        )
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status in (404, 410):
            return TallerError(f"El servidor no tiene {what} (HTTP {status} en {where}). {origin}")
        if status == 429:
            return TallerError(
                f"El servidor rechaza por ahora la descarga de {what}: ha recibido demasiadas "
                f"peticiones (HTTP 429 en {where}). Espere unos minutos y vuelva a intentarlo, "
                "o use el espejo del aula con TALLER_BASE_URL."
            )
        if status in (401, 403, 407):
            return TallerError(
                f"El servidor no permite descargar {what} sin autorización (HTTP {status} en "
                f"{where}). {origin}"
            )
        if status < 500:
            return TallerError(
                f"El servidor rechazó la descarga de {what} (HTTP {status} en {where}). {origin}"
            )
        count = settings[1]
        after = (
            ""
            if count == 0
            else ", también tras 1 reintento"
            if count == 1
            else f", también tras {count} reintentos"
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
        # La dirección de partida ya se validó en el borde (`taller.edge.url`): si
        # ahora no vale, es la de una redirección del servidor.
        target = _redirect_target(exc)
        shown = f" a «{edge.redact(target)}»" if target and target != where else ""
        return TallerError(
            f"El servidor ({where}) redirigió la descarga de {what}{shown}, una dirección que "
            "el taller no sigue (solo http:// y https://). No es un error de cómo está escrita "
            f"{setting}: el servidor no entrega el archivo por HTTP. {origin}"
        )
    if isinstance(exc, requests.Timeout):
        return TallerError(
            f"El servidor tardó más de {settings[0]:g} s en responder al descargar {what} "
            f"({where}). Inténtelo de nuevo, aumente TALLER_TIMEOUT o use un espejo local "
            "con TALLER_BASE_URL."
        )
    protocol = _protocol_problem(exc)
    if protocol and isinstance(exc, requests.RequestException):
        return TallerError(
            f"No se pudo descargar {what} ({where}): {protocol}. Compruebe el protocolo "
            f"(http:// o https://) y el puerto de {setting}."
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TallerError(
            f"La descarga de {what} se cortó antes de terminar ({where}). No se ha "
            "guardado nada; vuelva a intentarlo."
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return TallerError(
            f"No se pudo establecer una conexión segura (https://) con el servidor al descargar "
            f"{what} ({where}): su certificado no es válido o no es de confianza. Compruebe "
            f"{setting}; un espejo del aula se indica con http://."
        )
    if isinstance(exc, requests.ConnectionError):
        from urllib.parse import urlsplit

        host = urlsplit(where).netloc.rsplit("@", 1)[-1]
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
        cache = catalog.cache_dir()
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        return TallerError(
            f"No se pudo guardar {what} en la caché ({cache}): {exc.strerror or exc}. "
            + (
                "Libere espacio en el disco o elija otra carpeta con TALLER_CACHE_DIR."
                if full
                else "Compruebe el espacio libre y los permisos, o elija otra carpeta con "
                "TALLER_CACHE_DIR."
            )
        )
    return None
