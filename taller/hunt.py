"""Caza a escala (cuaderno 09): el corpus en DuckDB y en Spark con la misma tabla.

El corpus son los eventos de equipo de dos tácticas de Security-Datasets
(`taller.catalog.corpus`: ``defense_evasion/host`` y ``credential_access/host``).
Cada conjunto se lee de su copia Parquet verificada (`taller.parquet_path`).
Todas las formas de eventos de Windows que produce el cargador valen: una
exportación de Log Analytics (Microsoft Sentinel) aporta ``Hostname``,
``Channel``, ``EventID`` y los campos de su ``EventData`` como cualquier otro
conjunto (`taller.shapes`), y un conjunto sin ninguna columna de eventos de
Windows se rechaza con su nombre, nunca se suma como filas vacías.

Las dos funciones de este módulo crean en su motor la misma vista ``events``,
con pocas columnas y ya normalizadas, para que las detecciones se escriban una
sola vez en un SQL que DuckDB y Spark entienden igual:

============== ==============================================================
columna        contenido
============== ==============================================================
dataset        nombre del conjunto en el catálogo
channel        canal del registro (``Channel``)
event_id       identificador del evento (``EventID``), entero
host           equipo (``Hostname``), en minúsculas
source_process proceso de origen de Sysmon 8 y 10 (``SourceImage``), solo el
               nombre del ejecutable y en minúsculas: ``powershell.exe``
target_process proceso de destino de Sysmon 8 y 10 (``TargetImage``), igual
granted_access permisos pedidos en Sysmon 10 (``GrantedAccess``), minúsculas
image          proceso que actúa en los demás eventos (``Image``), igual
target_object  clave del registro de Sysmon 12, 13 y 14 (``TargetObject``),
               en minúsculas y con «/» en lugar de «\\»
============== ==============================================================

Las barras inversas de Windows se cambian por «/» al crear la vista porque
DuckDB y Spark no escriben igual una barra inversa dentro de un texto SQL.
"""

import json
import os
import re
import tempfile
from pathlib import Path

from taller import cache, catalog, download
from taller.errors import TallerError
from taller.files import (
    clean_stale_temporaries,
    make_readable,
    read_regular,
    sha256,
    temporary_name,
    write_atomically,
)

SYSMON = "Microsoft-Windows-Sysmon/Operational"
# Columnas del JSON que lee la vista (las demás no se leen del disco).
RAW_COLUMNS = (
    "Channel",
    "EventID",
    "Hostname",
    "SourceImage",
    "TargetImage",
    "GrantedAccess",
    "Image",
    "TargetObject",
)
VIEW_COLUMNS = (
    "dataset",
    "channel",
    "event_id",
    "host",
    "source_process",
    "target_process",
    "granted_access",
    "image",
    "target_object",
)
DEFAULT_MASTER = "local[*]"


def corpus_names() -> list[str]:
    """Nombres de los conjuntos del corpus, en el orden del catálogo."""
    return [entry.name for entry in catalog.corpus()]


def corpus_files(progress: bool = True, sources=None) -> dict[str, Path]:
    """{conjunto: copia Parquet (o JSON)} del corpus; descarga lo que falte.

    La primera vez descarga y verifica los 66 archivos con una barra de
    progreso; después solo comprueba la caché. Con `sources` (nombres del
    catálogo o archivos propios: rutas, URL ``file://`` o http(s)), son esos
    en lugar del corpus, cada uno con su copia Parquet verificada
    (`taller.road`): ``hunt.duckdb_events(con, hunt.corpus_files(sources=[…]))``.
    """
    from taller import road  # pyarrow: solo al preparar las copias

    if sources is not None:
        entries = [road.locate(source) for source in sources]
        return {entry.name: road.parquet_path(entry) for entry in entries}
    entries = catalog.corpus()
    missing = [entry for entry in entries if not entry.archive_path.exists()]
    if missing and progress:
        # La barra de texto de tqdm: se ve igual en JupyterLab, Colab y la
        # terminal, y no avisa en rojo si falta ipywidgets.
        from tqdm import tqdm

        missing = tqdm(missing, desc="Corpus de caza", unit="conjunto")
    for entry in missing:
        download.json_path(entry.name)
    return {entry.name: road.parquet_path(entry) for entry in entries}


def json_bytes(names) -> int:
    """Bytes del JSON extraído de esos conjuntos, según sus manifiestos verificados.

    Cuenta también el JSON que ``descargar --sin-json`` borró tras verificar su
    copia Parquet (la imagen Docker): es lo que ocupa extraído, esté o no.
    Cada conjunto debe estar ya preparado (`corpus_files`).
    """
    total = 0
    for name in names:
        manifest = cache.read_manifest(catalog.resolve(name))
        member = cache.json_member(manifest) if manifest else None
        if member is None:
            raise TallerError(f"«{name}» no tiene un JSON extraído y verificado en la caché.")
        total += manifest["members"][member]["size"]
    return total


