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
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from taller import cache, files, jsonlines, shapes
from taller.errors import TallerError

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


# Más anidado que esto no se le da al lector de pyarrow: con miles de niveles
# agota la pila del hilo que lee (menor fuera de Linux) y el proceso muere sin
# mensaje. Ningún evento real se acerca; el lector de respaldo lo explica con
# su número de línea.
MAX_DEPTH = 1000


def too_deep(content: bytes) -> bool:
    """¿Alguna línea anida llaves o corchetes más de `MAX_DEPTH` niveles?

    Anidar D niveles exige una línea de más de 2·D bytes, que contiene entera
    una ventana alineada de D bytes sin saltos de línea: solo se miran esas
    líneas, y solo se cuenta nivel a nivel si tienen más de D llaves y
    corchetes (los de dentro de las cadenas también: puede pasarse, nunca
    quedarse corta). En los eventos reales cuesta unos milisegundos.
    """
    size, position = len(content), 0
    while position + MAX_DEPTH <= size:
        if content.find(b"\n", position, position + MAX_DEPTH) != -1:
            position += MAX_DEPTH
            continue
        start = content.rfind(b"\n", 0, position) + 1
        end = content.find(b"\n", position)
        end = size if end == -1 else end
        line = content[start:end]
        if line.count(b"{") + line.count(b"[") > MAX_DEPTH and _depth(line) > MAX_DEPTH:
            return True
        position = end - end % MAX_DEPTH + MAX_DEPTH
    return False


def _depth(line: bytes) -> int:
    import numpy as np

    step = np.zeros(256, dtype=np.int8)
    step[[ord("{"), ord("[")]], step[[ord("}"), ord("]")]] = 1, -1
    return int(np.cumsum(step[np.frombuffer(line, dtype=np.uint8)], dtype=np.int32).max())


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
            except RecursionError:
                reason = "anida objetos o listas a demasiada profundidad para leerla"
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
        return jsonlines.parse_block(data)
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
        content = files.read_regular(path)
    except IsADirectoryError:
        raise TallerError(f"«{label}» es una carpeta, no un archivo JSON.") from None
    except OSError as exc:
        raise TallerError(f"No se puede leer «{label}»: {exc.strerror or exc}.") from None
    try:
        content.decode("utf-8")
        if shapes.is_zeek_tsv(content[:16]):  # un registro de Zeek en TSV
            return shapes.zeek_tsv_table(content, label)
        if too_deep(content):
            raise pa.ArrowInvalid("demasiado anidado para el lector de pyarrow")
        # Columnas de tipos mezclados: texto, sin salir de pyarrow (`taller.shapes`).
        table = jsonlines.read_json_bytes(content)
    except (UnicodeDecodeError, pa.ArrowException, jsonlines.MixedTypes):  # línea errónea...
        table = _read_document(content) or _read_with_python(path, label)
    if table.num_rows == 0:
        raise TallerError(f"«{label}» está vacío: no contiene ningún evento.")
    return shapes.normalize(table)  # Log Analytics, CloudTrail...: véase `taller.shapes`


def _read_document(content: bytes) -> pa.Table | None:
    """Un documento JSON entero con una lista de objetos (``[...]`` o CloudTrail)."""
    if content.lstrip()[:1] not in (b"[", b"{"):
        return None
    try:
        records = jsonlines.records_of_document(json.loads(content))
    except (ValueError, RecursionError):
        return None
    if records is None:
        return None
    lines = "\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    try:
        return jsonlines.read_json_bytes(lines.encode())
    except (pa.ArrowException, jsonlines.MixedTypes):
        return None


# --- Copia Parquet ------------------------------------------------------------


def write_parquet(table: pa.Table, target: Path) -> tuple[int, str]:
    """Escribe la copia de forma atómica; devuelve su tamaño y su huella."""
    schema = base64.b64encode(table.schema.serialize().to_pybytes())
    marked = table.replace_schema_metadata(
        {_SCHEMA_KEY: schema, _FORMAT_KEY: str(cache.PARQUET_FORMAT).encode()}
    )
    scratch = files.temporary_name(target.parent, ".parquet")
    try:
        pq.write_table(marked, scratch, compression="snappy", write_page_checksum=True)
        size, digest = scratch.stat().st_size, files.sha256(scratch)
        files.publish(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return size, digest


def read_parquet(data: bytes) -> pa.Table:
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


def read_copy(state: cache.ParquetState) -> tuple[pa.Table | None, cache.ParquetState]:
    """La tabla de una copia que el manifiesto da por buena, leída una vez y verificada.

    Se lee la copia entera, se comprueba su huella con la del manifiesto y se
    descodifica desde la memoria. Si no coincide o no se puede leer, devuelve
    None y el estado con el problema, para rehacerla.
    """
    try:
        data = files.read_regular(state.path)
    except OSError:
        data = b""
    if files.hash_chunks([data])[1] != state.sha256:
        return None, cache.ParquetState(
            state.path, None, "está dañada: su huella SHA-256 no coincide"
        )
    try:
        return read_parquet(data), state
    except (OSError, pa.ArrowException):
        return None, cache.ParquetState(state.path, None, "no se puede leer")


def save_copy(table: pa.Table, entry, manifest: dict, member: str, state) -> Path | None:
    """Escribe la copia Parquet de `table` y la anota en el manifiesto de `entry`.

    `member` es el JSON del que sale (su huella está en el manifiesto);
    `state`, lo que le pasaba a la copia anterior (se avisa si estaba dañada).
    Devuelve None si no se pudo guardar (caché de solo lectura o llena): la
    tabla sigue valiendo, sin copia.
    """
    name = cache.parquet_name(member)  # junto al JSON
    target = entry.extract_dir / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        files.clean_stale_temporaries(target.parent)
        size, digest = write_parquet(table, target)
        manifest = cache.with_parquet(manifest, member, name, size, digest)
        files.write_atomically(cache.manifest_path(entry), cache.encode(manifest))
    except (OSError, pa.ArrowException):
        return None
    if not state.missing:
        cache.notice(
            f"la copia Parquet de «{entry.name}» {state.problem}; se ha rehecho "
            "a partir del JSON verificado."
        )
    return target


def build(entry, manifest, state, source) -> tuple[Path | None, pa.Table]:
    """La etapa de la copia Parquet: la hace (o rehace) desde el JSON verificado.

    `source(entry, manifest)` es la etapa anterior: devuelve la ruta del JSON
    verificado, su nombre en el manifiesto y el manifiesto que vale después
    (`taller.download.json_source` para el catálogo). Devuelve la copia (None
    si no se pudo guardar) y la tabla.
    """
    path, member, manifest = source(entry, manifest)
    table = read_json_table(path, entry.name)
    return save_copy(table, entry, manifest, member, state), table
