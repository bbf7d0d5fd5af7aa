"""Caza a escala (cuaderno 09): el corpus en DuckDB y en Spark con la misma tabla.

El corpus son los eventos de equipo de dos tácticas de Security-Datasets
(`taller.catalog.corpus`: ``defense_evasion/host`` y ``credential_access/host``).
Cada conjunto se lee de su copia Parquet verificada (`taller.parquet_path`);
si el paquete aún no la ofrece, del JSON extraído.

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

import os
import tempfile
from pathlib import Path

from taller import catalog, download

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


def corpus_files(progress: bool = True) -> dict[str, Path]:
    """{conjunto: copia Parquet (o JSON)} del corpus; descarga lo que falte.

    La primera vez descarga y verifica los 66 archivos con una barra de
    progreso; después solo comprueba la caché.
    """
    import taller

    entries = catalog.corpus()
    missing = [entry for entry in entries if not entry.archive_path.exists()]
    if missing and progress:
        from tqdm.auto import tqdm

        missing = tqdm(missing, desc="Corpus de caza", unit="conjunto")
    for entry in missing:
        download.json_path(entry.name)
    reader = getattr(taller, "parquet_path", None) or taller.json_path
    return {entry.name: Path(reader(entry.name)) for entry in entries}


def _is_parquet(files: dict[str, Path]) -> bool:
    return all(path.suffix == ".parquet" for path in files.values())


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


def _duckdb_raw(con, files: dict[str, Path]) -> str:
    """Subconsulta con las columnas de `RAW_COLUMNS` y el nombre del conjunto."""
    con.execute("CREATE OR REPLACE TEMP TABLE corpus_files (dataset VARCHAR, file VARCHAR)")
    con.executemany(
        "INSERT INTO corpus_files VALUES (?, ?)",
        [(name, str(path)) for name, path in files.items()],
    )
    paths = ", ".join(f"'{path}'" for path in files.values())
    if _is_parquet(files):
        reader = f"read_parquet([{paths}], union_by_name = true, filename = true)"
    else:
        columns = ", ".join(
            f"'{name}': '{'BIGINT' if name == 'EventID' else 'VARCHAR'}'" for name in RAW_COLUMNS
        )
        reader = (
            f"read_json([{paths}], format = 'newline_delimited', "
            f"union_by_name = true, filename = true, "
            f"columns = {{{columns}}})"
        )
    raw = ", ".join(
        f'CAST("{name}" AS {"BIGINT" if name == "EventID" else "VARCHAR"}) AS "{name}"'
        for name in RAW_COLUMNS
    )
    return (
        f"(SELECT f.dataset, {raw} FROM {reader} AS r "
        "JOIN corpus_files AS f ON r.filename = f.file)"
    )


def duckdb_events(con, files: dict[str, Path] | None = None) -> None:
    """Crea en la conexión DuckDB `con` la vista ``events`` sobre el corpus.

    DuckDB lee directamente la copia Parquet de cada conjunto, y de cada una
    solo las columnas que usa la consulta.
    """
    files = corpus_files() if files is None else files
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events AS " + _duckdb_normalized(_duckdb_raw(con, files))
    )


def hunting_table(files: dict[str, Path] | None = None) -> Path:
    """Un solo Parquet con las columnas de la caza de todo el corpus.

    Spark paga por cada archivo que abre (esquema, tareas): leer 66 copias
    con esquemas distintos tarda más que la consulta. DuckDB las junta aquí
    una vez, con las columnas de `RAW_COLUMNS` y el nombre del conjunto; se
    rehace si alguna copia es más reciente. Es lo que, en un clúster, se
    guarda en el almacenamiento compartido.
    """
    import duckdb

    files = corpus_files() if files is None else files
    target = catalog.cache_dir() / "corpus" / "caza.parquet"
    newest = max(path.stat().st_mtime for path in files.values())
    if target.exists() and target.stat().st_mtime >= newest:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(".parquet.tmp")
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM {_duckdb_raw(con, files)} "
            "ORDER BY dataset) "
            f"TO '{scratch}' (FORMAT parquet, COMPRESSION zstd)"
        )
    os.replace(scratch, target)
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
