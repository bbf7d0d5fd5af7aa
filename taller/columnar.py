"""La tabla de Arrow de un JSON Lines y su copia Parquet verificada en la caché.

Lectura del JSON: se lee con el lector JSON de pyarrow (en C++), varias veces
más rápido que ``pandas.read_json(lines=True)``. El archivo se parte por
saltos de línea en un trozo por núcleo y los trozos se leen a la vez, cada uno
como un solo bloque: así pyarrow deduce el esquema con el trozo entero (no
solo con su primer bloque) y las columnas salen en el orden en que aparecen en
el archivo, como con pandas, y siempre igual (el lector multihilo de pyarrow
las ordena según qué hilo acabe antes). Los trozos se unen con
``pa.concat_tables(promote_options="permissive")``, que admite columnas que
solo aparecen en un trozo. Si una columna mezcla números y texto, pyarrow se
rinde: entonces se relee con el módulo ``json`` (que además localiza la línea
exacta de un error), las columnas mezcladas se pasan a texto y el resultado
vuelve a pyarrow, de modo que los tipos salen iguales por los dos caminos.

La copia Parquet: cada conjunto del catálogo con eventos JSON guarda en su
carpeta extraída ``<nombre>.parquet``, la misma tabla sin convertir (los tipos
de pandas se aplican al cargar, en `taller.loader`), comprimida con Snappy (lo
que mejor leen todos los motores, y rápido) y con sumas de comprobación por
página. pandas, DuckDB y Spark la leen tal cual (`parquet_path`). Su SHA-256
queda en el manifiesto de la caché (`taller.cache`) y se comprueba antes de
cada lectura; si no coincide, o la
copia es de otra versión del formato o de otro JSON, se rehace a partir del
JSON verificado y se avisa. Parquet no tiene marcas de tiempo en segundos:
el esquema original viaja en los metadatos de la copia y se restaura al leer,
así que los tipos son los mismos que leyendo el JSON.
"""

import base64
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from taller import cache, catalog, download, files, shapes
from taller.errors import TallerError

# Un archivo menor que esto se lee de una vez: partirlo no compensa.
MIN_PIECE = 1 << 20
_PARSE_OPTIONS = pa_json.ParseOptions(unexpected_field_behavior="infer")
_SCHEMA_KEY = b"taller.schema"
_FORMAT_KEY = b"taller.format"


def _bad_line(label: str, number: int, reason: str, first: bool) -> TallerError:
    if first:
        return TallerError(
            f"«{label}» no es un archivo JSON Lines (un objeto JSON por línea): la línea "
            f"{number} {reason}. Compruebe que es el archivo correcto."
        )
    return TallerError(
        f"La línea {number} de «{label}» {reason}; las anteriores eran correctas. "
        "El archivo está dañado o incompleto: vuelva a descargarlo o a extraerlo."
    )


def _parse_piece(piece: pa.Buffer) -> pa.Table:
    """Lee un trozo de JSON Lines como un único bloque, en un solo hilo."""
    options = pa_json.ReadOptions(use_threads=False, block_size=piece.size + 1)
    return pa_json.read_json(
        pa.BufferReader(piece), read_options=options, parse_options=_PARSE_OPTIONS
    )


