"""Utilidades de archivos de la caché: permisos, huellas, escritura atómica y temporales.

No conoce el catálogo ni pandas: lo usan todas las etapas del camino de los
datos. `hash_chunks` es la única función del paquete que calcula una huella
SHA-256: la de un archivo (`sha256`), la de lo que llega por la red o de un
espejo mientras se copia (`taller.transfer`), la de cada archivo mientras se
extrae (`taller.archive`) y la de una copia Parquet ya leída en memoria.

Temporales: todo lo que el taller escribe a medias lleva un nombre que
empieza por ``.taller-<pid>-`` (el número del proceso que lo escribe) y se
renombra al nombre definitivo solo cuando está completo y verificado. Si un
proceso muere a mitad (Ctrl+C dos veces, ``kill -9``, un corte de luz), su
temporal queda huérfano; `stale_temporaries` lo reconoce porque su proceso ya
no existe y lleva un minuto sin cambiar (o, si no se puede saber, porque lleva
`STALE_AFTER` segundos sin cambiar) y la siguiente ejecución lo borra.
"""

import errno
import functools
import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

TEMP_PREFIX = ".taller-"
# Nombres de temporales de versiones anteriores del taller (pooch, mkstemp, mkdtemp).
_OLD_TEMPORARIES = re.compile(r"^(tmp[a-z0-9_]{8}(\.tmp)?|\.extrayendo-.*)$")
_OWN_TEMPORARY = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")
# Un temporal sin proceso conocido que lleva esto sin cambiar está abandonado:
# una descarga viva escribe como mucho cada TALLER_TIMEOUT segundos.
STALE_AFTER = 15 * 60
# El de un proceso que ya no existe, tras esto sin cambiar.
DEAD_AFTER = 60
_CHUNK = 1 << 20


@functools.cache
def _umask() -> int:
    """La umask del proceso, leída sin cambiarla cuando el sistema lo permite."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)  # sin /proc: la única forma es cambiarla y restaurarla
    os.umask(current)
    return current


def make_readable(path) -> None:
    """Permisos normales (según la umask) para un temporal que pasa a la caché.

    Los temporales (mkdtemp, mkstemp) nacen con permisos 0700/0600; al
    publicarlos en la caché se les dan los de un archivo normal, para que otro
    usuario (el de la imagen Docker, un compañero) pueda leer lo descargado.
    """
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~_umask())


class TooBig(Exception):
    """Llegaron más bytes de los que se esperaban (`limit`)."""

    def __init__(self, received: int, limit: int):
        super().__init__(received)
        self.received, self.limit = received, limit


def hash_chunks(chunks, out=None, limit: int | None = None, progress=None) -> tuple[int, str]:
    """Tamaño y huella SHA-256 (hexadecimal) de una sucesión de trozos de bytes.

    Si se da `out`, cada trozo se escribe en él a la vez (así nada se lee dos
    veces); `progress(n)` recibe el tamaño de cada trozo. Si se pasa de
    `limit` bytes, se corta con `TooBig` antes de escribir de más.
    """
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if limit is not None and size > limit:
            raise TooBig(size, limit)
        if out is not None:
            out.write(chunk)
        digest.update(chunk)
        if progress is not None:
            progress(len(chunk))
    return size, digest.hexdigest()


def chunks_of(handle, size: int = _CHUNK):
    """Los trozos de un archivo abierto en binario, hasta el final."""
    return iter(lambda: handle.read(size), b"")


def open_regular(path):
    """Abre `path` para leer en binario solo si es un archivo normal.

    Una tubería con nombre (FIFO) o un dispositivo bloquearían la lectura para
    siempre: se abren sin esperar (``O_NONBLOCK``) y se rechazan con un
    `OSError` cuyo ``strerror`` lo dice en español.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "no es un archivo normal (una tubería, un dispositivo…)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path) -> bytes:
    """El contenido entero de un archivo normal (véase `open_regular`)."""
    with open_regular(path) as handle:
        return handle.read()


def sha256(path) -> str:
    """Huella SHA-256 (hexadecimal) de un archivo normal, leída por trozos."""
    with open_regular(path) as handle:
        return hash_chunks(chunks_of(handle))[1]


def publish(scratch: Path, target: Path) -> None:
    """Da permisos normales a un temporal completo y lo pone en su sitio de golpe."""
    make_readable(scratch)
    os.replace(scratch, target)


def temporary_name(folder: Path, suffix: str = "") -> Path:
    """Un nombre libre para un temporal del taller en `folder` (sin crearlo)."""
    handle, name = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=suffix, dir=folder
    )
    os.close(handle)
    return Path(name)


def temporary_dir(folder: Path) -> Path:
    """Una carpeta temporal del taller dentro de `folder`."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=folder))


def write_atomically(path: Path, data: bytes) -> None:
    """Escribe `data` en `path` de golpe: nadie ve nunca el archivo a medias."""
    scratch = temporary_name(path.parent)
    try:
        scratch.write_bytes(data)
        publish(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def is_temporary(name: str) -> bool:
    """¿Es el nombre de un temporal del taller (de esta versión o de las anteriores)?"""
    return bool(_OWN_TEMPORARY.match(name) or _OLD_TEMPORARIES.match(name))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # existe, pero es de otro usuario
        return True
    return True


def is_stale(path: Path, now: float | None = None, grace: bool = True) -> bool:
    """¿Es un temporal abandonado por un proceso que ya no existe o que dejó de escribir?

    Un proceso que no existe en esta máquina podría existir en otra que comparte
    la caché (un contenedor con la carpeta montada): por eso además se exige que
    el temporal lleve `DEAD_AFTER` segundos sin cambiar; ``grace=False`` (lo que
    hace ``verificar``, a petición de quien la ejecuta) no espera ese minuto.
    Un temporal con la hora en el futuro no cuenta como recién escrito.
    """
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    own = _OWN_TEMPORARY.match(path.name)
    if own and not _alive(int(own.group(1))):
        # Una hora en el futuro (un reloj mal puesto, una copia de otro equipo)
        # no cuenta como «recién escrito»: nadie escribe en el futuro.
        return not grace or age > DEAD_AFTER or age < -DEAD_AFTER
    return age > STALE_AFTER or age < -STALE_AFTER


def stale_temporaries(folder: Path) -> list[Path]:
    """Temporales abandonados directamente dentro de `folder`."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    now = time.time()
    return [folder / name for name in names if is_temporary(name) and is_stale(folder / name, now)]


def remove(path: Path) -> bool:
    """Borra un archivo o una carpeta entera, si se puede; dice si ya no está."""
    import shutil

    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    except OSError:  # caché de solo lectura: se deja como está
        return False
    return True


def clean_stale_temporaries(folder: Path) -> int:
    """Borra los temporales abandonados de `folder` y dice cuántos ha borrado."""
    return sum(remove(path) for path in stale_temporaries(folder))
