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
``@timestamp``,                 ``datetime64[ns, UTC]``     se pueden restar y comparar;
``TimeGenerated``                                           ``@timestamp`` es cuándo lo recibió
                                                            el recolector: no sirve para ordenar
otros enteros (``ThreadID``,    ``Int64``                   nullable: un hueco es ``<NA>``,
``RecordNumber``...)                                        nunca un ``float``
texto, GUID (``ProcessGuid``),  ``string``                  tal cual: ``"0x1410"`` no se
hexadecimal (``GrantedAccess``,                             convierte en número
``TargetLogonId``)
``EventTime``,                  ``datetime64[s]``           pyarrow reconoce
``EventReceivedTime``           sin zona                    «AAAA-MM-DD hh:mm:ss», sin zona:
                                                            ``EventTime``, hora local del equipo
                                                            del evento, al segundo;
                                                            ``EventReceivedTime``, la del
                                                            recolector
``UtcTime`` y otras fechas      ``string``                  pyarrow no reconoce las
con fracciones de segundo                                   fracciones; conviértalas con
                                                            ``pd.to_datetime`` si hace falta
números con decimales           ``float64``
booleanos                       ``boolean``
objetos y listas anidados       ``object`` (dict/list)
==============================  ==========================  ==================================

Una conversión (de texto a entero o a fecha) solo se hace si todos los valores
de la columna se pueden convertir (también: que quepan en 64 bits o en
``datetime64[ns]``); si no, la columna se deja como texto.

Para ordenar eventos, la hora de cada uno en UTC es ``taller.event_time(df)``.
"""

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa

from taller import archive, catalog, columnar, download
from taller.errors import TallerError

TIMESTAMP_FIELDS = ("@timestamp", "TimeGenerated")
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow"),
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
    """A ``datetime64[ns, UTC]``; si alguna fecha no cabe (el «cero» de Windows,
    1601-01-01, o el año 9999), la columna se deja como texto."""
    if pd.api.types.is_datetime64_any_dtype(column):  # pyarrow ya lo reconoció (sin zona)
        try:
            return column.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
        except (ValueError, OverflowError):  # pandas.errors.OutOfBoundsDatetime
            text = column.dt.strftime("%Y-%m-%d %H:%M:%S")
            return text.astype(pd.StringDtype("pyarrow"))
    try:
        return pd.to_datetime(column, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return column


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """DataFrame con los tipos descritos en el módulo."""
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


def _load_local(path: Path, label: str | None = None) -> pd.DataFrame:
    label = label or path.name
    name = path.name.lower()
    if name.endswith((".json", ".jsonl")):
        return read_json_lines(path, label)
    if not name.endswith(catalog.ARCHIVE_SUFFIXES):
        raise TallerError(f"«{label}» no es un .zip, .tar.gz ni .json: no se sabe cómo cargarlo.")
    try:
        with tempfile.TemporaryDirectory(prefix="taller-") as scratch:
            members = archive.extract(path, Path(scratch) / "x", label)
            paths = [Path(scratch) / "x" / member.name for member in members]
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
    return _to_frame(columnar.cached_table(entry))
