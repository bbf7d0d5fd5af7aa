"""El manifiesto de la caché: de qué se hizo cada archivo derivado, y su comprobación.

Cada conjunto del catálogo ocupa en la caché su archivo comprimido (``x.zip``)
y, junto a él, la carpeta ``x/`` con lo extraído. En esa carpeta,
``.manifiesto.json`` registra de qué se hizo cada cosa:

- el archivo comprimido del que se extrajo (su SHA-256 y su tamaño, que deben
  ser los del catálogo);
- cada archivo extraído, con su tamaño y su SHA-256;
- la copia Parquet del JSON (si ya se preparó): su nombre, su SHA-256, su
  tamaño, la versión del formato (`PARQUET_FORMAT`) y la huella del JSON del
  que se hizo;
- los archivos extraídos que se borraron a propósito (``pruned``) una vez
  verificada su copia Parquet (``descargar --sin-json``, lo que hace la imagen
  Docker para ocupar menos): su huella sigue anotada, y se vuelven a extraer
  del archivo verificado cuando algo los pide (`taller.download.extraction`).

Un archivo propio (una ruta o una URL fuera del catálogo, `taller.road`)
tiene el mismo manifiesto en ``<caché>/propios/<huella>/``, donde la huella
es la SHA-256 de su contenido: el archivo hace de «archivo comprimido» y la
extracción, que es temporal, solo deja anotados sus miembros.

Este es el único módulo que lee e interpreta el manifiesto (`read_manifest`
lo valida; las etapas lo reciben ya leído y lo pasan a la siguiente).
`load`, `descargar`, `ruta` y `verificar` lo comprueban antes de fiarse de lo
que hay en la caché: lo que no coincide se rehace a partir del archivo
comprimido verificado y se avisa en español por la salida de errores
(`notice`). La caché nunca da por buenos datos viejos o dañados.

Este módulo no importa pandas ni pyarrow: ``verificar`` compara huellas y
tamaños, nada más.
"""

import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from taller import catalog, files

MANIFEST = ".manifiesto.json"
MANIFEST_VERSION = 1
# Súbalo si cambia la forma de leer el JSON o de escribir la copia: las copias
# Parquet de versiones anteriores dejan de valer y se rehacen solas.
PARQUET_FORMAT = 2  # 2: tablas normalizadas por `taller.shapes` (Log Analytics…)
# Carpeta de la caché para lo que se descarga de una URL fuera del catálogo.
OTHERS = "otros"
# Carpeta de la tabla de caza del cuaderno 09 (`taller.hunt.hunting_table`).
HUNT = "corpus"
# Carpeta de las copias Parquet de los archivos propios (`taller.road`): una
# subcarpeta por huella SHA-256 del contenido, con su manifiesto.
OWN = "propios"
SIGMA = "sigma"  # las reglas Sigma y su evaluación (`taller.sigma`)


def notice(message: str) -> None:
    """Avisa al alumno (por la salida de errores) de algo que se ha corregido solo."""
    print(f"Aviso: {message}", file=sys.stderr, flush=True)


def manifest_path(entry: catalog.Dataset) -> Path:
    return entry.extract_dir / MANIFEST


class Unusable:
    """Un manifiesto que está pero no vale (dañado o de una versión más nueva).

    Es falso como None (``if not manifest``), y dice qué le pasa en `problem`,
    para que el aviso al rehacerlo nombre la causa.
    """

    def __init__(self, problem: str):
        self.problem = problem

    def __bool__(self) -> bool:
        return False


# Más que esto no es un manifiesto: una carpeta con miles de archivos ocupa ~1 MiB.
_MAX_MANIFEST = 64 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _name_problem(name) -> str | None:
    """Un nombre de archivo del manifiesto debe quedar dentro de la carpeta."""
    if not isinstance(name, str) or not name or "\0" in name or "\\" in name:
        return f"el nombre {name!r} no es válido"
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith("~"):
        return f"el nombre {name!r} sale de la carpeta"
    return None


def _record_problem(where: str, record, fields: dict) -> str | None:
    if not isinstance(record, dict):
        return f"{where} no es un objeto"
    for key, kind in fields.items():
        value = record.get(key)
        ok = {
            "hex": isinstance(value, str) and _HEX64.fullmatch(value),
            "size": type(value) is int and value >= 0,
            "size?": value is None or (type(value) is int and value >= 0),
            "int": type(value) is int,
            "name": _name_problem(value) is None,
            "text": isinstance(value, str),
        }[kind]
        if not ok:
            return f"{where}.{key} falta o no vale ({value!r:.40})"
    return None


