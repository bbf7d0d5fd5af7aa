"""El camino de los datos, de principio a fin: de un nombre o un archivo a su tabla.

Un conjunto del catálogo recorre cuatro etapas, cada una dueña de lo que
escribe y de su parte del manifiesto de la caché (`taller.cache`):

1. nombre → entrada del catálogo (`taller.catalog`);
2. entrada → archivo comprimido verificado con la huella del catálogo
   (`taller.download.fetch_entry`, que copia con `taller.transfer`);
3. archivo → extracción verificada, con la huella de cada archivo extraído en
   el manifiesto (`taller.download.extraction`, que extrae con
   `taller.archive`);
4. JSON extraído → copia Parquet verificada (`taller.columnar`).

El manifiesto se lee una vez por llamada, aquí, y se pasa a cada etapa.

Un **archivo propio** (una ruta, una URL ``file://`` o una URL http(s) que no
son del catálogo) recorre el mismo camino: la URL http(s) se descarga antes,
con las mismas comprobaciones, en ``<caché>/otros/`` (`taller.transfer`), y
el archivo hace de archivo comprimido; su huella SHA-256 es la de su
contenido y da nombre a su carpeta, ``<caché>/propios/<huella>/``, con su
manifiesto y su copia Parquet. Un archivo comprimido propio se extrae en una
carpeta temporal (no se guarda otra copia de lo extraído); si el contenido
cambia, cambia su huella y se hace una copia nueva.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from taller import archive, cache, catalog, columnar, download, edge, files, transfer
from taller.errors import TallerError


def own_file(text: str) -> catalog.Place | None:
    """El archivo propio al que se refiere `text` (None si no parece uno).

    Acepta una ruta, una URL ``file://`` o una URL http(s) (que se descarga).
    Si no existe, lo dice; si no parece una ruta, devuelve None para que se
    busque en el catálogo.
    """
    stripped = text.strip()
    who = f"taller.load({edge.shown(text)})"
    if len(text) > edge.MAX_TEXT or "\0" in text:
        raise TallerError(
            f"{who}: no es un nombre, una ruta ni una URL válidos (demasiado largo o con "
            'caracteres nulos). Por ejemplo: taller.load("empire_psexec_dcerpc_tcp_svcctl").'
        )
    if not stripped:
        raise TallerError(
            "taller.load recibió un texto vacío. Indique el nombre de un conjunto del catálogo "
            '(por ejemplo, taller.load("empire_psexec_dcerpc_tcp_svcctl")), una ruta o una URL.'
        )
    downloaded = False
    scheme = stripped.split("://", 1)[0].lower() if "://" in stripped else None
    if transfer.is_url(stripped):
        edge.url(stripped, who, "https://servidor.example/datos/ataque.zip")
        path, downloaded = transfer.fetch_url(stripped), True
    elif stripped.lower().startswith("file:"):
        try:
            path = edge.file_url_path(stripped)
        except ValueError:
            raise TallerError(
                f"{who}: no es una URL file:// válida. Por ejemplo: file:///home/ana/x.zip."
            ) from None
    elif scheme is not None and scheme.isascii() and scheme.replace("+", "").isalnum():
        raise TallerError(
            f"{who}: el protocolo «{scheme}://» no se admite; solo http://, https:// y "
            'file://, o una ruta. Por ejemplo: taller.load("https://servidor.example/x.zip").'
        )
    else:
        try:
            path = Path(text).expanduser()
        except RuntimeError:  # ~usuario que no existe
            raise TallerError(
                f"{who}: la ruta empieza por un «~usuario» que no existe en este equipo. "
                "Escriba la ruta completa (por ejemplo, /home/ana/x.zip)."
            ) from None
    try:
        regular, exists = path.is_file(), path.exists()
        folder = path.is_dir()
    except OSError as exc:  # nombre demasiado largo, permisos...
        raise TallerError(
            f"{who}: no se puede usar esa ruta ({edge.reason(exc)}). Compruébela."
        ) from None
    if exists and not regular and not folder:
        raise TallerError(
            f"«{edge.redact(text)}» no es un archivo normal (es una tubería, un dispositivo o "
            "un enlace roto). Indique un archivo .zip, .tar.gz o .json."
        )
    if not regular:
        if folder and stripped:
            raise TallerError(
                f"«{text}» es una carpeta, no un archivo. Indique el archivo .zip, .tar.gz "
                "o .json que quiere cargar (o el nombre de un conjunto del catálogo)."
            )
        looks_like_file = text.lower().endswith(transfer.OWN_SUFFIXES)
        if looks_like_file or "/" in text or os.sep in text:
            raise TallerError(f"No existe el archivo «{edge.redact(text)}». Compruebe la ruta.")
        return None
    if not downloaded and not path.name.lower().endswith(transfer.OWN_SUFFIXES):
        raise TallerError(
            f"«{path.name}» no es un .zip, .tar.gz ni .json: no se sabe cómo cargarlo "
            "(¿es el archivo correcto?)."
        )
    name = path.name.split("-", 1)[1] if downloaded else path.name
    try:
        with files.open_regular(path) as handle:
            size, digest = files.hash_chunks(files.chunks_of(handle))
    except OSError as exc:
        raise TallerError(f"No se puede leer «{name}»: {exc.strerror or exc}.") from None
    folder = catalog.cache_dir() / cache.OWN / digest
    return catalog.Place(name, digest, size, path, folder, downloaded=downloaded)


def locate(source) -> catalog.Place:
    """La primera etapa: el conjunto del catálogo o el archivo propio de `source`.

    `source` puede ser también una entrada del catálogo o lo que ya devolvió
    `locate`: entonces no se vuelve a buscar.
    """
    if isinstance(source, catalog.Place):
        return source
    if isinstance(source, catalog.Dataset):
        return source.place()
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    entry = catalog.lookup(text) or own_file(text)
    if entry is None:
        raise catalog.unknown(text)  # con una sugerencia, si la hay
    return entry


# --- Del archivo propio al JSON -----------------------------------------------


@contextlib.contextmanager
def _own_source(entry: catalog.Place):
    """La etapa anterior a la copia Parquet para un archivo propio (véase `columnar.build`).

    Un JSON es su propio «miembro»; un archivo comprimido se extrae, verificado,
    en una carpeta temporal que se borra al terminar.
    """
    lower = entry.archive_path.name.lower()
    if lower.endswith((".json", ".jsonl", ".log")):  # .log: registro de Zeek
        member = archive.Member(entry.archive_path.name, entry.size, entry.sha256)
        yield lambda entry, _: (
            entry.archive_path,
            member.name,
            cache.new_manifest(entry, [member]),
        )
        return
    if not lower.endswith(archive.ARCHIVE_SUFFIXES):
        raise TallerError(
            f"«{entry.name}» no es un .zip, .tar.gz ni .json: no se sabe cómo cargarlo."
        )

    def extracted(entry: catalog.Place, _) -> tuple[Path, str, dict]:
        folder = Path(scratch) / "x"
        members = archive.extract(entry.archive_path, folder, entry.name)
        paths = [folder / member.name for member in members]
        json = archive.json_file(paths, entry.name, "Descomprima el archivo para abrirlas.")
        return json, json.relative_to(folder).as_posix(), cache.new_manifest(entry, members)

    try:
        with tempfile.TemporaryDirectory(prefix="taller-") as scratch:
            yield extracted
    except OSError as exc:
        raise TallerError(
            f"No se pudo extraer «{entry.name}» en una carpeta temporal "
            f"({tempfile.gettempdir()}): {exc.strerror or exc}. Compruebe el espacio libre "
            "o indique otra carpeta con la variable TMPDIR."
        ) from None


# --- El camino entero ------------------------------------------------------------


def _road(entry, want_path: bool):
    """(copia Parquet o None, tabla o None) de `entry`, por el camino que haga falta.

    Con la copia al día no se toca ni el JSON ni el archivo: si se pide la
    ruta, se comprueba la huella de la copia; si se pide la tabla, se lee la
    copia una vez, se verifica y se descodifica desde la memoria.
    """
    manifest = cache.read_manifest(entry)
    state = cache.parquet_state(entry, manifest, check_hash=want_path)
    if state.problem is None:
        if want_path:
            return state.path, None
        table, state = columnar.read_copy(state)
        if table is not None:
            return state.path, table
    if entry.path is None:  # un archivo propio
        if isinstance(manifest, cache.Unusable):
            cache.notice(
                f"la copia Parquet de «{entry.name}» no era fiable ({manifest.problem}); "
                "se rehace a partir del archivo."
            )
        with _own_source(entry) as source:
            return columnar.build(entry, manifest, state, source)
    return columnar.build(entry, manifest, state, download.json_source)


def _forget_download(entry, exc: TallerError) -> TallerError:
    """Lo descargado de una URL que no se puede leer se borra, para descargarlo de nuevo."""
    if not entry.downloaded:
        return exc
    entry.archive_path.unlink(missing_ok=True)
    return TallerError(
        f"{exc} Se ha borrado la copia de la caché: la próxima vez se descargará de nuevo."
    )


def table(source):
    """La tabla de Arrow de un conjunto del catálogo o de un archivo propio (`taller.load`)."""
    entry = locate(source)
    try:
        return _road(entry, want_path=False)[1]
    except TallerError as exc:
        raise _forget_download(entry, exc) from None


def parquet_path(source) -> Path:
    """Ruta de la copia Parquet verificada de un conjunto o de un archivo propio.

    `source` es un nombre del catálogo (o su id o su ruta de upstream), la ruta
    de un archivo propio (.json, .zip, .tar.gz), una URL ``file://`` o una URL
    http(s). Lo descarga, extrae y prepara si hace falta. pandas
    (``pd.read_parquet``), DuckDB (``read_parquet('…')``) y Spark
    (``spark.read.parquet``) la leen directamente; sus columnas tienen los
    tipos del JSON, sin las conversiones de `taller.load` (``ProcessId``
    hexadecimal o ``@timestamp`` siguen como texto).
    """
    entry = locate(source)
    try:
        path, _ = _road(entry, want_path=True)
    except TallerError as exc:
        raise _forget_download(entry, exc) from None
    if path is None:
        raise TallerError(
            f"No se pudo guardar la copia Parquet de «{entry.name}» en la caché "
            f"({catalog.cache_dir()}). Compruebe el espacio libre y los permisos."
        )
    return path


def prepare(entry: catalog.Dataset, manifest: dict) -> Path | None:
    """Deja verificada (o hace) la copia Parquet de una extracción ya verificada.

    Devuelve None si no tiene eventos JSON (capturas de red u otro contenido)
    o si no se pudo guardar. Es lo que hace ``taller descargar``.
    """
    if cache.json_member(manifest) is None:
        return None
    state = cache.parquet_state(entry, manifest)
    if state.problem is None:
        return state.path
    return columnar.build(entry, manifest, state, download.json_source)[0]
