"""El catálogo de conjuntos de datos (`taller/catalogo.yaml`), dónde se guardan y los ajustes.

El catálogo es la única fuente de verdad sobre qué datos usa el taller: de él
salen las rutas de upstream, las huellas SHA-256 que validan cada descarga y
la información que muestra `python -m taller listar`. Este módulo lo lee y
responde a dos preguntas: «¿a qué conjunto se refiere este nombre?» y «¿en qué
carpeta local vive?».

Lee además los dos ajustes de dónde viven los datos (variables de entorno
leídas en cada llamada, para que las pruebas y el instructor puedan cambiarlas
sin reiniciar nada; `taller.edge` valida cada valor y lee los demás,
``TALLER_TIMEOUT`` y ``TALLER_RETRIES``):

- ``TALLER_CACHE_DIR``: carpeta de la caché; por defecto, ``datasets/`` del
  repositorio si se usa desde un clon, o la caché del usuario si el paquete
  está instalado en otro sitio (véase `cache_dir`). Un archivo con ruta de
  upstream ``datasets/atomic/.../x.zip`` se guarda en ``<caché>/atomic/.../x.zip``
  y se extrae en ``<caché>/atomic/.../x/``.
- ``TALLER_BASE_URL``: de dónde se descarga; por defecto, GitHub en el commit
  fijado por el catálogo. Puede ser otra URL http(s) o una carpeta local con la
  misma estructura que el repositorio de upstream (un espejo); `source_of`
  dice de dónde se copia cada archivo.
"""

import difflib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from taller import edge
from taller.archive import ARCHIVE_SUFFIXES, CAPTURE_SUFFIXES
from taller.errors import TallerError

REPO_ROOT = Path(__file__).resolve().parent.parent
CATALOG_PATH = Path(__file__).resolve().parent / "catalogo.yaml"


def strip_archive_suffix(name: str) -> str:
    """Quita la extensión de archivo comprimido: «x.Zip» y «x.tar.gz» dan «x»."""
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Dataset:
    """Una entrada del catálogo; los nombres de campo del YAML van en los comentarios."""

    name: str  # clave del catálogo
    id: str | None  # id
    title: str  # titulo
    kind: str  # tipo: host, red o nube
    techniques: tuple[str, ...]  # tecnicas
    tactics: tuple[str, ...]  # tacticas
    path: str  # ruta (en upstream)
    sha256: str
    size: int | None  # bytes (null si el catálogo se generó sin ese archivo)
    members: tuple[str, ...]  # contenido (vacío si no se conoce)
    notebooks: tuple[str, ...]  # cuadernos
    selected: bool = False  # seleccion: lo prepara `descargar --todos`

    @property
    def relative_path(self) -> str:
        """Ruta dentro de la caché (y dentro de ``datasets/`` de upstream)."""
        return self.path.removeprefix("datasets/")

    @property
    def archive_path(self) -> Path:
        """Dónde se guarda el archivo comprimido descargado."""
        return cache_dir() / self.relative_path

    @property
    def extract_dir(self) -> Path:
        """Carpeta, junto al archivo comprimido, donde se extrae su contenido."""
        archive = self.archive_path
        return archive.parent / strip_archive_suffix(archive.name)

    def place(self) -> "Place":
        """La entrada con sus rutas en la caché de ahora, fijadas (véase `Place`)."""
        return Place(
            self.name, self.sha256, self.size, self.archive_path, self.extract_dir, self.path
        )

    @property
    def is_capture(self) -> bool:
        """¿Contiene solo capturas de tráfico (que pandas no puede leer)?"""
        if not self.members:  # contenido desconocido: lo dice el tipo
            return self.kind == "red"
        return all(member.lower().endswith(CAPTURE_SUFFIXES) for member in self.members)

    def matches(
        self, technique: str | None = None, tactic: str | None = None, text: str | None = None
    ) -> bool:
        """Filtros de `listar`: T1003 incluye T1003.001; el texto no distingue mayúsculas."""
        if technique and not any(
            own.upper() == technique.upper() or own.upper().startswith(technique.upper() + ".")
            for own in self.techniques
        ):
            return False
        if tactic and tactic.upper() not in self.tactics:
            return False
        if text:
            haystack = " ".join([self.name, self.id or "", self.title, self.path]).lower()
            if text.lower() not in haystack:
                return False
        return True


@dataclass(frozen=True)
class Place:
    """Lo que recorre el camino de los datos (`taller.road`): un conjunto con sus
    rutas en la caché fijadas para toda la llamada.

    Sale de una entrada del catálogo (`Dataset.place`) o de un archivo propio
    (`taller.road.own_file`), y las etapas lo tratan igual.
    """

    name: str  # el del catálogo, o el nombre del archivo propio (para los mensajes)
    sha256: str  # la del catálogo, o la del contenido del archivo propio
    size: int | None
    archive_path: Path  # el archivo comprimido (o el JSON propio)
    extract_dir: Path  # su carpeta en la caché: extracción, manifiesto y copia Parquet
    path: str | None = None  # ruta en upstream; None en un archivo propio
    downloaded: bool = False  # archivo propio descargado de una URL (en <caché>/otros/)


