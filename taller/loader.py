"""Carga de un conjunto de datos en un DataFrame de pandas, rápida y con tipos honestos.

`load` acepta un nombre o id del catálogo, una ruta de upstream, una URL, un
archivo comprimido local (.zip/.Zip o .tar.gz) o un archivo JSON Lines (un
objeto JSON por línea), sea cual sea su esquema: eventos de Windows/Sysmon
con ``@timestamp`` o tablas de la nube con ``TimeGenerated``.

Rapidez: el JSON se lee con pyarrow (véase `taller.columnar`), varias veces
más rápido que ``pandas.read_json(lines=True)``, y la tabla de cada conjunto
del catálogo (y de cada archivo propio) se guarda además en la caché como
Parquet (``<nombre>.parquet``; ``descargar`` ya la prepara), que las cargas
leen en milisegundos tras comprobar su huella SHA-256; véase
``bench/bench_loader.py``. Con todo en la caché, `load` no imprime nada.

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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from taller import columnar, road
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


def load(source) -> pd.DataFrame:
    """Carga un conjunto en un DataFrame; véase la tabla de tipos del módulo.

    `source` puede ser un nombre o id del catálogo (``"empire_psexec_dcerpc_tcp_svcctl"``,
    ``"SDWIN-190518210652"``), su ruta de upstream, una URL (http(s) o
    ``file://``), o la ruta de un archivo local (.zip, .tar.gz, .json). Lo del
    catálogo se descarga, verifica y extrae en la caché la primera vez; de un
    archivo propio se guarda también una copia Parquet verificada, con la
    huella de su contenido (`taller.road`).
    """
    if isinstance(source, bytes):
        source = os.fsdecode(source)
    if not isinstance(source, str | os.PathLike):
        raise TallerError(
            "taller.load necesita el nombre de un conjunto del catálogo, la ruta de un "
            f"archivo o una URL (un texto), no {type(source).__name__} ({source!r}). "
            'Por ejemplo: taller.load("empire_psexec_dcerpc_tcp_svcctl").'
        )
    return _to_frame(road.table(source))
