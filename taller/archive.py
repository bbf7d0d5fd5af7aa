"""Extracción segura de los archivos comprimidos (.zip/.Zip y .tar.gz).

Por qué no basta con ``ZipFile.extractall`` o ``tarfile``:

- Seguridad: un archivo manipulado puede traer miembros como ``../../.bashrc``
  o rutas absolutas (salirse de la caché) o declarar gigas de contenido que
  caben en pocos kilobytes comprimidos. Se comprueba cada nombre antes de
  escribir nada y se rechaza lo que, sumado, pase de `MAX_EXTRACTED_BYTES`.
  ``zipfile`` y ``tarfile`` nunca entregan más bytes de los que declara cada
  miembro, así que basta con sumar lo declarado.
- Los .tar.gz de upstream no son gzip «de libro»: ``gzip``/``tarfile`` fallan
  con ``EOFError`` o ``BadGzipFile`` cuando el flujo termina sin su cola de 8
  bytes o lleva bytes sobrantes detrás (el de este commit trae un «\\n» extra),
  aunque el JSON de dentro esté completo. Aquí se descomprime con
  ``zlib.decompressobj(wbits=31)``, que entrega todo lo que hay, y se lee el
  tar en modo flujo.
- Atomicidad: se extrae en una carpeta temporal junto al destino y se
  renombra al final. Otro proceso nunca ve una carpeta a medias; si dos
  extraen a la vez, gana el primero y el segundo descarta su copia.
"""

import io
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from taller.catalog import CAPTURE_SUFFIXES, make_readable
from taller.errors import TallerError

# El mayor JSON del catálogo ocupa 43 MB; 1 GiB deja margen de sobra.
MAX_EXTRACTED_BYTES = 1 << 30
_CHUNK = 1 << 16


class _TolerantGunzip(io.RawIOBase):
    """Flujo descomprimido de un gzip, aunque le falte la cola o le sobren bytes."""

    def __init__(self, raw):
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending and not self._inflater.eof:
            compressed = self._raw.read(_CHUNK)
            if not compressed:
                break
            self._pending = self._inflater.decompress(compressed)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _check_name(name: str, label: str) -> PurePosixPath:
    """Ruta relativa segura para un miembro, o error si intenta salir de su carpeta."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not path.parts or path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        raise TallerError(
            f"«{label}» contiene un fichero con una ruta peligrosa («{name}»): al "
            "extraerlo se escribiría fuera de la caché. No se ha extraído nada; "
            "este archivo está manipulado, no lo use."
        )
    return path


def _check_total(total: int, label: str) -> None:
    if total > MAX_EXTRACTED_BYTES:
        raise TallerError(
            f"«{label}» se expandiría a más de {MAX_EXTRACTED_BYTES // 2**20} MiB al "
            "extraerlo. No se ha extraído: puede ser una «bomba» de compresión o no ser "
            "un conjunto del taller."
        )


def _zip_members(archive: Path, label: str):
    """(ruta, flujo) de cada fichero del .zip, tras validar nombres y tamaño total."""
    with zipfile.ZipFile(archive) as bundle:
        files = [info for info in bundle.infolist() if not info.is_dir()]
        names = [_check_name(info.filename, label) for info in files]
        _check_total(sum(info.file_size for info in files), label)
        for name, info in zip(names, files):
            with bundle.open(info) as stream:
                yield name, stream


def _tar_members(archive: Path, label: str):
    """(ruta, flujo) de cada fichero del .tar.gz, validando cada cabecera antes de leerlo."""
    total = 0
    with open(archive, "rb") as raw, tarfile.open(
        fileobj=io.BufferedReader(_TolerantGunzip(raw)), mode="r|"
    ) as bundle:
        for member in bundle:
            if member.isdir():
                continue
            name = _check_name(member.name, label)
            if not member.isfile():
                raise TallerError(
                    f"«{label}» contiene «{member.name}», que no es un fichero normal "
                    "(enlace o dispositivo). No se ha extraído nada."
                )
            total += member.size
            _check_total(total, label)
            yield name, bundle.extractfile(member)


def _members(archive: Path, label: str):
    if archive.name.lower().endswith(".zip"):
        return _zip_members(archive, label)
    if archive.name.lower().endswith(".tar.gz"):
        return _tar_members(archive, label)
    raise TallerError(f"«{label}» no es un .zip ni un .tar.gz: no se sabe cómo abrirlo.")


def extract(archive: Path, destination: Path, label: str) -> list[Path]:
    """Extrae `archive` en `destination` (que se crea de golpe) y devuelve sus ficheros.

    Si `destination` ya existe se entiende que otro proceso acaba de extraerlo
    y se devuelve su contenido.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extrayendo-", dir=destination.parent))
    try:
        names = []
        for name, stream in _members(archive, label):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out, _CHUNK)
            names.append(name)
        if not names:
            raise TallerError(f"«{label}» está vacío: no contiene ningún fichero.")
        make_readable(staging)
        try:
            os.rename(staging, destination)
        except OSError:
            if not destination.is_dir():
                raise
            shutil.rmtree(staging)
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError,
            NotImplementedError, RuntimeError) as exc:  # las dos últimas: cifrado o método raro
        shutil.rmtree(staging, ignore_errors=True)
        raise TallerError(
            f"«{label}» está dañado o incompleto (o cifrado) y no se puede descomprimir "
            f"({exc}). Vuelva a descargarlo; si es un archivo propio, compruebe que se "
            "copió entero."
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [destination / name for name in names]


def json_file(files: list[Path], label: str, location: str) -> Path:
    """El único JSON entre los ficheros extraídos; si son capturas de red, lo explica."""
    found = [path for path in files if path.name.lower().endswith(".json")]
    if len(found) == 1:
        return found[0]
    if found:
        raise TallerError(
            f"«{label}» contiene varios JSON ({', '.join(p.name for p in found)}); "
            "cárguelos uno a uno indicando la ruta de cada fichero."
        )
    captures = [path.name for path in files if path.name.lower().endswith(CAPTURE_SUFFIXES)]
    if captures:
        raise TallerError(
            f"«{label}» no contiene eventos JSON sino capturas de tráfico de red "
            f"({', '.join(captures)}). pandas no las lee: ábralas con Wireshark o tshark, "
            f"o conviértalas en registros con Zeek. {location}"
        )
    names = ", ".join(path.name for path in files)
    raise TallerError(f"«{label}» no contiene ningún fichero JSON (contiene: {names}).")