def manifest_problem(data) -> str | None:
    """Qué le pasa a un manifiesto leído (None si cumple el esquema entero).

    El esquema: ``version`` (`MANIFEST_VERSION`), ``dataset`` (texto),
    ``archive`` {file, sha256, size}, ``members`` {nombre: {size, sha256}} y,
    opcionales, ``parquet`` {file, size, sha256, format, source, source_sha256}
    y ``pruned`` [nombres de `members`].
    """
    if not isinstance(data, dict):
        return "no es un objeto JSON"
    version = data.get("version")
    if type(version) is int and version > MANIFEST_VERSION:
        return f"es de una versión más nueva del taller (formato {version})"
    if version != MANIFEST_VERSION or type(version) is not int:
        return f"version falta o no vale ({version!r:.40})"
    if not isinstance(data.get("dataset"), str):
        return "dataset falta o no es texto"
    problem = _record_problem(
        "archive", data.get("archive"), {"file": "text", "sha256": "hex", "size": "size?"}
    )
    members = data.get("members")
    if problem is None and not isinstance(members, dict):
        problem = "members no es un objeto"
    elif problem is None and not members:
        problem = "members está vacío"
    for name, record in (members or {}).items() if problem is None else ():
        problem = _name_problem(name) or _record_problem(
            f"members[{name!r}]", record, {"size": "size", "sha256": "hex"}
        )
        if problem:
            break
    parquet = data.get("parquet")
    if problem is None and parquet is not None:
        problem = _record_problem(
            "parquet",
            parquet,
            {
                "file": "name",
                "size": "size",
                "sha256": "hex",
                "format": "int",
                "source": "text",
                "source_sha256": "hex",
            },
        )
    pruned = data.get("pruned", [])
    if problem is None and not (
        isinstance(pruned, list) and all(name in members for name in pruned)
    ):
        problem = f"pruned no es una lista de archivos extraídos ({pruned!r:.40})"
    return problem


def _nonblocking(path) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))