@functools.cache
def _read_catalog() -> dict:
    """El YAML del catálogo, leído una sola vez por proceso (no cambia mientras se usa)."""
    try:
        with open(CATALOG_PATH, encoding="utf-8") as handle:
            # El cargador en C de PyYAML, si está, lee el catálogo completo diez
            # veces más rápido: `taller listar` arranca enseguida.
            return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise TallerError(
            f"No se encuentra el catálogo {CATALOG_PATH}. ¿Está dentro del repositorio del taller?"
        ) from None


def datasets() -> dict[str, Dataset]:
    """Todas las entradas del catálogo, en el orden del archivo."""
    entries = _read_catalog()["conjuntos"]
    return {
        name: Dataset(
            name=name,
            id=entry["id"],
            title=entry["titulo"],
            kind=entry["tipo"],
            techniques=tuple(entry["tecnicas"]),
            tactics=tuple(entry["tacticas"]),
            path=entry["ruta"],
            sha256=entry["sha256"],
            size=entry["bytes"],
            members=tuple(entry["contenido"] or ()),
            notebooks=tuple(entry["cuadernos"]),
            selected=bool(entry.get("seleccion", False)),
        )
        for name, entry in entries.items()
    }


@dataclass(frozen=True)
class Unverifiable:
    """Un archivo de upstream sin huella SHA-256 conocida (``sin_huella`` del catálogo):
    existe en Security-Datasets, pero su descarga no se puede verificar y el taller
    no lo descarga. `id` y `title` son los de su ficha, si upstream la publica."""

    path: str
    id: str | None
    title: str | None

    @property
    def name(self) -> str:
        return strip_archive_suffix(self.path.rsplit("/", 1)[1])


def unverifiable(text: str | None = None) -> list[Unverifiable]:
    """Los archivos de upstream que el catálogo no puede verificar, por ruta; con
    `text`, solo los que lo contienen en el nombre, el id, el título o la ruta."""
    items = [
        Unverifiable(path=item["ruta"], id=item["id"], title=item["titulo"])
        for item in _read_catalog().get("sin_huella") or []
    ]
    text = (text or "").lower()
    return [
        item
        for item in items
        if text in f"{item.name} {item.id or ''} {item.title or ''} {item.path}".lower()
    ]


# El corpus de caza del cuaderno 09: los eventos de equipo de dos tácticas.
CORPUS_FOLDERS = (
    "datasets/atomic/windows/defense_evasion/host/",
    "datasets/atomic/windows/credential_access/host/",
)


def selection() -> list[Dataset]:
    """Los conjuntos de las lecciones: los que prepara `descargar --todos`."""
    return [entry for entry in datasets().values() if entry.selected]


def corpus() -> list[Dataset]:
    """Conjuntos del corpus de caza (cuaderno 09), en el orden del catálogo."""
    return [entry for entry in datasets().values() if entry.path.startswith(CORPUS_FOLDERS)]


def upstream_url() -> str:
    """URL de upstream fijada al commit del catálogo (termina en «/»)."""
    return _read_catalog()["origen"]["url_base"]


def in_clone() -> bool:
    """¿Se usa el paquete desde un clon del repositorio (editable o sin instalar)?

    Instalado con pip en otro sitio (site-packages, Colab), junto al paquete no
    está el ``pyproject.toml`` del repositorio.
    """
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "taller").is_dir()


def cache_dir() -> Path:
    """Carpeta de la caché.

    ``TALLER_CACHE_DIR`` si se indica; si no, ``datasets/`` del repositorio
    cuando se usa desde un clon, y la caché del usuario (``~/.cache/taller`` en
    Linux, según platformdirs) cuando el paquete está instalado en otro sitio.
    """
    override = os.environ.get("TALLER_CACHE_DIR")
    if override:
        return _folder("TALLER_CACHE_DIR", override, "~/datos-taller")
    if in_clone():
        return REPO_ROOT / "datasets"
    import platformdirs  # solo hace falta fuera de un clon

    return Path(platformdirs.user_cache_dir("taller", appauthor=False))


def _folder(variable: str, value: str, example: str) -> Path:
    """Una carpeta de un ajuste: ``~`` expandido, sin nulos, no demasiado larga, no un archivo.

    Está aquí y no en `taller.edge` porque se llama en cada ruta de la caché:
    así sigue siendo una hoja del camino (véase scripts/trace_road.py).
    """
    where = f"La variable {variable}={value!r:.120}"
    if "\0" in value or len(value) > edge.MAX_TEXT:
        raise TallerError(
            f"{where} no es una ruta válida (demasiado larga o con caracteres nulos). "
            f"Indique una carpeta, por ejemplo {example}."
        )
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~usuario que no existe
        user = value[1:].split("/", 1)[0].split(os.sep, 1)[0]
        raise TallerError(
            f"{where} empieza por «~{user}», pero no existe el usuario «{user}» en este "
            f"equipo. Escriba la ruta completa, por ejemplo {example}."
        ) from None
    probe = path
    try:
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            kind = "un archivo" if probe.is_file() else "un archivo especial"
            raise TallerError(
                f"{where} apunta a {kind} ({probe}), no a una carpeta. Indique una carpeta "
                f"(se crea si no existe), por ejemplo {example}."
            )
    except OSError as exc:
        raise TallerError(
            f"{where} no es una ruta utilizable ({edge.reason(exc)}). Indique una carpeta, "
            f"por ejemplo {example}."
        ) from None
    return path