def _read_with_arrow(content: bytes) -> pa.Table:
    """Un trozo por núcleo, cortado en saltos de línea, leídos en paralelo y unidos en orden."""
    buffer = pa.py_buffer(content)
    count = max(1, min(os.cpu_count() or 1, len(content) // MIN_PIECE))
    bounds = [0]
    for index in range(1, count):
        cut = content.find(b"\n", len(content) * index // count)
        if cut == -1:
            break
        bounds.append(cut + 1)
    bounds.append(len(content))
    pieces = [buffer[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
    if len(pieces) == 1:
        return _parse_piece(pieces[0])
    with ThreadPoolExecutor(len(pieces)) as pool:  # pyarrow suelta el GIL al leer
        tables = list(pool.map(_parse_piece, pieces))
    return pa.concat_tables(tables, promote_options="permissive")


def _read_with_python(path: Path, label: str) -> pa.Table:
    """Lectura de respaldo: línea a línea, con el número de línea de cada error."""
    records = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except UnicodeDecodeError:
                raise _bad_line(label, number, "no es texto UTF-8", not records) from None
            except json.JSONDecodeError as exc:
                reason = f"no es JSON válido (error en la columna {exc.colno})"
                raise _bad_line(label, number, reason, not records) from None
            if not isinstance(record, dict):
                raise _bad_line(label, number, "no es un objeto JSON ({...})", not records)
            records.append(record)
    if not records:
        return pa.table({})

    kinds: dict[str, set] = {}
    for record in records:
        for key, value in record.items():
            if value is not None:
                kind = "number" if type(value) in (int, float) else type(value).__name__
                kinds.setdefault(key, set()).add(kind)
    mixed = {key for key, seen in kinds.items() if len(seen) > 1}
    for record in records:
        for key in mixed & record.keys():
            if record[key] is not None and not isinstance(record[key], str):
                record[key] = json.dumps(record[key])

    data = "\n".join(json.dumps(record) for record in records).encode()
    try:
        return _parse_piece(pa.py_buffer(data))
    except pa.ArrowException as exc:
        raise TallerError(
            f"«{label}» tiene una estructura que pandas no puede tabular: {exc}"
        ) from None


def read_json_table(path: Path, label: str) -> pa.Table:
    """El JSON Lines como tabla de Arrow, sin convertir aún ningún tipo.

    pyarrow acepta bytes que no son UTF-8 válido dentro de las cadenas (y el
    error salta después, al imprimir la tabla): por eso se comprueba antes.
    Si algo falla, la lectura de respaldo dice en qué línea.
    """
    try:
        content = Path(path).read_bytes()
    except IsADirectoryError:
        raise TallerError(f"«{label}» es una carpeta, no un archivo JSON.") from None
    except OSError as exc:
        raise TallerError(f"No se puede leer «{label}»: {exc.strerror or exc}.") from None
    try:
        content.decode("utf-8")
        # Columnas de tipos mezclados: texto, sin salir de pyarrow (`taller.shapes`).
        table = shapes.read_json_bytes(content, parse=_read_with_arrow)
    except (UnicodeDecodeError, pa.ArrowException, shapes.MixedTypes):  # línea errónea...
        table = _read_document(content) or _read_with_python(path, label)
    if table.num_rows == 0:
        raise TallerError(f"«{label}» está vacío: no contiene ningún evento.")
    return shapes.normalize(table)  # Log Analytics, CloudTrail...: véase `taller.shapes`


def _read_document(content: bytes) -> pa.Table | None:
    """Un documento JSON entero con una lista de objetos (``[...]`` o CloudTrail)."""
    if content.lstrip()[:1] not in (b"[", b"{"):
        return None
    try:
        records = shapes.records_of_document(json.loads(content))
    except (ValueError, RecursionError):
        return None
    if records is None:
        return None
    lines = "\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    try:
        return shapes.read_json_bytes(lines.encode())
    except (pa.ArrowException, shapes.MixedTypes):
        return None


# --- Copia Parquet ------------------------------------------------------------


def _write_parquet(table: pa.Table, target: Path) -> tuple[int, str]:
    """Escribe la copia de forma atómica; devuelve su tamaño y su huella."""
    schema = base64.b64encode(table.schema.serialize().to_pybytes())
    marked = table.replace_schema_metadata(
        {_SCHEMA_KEY: schema, _FORMAT_KEY: str(cache.PARQUET_FORMAT).encode()}
    )
    scratch = files.temporary_name(target.parent, ".parquet")
    try:
        pq.write_table(marked, scratch, compression="snappy", write_page_checksum=True)
        files.make_readable(scratch)
        size, digest = scratch.stat().st_size, files.sha256(scratch)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return size, digest


def _read_parquet(data: bytes) -> pa.Table:
    """La tabla de una copia (ya verificada), con los tipos exactos del JSON."""
    # Las sumas por página quedan en la copia para otros motores; aquí ya se ha
    # comprobado la huella SHA-256 de la copia entera, que es más estricta.
    table = pq.read_table(pa.BufferReader(data))
    metadata = table.schema.metadata or {}
    if _SCHEMA_KEY in metadata:
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(metadata[_SCHEMA_KEY])))
        for index, field in enumerate(schema):  # solo las que Parquet cambió (segundos)
            if table.schema.field(index).type != field.type:
                table = table.set_column(index, field, table.column(index).cast(field.type))
    return table.replace_schema_metadata(None)


def _build(entry: catalog.Dataset, state: cache.ParquetState) -> tuple[Path | None, pa.Table]:
    """Rehace la copia desde el JSON verificado (o la hace por primera vez)."""
    json_file = download.json_file(entry)
    manifest = cache.read_manifest(entry)
    member = json_file.relative_to(entry.extract_dir).as_posix()
    table = read_json_table(json_file, entry.name)
    target = entry.extract_dir / cache.parquet_name(member)
    try:
        files.clean_stale_temporaries(target.parent)
        size, digest = _write_parquet(table, target)
        if manifest is not None:
            cache.record_parquet(entry, member, target.name, size, digest)
    except (OSError, pa.ArrowException):
        return None, table  # caché de solo lectura o llena: se sigue sin copia
    if not state.missing:
        cache.notice(
            f"la copia Parquet de «{entry.name}» {state.problem}; se ha rehecho "
            "a partir del JSON verificado."
        )
    return target, table


def cached_table(entry: catalog.Dataset) -> pa.Table:
    """La tabla de un conjunto del catálogo, de su copia Parquet si es fiable.

    Con la copia al día no se toca el JSON ni el archivo comprimido: se lee la
    copia una vez, se comprueba su huella con el manifiesto y se descodifica
    desde la memoria.
    """
    manifest = cache.read_manifest(entry)
    state = cache.parquet_state(entry, manifest, check_hash=False)
    if state.problem is None:
        try:
            data = state.path.read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() == state.sha256:
            try:
                return _read_parquet(data)
            except (OSError, pa.ArrowException):
                state = cache.ParquetState(state.path, None, "no se puede leer")
        else:
            state = cache.ParquetState(
                state.path, None, "está dañada: su huella SHA-256 no coincide"
            )
    return _build(entry, state)[1]


def prepare(entry: catalog.Dataset) -> Path | None:
    """Deja verificada (o hace) la copia Parquet de `entry`; None si no tiene eventos JSON."""
    manifest = cache.read_manifest(entry)
    if manifest is None or cache.json_member(manifest) is None:
        return None  # capturas de red u otro contenido: no hay tabla que preparar
    state = cache.parquet_state(entry, manifest)
    if state.problem is None:
        return state.path
    path, _ = _build(entry, state)
    return path


def parquet_path(name: str) -> Path:
    """Ruta de la copia Parquet verificada de un conjunto del catálogo.

    La descarga, extrae y prepara si hace falta. pandas (``pd.read_parquet``),
    DuckDB (``read_parquet('…')``) y Spark (``spark.read.parquet``) la leen
    directamente; sus columnas tienen los tipos del JSON, sin las conversiones
    de `taller.load` (``ProcessId`` hexadecimal o ``@timestamp`` siguen como
    texto).
    """
    entry = catalog.resolve(name)
    state = cache.parquet_state(entry, cache.read_manifest(entry))
    if state.problem is None:
        return state.path
    path, _ = _build(entry, state)  # descarga y extracción verificadas; error si no hay JSON
    if path is None:
        raise TallerError(
            f"No se pudo guardar la copia Parquet de «{entry.name}» en la caché "
            f"({catalog.cache_dir()}). Compruebe el espacio libre y los permisos."
        )
    return path
