"""Validación en el borde: cada ajuste y cada argumento se comprueba una vez, al entrar.

Los ajustes (las variables ``TALLER_*``: `taller.catalog` lee las de la caché
y el origen; este módulo, ``TALLER_TIMEOUT`` y ``TALLER_RETRIES`` con
`timeout` y `retries`), las opciones de la línea de comandos (`taller.cli`) y el argumento de
`taller.load` pasan por aquí antes de usarse. Un valor que no vale da un
`TallerError` en español que nombra el ajuste, el valor (sin secretos: las
credenciales de una URL se tapan con `redact`) y un ejemplo de uno correcto;
nunca una traza de Python.

Este módulo no importa nada del paquete salvo los errores: lo pueden usar
todas las etapas.
"""

import ipaddress
import math
import os
import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit
from urllib.request import url2pathname

from taller.errors import TallerError

# Valores por defecto de TALLER_TIMEOUT (segundos sin recibir datos) y TALLER_RETRIES.
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
# Tope de TALLER_TIMEOUT: una hora sin recibir datos ya no es una descarga lenta.
MAX_TIMEOUT = 3600.0
# Tope de TALLER_RETRIES: más reintentos solo alargan la espera de un fallo.
MAX_RETRIES = 10
# Más largo que esto no es una ruta ni una URL que alguien escriba (PATH_MAX de Linux).
MAX_TEXT = 4096
_SECRET_QUERY = re.compile(
    r"((?:token|key|secret|password|passwd|pwd|sig|signature|auth|access_token)=)[^&#\s]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` sin secretos: ``https://ana:clave@h/x`` da ``https://***@h/x``.

    También tapa el valor de ``?token=…`` y parecidos.

    Sirve para URL sueltas y para mensajes que las contienen.
    """
    text = re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@«»\"']*@", r"\1***@", str(text))
    return _SECRET_QUERY.sub(r"\1***", text)


def shown(value: str, limit: int = 120) -> str:
    """Un valor tal como se muestra en un mensaje: sin secretos y, si es enorme, recortado."""
    value = redact(value)
    if len(value) > limit:
        value = f"{value[: limit - 30]}… ({len(value)} caracteres)"
    return repr(value)


def number(variable: str, value: str, example: str, *, integer: bool, top: float) -> float:
    """Un número de un ajuste: finito, no negativo (mayor que cero si no es entero) y ≤ `top`."""
    text = value.strip()
    try:
        if integer:
            parsed = int(text) if re.fullmatch(r"\+?\d{1,18}", text) else math.nan
        else:
            parsed = float(text.replace(",", "."))
    except ValueError:
        parsed = math.nan
    if parsed == math.inf and text.lstrip("+")[:1].isdigit():  # 1e999: enorme, no «infinito»
        parsed = top * 2
    kind = "un número entero, 0 o más" if integer else "un número positivo de segundos"
    low_ok = parsed >= 0 if integer else parsed > 0
    if not (math.isfinite(parsed) and low_ok):
        extra = "" if integer else ", mayor que cero y finito"
        raise TallerError(
            f"La variable {variable}={shown(value)} debe ser {kind}{extra} "
            f"(por ejemplo, {example})."
        )
    if parsed > top:
        raise TallerError(
            f"La variable {variable}={shown(value)} es demasiado grande: debe ser {kind} "
            f"hasta {top:g} (por ejemplo, {example})."
        )
    return parsed


def url(text: str, who: str, example: str) -> SplitResult:
    """Una URL http(s) bien escrita: dirección, puerto 1–65535, sin espacios ni nulos.

    `who` nombra de dónde viene (``TALLER_BASE_URL=…`` o ``taller.load("…")``).
    """
    problem = None
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        parts, host, port = None, None, None
        reason = str(exc)
        if "IPv6" in reason:
            problem = "la dirección IPv6 está mal escrita (le falta un corchete o sobra algo)"
        elif "port" in reason.lower():
            problem = "el puerto no es un número entre 1 y 65535"
        else:
            problem = "no se entiende como URL"
    if problem is None and parts is not None:
        if parts.scheme.lower() not in ("http", "https"):
            problem = f"usa el protocolo «{parts.scheme}://», y solo se admiten http:// y https://"
        elif not host:
            problem = "le falta la dirección del servidor"
        elif any(c.isspace() or c == "\0" for c in text):
            problem = "contiene espacios o caracteres de control"
        elif port == 0:
            problem = "el puerto no es un número entre 1 y 65535"
        elif re.fullmatch(r"[\d.]+", host) and not _is_ipv4(host):
            problem = f"«{host}» no es una dirección IPv4 válida (cuatro números de 0 a 255)"
    if problem:
        raise TallerError(
            f"{who} no es una URL válida: {problem}. Un ejemplo correcto: {example}."
        )
    return parts


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def address(value: str) -> str:
    """La dirección en la que escucha el espejo del aula: IPv4, IPv6 o un nombre."""
    text = value.strip().strip("[]")
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", text) or ":" in text or not re.fullmatch(r"[A-Za-z0-9.-]+", text):
        raise TallerError(
            f"--direccion {shown(value)} no es una dirección IP válida (cuatro números de 0 a "
            "255 separados por puntos, o una IPv6). Ejemplos: 0.0.0.0 (todas las "
            "interfaces), 192.168.1.10 o ::."
        )
    return text


_ERRNO = {
    "ENAMETOOLONG": "el nombre es demasiado largo",
    "EACCES": "no hay permiso",
    "EPERM": "no hay permiso",
    "ELOOP": "hay un bucle de enlaces simbólicos",
    "ENOTDIR": "una parte de la ruta es un archivo, no una carpeta",
    "EROFS": "el disco es de solo lectura",
    "ENOSPC": "no queda espacio en el disco",
    "EIO": "error de lectura del disco",
}


def reason(exc: OSError) -> str:
    """El motivo de un `OSError`, en español si se conoce."""
    import errno as codes

    name = codes.errorcode.get(exc.errno or 0, "")
    return _ERRNO.get(name) or exc.strerror or str(exc)


def port(value: int) -> int:
    """Un puerto TCP: 0 (uno libre) a 65535."""
    if not 0 <= value <= 65535:
        raise TallerError(
            f"--puerto {value} está fuera de rango: un puerto va de 0 a 65535 (0 elige uno "
            "libre). Por ejemplo, --puerto 8000."
        )
    return value


# --- Ajustes de la descarga ------------------------------------------------------


def _env_value(variable: str) -> str | None:
    value = os.environ.get(variable)
    return value.strip() if value and value.strip() else None


def timeout() -> float:
    """Segundos sin recibir datos (``TALLER_TIMEOUT``): mayor que cero, hasta una hora."""
    value = _env_value("TALLER_TIMEOUT")
    if value is None:
        return DEFAULT_TIMEOUT
    return number("TALLER_TIMEOUT", value, "60", integer=False, top=MAX_TIMEOUT)


def retries() -> int:
    """Reintentos tras un fallo pasajero (``TALLER_RETRIES``): un entero de 0 a 10."""
    value = _env_value("TALLER_RETRIES")
    if value is None:
        return DEFAULT_RETRIES
    return int(number("TALLER_RETRIES", value, "2", integer=True, top=MAX_RETRIES))


def file_url_path(url: str) -> Path:
    """La ruta local de una URL ``file:`` (``file:///home/ana/x.zip`` → ``/home/ana/x.zip``)."""
    return Path(url2pathname(unquote(urlsplit(url).path)))
