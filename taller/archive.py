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
  tar en modo flujo. Un gzip de varios miembros (``bgzip``, o dos .tar.gz
  concatenados) se lee entero, miembro a miembro; lo que sigue al último
  miembro y no empieza como un gzip se ignora.
- Nombres que chocan: un archivo que trae a la vez ``a.json`` y ``a.json/b.json``
  (o el mismo nombre dos veces) se rechaza antes de escribir nada.
- Atomicidad: se extrae en una carpeta temporal junto al destino y se
  renombra al final. Otro proceso nunca ve una carpeta a medias; si dos
  extraen a la vez, gana el primero y el segundo descarta su copia. Para
  rehacer una extracción dañada (``replace=True``) la carpeta vieja se aparta
  y se sustituye por la nueva con dos renombrados.

Este módulo no sabe nada del catálogo: recibe rutas y un nombre para los
mensajes, y devuelve el tamaño y la huella SHA-256 de cada archivo extraído
(calculados mientras se escribe: nada se lee dos veces).
"""

import io
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from taller import files
from taller.errors import TallerError

# El mayor JSON del catálogo ocupa 43 MB; 1 GiB deja margen de sobra.
MAX_EXTRACTED_BYTES = 1 << 30
CAPTURE_SUFFIXES = (".cap", ".pcap", ".pcapng")
ARCHIVE_SUFFIXES = (".tar.gz", ".zip")


_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
# Lo que lanzan zipfile, tarfile y zlib ante un archivo que no se puede leer.
_UNREADABLE = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    NotImplementedError,  # método de compresión raro
    RuntimeError,  # cifrado
)


@dataclass(frozen=True)
class Member:
    """Un archivo extraído: su ruta relativa (con «/»), su tamaño y su huella."""

    name: str
    size: int
    sha256: str


class _TolerantGunzip(io.RawIOBase):
    """Flujo descomprimido de un gzip de uno o varios miembros, aunque al último
    le falte la cola o le sobren bytes detrás."""

    def __init__(self, raw):
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._finished = False

    def readable(self):
        return True

    def _next_member(self) -> bool:
        """Tras el fin de un miembro: ¿empieza otro? Si sí, lo prepara."""
        tail = self._inflater.unused_data
        while len(tail) < len(_GZIP_MAGIC):
            more = self._raw.read(_CHUNK)
            if not more:
                break
            tail += more
        if not tail.startswith(_GZIP_MAGIC):
            return False  # fin del flujo (o bytes sobrantes, como en upstream)
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = self._inflater.decompress(tail)
        return True

    def readinto(self, buffer):
        while not self._pending and not self._finished:
            if self._inflater.eof:
                if not self._next_member():
                    self._finished = True
                continue
            compressed = self._raw.read(_CHUNK)
            if not compressed:
                self._finished = True  # sin cola de 8 bytes: se entrega lo que hay
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
            f"«{label}» contiene un archivo con una ruta peligrosa («{name}»): al "
            "extraerlo se escribiría fuera de la caché. No se ha extraído nada; "
            "este archivo está manipulado, no lo use."
        )
    return path


class _Names:
    """Nombres ya vistos: rechaza duplicados y un archivo que también sería carpeta."""

    def __init__(self, label: str):
        self.label = label
        self.files: set[PurePosixPath] = set()
        self.folders: set[PurePosixPath] = set()

    def add(self, path: PurePosixPath) -> None:
        clash = path in self.files or path in self.folders
        clash = clash or any(parent in self.files for parent in path.parents)
        if clash:
            raise TallerError(
                f"«{self.label}» contiene nombres que chocan («{path}» aparece dos veces, "
                "o como archivo y como carpeta a la vez). No se ha extraído nada: el "
                "archivo está mal construido o manipulado."
            )
        self.files.add(path)
        self.folders.update(path.parents)


def _check_total(total: int, label: str) -> None:
    if total > MAX_EXTRACTED_BYTES:
        raise TallerError(
            f"«{label}» se expandiría a más de {MAX_EXTRACTED_BYTES // 2**20} MiB al "
            "extraerlo. No se ha extraído: puede ser una «bomba» de compresión o no ser "
            "un conjunto del taller."
        )


def _zip_members(archive: Path, label: str):
    """(ruta, flujo) de cada archivo del .zip, tras validar nombres y tamaño total."""
    with zipfile.ZipFile(archive) as bundle:
        found = [info for info in bundle.infolist() if not info.is_dir()]
        names = _Names(label)
        paths = [_check_name(info.filename, label) for info in found]
        for path in paths:
            names.add(path)
        _check_total(sum(info.file_size for info in found), label)
        for path, info in zip(paths, found, strict=True):
            with bundle.open(info) as stream:
                yield path, stream


def _tar_members(archive: Path, label: str):
    """(ruta, flujo) de cada archivo del .tar.gz, validando cada cabecera antes de leerlo."""
    total = 0
    names = _Names(label)
    with (
        open(archive, "rb") as raw,
        tarfile.open(
            fileobj=io.BufferedReader(_TolerantGunzip(raw)), mode="r|", ignore_zeros=True
        ) as bundle,
    ):
        for member in bundle:
            if member.isdir():
                continue
            path = _check_name(member.name, label)
            if not member.isfile():
                raise TallerError(
                    f"«{label}» contiene «{member.name}», que no es un archivo normal "
                    "(enlace o dispositivo). No se ha extraído nada."
                )
            names.add(path)
            total += member.size
            _check_total(total, label)
            yield path, bundle.extractfile(member)


def _members(archive: Path, label: str):
    if archive.name.lower().endswith(".zip"):
        return _zip_members(archive, label)
    if archive.name.lower().endswith(".tar.gz"):
        return _tar_members(archive, label)
    raise TallerError(f"«{label}» no es un .zip ni un .tar.gz: no se sabe cómo abrirlo.")


def _publish(staging: Path, destination: Path, replace: bool) -> None:
    """Pone `staging` en el lugar de `destination` con renombrados atómicos."""
    if replace and destination.exists():
        aside = files.temporary_dir(destination.parent)
        try:
            os.rename(destination, aside / "viejo")
        except FileNotFoundError:  # otro proceso la acaba de apartar
            pass
        try:
            os.rename(staging, destination)
        except OSError:
            if not destination.is_dir():
                raise
        finally:
            files.remove(aside)
        return
    try:
        os.rename(staging, destination)
    except OSError:
        if not destination.is_dir():
            raise  # no es que otro proceso se adelantara: el error es real


def extract(
    archive: Path,
    destination: Path,
    label: str,
    *,
    replace: bool = False,
    manifest: tuple[str, Callable[[list[Member]], bytes]] | None = None,
) -> list[Member]:
    """Extrae `archive` en `destination` (que aparece de golpe) y describe lo extraído.

    Si `destination` ya existe y no se pide `replace`, se entiende que otro
    proceso acaba de extraer lo mismo y se conserva la suya. `manifest`, si se
    da, es (nombre, función): la función recibe los miembros extraídos y
    devuelve el contenido de un archivo más, el manifiesto de la caché, que se
    escribe con ese nombre en la carpeta antes de publicarla (así aparece con
    ella, de golpe). Un fallo de disco llega como `OSError`.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = files.temporary_dir(destination.parent)
    try:
        members = []
        for path, stream in _members(archive, label):
            target = staging.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                size, digest = files.hash_chunks(files.chunks_of(stream, _CHUNK), out)
            members.append(Member(str(path), size, digest))
        if not members:
            raise TallerError(f"«{label}» está vacío: no contiene ningún archivo.")
        if manifest:
            name, describe_members = manifest
            (staging / name).write_bytes(describe_members(members))
        for folder, _, _ in os.walk(staging):
            files.make_readable(folder)
        for member in members:
            files.make_readable(staging / member.name)
        _publish(staging, destination, replace)
    except _UNREADABLE as exc:
        raise TallerError(
            f"«{label}» está dañado o incompleto (o cifrado) y no se puede descomprimir "
            f"({_reason(exc)}). Vuelva a descargarlo; si es un archivo propio, compruebe "
            "que se copió entero."
        ) from None
    finally:
        files.remove(staging)
    return members