# --- DuckDB ---------------------------------------------------------------


def _duckdb_normalized(source: str) -> str:
    base = r"lower(regexp_extract({}, '[^\\]+$'))"
    return f"""
        SELECT dataset,
               "Channel" AS channel,
               CAST("EventID" AS BIGINT) AS event_id,
               lower(CAST("Hostname" AS VARCHAR)) AS host,
               {base.format('"SourceImage"')} AS source_process,
               {base.format('"TargetImage"')} AS target_process,
               lower(CAST("GrantedAccess" AS VARCHAR)) AS granted_access,
               {base.format('"Image"')} AS image,
               replace(lower("TargetObject"), '\\', '/') AS target_object
        FROM {source}"""


def _sql_text(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _raw_type(name: str) -> str:
    return "BIGINT" if name == "EventID" else "VARCHAR"


def _file_source(con, index: int, name: str, path: Path) -> tuple[str, list[str]]:
    """Lo que DuckDB lee para un conjunto y sus columnas, en la forma del taller.

    Una copia Parquet del taller ya está normalizada (`taller.shapes`) y se
    lee tal cual. Un JSON, o un Parquet con la forma de una exportación de
    Log Analytics (``Computer``, ``EventData``...) o de Winlogbeat sin
    procesar (``computer_name``, ``event_data``...), se normaliza aquí y se
    registra en DuckDB como tabla de Arrow: así ninguna forma de eventos de
    Windows queda con las columnas de la caza vacías.
    """
    import pyarrow.parquet as pq

    from taller import columnar, shapes

    if path.suffix == ".parquet":
        names = pq.read_schema(path).names
        if not (shapes.is_log_analytics(names) or shapes.is_winlogbeat(names)):
            return f"read_parquet({_sql_text(path)})", names
        table = shapes.normalize(pq.read_table(path))
    else:
        table = columnar.read_json_table(path, name)
    view = f"corpus_{index}"
    con.register(view, table)
    return view, table.column_names


def _duckdb_raw(con, files: dict[str, Path]) -> str:
    """Subconsulta con las columnas de `RAW_COLUMNS` y el nombre del conjunto.

    Cada conjunto aporta las columnas que tiene; las que no tiene (un conjunto
    sin Sysmon no tiene ``TargetObject``) son nulas. Un conjunto sin ninguna
    de ``Channel``, ``EventID`` y ``Hostname`` no es de eventos de Windows: se
    rechaza con su nombre en lugar de sumar filas vacías a la caza.
    """
    selects = []
    for index, (name, path) in enumerate(files.items()):
        source, names = _file_source(con, index, name, Path(path))
        if not {"Channel", "EventID", "Hostname"} & set(names):
            raise TallerError(
                f"«{name}» ({Path(path).name}) no tiene las columnas de los eventos de "
                "Windows (Channel, EventID, Hostname): no es un conjunto para esta caza. "
                f"Sus columnas: {', '.join(names[:12])}{'…' if len(names) > 12 else ''}."
            )
        raw = ", ".join(
            (
                f'CAST("{column}" AS {_raw_type(column)})'
                if column in names
                else f"CAST(NULL AS {_raw_type(column)})"
            )
            + f' AS "{column}"'
            for column in RAW_COLUMNS
        )
        selects.append(f"SELECT {_sql_text(name)} AS dataset, {raw} FROM {source}")
    return "(" + "\nUNION ALL ".join(selects) + ")"


def duckdb_events(con, files: dict[str, Path] | None = None) -> None:
    """Crea en la conexión DuckDB `con` la vista ``events`` sobre el corpus.

    DuckDB lee directamente la copia Parquet de cada conjunto, y de cada una
    solo las columnas que usa la consulta.
    """
    files = corpus_files() if files is None else files
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events AS " + _duckdb_normalized(_duckdb_raw(con, files))
    )


def _sources(files_by_name: dict[str, Path]) -> dict[str, list[int]]:
    """Huella barata de las copias de origen: tamaño y fecha de cada una."""
    return {
        name: [path.stat().st_size, path.stat().st_mtime_ns]
        for name, path in sorted(files_by_name.items())
    }


def _record_problem(saved) -> str | None:
    """El esquema de ``caza.json``: {"sha256": hex, "sources": {nombre: [enteros]}}."""
    if not isinstance(saved, dict) or set(saved) != {"sha256", "sources"}:
        return "no tiene las claves sha256 y sources"
    if not (isinstance(saved["sha256"], str) and re.fullmatch(r"[0-9a-f]{64}", saved["sha256"])):
        return "sha256 no es una huella"
    sources = saved["sources"]
    if not isinstance(sources, dict) or not all(
        isinstance(value, list) and all(type(item) is int for item in value)
        for value in sources.values()
    ):
        return "sources no es {nombre: [enteros]}"
    return None


