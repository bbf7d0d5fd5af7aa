"""Carga de un conjunto de datos en un DataFrame de pandas, rápida y con tipos honestos.

`load` acepta un nombre o id del catálogo, una ruta de upstream, una URL, un
archivo comprimido local (.zip/.Zip o .tar.gz) o un archivo JSON Lines (un
objeto JSON por línea), sea cual sea su esquema: eventos de Windows/Sysmon
con ``@timestamp`` o tablas de la nube con ``TimeGenerated``.

Rapidez: el JSON se lee con pyarrow (véase `taller.columnar`), varias veces
más rápido que ``pandas.read_json(lines=True)``, y la tabla de cada conjunto
del catálogo se guarda además en la caché como Parquet (``<nombre>.parquet``;
``descargar`` ya la prepara), que las cargas leen en milisegundos tras
comprobar su huella SHA-256; véase ``bench/bench_loader.py``. Con todo en la
caché, `load` no imprime nada.

Tipos que produce (los mismos con pandas 2.3 y con pandas 3):

==============================  ==========================  ==================================
Campo                           Tipo en pandas              Nota
==============================  ==========================  ==================================
``EventID``                     ``Int64``                   ``df[df["EventID"] == 4624]``
``LogonType``                   ``Int64``                   llega como texto ("3"); se
                                                            convierte: ``== 3`` funciona
``ProcessId`` y todo campo      ``Int64``                   Sysmon lo escribe en decimal
terminado en ``ProcessId`` o                                ("3492") y Security en hexadecimal
``ProcessID``                                               ("0xda4"); ambos pasan a número
``@timestamp``,                 ``datetime64[ns, UTC]``     se pueden restar y comparar;
``TimeGenerated``                                           ``@timestamp`` es cuándo lo recibió
                                                            el recolector: no sirve para ordenar
otros enteros (``ThreadID``,    ``Int64``                   nullable: un hueco es ``<NA>``,
``RecordNumber``...)                                        nunca un ``float``
texto, GUID (``ProcessGuid``),  ``str``: ``StringDtype(     el texto de pandas 3; un hueco es
hexadecimal (``GrantedAccess``, "pyarrow", na_value=nan)``  ``NaN``: ``== "x"`` y
``TargetLogonId``)                                          ``.str.contains`` dan ``False``
``EventTime``,                  ``datetime64[s]``           pyarrow reconoce
``EventReceivedTime``           sin zona                    «AAAA-MM-DD hh:mm:ss», sin zona:
                                                            ``EventTime``, hora local del equipo
                                                            del evento, al segundo;
                                                            ``EventReceivedTime``, la del
                                                            recolector
``UtcTime`` y otras fechas      ``str``                     pyarrow no reconoce las
con fracciones de segundo                                   fracciones; conviértalas con
                                                            ``pd.to_datetime`` si hace falta
números con decimales           ``float64``
booleanos                       ``boolean``
objetos y listas anidados       ``object`` (dict/list)
==============================  ==========================  ==================================

Por qué estos tipos: las comparaciones que escribe quien aprende se combinan
con ``&``, ``|`` y ``~`` en cualquier orden. Una comparación de texto da
``bool`` de NumPy (un hueco compara como ``False``); una de enteros da
``boolean`` (un hueco es ``<NA>``), y ``bool & boolean`` y ``boolean & bool``
dan ``boolean`` en pandas 2.3 y 3. Con el texto como ``string[pyarrow]`` (el
tipo anterior), ``(df["EventID"] == 4624) & (df["IpAddress"] == "x")`` fallaba
(«boolean value of NA is ambiguous») y el mismo filtro en el otro orden
funcionaba. Al filtrar, ``df[mascara]`` toma un ``<NA>`` como ``False``.

Una conversión (de texto a entero o a fecha) solo se hace si todos los valores
de la columna se pueden convertir (también: que quepan en 64 bits o en
``datetime64[ns]``); si no, la columna se deja como texto. Excepción: el
«cero» de Windows en ``@timestamp`` o ``TimeGenerated`` (``1601-01-01
00:00:00``, lo que Windows escribe cuando no hay fecha) pasa a ``NaT`` y la
columna sigue siendo de fechas; otra fecha fuera de rango (el año 9999) sí deja
la columna como texto. La resolución de las fechas UTC es siempre el
nanosegundo, también en pandas 3 (que leería microsegundos).

Un entero que no cabe en 64 bits (más de 2^63 - 1) se lee como texto, nunca
como ``float``. Una columna que mezcla números y texto en el JSON también se
lee como texto.

Las formas que no son eventos de Windows (exportaciones de Log Analytics,
tablas de la nube, registros de Zeek, capturas de red) están en
`taller.shapes`.

Para ordenar eventos, la hora de cada uno en UTC es ``taller.event_time(df)``.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from taller import archive, catalog, columnar, download, shapes
from taller.errors import TallerError

TIMESTAMP_FIELDS = ("@timestamp", "TimeGenerated")
# El texto de pandas 3 (``str``), también en pandas 2.3: un hueco es NaN.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
UTC = "datetime64[ns, UTC]"
WINDOWS_ZERO = "1601-01-01"
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): TEXT,
    pa.large_string(): TEXT,
}


def _is_integer_field(name: str) -> bool:
    return name in ("EventID", "LogonType") or name.endswith(("ProcessId", "ProcessID"))


def _parse_integers(column: pd.Series) -> pd.Series:
    """Texto decimal («3») o hexadecimal («0xda4») a Int64; si algo no encaja, sin cambios."""
    present = column.dropna()
    try:
        numbers = [
            int(text, 16) if text[:2] in ("0x", "0X") else int(text) for text in present.tolist()
        ]
    except (ValueError, TypeError):
        return column
    result = pd.Series(pd.NA, index=column.index, dtype="Int64")
    try:
        result[present.index] = numbers
    except (OverflowError, TypeError, ValueError):  # no cabe en 64 bits: se queda como texto
        return column
    return result


def _to_utc(column: pd.Series) -> pd.Series:
    """A ``datetime64[ns, UTC]`` con pandas 2.3 y 3; el «cero» de Windows
    (1601-01-01 00:00:00) pasa a ``NaT``. Si otra fecha no cabe (el año 9999),
    la columna se deja como texto."""
    if pd.api.types.is_datetime64_any_dtype(column):  # pyarrow ya lo reconoció
        zero = (column.dt.year == 1601) & (column.dt.month == 1) & (column.dt.day == 1)
        aware = column.dt.tz is not None
        try:
            utc = column.mask(zero) if aware else column.mask(zero).dt.tz_localize("UTC")
            return utc.dt.tz_convert("UTC").astype(UTC)
        except (ValueError, OverflowError):  # pandas.errors.OutOfBoundsDatetime
            return column.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(TEXT)  # campos UTC
    if not (pd.api.types.is_string_dtype(column) or column.dtype == object):
        return column
    zero = column.astype(TEXT).str.startswith(WINDOWS_ZERO)
    try:
        parsed = pd.to_datetime(column.mask(zero), utc=True, format="ISO8601")
        return parsed.astype(UTC)
    except (ValueError, TypeError, OverflowError):
        return column


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """DataFrame con los tipos descritos en el módulo."""
    for index, field in enumerate(table.schema):  # siempre vacía: texto, no object
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
    for name in frame.columns:
        if name in TIMESTAMP_FIELDS:
            frame[name] = _to_utc(frame[name])
        elif _is_integer_field(name) and frame[name].dtype != "Int64":
            frame[name] = _parse_integers(frame[name])
    return frame


def read_json_lines(path: Path, label: str | None = None) -> pd.DataFrame:
    """Lee un archivo JSON Lines con los tipos descritos en el módulo."""
    return _to_frame(columnar.read_json_table(path, label or Path(path).name))


def _read_zeek(path: Path, label: str) -> pd.DataFrame:
    """Un registro de Zeek (``conn.log``...): TSV con cabeceras o JSON Lines."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise TallerError(f"No se puede leer «{label}»: {exc.strerror or exc}.") from None
    if shapes.is_zeek_tsv(head):
        return shapes.read_zeek_tsv(Path(path).read_bytes(), label)
    return read_json_lines(path, label)


