"""El manifiesto de la caché: de qué se hizo cada archivo derivado, y su comprobación.

Cada conjunto del catálogo ocupa en la caché su archivo comprimido (``x.zip``)
y, junto a él, la carpeta ``x/`` con lo extraído. En esa carpeta,
``.manifiesto.json`` registra de qué se hizo cada cosa:

- el archivo comprimido del que se extrajo (su SHA-256 y su tamaño, que deben
  ser los del catálogo);
- cada archivo extraído, con su tamaño y su SHA-256;
- la copia Parquet del JSON (si ya se preparó): su nombre, su SHA-256, su
  tamaño, la versión del formato (`PARQUET_FORMAT`) y la huella del JSON del
  que se hizo.

`load`, `descargar`, `ruta` y `verificar` lo comprueban antes de fiarse de lo
que hay en la caché: lo que no coincide se rehace a partir del archivo
comprimido verificado y se avisa en español por la salida de errores
(`notice`). La caché nunca da por buenos datos viejos o dañados.

Este módulo no importa pandas ni pyarrow: ``verificar`` compara huellas y
tamaños, nada más.
"""

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from taller import catalog, files

MANIFEST = ".manifiesto.json"
MANIFEST_VERSION = 1
# Súbalo si cambia la forma de leer el JSON o de escribir la copia: las copias
# Parquet de versiones anteriores dejan de valer y se rehacen solas.
PARQUET_FORMAT = 1
# Carpeta de la caché para lo que se descarga de una URL fuera del catálogo.
OTHERS = "otros"
# Carpeta de la tabla de caza del cuaderno 09 (`taller.hunt.hunting_table`).
HUNT = "corpus"
# Carpeta de las reglas Sigma y de su evaluación (`taller.sigma`).
SIGMA = "sigma"


def notice(message: str) -> None:
    """Avisa al alumno (por la salida de errores) de algo que se ha corregido solo."""
    print(f"Aviso: {message}", file=sys.stderr, flush=True)


def manifest_path(entry: catalog.Dataset) -> Path:
    return entry.extract_dir / MANIFEST


def read_manifest(entry: catalog.Dataset) -> dict | None:
    """El manifiesto de un conjunto, o None si falta, está dañado o es de otra versión."""
    try:
        data = json.loads(manifest_path(entry).read_bytes())
        if (
            data.get("version") != MANIFEST_VERSION
            or not isinstance(data.get("members"), dict)
            or "sha256" not in data.get("archive", {})
        ):
            return None
        return data
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


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


def write_manifest(folder: Path, manifest: dict) -> None:
    """Escribe el manifiesto de forma atómica en `folder` (la carpeta extraída)."""
    data = json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode()
    files.write_atomically(folder / MANIFEST, data + b"\n")


def extraction_problem(
    entry: catalog.Dataset, manifest: dict | None, deep: bool = True
) -> str | None:
    """Qué le pasa a la carpeta extraída de `entry` (None si está bien).

    `deep` compara también la huella SHA-256 de cada archivo (si no, solo su
    tamaño): es lo que hacen ``ruta``, ``descargar`` y ``verificar``.
    """
    folder = entry.extract_dir
    if not folder.is_dir():
        return "falta la carpeta extraída"
    if manifest is None:
        return "no tiene manifiesto (la extrajo una versión anterior del taller o quedó a medias)"
    if manifest["archive"].get("sha256") != entry.sha256:
        return "se extrajo de otro archivo comprimido distinto del del catálogo"
    for name, record in manifest["members"].items():
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
    return member[: -len(".json")] + ".parquet"


@dataclass
class ParquetState:
    """Estado de la copia Parquet de un conjunto según su manifiesto."""

    path: Path | None
    sha256: str | None
    problem: str | None  # None: correcta; si no, qué le pasa
    missing: bool = False  # nunca se preparó (no es un daño)


def parquet_state(entry: catalog.Dataset, manifest: dict | None, check_hash: bool = True):
    """¿Se puede confiar en la copia Parquet de `entry`? Compara tamaño y huella."""
    if manifest is None or manifest["archive"].get("sha256") != entry.sha256:
        return ParquetState(None, None, "no hay extracción verificada", missing=True)
    record = manifest.get("parquet")
    if not record:
        return ParquetState(None, None, "aún no se ha preparado", missing=True)
    member = record.get("source")
    source = manifest["members"].get(member)
    path = entry.extract_dir / record.get("file", "")
    if source is None or record.get("source_sha256") != source["sha256"]:
        return ParquetState(path, None, "se hizo de otro JSON")
    if record.get("format") != PARQUET_FORMAT:
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


def record_parquet(entry: catalog.Dataset, member: str, file: str, size: int, digest: str) -> None:
    """Anota en el manifiesto la copia Parquet recién escrita."""
    manifest = read_manifest(entry)
    if manifest is None:
        return
    manifest["parquet"] = {
        "file": file,
        "size": size,
        "sha256": digest,
        "format": PARQUET_FORMAT,
        "source": member,
        "source_sha256": manifest["members"][member]["sha256"],
    }
    write_manifest(entry.extract_dir, manifest)


# --- Recorrido de toda la caché (verificar) -----------------------------------


@dataclass
class Survey:
    """Lo que hay en la caché que no pertenece a ningún conjunto del catálogo."""

    orphans: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # temporales abandonados
    busy: list[Path] = field(default_factory=list)  # temporales de un proceso vivo


def survey(root: Path, entries) -> Survey:
    """Recorre la caché: huérfanos (lo que no es de ningún conjunto) y temporales."""
    found = Survey()
    archives = {entry.archive_path for entry in entries}
    extracted = {entry.extract_dir: entry for entry in entries}
    ancestors = {parent for path in archives | set(extracted) for parent in path.parents}

    def temporary(path: Path) -> bool:
        if not files.is_temporary(path.name):
            return False
        (found.stale if files.is_stale(path) else found.busy).append(path)
        return True

    def inside(folder: Path, entry) -> None:
        manifest = read_manifest(entry)
        expected = {MANIFEST}
        if manifest:
            names = list(manifest["members"])
            if manifest.get("parquet"):
                names.append(manifest["parquet"]["file"])
            expected.update(name.split("/")[0] for name in names)
        else:
            expected.update(member.split("/")[0] for member in entry.members)
        for child in sorted(folder.iterdir()):
            if not temporary(child) and child.name not in expected:
                found.orphans.append(child)

    def walk(folder: Path) -> None:
        try:
            children = sorted(folder.iterdir())
        except OSError:
            return
        for child in children:
            if temporary(child) or child in archives:
                continue
            if child in extracted and child.is_dir():
                inside(child, extracted[child])
            elif child in ancestors and child.is_dir() and not child.is_symlink():
                walk(child)
            elif folder == root and child.name in ("README.md", OTHERS, HUNT, SIGMA):
                continue
            else:
                found.orphans.append(child)

    if root.is_dir():
        walk(root)
    return found


def size_of(path: Path) -> int:
    """Bytes que ocupa un archivo o una carpeta entera."""
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total
