"""Lectura rápida de JSON Lines con pyarrow, sin perder información.

El archivo se parte por saltos de línea en un trozo por núcleo y los trozos se
leen a la vez (`parse_parallel`), cada uno como un solo bloque: así pyarrow
deduce el esquema con el trozo entero y las columnas salen en el orden del
archivo, siempre igual.

Aquí también está la lectura rápida del JSON Lines (`read_json_bytes`): el
lector de pyarrow no admite una columna que mezcla números y texto (siete
eventos de Application escriben ``EventID`` como texto en algunos conjuntos
compuestos) y convierte los enteros de más de 64 bits en decimales. En vez de
leer el archivo entero con Python, se ponen entre comillas los valores de esa
columna (o de esos enteros enormes) y pyarrow vuelve a leerlo: la columna sale
como texto y el resto, con sus tipos.
"""

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.json as pa_json

# Un archivo menor que esto se lee de una vez: partirlo no compensa.
MIN_PIECE = 1 << 20

_PARSE_OPTIONS = pa_json.ParseOptions(unexpected_field_behavior="infer")
_CHANGED = re.compile(
    r"Column\(/([^)/]+)\) changed from (\w+) to (\w+)"  # dentro de un trozo
    r"|Field (\S+) has incompatible types: (\w+) vs (\w+)"  # al unir los trozos
)
# Un entero de 20 cifras o más (o de 19 que pase de 2^63 - 1) no cabe en int64.
_HUGE_INTEGER = re.compile(rb":\s*(-?\d{19,})\s*[,}]")
_MAX_RETRIES = 50
# Columnas que algunos conjuntos escriben a veces como número y a veces como texto.
KNOWN_MIXED = ("EventID",)


class MixedTypes(Exception):
    """Una columna anidada mezcla tipos: pyarrow no la puede leer ni arreglando comillas."""


def _quote_values(content: bytes, key: str) -> bytes:
    """Pone entre comillas los números y booleanos de ``"key": …`` en todo el texto."""
    name = re.escape(json.dumps(key).encode())
    pattern = re.compile(rb"(" + name + rb"\s*:\s*)(-?\d[\d.eE+-]*|true|false)(?=\s*[,}])")
    return pattern.sub(rb'\1"\2"', content)


def _huge_keys(content: bytes) -> set[str]:
    """Claves con algún entero fuera de int64 (``"Keywords": 9232379236109516800``)."""
    keys = set()
    for match in _HUGE_INTEGER.finditer(content):
        if -(2**63) <= int(match.group(1)) <= 2**63 - 1:
            continue
        end = content.rfind(b'"', 0, match.start())  # comillas de cierre de la clave
        start = content.rfind(b'"', 0, end)
        while start > 0 and content[start - 1 : start] == b"\\":  # comilla escapada
            start = content.rfind(b'"', 0, start)
        if start >= 0:
            try:
                keys.add(json.loads(content[start : end + 1]))
            except ValueError:
                pass
    return keys


def parse_block(content: bytes) -> pa.Table:
    """Lee un bloque de JSON Lines con pyarrow, en un solo hilo y de una vez."""
    options = pa_json.ReadOptions(use_threads=False, block_size=len(content) + 1)
    return pa_json.read_json(
        pa.BufferReader(pa.py_buffer(content)), read_options=options, parse_options=_PARSE_OPTIONS
    )


def read_json_bytes(content: bytes, parse=None) -> pa.Table:
    """JSON Lines a tabla de Arrow, con las columnas de tipos mezclados como texto.

    `parse` lee los bytes (por defecto, en paralelo: `parse_parallel`). Si
    pyarrow se queja de que una columna cambia de número (o booleano) a texto,
    se entrecomillan sus valores y se vuelve a leer; lo mismo con los enteros
    que no caben en 64 bits, que así no se convierten en decimales. Lanza
    `pa.ArrowException` o `MixedTypes` si no hay arreglo.
    """
    parse = parse or parse_parallel
    quoted: set[str] = set()
    # El caso conocido (EventID como texto en unos pocos eventos de Application) se
    # arregla antes de leer: así no se pierde una lectura entera que acaba en error.
    for key in KNOWN_MIXED:
        name = re.escape(json.dumps(key).encode())
        as_text = re.search(name + rb'\s*:\s*"', content)
        if as_text and re.search(name + rb"\s*:\s*-?\d", content):
            content = _quote_values(content, key)
            quoted.add(key)
    for _ in range(_MAX_RETRIES):
        try:
            table = parse(content)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            match = _CHANGED.search(str(exc))
            if match is None:
                raise
            groups = [group for group in match.groups() if group is not None]
            key, kinds = groups[0], set(groups[1:])
            textual = kinds & {"string", "timestamp"}
            if kinds <= {"string", "timestamp"} and parse is not parse_block:
                parse = parse_block  # fecha en un trozo, texto en otro: de una vez
                continue
            if key in quoted or not textual or kinds & {"object", "array", "struct", "list"}:
                raise MixedTypes(str(exc)) from None
            content = _quote_values(content, key)
            quoted.add(key)
            continue
        # Un entero de más de 64 bits se lee como decimal: solo si hay columnas
        # decimales se buscan (lo raro) y se releen como texto.
        doubles = {f.name for f in table.schema if pa.types.is_floating(f.type)}
        huge = (_huge_keys(content) & doubles) - quoted if doubles else set()
        if not huge:
            return table
        for key in huge:
            content = _quote_values(content, key)
            quoted.add(key)
    raise MixedTypes("demasiadas columnas con tipos mezclados")


# --- Documentos JSON que no son JSON Lines ------------------------------------


def records_of_document(document) -> list | None:
    """Las filas de un documento JSON entero: una lista de objetos o un objeto con
    una sola lista de objetos (CloudTrail: ``{"Records": [...]}``). None si no."""
    if isinstance(document, dict):
        lists = [value for value in document.values() if isinstance(value, list)]
        if len(document) == 1 and len(lists) == 1:
            document = lists[0]
    if isinstance(document, list) and document and all(isinstance(r, dict) for r in document):
        return document
    return None


def _parse_piece(piece: pa.Buffer) -> pa.Table:
    """Lee un trozo de JSON Lines como un único bloque, en un solo hilo."""
    options = pa_json.ReadOptions(use_threads=False, block_size=piece.size + 1)
    return pa_json.read_json(
        pa.BufferReader(piece), read_options=options, parse_options=_PARSE_OPTIONS
    )


def parse_parallel(content: bytes) -> pa.Table:
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
