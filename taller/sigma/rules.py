"""Las reglas de SigmaHQ para Windows: de dónde se obtienen, verificadas y en la caché."""

import hashlib
import io
import os
import tarfile
from pathlib import Path

from taller import catalog
from taller.errors import TallerError

# --- Las reglas de SigmaHQ ----------------------------------------------------

RULES_TAG = "r2026-07-01"
RULES_COMMIT = "552f3fee420ef232a8e5790c4fae591847e32347"
# Huella del árbol: SHA-256 de las líneas «<sha256>  <ruta>» (ordenadas) de
# LICENSE y de cada regla de rules/windows/ (véase `tree_digest`).
RULES_DIGEST = "5bfdf106a0062d2995e2fde201a3e5cfdb2147dd07e83abe0c0d006594f14712"
RULES_COUNT = 2403
UPSTREAM_ARCHIVE = f"https://codeload.github.com/SigmaHQ/sigma/tar.gz/{RULES_COMMIT}"
RULES_URL = f"https://github.com/SigmaHQ/sigma/blob/{RULES_COMMIT}/"
LICENSE_NOTE = (
    "Reglas de SigmaHQ (https://github.com/SigmaHQ/sigma), etiqueta "
    f"{RULES_TAG}, con licencia Detection Rule License (DRL) 1.1: "
    "cada regla es de los autores que indica su campo «author» y de SigmaHQ."
)
# Carpeta de la caché para las reglas y los resultados.
SIGMA_CACHE = "sigma"

SYSMON = "Microsoft-Windows-Sysmon/Operational"
# Sufijo de la copia en minúsculas de cada campo de texto (SQL de DuckDB).
LOWER = "__lower"
# Palabras que van en minúscula en el título de una regla en español (el
# validador de títulos de SigmaHQ solo conoce las inglesas).
SPANISH_SMALL_WORDS = (
    "a",
    "al",
    "con",
    "de",
    "del",
    "desde",
    "el",
    "en",
    "la",
    "las",
    "los",
    "o",
    "para",
    "por",
    "sin",
    "y",
)
# Las reglas del taller (cuaderno 09) viven en el repositorio.
WORKSHOP_RULES = Path(__file__).resolve().parent.parent / "reglas"


def sigma_cache() -> Path:
    return catalog.cache_dir() / SIGMA_CACHE


def tree_digest(root: Path) -> tuple[str, int]:
    """(huella del árbol, número de reglas) de una carpeta con la forma de upstream."""
    lines = []
    rules = sorted((root / "rules" / "windows").rglob("*.yml"))
    for path in [root / "LICENSE", *rules]:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest(), len(rules)


def rules_source() -> str:
    """De dónde se obtienen las reglas: ``TALLER_SIGMA_URL`` o el archivo de upstream."""
    return os.environ.get("TALLER_SIGMA_URL") or UPSTREAM_ARCHIVE


def _copy_tree(source: Path, target: Path) -> None:
    for path in [source / "LICENSE", *sorted((source / "rules" / "windows").rglob("*.yml"))]:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())


def _extract_upstream(url: str, target: Path) -> None:
    """Extrae LICENSE y rules/windows/ del .tar.gz del repositorio de SigmaHQ."""
    import requests

    from taller import edge

    try:
        response = requests.get(url, timeout=edge.timeout())
        response.raise_for_status()
    except requests.RequestException as exc:
        raise TallerError(
            f"No se pudieron descargar las reglas Sigma de {url}: {exc}. Compruebe la "
            "conexión o indique una copia local con TALLER_SIGMA_URL."
        ) from None
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not member.isfile() or ".." in parts[1].split("/"):
                continue
            inner = parts[1]
            if inner == "LICENSE" or (
                inner.startswith("rules/windows/") and inner.endswith(".yml")
            ):
                destination = target / inner
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.extractfile(member).read())


def rules_dir() -> Path:
    """Carpeta con las reglas de SigmaHQ verificadas (la forma de upstream).

    La primera vez las copia de ``TALLER_SIGMA_URL`` (una carpeta local o una
    URL de un ``.tar.gz`` con la forma del repositorio) o, si no se indica, del
    archivo de upstream en el commit fijado; comprueba la huella del árbol y
    las guarda en ``<caché>/sigma/<etiqueta>/``. Las veces siguientes solo
    comprueba la huella de la copia.
    """
    import shutil

    from taller.files import temporary_dir

    target = sigma_cache() / RULES_TAG
    if target.is_dir():
        digest, _ = tree_digest(target)
        if digest == RULES_DIGEST:
            return target
        from taller import cache

        cache.notice(f"las reglas Sigma de {target} no coinciden con su huella; se rehacen.")
        shutil.rmtree(target)
    source = rules_source()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = temporary_dir(target.parent)
    try:
        if "://" in source:
            _extract_upstream(source, scratch)
        else:
            folder = Path(source).expanduser()
            if not (folder / "rules" / "windows").is_dir():
                raise TallerError(
                    f"TALLER_SIGMA_URL={source} no es una carpeta con las reglas de SigmaHQ "
                    "(falta rules/windows/)."
                )
            _copy_tree(folder, scratch)
        digest, count = tree_digest(scratch)
        if digest != RULES_DIGEST:
            raise TallerError(
                f"Las reglas Sigma de {source} ({count} reglas) no son las de la etiqueta "
                f"{RULES_TAG}: su huella no coincide. No se usan."
            )
        os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target
