"""Las dos primeras etapas del camino de un conjunto del catálogo: archivo y extracción.

El camino entero (`taller.road`) es: nombre → entrada del catálogo → archivo
comprimido verificado → extracción verificada → copia Parquet verificada.
Aquí están las dos etapas del medio:

- **Archivo verificado** (`fetch_entry`): si el archivo comprimido ya está en
  la caché, se calcula su SHA-256 y, si coincide con el del catálogo, no se
  descarga nada. Si no coincide, se avisa y se descarga de nuevo (si eso
  falla, el mensaje dice también que la copia de la caché estaba dañada). La
  copia la hace `taller.transfer`, de la URL o de la carpeta que diga
  ``TALLER_BASE_URL`` (`taller.catalog.source_of`), con un límite de tamaño
  según el catálogo.
- **Extracción verificada** (`extraction`): el archivo se extrae con
  `taller.archive`, que devuelve el tamaño y la huella de cada archivo
  extraído, y eso queda en el manifiesto de la carpeta (`taller.cache`). Si lo
  extraído no coincide con el manifiesto, se rehace desde el archivo
  verificado y se avisa.

Cada etapa recibe el manifiesto ya leído y devuelve el que vale después; nada
aquí lo vuelve a leer. Este módulo no importa pandas ni pyarrow.
"""

import functools
import os
from pathlib import Path

from taller import archive, cache, catalog, files, transfer
from taller.errors import TallerError
from taller.transfer import fetch_url, is_url  # noqa: F401 (nombres públicos de siempre)

# Lo que se acepta por encima del tamaño del catálogo antes de cortar la descarga.
SIZE_MARGIN = 1 << 20
# Se pasa como `manifest` cuando quien llama aún no lo ha leído.
UNREAD = object()


