"""Carga de un conjunto de datos en un DataFrame de pandas, rápida y con tipos honestos.

`load` acepta un nombre o id del catálogo, una ruta de upstream, una URL, un
archivo comprimido local (.zip/.Zip o .tar.gz) o un fichero JSON Lines (un
objeto JSON por línea), sea cual sea su esquema: eventos de Windows/Sysmon
con ``@timestamp`` o tablas de la nube con ``TimeGenerated``.

Rapidez: se lee con el lector JSON de pyarrow (en C++), varias veces más
rápido que ``pandas.read_json(lines=True)``, y la tabla de cada conjunto del
catálogo se guarda además en la caché como Arrow comprimido (``<json>.arrow``;
``descargar`` ya lo prepara), que las cargas leen en milisegundos; véase
``bench/bench_loader.py``.
El fichero se parte por saltos de línea en un trozo por núcleo y los trozos se
leen a la vez, cada uno como un solo bloque: así pyarrow deduce el esquema con
el trozo entero (no solo con su primer bloque) y las columnas salen en el
orden en que aparecen en el fichero, como con pandas, y siempre igual (el
lector multihilo de pyarrow las ordena según qué hilo acabe antes). Los trozos
se unen con ``pa.concat_tables(promote_options="permissive")``, que admite
columnas que solo aparecen en un trozo. Si una columna mezcla números y texto,
pyarrow se rinde: entonces se relee con el módulo ``json`` (que además localiza
la línea exacta de un error), las columnas mezcladas se pasan a texto y el
resultado vuelve a pyarrow, de modo que los tipos salen iguales por los dos
caminos.

Tipos que produce (los que usa el taller):

==============================  ==========================  ==================================
Campo                           Tipo en pandas              Nota
==============================  ==========================  ==================================
``EventID``                     ``Int64``                   ``df[df["EventID"] == 4624]``
``LogonType``                   ``Int64``                   llega como texto ("3"); se
                                                            convierte: ``== 3`` funciona
``ProcessId`` y todo campo      ``Int64``                   Sysmon lo escribe en decimal
terminado en ``ProcessId`` o                                ("3492") y Security en hexadecimal
``ProcessID``                                               ("0xda4"); ambos pasan a número
``@timestamp``,                 ``datetime64[ns, UTC]``     se pueden restar y comparar
``TimeGenerated``
otros enteros (``ThreadID``,    ``Int64``                   nullable: un hueco es ``<NA>``,
``RecordNumber``...)                                        nunca un ``float``
texto, GUID (``ProcessGuid``),  ``string``                  tal cual: ``"0x1410"`` no se
hexadecimal (``GrantedAccess``,                             convierte en número
``TargetLogonId``)
``EventTime``,                  ``datetime64[s]``           pyarrow reconoce
``EventReceivedTime``           sin zona                    «AAAA-MM-DD hh:mm:ss»; es la hora
                                                            local del colector, no UTC
``UtcTime`` y otras fechas      ``string``                  pyarrow no reconoce las
con fracciones de segundo                                   fracciones; conviértalas con
                                                            ``pd.to_datetime`` si hace falta
números con decimales           ``float64``
booleanos                       ``boolean``
objetos y listas anidados       ``object`` (dict/list)
==============================  ==========================  ==================================

Una conversión (de texto a entero o a fecha) solo se hace si todos los valores
de la columna se pueden convertir; si no, la columna se deja como texto.
"""

import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.json as pa_json

from taller import archive, catalog, download
from taller.errors import TallerError

# Un fichero menor que esto se lee de una vez: partirlo no compensa.
MIN_PIECE = 1 << 20
# Súbalo si cambia la forma de leer el JSON: invalida las copias Arrow de la caché.
ARROW_FORMAT = 1
TIMESTAMP_FIELDS = ("@timestamp", "TimeGenerated")
_PARSE_OPTIONS = pa_json.ParseOptions(unexpected_field_behavior="infer")
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow"),
}


def _is_integer_field(name: str) -> bool:
    return name in ("EventID", "LogonType") or name.endswith(("ProcessId", "ProcessID"))


def _bad_line(label: str, number: int, reason: str, first: bool) -> TallerError:
    if first:
        return TallerError(
            f"«{label}» no es un fichero JSON Lines (un objeto JSON por línea): la línea "
            f"{number} {reason}. Compruebe que es el fichero correcto."
        )
    return TallerError(
        f"La línea {number} de «{label}» {reason}; las anteriores eran correctas. "
        "El fichero está dañado o incompleto: vuelva a descargarlo o a extraerlo."
    )


def _parse_piece(piece: pa.Buffer) -> pa.Table:
    """Lee un trozo de JSON Lines como un único bloque, en un solo hilo."""
    options = pa_json.ReadOptions(use_threads=False, block_size=piece.size + 1)
    return pa_json.read_json(pa.BufferReader(piece), read_options=options,
                             parse_options=_PARSE_OPTIONS)