def _load_local(path: Path, label: str | None = None) -> pd.DataFrame:
    label = label or path.name
    name = path.name.lower()
    if name.endswith((".json", ".jsonl")):
        return read_json_lines(path, label)
    if name.endswith(shapes.ZEEK_SUFFIXES):
        return _read_zeek(path, label)
    if not name.endswith(catalog.ARCHIVE_SUFFIXES):
        raise TallerError(f"«{label}» no es un .zip, .tar.gz ni .json: no se sabe cómo cargarlo.")
    try:
        with tempfile.TemporaryDirectory(prefix="taller-") as scratch:
            members = archive.extract(path, Path(scratch) / "x", label)
            paths = [Path(scratch) / "x" / member.name for member in members]
            reason = shapes.refusal(label, [member.name for member in members])
            if reason:
                several_logs = len(shapes.zeek_logs([m.name for m in members])) > 1
                where = "" if several_logs else " Descomprima el archivo para abrirlas."
                raise TallerError(reason + where)
            logs = shapes.zeek_logs([member.name for member in members])
            if len(logs) == 1 and not any(p.name.lower().endswith(".json") for p in paths):
                return _read_zeek(Path(scratch) / "x" / logs[0], label)
            where = "Descomprima el archivo para abrirlas."
            return read_json_lines(archive.json_file(paths, label, where), label)
    except OSError as exc:
        raise TallerError(
            f"No se pudo extraer «{label}» en una carpeta temporal "
            f"({tempfile.gettempdir()}): {exc.strerror or exc}. Compruebe el espacio libre "
            "o indique otra carpeta con la variable TMPDIR."
        ) from None