def read_manifest(entry: catalog.Dataset) -> dict | Unusable | None:
    """El manifiesto de un conjunto, validado entero contra su esquema (`manifest_problem`).

    None si falta; un `Unusable` (falso, con el motivo) si está dañado, no es
    un archivo normal o es de una versión más nueva del taller.
    """
    path = manifest_path(entry)
    try:
        # Como `files.open_regular`, aquí mismo: una tubería no bloquea la lectura.
        with os.fdopen(_nonblocking(path), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return Unusable("su manifiesto no es un archivo normal")
            content = handle.read(_MAX_MANIFEST + 1)
        if len(content) > _MAX_MANIFEST:
            return Unusable(f"su manifiesto está dañado (mide más de {_MAX_MANIFEST >> 20} MiB)")
        data = json.loads(content)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "no es JSON"
        return Unusable(f"su manifiesto está dañado ({reason})")
    problem = manifest_problem(data)
    if problem is None:
        return data
    if problem.startswith("es de una versión más nueva"):
        return Unusable(f"su manifiesto {problem}")
    return Unusable(f"su manifiesto está dañado: {problem}")


def new_manifest(entry: catalog.Dataset, members) -> dict:
    """Manifiesto de una extracción recién hecha (`members`: los de `taller.archive`)."""
    return {
        "version": MANIFEST_VERSION,
        "dataset": entry.name,
        "archive": {"file": entry.archive_path.name, "sha256": entry.sha256, "size": entry.size},
        "members": {
            member.name: {"size": member.size, "sha256": member.sha256} for member in members
        },
    }


def encode(manifest: dict) -> bytes:
    """El contenido del archivo del manifiesto."""
    return json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode() + b"\n"


def manifest_bytes(entry: catalog.Dataset, members) -> bytes:
    """El archivo del manifiesto de una extracción recién hecha (para `taller.archive`)."""
    return encode(new_manifest(entry, members))


def write_manifest(folder: Path, manifest: dict) -> None:
    """Escribe el manifiesto de forma atómica en `folder` (la carpeta extraída)."""
    files.write_atomically(folder / MANIFEST, encode(manifest))


def absent_pruned(entry: catalog.Dataset, manifest) -> list[str]:
    """Los archivos extraídos que se borraron tras verificar su copia Parquet y faltan."""
    pruned = manifest.get("pruned", []) if manifest else []
    return [name for name in pruned if not (entry.extract_dir / name).exists()]


def extraction_problem(
    entry: catalog.Dataset, manifest: dict | None, deep: bool = True
) -> str | None:
    """Qué le pasa a la carpeta extraída de `entry` (None si está bien).

    `deep` compara también la huella SHA-256 de cada archivo (si no, solo su
    tamaño): es lo que hacen ``ruta``, ``descargar`` y ``verificar``. Un
    archivo borrado a propósito (`absent_pruned`) no es un problema: quien lo
    necesite lo vuelve a extraer.
    """
    folder = entry.extract_dir
    if not folder.is_dir():
        return "falta la carpeta extraída"
    if isinstance(manifest, Unusable):
        return manifest.problem
    if not manifest:
        return "no tiene manifiesto (la extrajo una versión anterior del taller o quedó a medias)"
    if manifest["archive"].get("sha256") != entry.sha256:
        return "se extrajo de otro archivo comprimido distinto del del catálogo"
    absent = absent_pruned(entry, manifest)
    for name, record in manifest["members"].items():
        if name in absent:
            continue
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"falta {name}"
        if not path.is_file():
            return f"{name} no es un archivo"
        if size != record["size"]:
            return f"{name} mide {size} bytes en lugar de {record['size']}"
        if deep:
            try:
                digest = files.sha256(path)
            except OSError:
                return f"{name} no se puede leer"
            if digest != record["sha256"]:
                return f"el contenido de {name} no coincide con su huella SHA-256"
    return None


def json_member(manifest: dict) -> str | None:
    """El único JSON extraído, según el manifiesto (None si no hay uno solo)."""
    found = [
        name
        for name in manifest["members"]  # sin «__MACOSX/._x.json» (macOS)
        if name.lower().endswith(".json") and not name.rsplit("/", 1)[-1].startswith("._")
    ]
    return found[0] if len(found) == 1 else None


def parquet_name(member: str) -> str:
    """Nombre (relativo a la carpeta extraída) de la copia Parquet de un JSON."""
    return PurePosixPath(member).with_suffix(".parquet").as_posix()


@dataclass
class ParquetState:
    """Estado de la copia Parquet de un conjunto según su manifiesto."""

    path: Path | None
    sha256: str | None
    problem: str | None  # None: correcta; si no, qué le pasa
    missing: bool = False  # nunca se preparó (no es un daño)


def parquet_state(entry: catalog.Dataset, manifest: dict | None, check_hash: bool = True):
    """¿Se puede confiar en la copia Parquet de `entry`? Compara tamaño y huella."""
    if not manifest or manifest["archive"]["sha256"] != entry.sha256:
        return ParquetState(None, None, "no hay extracción verificada", missing=True)
    record = manifest.get("parquet")
    if not record:
        return ParquetState(None, None, "aún no se ha preparado", missing=True)
    member = record.get("source")
    source = manifest["members"].get(member)
    path = entry.extract_dir / record.get("file", "")
    if source is None or record.get("source_sha256") != source["sha256"]:
        return ParquetState(path, None, "se hizo de otro JSON")
    if record["format"] > PARQUET_FORMAT:
        return ParquetState(path, None, "es de una versión más nueva del taller")
    if record["format"] != PARQUET_FORMAT:
        return ParquetState(path, None, "es de una versión anterior del taller")
    try:
        size = path.stat().st_size
    except OSError:
        return ParquetState(path, None, "falta")
    if size != record["size"]:
        return ParquetState(path, None, f"mide {size} bytes en lugar de {record['size']}")
    if check_hash:
        try:
            if files.sha256(path) != record["sha256"]:
                return ParquetState(path, None, "está dañada: su huella SHA-256 no coincide")
        except OSError:
            return ParquetState(path, None, "no se puede leer")
    return ParquetState(path, record["sha256"], None)


def with_parquet(manifest: dict, member: str, file: str, size: int, digest: str) -> dict:
    """El manifiesto con la copia Parquet recién escrita de `member` (su JSON)."""
    return {
        **manifest,
        "parquet": {
            "file": file,
            "size": size,
            "sha256": digest,
            "format": PARQUET_FORMAT,
            "source": member,
            "source_sha256": manifest["members"][member]["sha256"],
        },
    }