def _read_with_arrow(path: Path) -> pa.Table:
    """Un trozo por núcleo, cortado en saltos de línea, leídos en paralelo y unidos en orden."""
    content = Path(path).read_bytes()
    buffer = pa.py_buffer(content)
    count = max(1, min(os.cpu_count() or 1, len(content) // MIN_PIECE))
    bounds = [0]
    for index in range(1, count):
        cut = content.find(b"\n", len(content) * index // count)
        if cut == -1:
            break
        bounds.append(cut + 1)
    bounds.append(len(content))
    pieces = [buffer[start:end] for start, end in zip(bounds, bounds[1:])]
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


def _parse_integers(column: pd.Series) -> pd.Series:
    """Texto decimal («3») o hexadecimal («0xda4») a Int64; si algo no encaja, sin cambios."""
    present = column.dropna()
    try:
        numbers = [int(text, 16) if text[:2] in ("0x", "0X") else int(text)
                   for text in present.tolist()]
    except (ValueError, TypeError):
        return column
    result = pd.Series(pd.NA, index=column.index, dtype="Int64")
    result[present.index] = numbers
    return result


def _to_utc(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):  # pyarrow ya lo reconoció (sin zona)
        return column.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
    try:
        return pd.to_datetime(column, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return column


def _read_table(path: Path, label: str) -> pa.Table:
    """El JSON Lines como tabla de Arrow, sin convertir aún ningún tipo."""
    try:
        table = _read_with_arrow(path)
    except pa.ArrowException:  # línea errónea, tipos mezclados o fichero vacío
        table = _read_with_python(path, label)
    if table.num_rows == 0:
        raise TallerError(f"«{label}» está vacío: no contiene ningún evento.")
    return table


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """DataFrame con los tipos descritos en el módulo."""
    frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
    for name in frame.columns:
        if name in TIMESTAMP_FIELDS:
            frame[name] = _to_utc(frame[name])
        elif _is_integer_field(name) and frame[name].dtype != "Int64":
            frame[name] = _parse_integers(frame[name])
    return frame


def _arrow_copy(json_file: Path) -> tuple[Path, bytes]:
    """Dónde va la copia Arrow de un JSON y la marca que la reconoce como al día."""
    status = json_file.stat()
    mark = f"{ARROW_FORMAT}:{status.st_size}:{status.st_mtime_ns}".encode()
    return json_file.with_name(json_file.name + ".arrow"), mark


def _cached_table(json_file: Path, label: str) -> pa.Table:
    """La tabla de un JSON de la caché, leída de su copia Arrow si está al día.

    La copia (``<json>.arrow``, comprimida con LZ4) se escribe la primera vez
    y se reconoce por una marca con el formato, el tamaño y la fecha del JSON:
    si algo cambia, o la copia no se puede leer, se vuelve al JSON. Si la caché
    no admite escritura, simplemente no se guarda.
    """
    copy, mark = _arrow_copy(json_file)
    try:
        table = feather.read_table(copy, memory_map=False)
        if (table.schema.metadata or {}).get(b"taller") == mark:
            return table
    except (OSError, pa.ArrowException):
        pass
    table = _read_table(json_file, label)
    table = table.replace_schema_metadata({b"taller": mark})
    try:
        handle, scratch = tempfile.mkstemp(dir=copy.parent, suffix=".tmp")
        os.close(handle)
        try:
            feather.write_feather(table, scratch, compression="lz4")
            catalog.make_readable(scratch)
            os.replace(scratch, copy)  # atómico: nadie lee una copia a medias
        finally:
            Path(scratch).unlink(missing_ok=True)
    except (OSError, pa.ArrowException):
        pass  # caché de solo lectura o llena: se sigue sin copia
    return table


def prepare(name: str) -> None:
    """Deja lista la copia Arrow de un conjunto del catálogo que tenga eventos JSON.

    `descargar` la llama tras verificar cada archivo, para que incluso la primera
    carga en el taller lea la copia y no el JSON. Si la copia ya está al día solo
    se lee su esquema, así que repetir la descarga sigue siendo casi instantáneo.
    """
    files = download.extracted_files(name)
    found = [path for path in files if path.name.lower().endswith(".json")]
    if len(found) != 1:  # capturas de red u otros contenidos: no hay tabla que preparar
        return
    copy, mark = _arrow_copy(found[0])
    try:
        with pa.ipc.open_file(copy) as reader:
            if (reader.schema.metadata or {}).get(b"taller") == mark:
                return
    except (OSError, pa.ArrowException):
        pass
    _cached_table(found[0], name)


def read_json_lines(path: Path, label: str | None = None) -> pd.DataFrame:
    """Lee un fichero JSON Lines con los tipos descritos en el módulo."""
    return _to_frame(_read_table(path, label or Path(path).name))


def _load_local(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith((".json", ".jsonl")):
        return read_json_lines(path)
    if not name.endswith(catalog.ARCHIVE_SUFFIXES):
        raise TallerError(
            f"«{path.name}» no es un .zip, .tar.gz ni .json: no se sabe cómo cargarlo."
        )
    with tempfile.TemporaryDirectory(prefix="taller-") as scratch:
        files = archive.extract(path, Path(scratch) / "x", path.name)
        where = "Descomprima el archivo para abrirlas."
        return read_json_lines(archive.json_file(files, path.name, where), path.name)


def load(source) -> pd.DataFrame:
    """Carga un conjunto en un DataFrame; véase la tabla de tipos del módulo.

    `source` puede ser un nombre o id del catálogo (``"empire_psexec_dcerpc_tcp_svcctl"``,
    ``"SDWIN-190518210652"``), su ruta de upstream, una URL, o la ruta de un
    archivo local (.zip, .tar.gz, .json). Lo del catálogo se descarga, verifica y
    extrae en la caché la primera vez.
    """
    text = os.fspath(source)
    if not catalog.matching(text):
        local = Path(text).expanduser()
        if local.is_file():
            return _load_local(local)
        if text.startswith(("http://", "https://")):
            return _load_local(download.fetch_url(text))
        looks_like_file = text.lower().endswith((".json", ".jsonl", *catalog.ARCHIVE_SUFFIXES))
        if looks_like_file or "/" in text or os.sep in text:
            raise TallerError(f"No existe el fichero «{text}». Compruebe la ruta.")
    entry = catalog.resolve(text)  # si no está en el catálogo, explica el error
    return _to_frame(_cached_table(download.json_path(entry.name), entry.name))
