"""Comprobación del entorno del taller: lo primero que ejecuta quien asiste.

Responde a cinco preguntas y, para cada problema, dice en español qué hacer:

1. ¿Es la versión de Python del taller (la de ``binder/runtime.txt``)?
2. ¿Están instalados los paquetes, con las versiones fijadas en
   ``requirements.txt``?
3. ¿Están en la caché los conjuntos de datos de las lecciones (y el corpus
   de caza del cuaderno 09), con su huella SHA-256 correcta?
4. ¿Hay Java (17 o posterior) para Spark?
5. ¿Cuánta memoria queda libre? (Binder da entre 1 y 2 GB por sesión.)

La usan el cuaderno ``00_comprobar_entorno.ipynb`` y la orden
``python -m taller comprobar`` (o ``taller comprobar``), que termina con un
código distinto de cero si falta algo imprescindible. Cada comprobación
recibe lo que mira del sistema como argumento (versión, función que da la
versión de un paquete, ruta de ``java``…), para que las pruebas puedan
simular cualquier entorno. No importa pandas: la orden arranca en un momento.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from taller import catalog, files

OK, WARNING, MISSING = "bien", "aviso", "falta"
_MARKS = {OK: "✅", WARNING: "⚠️ ", MISSING: "❌"}

# La versión de Python del taller: la de binder/runtime.txt (las pruebas lo
# comprueban). Con otra 3.x reciente casi todo funciona; alguna salida cambia.
PYTHON = (3, 11)
OLDEST_PYTHON = (3, 10)  # la mínima que admite el paquete (pyproject.toml)
# Sin estos paquetes los cuadernos no funcionan; los demás de
# requirements.txt (JupyterLab en español, tqdm…) solo se avisan.
ESSENTIAL = (
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "pyspark",
    "requests",
    "pyyaml",
)
JAVA = 17  # Spark 4 necesita Java 17 o posterior
GIB = 2**30
ENOUGH_MEMORY = 2 * GIB  # Spark (cuadernos 08 y 09) llega a usar cerca de 1 GB
LOW_MEMORY = 1 * GIB


@dataclass(frozen=True)
class Finding:
    """Resultado de una comprobación: su tema, su estado y qué hacer."""

    topic: str
    status: str  # OK, WARNING o MISSING
    summary: str
    advice: str = ""
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{_MARKS[self.status]} {self.topic}: {self.summary}"]
        lines += [f"     · {detail}" for detail in self.details]
        if self.advice:
            lines.append(f"   → {self.advice}")
        return "\n".join(lines)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(path: Path | None = None) -> dict[str, str] | None:
    """{paquete: versión} de las líneas ``nombre==versión``; None si no hay archivo.

    Fuera del repositorio (el paquete instalado en Colab, por ejemplo) no hay
    ``requirements.txt``: entonces solo se comprueba que estén los esenciales.
    """
    path = path or catalog.REPO_ROOT / "requirements.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[_normalize(match[1])] = match[2]
    return pins


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_python(version: tuple[int, ...] | None = None) -> Finding:
    """¿Es Python 3.11? Otra 3.x reciente da un aviso; una antigua, un fallo."""
    version = tuple(version or sys.version_info[:3])
    shown = ".".join(map(str, version[:2]))
    wanted = ".".join(map(str, PYTHON))
    if version[:2] == PYTHON:
        return Finding("Python", OK, f"{shown}, la versión del taller.")
    if version[:2] >= OLDEST_PYTHON:
        return Finding(
            "Python",
            WARNING,
            f"{shown}; el taller se prepara con {wanted}.",
            "Casi todo funcionará, pero algunas salidas pueden no coincidir con "
            f"las del libro. Si algo falla, use Python {wanted} (o Binder, o Docker).",
        )
    return Finding(
        "Python",
        MISSING,
        f"{shown} es demasiado antigua: el taller necesita {wanted}.",
        f"Instale Python {wanted} y vuelva a crear el entorno con `make lab`, "
        "o siga el taller en Binder o con Docker.",
    )


def check_packages(
    pins: dict[str, str] | None = None,
    version_of: Callable[[str], str | None] = _installed_version,
) -> Finding:
    """Los paquetes de ``requirements.txt``: ¿están? ¿con la versión fijada?"""
    if pins is None:
        pins = pinned_requirements()
    wanted = pins if pins else {name: None for name in ESSENTIAL}
    missing, essential_missing, different = [], [], []
    for name, pin in wanted.items():
        installed = version_of(name)
        if installed is None:
            missing.append(name)
            if name in ESSENTIAL:
                essential_missing.append(name)
        elif pin is not None and installed != pin:
            different.append(f"{name} {installed} (el taller fija {pin})")
    details = tuple([f"falta {name}" for name in missing] + different)
    if pins:
        install = (
            "Instale las versiones del taller con `pip install -r requirements.txt` "
            "(o `make lab`, que crea el entorno)."
        )
    else:  # paquete instalado fuera del repositorio (Colab): sin requirements.txt
        install = f"Instálelos en el cuaderno con `%pip install {' '.join(missing)}`."
    if essential_missing:
        names = ", ".join(essential_missing)
        return Finding(
            "Paquetes", MISSING, f"faltan paquetes imprescindibles: {names}.", install, details
        )
    if missing or different:
        return Finding(
            "Paquetes",
            WARNING,
            "están los imprescindibles, pero no todos como los fija el taller.",
            install + " Con otras versiones, algunas salidas pueden cambiar.",
            details,
        )
    if not pins:
        return Finding(
            "Paquetes",
            OK,
            f"están los {len(wanted)} imprescindibles (no se encontró "
            "requirements.txt para comparar las versiones).",
        )
    return Finding("Paquetes", OK, "todos los de requirements.txt, con las versiones fijadas.")


def check_datasets(
    entries: Iterable[catalog.Dataset] | None = None,
    digest: Callable[[Path], str] = files.sha256,
) -> Finding:
    """Cada conjunto del catálogo, ¿está en la caché con la huella del catálogo?"""
    entries = list(catalog.selection() if entries is None else entries)
    missing, damaged = [], []
    for entry in entries:
        path = entry.archive_path
        if not path.is_file():
            missing.append(entry.name)
        elif digest(path) != entry.sha256:
            damaged.append(entry.name)
    details = tuple(
        [f"falta {name}" for name in missing]
        + [f"dañado (la huella no coincide): {name}" for name in damaged]
    )
    if damaged:
        return Finding(
            "Datos",
            MISSING,
            f"{len(damaged)} de {len(entries)} conjuntos están dañados.",
            "Vuelva a descargarlos con `python -m taller descargar --todos`: "
            "los dañados se sustituyen solos.",
            details,
        )
    if missing:
        return Finding(
            "Datos",
            MISSING,
            f"faltan {len(missing)} de los {len(entries)} conjuntos en la caché.",
            "Descárguelos antes del taller con `python -m taller descargar --todos` "
            "(o `make datasets`); así no dependerá de la wifi. Con conexión, cada "
            "cuaderno descarga también lo que le falta.",
            details,
        )
    return Finding(
        "Datos",
        OK,
        # Sin cifras: la salida guardada del cuaderno 00 no cambia si el catálogo crece.
        "los de las lecciones, en la caché y con su huella SHA-256 correcta.",
    )


def check_corpus(
    entries: Iterable[catalog.Dataset] | None = None,
    digest: Callable[[Path], str] = files.sha256,
) -> Finding:
    """El corpus de caza del cuaderno 09: sin él, ese cuaderno necesita conexión."""
    entries = list(catalog.corpus() if entries is None else entries)
    found = check_datasets(entries, digest)
    if found.status == OK:
        return Finding("Corpus", OK, "el del cuaderno 09, completo y verificado.")
    return Finding(
        "Corpus",
        WARNING,
        "el corpus de caza del cuaderno 09 no está completo en la caché.",
        "Descárguelo antes del taller con `python -m taller descargar --corpus`; "
        "si no, el cuaderno 09 lo descargará al empezar (hace falta conexión).",
        found.details,
    )


def _java_major(text: str) -> int | None:
    """Versión principal en la salida de ``java -version``: «17.0.9» → 17; «1.8.0» → 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match[1])
    return int(match[2] or 0) if major == 1 else major