def _reason(exc: Exception) -> str:
    """El motivo en español, sin los mensajes en inglés de zipfile/tarfile/zlib."""
    if isinstance(exc, RuntimeError | NotImplementedError):
        return "cifrado o con un método de compresión que Python no admite"
    if isinstance(exc, zlib.error):
        return "los datos comprimidos no son válidos"
    if isinstance(exc, EOFError):
        return "termina antes de tiempo"
    if isinstance(exc, zipfile.BadZipFile):
        text = str(exc)
        if "CRC" in text:
            return "la suma de comprobación CRC de un miembro no coincide"
        return "no tiene la estructura de un .zip"
    return "no tiene la estructura de un .tar"


def describe(archive: Path, label: str) -> list[Member]:
    """Lee el archivo entero sin escribir nada y describe sus miembros.

    Sirve para comprobar que un archivo está sano (error en español si no) y
    para reconocer una extracción hecha antes sin volver a escribirla.
    """
    members = []
    try:
        for path, stream in _members(archive, label):
            size, digest = files.hash_chunks(files.chunks_of(stream, _CHUNK))
            members.append(Member(str(path), size, digest))
    except _UNREADABLE as exc:
        raise TallerError(
            f"«{label}» está dañado o incompleto (o cifrado) y no se puede descomprimir "
            f"({_reason(exc)})."
        ) from None
    if not members:
        raise TallerError(f"«{label}» está vacío: no contiene ningún archivo.")
    return members


def json_file(paths: list[Path], label: str, location: str) -> Path:
    """El único JSON entre los archivos extraídos; si son capturas de red, lo explica."""
    # «__MACOSX/._x.json» (metadatos de macOS que traen 14 archivos de upstream) no es un JSON.
    found = [
        path
        for path in paths
        if path.name.lower().endswith(".json") and not path.name.startswith("._")
    ]
    if len(found) == 1:
        return found[0]
    if found:
        raise TallerError(
            f"«{label}» contiene varios JSON ({', '.join(p.name for p in found)}); "
            "cárguelos uno a uno indicando la ruta de cada archivo."
        )
    from taller import shapes  # trae pyarrow: solo al cargar, nunca al listar

    names = [path.name for path in paths]
    logs = shapes.zeek_logs(names)
    if len(logs) == 1:  # un solo registro de Zeek: es la tabla
        return next(path for path in paths if path.name == logs[0])
    reason = shapes.refusal(label, names)
    if reason:
        raise TallerError(reason if len(logs) > 1 else f"{reason} {location}")
    names = ", ".join(path.name for path in paths)
    raise TallerError(f"«{label}» no contiene ningún archivo JSON (contiene: {names}).")