def _load_url(url: str) -> pd.DataFrame:
    """Una URL fuera del catálogo: se descarga (verificada) y, si luego no se puede
    leer, se borra de la caché para que la próxima vez se descargue de nuevo."""
    path = download.fetch_url(url)
    try:
        return _load_local(path, Path(path.name.split("-", 1)[1]).name)
    except TallerError as exc:
        path.unlink(missing_ok=True)
        raise TallerError(
            f"{exc} Se ha borrado la copia de la caché: la próxima vez se descargará de nuevo."
        ) from None


def load(source) -> pd.DataFrame:
    """Carga un conjunto en un DataFrame; véase la tabla de tipos del módulo.

    `source` puede ser un nombre o id del catálogo (``"empire_psexec_dcerpc_tcp_svcctl"``,
    ``"SDWIN-190518210652"``), su ruta de upstream, una URL, o la ruta de un
    archivo local (.zip, .tar.gz, .json). Lo del catálogo se descarga, verifica y
    extrae en la caché la primera vez.
    """
    if isinstance(source, bytes):
        source = os.fsdecode(source)
    if not isinstance(source, str | os.PathLike):
        raise TallerError(
            "taller.load necesita el nombre de un conjunto del catálogo, la ruta de un "
            f"archivo o una URL (un texto), no {type(source).__name__} ({source!r}). "
            'Por ejemplo: taller.load("empire_psexec_dcerpc_tcp_svcctl").'
        )
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    candidates = catalog.matching(text)
    if not candidates:
        local = Path(text).expanduser()
        if local.is_file():
            return _load_local(local)
        if local.is_dir() and text.strip():
            raise TallerError(
                f"«{text}» es una carpeta, no un archivo. Indique el archivo .zip, .tar.gz "
                "o .json que quiere cargar (o el nombre de un conjunto del catálogo)."
            )
        if download._is_url(text.strip()):
            return _load_url(text.strip())
        looks_like_file = text.lower().endswith((".json", ".jsonl", *catalog.ARCHIVE_SUFFIXES))
        if looks_like_file or "/" in text or os.sep in text:
            raise TallerError(f"No existe el archivo «{text}». Compruebe la ruta.")
    entry = catalog.pick(text, candidates)  # si no está en el catálogo, explica el error
    logs = shapes.zeek_logs(entry.members)
    if logs and not any(m.lower().endswith((".json", ".jsonl")) for m in entry.members):
        if len(logs) > 1:
            where = f"Tras taller.fetch están en {entry.extract_dir}."
            raise TallerError(f"{shapes.refusal(entry.name, entry.members)} {where}")
        download.extracted_files(entry.name)
        return _read_zeek(entry.extract_dir / logs[0], entry.name)
    return _to_frame(columnar.cached_table(entry))