def archive_digest(entry: catalog.Dataset) -> str | None:
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
    digest = archive_digest(entry)
    if digest == entry.sha256:
        return path
    source, where = catalog.source_of(entry)
    limit = (
        entry.size + max(SIZE_MARGIN, entry.size // 10) if entry.size else transfer.MAX_DOWNLOAD
    )
    transfer.retrieve(
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


# --- Extracción verificada ---------------------------------------------------


def _extract(entry: catalog.Dataset, archive_path: Path, replace: bool) -> dict:
    """Extrae el archivo verificado con su manifiesto; devuelve el manifiesto.

    Si otro proceso publicó la misma extracción a la vez, se queda la suya,
    que sale del mismo archivo: el manifiesto de esta es igual de válido.
    """
    try:
        members = archive.extract(
            archive_path,
            entry.extract_dir,
            entry.name,
            replace=replace,
            manifest=(cache.MANIFEST, functools.partial(cache.manifest_bytes, entry)),
        )
    except OSError as exc:
        raise TallerError(
            f"No se pudo extraer «{entry.name}» en la caché ({catalog.cache_dir()}): "
            f"{exc.strerror or exc}. Compruebe el espacio libre y los permisos, o elija otra "
            "carpeta con TALLER_CACHE_DIR."
        ) from None
    return cache.new_manifest(entry, members)


def extraction(
    entry: catalog.Dataset, deep: bool = True, manifest=UNREAD, restore: bool = True
) -> dict:
    """Manifiesto de la extracción verificada de `entry` (descarga y extrae si hace falta).

    `manifest` es el que ya leyó quien llama (`UNREAD` si aún no lo ha leído).
    Si lo extraído no coincide con él (falta algo, cambió su tamaño o su
    huella, o se extrajo de otro archivo), se vuelve a extraer del archivo
    comprimido verificado y se avisa. Lo que se borró a propósito tras
    verificar su copia Parquet (`prune`) se vuelve a extraer si `restore`; si
    no (``descargar`` sin ``--sin-json``), se deja como está.
    """
    archive_path = fetch_entry(entry)
    if manifest is UNREAD:
        manifest = cache.read_manifest(entry)
    problem = cache.extraction_problem(entry, manifest, deep=deep)
    if problem is None:
        if restore and cache.absent_pruned(entry, manifest):
            return _restore(entry, archive_path, manifest)
        return manifest
    existed = entry.extract_dir.exists()
    files.clean_stale_temporaries(entry.extract_dir.parent)
    if existed and manifest is None:
        adopted = _adopt(entry, archive_path)
        if adopted is not None:
            return adopted
    manifest = _extract(entry, archive_path, replace=existed)
    if existed:
        cache.notice(
            f"la carpeta extraída de «{entry.name}» no era fiable ({problem}); "
            "se ha vuelto a extraer del archivo verificado."
        )
    return manifest


def _restore(entry: catalog.Dataset, archive_path: Path, manifest: dict) -> dict:
    """Vuelve a extraer lo que borró `prune`, sin tocar la copia Parquet.

    Se extrae todo en una carpeta temporal de la caché y solo se mueven a su
    sitio los archivos borrados, si su huella es la del manifiesto; si no, la
    carpeta entera se rehace desde el archivo verificado.
    """
    absent = cache.absent_pruned(entry, manifest)
    staging = files.temporary_dir(entry.extract_dir.parent)
    try:
        members = {m.name: m for m in archive.extract(archive_path, staging / "x", entry.name)}
        for name in absent:
            member, record = members.get(name), manifest["members"][name]
            if member is None or (member.size, member.sha256) != (
                record["size"],
                record["sha256"],
            ):
                cache.notice(
                    f"el archivo de «{entry.name}» ya no da el JSON de su manifiesto; "
                    "se ha vuelto a extraer entero."
                )
                return _extract(entry, archive_path, replace=True)
        for name in absent:
            (entry.extract_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / "x" / name, entry.extract_dir / name)
    except OSError as exc:
        raise TallerError(
            f"No se pudo volver a extraer el JSON de «{entry.name}» en la caché "
            f"({catalog.cache_dir()}): {exc.strerror or exc}. Compruebe el espacio libre."
        ) from None
    finally:
        files.remove(staging)
    manifest = {key: value for key, value in manifest.items() if key != "pruned"}
    cache.write_manifest(entry.extract_dir, manifest)
    return manifest


def prune(entry: catalog.Dataset) -> bool:
    """Borra el JSON extraído de `entry` si su copia Parquet está verificada.

    Es lo que hace ``descargar --sin-json`` (la imagen Docker): la copia basta
    para `taller.load`, `parquet_path`, DuckDB y Spark, y el JSON se vuelve a
    extraer del archivo verificado si algo lo pide. Primero se anota en el
    manifiesto y después se borra: si se corta en medio, el JSON que queda se
    sigue comprobando. Dice si el JSON ya no está.
    """
    manifest = cache.read_manifest(entry)
    member = cache.json_member(manifest) if manifest else None
    if member is None or cache.parquet_state(entry, manifest).problem is not None:
        return False
    pruned = sorted({*manifest.get("pruned", []), member})
    cache.write_manifest(entry.extract_dir, {**manifest, "pruned": pruned})
    (entry.extract_dir / member).unlink(missing_ok=True)
    return True


# Copias que dejaban versiones anteriores del taller junto al JSON.
_OLD_COPIES = (".json.arrow",)


def _adopt(entry: catalog.Dataset, archive_path: Path) -> dict | None:
    """Una carpeta extraída por una versión anterior del taller (sin manifiesto):
    si cada archivo coincide en tamaño y huella con el archivo verificado, se le
    escribe el manifiesto sin volver a extraer nada, en silencio."""
    members = archive.describe(archive_path, entry.name)
    for member in members:
        path = entry.extract_dir / member.name
        try:
            if path.stat().st_size != member.size or files.sha256(path) != member.sha256:
                return None
        except OSError:
            return None
    for child in entry.extract_dir.iterdir():
        if child.name.endswith(_OLD_COPIES):
            child.unlink(missing_ok=True)
    manifest = cache.new_manifest(entry, members)
    try:
        cache.write_manifest(entry.extract_dir, manifest)
    except OSError:
        return None
    return manifest


def json_file(entry: catalog.Dataset, manifest: dict) -> Path:
    """Ruta del único JSON de una extracción verificada (error claro si no hay uno)."""
    paths = [entry.extract_dir / member for member in manifest["members"]]
    return archive.json_file(paths, entry.name, f"Están en {entry.extract_dir}.")


def json_source(entry: catalog.Dataset, manifest) -> tuple[Path, str, dict]:
    """Lo que necesita la copia Parquet: el JSON extraído y verificado de `entry`.

    Devuelve su ruta, su nombre en el manifiesto y el manifiesto que vale
    después de descargar y extraer lo que hiciera falta.
    """
    manifest = extraction(entry, manifest=manifest)
    path = json_file(entry, manifest)
    return path, path.relative_to(entry.extract_dir).as_posix(), manifest


def extracted_files(name: str) -> list[Path]:
    """Archivos extraídos de un conjunto, verificados; lo descarga y extrae si hace falta."""
    entry = catalog.resolve(name)
    return [entry.extract_dir / member for member in extraction(entry)["members"]]


def json_path(name: str) -> Path:
    """Ruta del JSON extraído de un conjunto (lo descarga, verifica y extrae si hace falta)."""
    entry = catalog.resolve(name)
    return json_file(entry, extraction(entry))