def hunting_table(files_by_name: dict[str, Path] | None = None) -> Path:
    """Un solo Parquet con las columnas de la caza de todo el corpus.

    Spark paga por cada archivo que abre (esquema, tareas): leer 66 copias
    con esquemas distintos tarda más que la consulta. DuckDB las junta aquí
    una vez, con las columnas de `RAW_COLUMNS` y el nombre del conjunto. Es
    lo que, en un clúster, se guarda en el almacenamiento compartido.

    Como el resto de la caché, no se confía en ella a ciegas: junto a la tabla
    (``<caché>/corpus/caza.parquet``) se guarda ``caza.json`` con su huella
    SHA-256 y el tamaño y la fecha de cada copia de origen (ya verificadas por
    `taller.parquet_path`). Si la tabla no coincide con su huella, o alguna
    copia cambió, se rehace y se avisa.
    """
    import duckdb

    files_by_name = corpus_files() if files_by_name is None else files_by_name
    folder = catalog.cache_dir() / cache.HUNT
    target = folder / "caza.parquet"
    record = folder / "caza.json"
    sources = _sources(files_by_name)
    if target.exists():
        try:
            saved = json.loads(read_regular(record))
            problem = _record_problem(saved)
            if problem:
                raise ValueError(problem)
            if saved["sources"] == sources and saved["sha256"] == sha256(target):
                return target
            if saved["sources"] == sources:
                cache.notice(f"la tabla de caza {target} estaba dañada; se rehace.")
        except (OSError, ValueError, RecursionError):
            cache.notice(
                f"el registro de la tabla de caza ({record}) está dañado o falta; se rehace."
            )
    folder.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(folder)
    scratch = temporary_name(folder, ".parquet")
    try:
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * FROM {_duckdb_raw(con, files_by_name)} "
                "ORDER BY dataset) "
                f"TO '{scratch}' (FORMAT parquet, COMPRESSION zstd)"
            )
        make_readable(scratch)
        digest = sha256(scratch)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    payload = {"sha256": digest, "sources": sources}
    write_atomically(record, json.dumps(payload, indent=1).encode())
    return target


# --- Spark ----------------------------------------------------------------


def spark_master() -> str:
    """El master de Spark: la variable ``SPARK_MASTER`` o ``local[*]``.

    Por ejemplo ``spark://127.0.0.1:7077`` (un clúster independiente) o
    ``k8s://https://…`` (Kubernetes), como en el cuaderno 08.
    """
    return os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


JVM_LOG = Path(tempfile.gettempdir()) / "taller-spark-jvm.log"


def spark_session(app_name: str = "taller-09", memory: str = "768m"):
    """Una sesión de Spark con el master de `spark_master` y poca memoria.

    Los mensajes de arranque de la JVM van a `JVM_LOG`, no al cuaderno.
    """
    from pyspark.sql import SparkSession

    master = spark_master()
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.memory", memory)
        .config("spark.executor.memory", memory)
        .config("spark.sql.caseSensitive", "true")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    saved_stderr = os.dup(2)
    try:
        with open(JVM_LOG, "ab") as log:
            os.dup2(log.fileno(), 2)  # la JVM, que nace ahora, hereda el archivo
            session = builder.getOrCreate()
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_events(spark, files: dict[str, Path] | None = None) -> None:
    """Crea en la sesión `spark` la vista ``events`` sobre el corpus.

    Lee el Parquet de `hunting_table` (un archivo, pocas columnas).
    """
    table = hunting_table(files)
    spark.read.parquet(str(table)).createOrReplaceTempView("corpus_raw")
    base = r"lower(regexp_extract({}, '[^\\\\]+$', 0))"
    spark.sql(f"""
        CREATE OR REPLACE TEMP VIEW events AS
        SELECT dataset,
               Channel AS channel,
               EventID AS event_id,
               lower(Hostname) AS host,
               {base.format("SourceImage")} AS source_process,
               {base.format("TargetImage")} AS target_process,
               lower(GrantedAccess) AS granted_access,
               {base.format("Image")} AS image,
               replace(lower(TargetObject), '\\\\', '/') AS target_object
        FROM corpus_raw""")


def _order(row: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row)


def spark_rows(spark, sql: str) -> list[tuple]:
    """Ejecuta `sql` en Spark y devuelve las filas como tuplas, ordenadas."""
    return sorted((tuple(row) for row in spark.sql(sql).collect()), key=_order)


def duckdb_rows(con, sql: str) -> list[tuple]:
    """Ejecuta `sql` en DuckDB y devuelve las filas como tuplas, ordenadas."""
    return sorted((tuple(row) for row in con.execute(sql).fetchall()), key=_order)