def _run_java(java: str) -> str:
    result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    return result.stderr + result.stdout


def check_java(
    environ: dict[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    version_output: Callable[[str], str] = _run_java,
) -> Finding:
    """¿Hay Java 17 o posterior para Spark (cuadernos 08 y 09)?"""
    environ = os.environ if environ is None else environ
    install = (
        "Instale Java 17 (en Debian o Ubuntu, `sudo apt-get install "
        "openjdk-17-jre-headless`; en Windows o macOS, Eclipse Temurin 17) o "
        "siga los cuadernos de Spark en Binder o con Docker, que ya lo traen."
    )
    home = environ.get("JAVA_HOME")
    java = None
    if home and Path(home, "bin", "java").is_file():
        java = str(Path(home, "bin", "java"))
    java = java or which("java")
    if not java:
        return Finding(
            "Java",
            MISSING,
            "no está instalado: Spark (cuadernos 08 y 09) no podrá arrancar.",
            install,
        )
    try:
        major = _java_major(version_output(java))
    except (OSError, subprocess.SubprocessError):
        major = None
    if major is None:
        return Finding("Java", MISSING, f"no se pudo ejecutar `{java} -version`.", install)
    if major < JAVA:
        return Finding(
            "Java", MISSING, f"es la versión {major}; Spark necesita {JAVA} o posterior.", install
        )
    return Finding("Java", OK, f"versión {JAVA} o posterior, la que necesita Spark.")


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """Lo que queda bajo el límite del contenedor (Binder, Docker), si hay uno."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def available_memory() -> int | None:
    """Bytes de memoria disponibles para este proceso, o None si no se sabe."""
    known = [size for size in (_meminfo_available(), _cgroup_available()) if size is not None]
    if not known and hasattr(os, "sysconf"):
        try:
            known = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (ValueError, OSError):
            pass
    return min(known) if known else None


def memory_amount(size: int) -> str:
    """«1,5 GB» (en GiB, con coma decimal)."""
    return f"{size / GIB:.1f} GB".replace(".", ",")


def check_memory(available: int | None = None, show_amount: bool = True) -> Finding:
    """¿Queda memoria para Spark? Binder da entre 1 y 2 GB por sesión."""
    if available is None:
        available = available_memory()
    if available is None:
        return Finding(
            "Memoria",
            WARNING,
            "no se pudo medir la memoria libre.",
            "Para Spark (cuadernos 08 y 09) hacen falta unos 2 GB libres.",
        )
    amount = f"{memory_amount(available)} libres" if show_amount else "medida"
    if available >= ENOUGH_MEMORY:
        return Finding("Memoria", OK, f"{amount}; bastan para todos los cuadernos.")
    close = (
        "Antes de los cuadernos de Spark (08 y 09), cierre los demás núcleos: "
        "menú Kernel → Shut Down All Kernels. En Binder, cada sesión tiene "
        "entre 1 y 2 GB."
    )
    if available >= LOW_MEMORY:
        return Finding(
            "Memoria",
            WARNING,
            f"{amount}: bastan para los cuadernos 01 a 07, justo para Spark.",
            close,
        )
    return Finding(
        "Memoria",
        WARNING,
        f"{amount}: poca; incluso pandas puede quedarse sin memoria.",
        close + " Cierre también otros programas, o use Docker en un equipo con más memoria.",
    )


def run_checks() -> list[Finding]:
    """Todas las comprobaciones, en el orden en que conviene resolverlas."""
    return [
        check_python(),
        check_packages(),
        check_datasets(),
        check_corpus(),
        check_java(),
        check_memory(),
    ]


def verdict(findings: Iterable[Finding]) -> str:
    """Una frase final: si se puede empezar y, si no, qué hay que arreglar."""
    findings = list(findings)
    missing = [finding.topic for finding in findings if finding.status == MISSING]
    warned = [finding.topic for finding in findings if finding.status == WARNING]
    if missing:
        return (
            "Falta algo imprescindible (" + ", ".join(missing) + "): siga las "
            "indicaciones marcadas con → y vuelva a comprobarlo."
        )
    if warned:
        return (
            "Puede empezar el taller; revise los avisos ("
            + ", ".join(warned)
            + ") antes de llegar a los cuadernos que los necesitan."
        )
    return "Todo listo: puede empezar el taller."


def command() -> int:
    """``python -m taller comprobar``: imprime el informe; 1 si falta algo imprescindible."""
    findings = run_checks()
    for finding in findings:
        print(finding)
    print()
    print(verdict(findings))
    return 1 if any(finding.status == MISSING for finding in findings) else 0