def base_url() -> str:
    """Origen de las descargas: ``TALLER_BASE_URL`` (URL o carpeta) o upstream."""
    return os.environ.get("TALLER_BASE_URL") or upstream_url()


def source_of(entry: Dataset) -> tuple[Path | str, str]:
    """De dónde se copia el archivo de `entry` según ``TALLER_BASE_URL``.

    Devuelve el origen (una URL, o la ruta de un archivo del espejo local) y la
    dirección que nombran los mensajes.
    """
    base = base_url().strip()
    if base.lower().startswith(("http://", "https://")):
        edge.url(base, f"TALLER_BASE_URL={edge.shown(base)}", "http://192.168.1.10:8000/")
        url = base.rstrip("/") + "/" + entry.path
        return url, url
    if base.lower().startswith("file:"):
        base = str(edge.file_url_path(base))
    elif "://" in base:
        raise TallerError(
            f"TALLER_BASE_URL={edge.shown(base)} no es una URL http:// o https:// ni una "
            "carpeta. Indique la dirección de un espejo (por ejemplo, "
            "http://192.168.1.10:8000/) o la ruta de una copia de Security-Datasets."
        )
    if "\0" in base or len(base) > edge.MAX_TEXT:
        raise TallerError(
            f"TALLER_BASE_URL={edge.shown(base)} no es una ruta válida (demasiado larga o con "
            "caracteres nulos). Por ejemplo: /media/usb/Security-Datasets."
        )
    try:
        root = Path(base).expanduser()
    except RuntimeError:
        raise TallerError(
            f"TALLER_BASE_URL={edge.shown(base)} empieza por un «~usuario» que no existe en "
            "este equipo. Escriba la ruta completa (por ejemplo, /media/usb/Security-Datasets)."
        ) from None
    if not root.is_dir():
        raise TallerError(
            f"El espejo local no tiene «{entry.name}»: la carpeta «{base}» de "
            "TALLER_BASE_URL no existe (o no es una carpeta). Compruebe la ruta."
        )
    source = root / entry.path
    return source, str(source)


def matching(source: str) -> list[Dataset]:
    """Entradas a las que se refiere `source`: nombre, id, ruta de upstream o URL.

    Un id puede corresponder a varias entradas (los cuatro archivos de Golden
    SAML, o los eventos y la captura de red de PsExec).
    """
    source = str(source).strip()
    found = datasets()
    if source in found:
        return [found[source]]
    return [
        entry
        for entry in found.values()
        if source in (entry.id, entry.path, entry.relative_path)
        or ("://" in source and source.endswith("/" + entry.path))
    ]


def resolve(source: str) -> Dataset:
    """La única entrada a la que se refiere `source`, o un error que explica por qué no.

    Si un id de Security-Datasets abarca eventos y capturas de red, se entiende
    que se piden los eventos: la captura se pide por su nombre (``..._red``).
    """
    return pick(source, matching(source))


def lookup(source: str) -> Place | None:
    """El conjunto que nombra `source`, ya en su sitio (None si no está en el catálogo)."""
    candidates = matching(source)
    return pick(source, candidates).place() if candidates else None


def pick(source: str, candidates: list[Dataset]) -> Dataset:
    """Como `resolve`, con las entradas que ya devolvió ``matching(source)``."""
    if len(candidates) > 1:
        events = [entry for entry in candidates if not entry.is_capture]
        if len(events) == 1:
            candidates = events
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(entry.name for entry in candidates)
        raise TallerError(
            f"«{source}» corresponde a varios conjuntos del catálogo: {names}. "
            "Indique el nombre del que quiere."
        )
    raise unknown(source)


def unknown(source: str) -> TallerError:
    """Error para un nombre que no está en el catálogo, con una sugerencia si la hay.

    Si es uno de los archivos de upstream sin huella conocida, lo dice: existe,
    pero el taller no puede verificarlo y por eso no lo descarga.
    """
    text = str(source).strip()
    for item in unverifiable():
        if text in (item.name, item.path, item.id, item.path.removeprefix("datasets/")) or (
            "://" in text and text.endswith("/" + item.path)
        ):
            return TallerError(
                f"«{source}» es un archivo de Security-Datasets ({item.path}) cuya huella "
                "SHA-256 no se conoce: el taller no puede comprobar que lo descargado sea lo "
                "publicado y por eso no lo descarga. Los que sí se pueden verificar están en "
                "`python -m taller listar`."
            )
    hint = difflib.get_close_matches(str(source), list(datasets()), n=1)
    maybe = f" ¿Quería decir «{hint[0]}»?" if hint else ""
    return TallerError(
        f"No hay ningún conjunto llamado «{source}» en el catálogo.{maybe} "
        "Consulte los nombres disponibles con `python -m taller listar`."
    )
