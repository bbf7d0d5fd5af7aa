"""Barrido: carga con `taller.load` cada archivo comprimido del espejo de Security-Datasets.

Uso (desde la raíz del repositorio)::

    .venv/bin/python scripts/sweep_archives.py [--espejo CARPETA] [--resultados ARCHIVO]
    .venv/bin/python scripts/sweep_archives.py --solo-tabla   # rehace la tabla, sin cargar

Para cada archivo comprimido del espejo (``TALLER_MIRROR`` o la carpeta de
``tests/mirror.py``) hace lo mismo que quien aprende: ``taller.load(ruta)``
con ``TALLER_BASE_URL`` en el espejo y una caché vacía temporal (descarga
verificada, extracción, copia Parquet y tipos). Anota si se cargó (filas ×
columnas y segundos de la primera carga) o se rechazó (el mensaje), y qué
forma tiene (`taller.shapes`). En las exportaciones de Log Analytics
comprueba además que ``Hostname``, ``Channel`` y ``EventID`` están llenos y
que los campos del evento están (aplanados desde ``EventData`` o, si es una
lista sin nombres, ``EventData_dynamic`` entera): si no, termina con error.

Los resultados se guardan en JSON (por defecto ``datasets/barrido.json``, en
la caché que git ignora) y la tabla se escribe en ``datasets/README.md`` entre
las marcas `BEGIN` y `END`: es generada, no se edita a mano
(``tests/test_sweep.py`` vuelve a cargar una parte y la compara).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

README = REPO / "datasets" / "README.md"
RESULTS = REPO / "datasets" / "barrido.json"
BEGIN = "<!-- barrido: inicio (generado por scripts/sweep_archives.py; no lo edite) -->"
END = "<!-- barrido: fin -->"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz")
WINDOWS_COLUMNS = ("Hostname", "Channel", "EventID")


def mirror_archives(mirror: Path) -> list[str]:
    """Rutas (``datasets/...``) de todos los archivos comprimidos del espejo, ordenadas."""
    return sorted(
        path.relative_to(mirror).as_posix()
        for path in (mirror / "datasets").rglob("*")
        if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)
    )


def shape_of(frame) -> str:
    """La forma de lo cargado, con los nombres de `taller.shapes`."""
    columns = set(frame.columns)
    if {"Computer", "TimeGenerated", "Hostname"} <= columns:
        if "EventData_dynamic" in columns:
            return "Log Analytics (`EventData_dynamic` entera)"
        return "Log Analytics"
    if {"Hostname", "Channel", "EventID"} <= columns:
        if {"beat", "provider_guid"} <= columns:
            return "eventos de Windows (Winlogbeat sin procesar)"
        return "eventos de Windows"
    if "ts" in columns and "uid" in columns:
        return "Zeek"
    return "tabla de la nube o de Linux"


def check_log_analytics(frame) -> list[str]:
    """Problemas de una exportación de Log Analytics cargada (vacío si ninguno)."""
    problems = [
        f"{column} vacía en {int(frame[column].isna().sum())} filas"
        for column in ("Hostname", "EventID")
        if column not in frame or frame[column].isna().any()
    ]
    # El canal: de Channel o de EventLog. Una fila que no trae ninguno de los dos en
    # la exportación se cuenta aparte (no se inventa un canal a partir del EventID).
    if "Channel" not in frame:
        problems.append("sin columna Channel")
    if "EventData" in frame:
        problems.append("EventData sin aplanar")
    envelope = {"TenantId", "SourceSystem", "TimeGenerated", "Computer", "Hostname", "Type"}
    if "EventData_dynamic" not in frame and len(set(frame.columns) - envelope) < 5:
        problems.append("sin campos del evento")
    return problems


def sweep_one(relative: str) -> dict:
    """Carga un archivo del espejo por el camino del alumno; su resultado."""
    import taller
    from taller import catalog
    from taller.errors import TallerError

    entries = catalog.matching(relative)
    record = {"ruta": relative, "tipo": entries[0].kind if entries else "?"}
    start = time.perf_counter()
    try:
        frame = taller.load(relative)
    except TallerError as exc:
        message = str(exc).replace(str(catalog.cache_dir()), "<caché>")
        record.update(resultado="rechazado", mensaje=" ".join(message.split()))
        return record
    record.update(
        resultado="cargado",
        filas=int(frame.shape[0]),
        columnas=int(frame.shape[1]),
        segundos=round(time.perf_counter() - start, 2),
        forma=shape_of(frame),
    )
    if record["forma"].startswith("Log Analytics"):
        record["problemas"] = check_log_analytics(frame)
        record["sin_canal"] = int(frame["Channel"].isna().sum()) if "Channel" in frame else 0
    return record


def sweep(mirror: Path, only: list[str] | None = None) -> list[dict]:
    """Barre el espejo (o solo `only`) con una caché temporal que se borra al final."""
    results = []
    with tempfile.TemporaryDirectory(prefix="taller-barrido-") as cache:
        saved = {key: os.environ.get(key) for key in ("TALLER_CACHE_DIR", "TALLER_BASE_URL")}
        os.environ["TALLER_CACHE_DIR"] = cache
        os.environ["TALLER_BASE_URL"] = str(mirror)
        try:
            for relative in only or mirror_archives(mirror):
                results.append(sweep_one(relative))
                last = results[-1]
                shown = (
                    f"{last['filas']} × {last['columnas']} ({last['segundos']} s)"
                    if last["resultado"] == "cargado"
                    else last["mensaje"][:70]
                )
                print(f"{len(results):>4} {relative}: {shown}", file=sys.stderr)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return results


def _number(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _seconds(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def render(results: list[dict]) -> str:
    """El bloque Markdown de la tabla (resumen y una fila por archivo)."""
    loaded = [r for r in results if r["resultado"] == "cargado"]
    refused = [r for r in results if r["resultado"] == "rechazado"]
    shapes = Counter(r["forma"] for r in loaded)
    kinds = Counter((r["tipo"], r["resultado"]) for r in results)
    lines = [
        BEGIN,
        "",
        f"{len(results)} archivos comprimidos en el espejo: {_count(len(loaded), 'cargado')} y "
        f"{_count(len(refused), 'rechazado')}. Por forma de lo cargado: "
        + "; ".join(f"{shape}, {count}" for shape, count in sorted(shapes.items()))
        + ". Por tipo del catálogo: "
        + "; ".join(
            f"`{kind}` {result}s, {count}" for (kind, result), count in sorted(kinds.items())
        )
        + ". Los segundos son los de la primera carga (copia, huella, extracción, copia "
        "Parquet y tipos) en la máquina que generó la tabla.",
        "",
        "| Archivo | Tipo | Forma o motivo | Filas × columnas | Segundos |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for r in results:
        name = r["ruta"].removeprefix("datasets/")
        if r["resultado"] == "cargado":
            shape = r["forma"]
            if r.get("sin_canal"):
                rows = "1 fila" if r["sin_canal"] == 1 else f"{r['sin_canal']} filas"
                shape += f" ({rows} sin `Channel` ni `EventLog` en el JSON)"
            lines.append(
                f"| `{name}` | `{r['tipo']}` | {shape} | "
                f"{_number(r['filas'])} × {r['columnas']} | {_seconds(r['segundos'])} |"
            )
        else:
            message = r["mensaje"].replace("|", "\\|")
            lines.append(f"| `{name}` | `{r['tipo']}` | rechazado: {message} | — | — |")
    lines += ["", END]
    return "\n".join(lines)


def write_table(results: list[dict], readme: Path = README) -> None:
    """Sustituye el bloque entre las marcas del README (lo añade al final si no está)."""
    text = readme.read_text(encoding="utf-8")
    block = render(results)
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


def main() -> int:
    from mirror import local_mirror

    parser = argparse.ArgumentParser(description="Carga cada archivo del espejo con taller.load")
    parser.add_argument("--espejo", type=Path, default=None)
    parser.add_argument("--resultados", type=Path, default=RESULTS)
    parser.add_argument("--solo-tabla", action="store_true", help="no carga: rehace la tabla")
    args = parser.parse_args()
    if args.solo_tabla:
        results = json.loads(args.resultados.read_text(encoding="utf-8"))
    else:
        mirror = args.espejo or local_mirror()
        if mirror is None:
            print("No hay espejo local de Security-Datasets (TALLER_MIRROR).", file=sys.stderr)
            return 2
        results = sweep(Path(mirror).resolve())
        args.resultados.parent.mkdir(parents=True, exist_ok=True)
        args.resultados.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    write_table(results)
    bad = [r for r in results if r.get("problemas")]
    for r in bad:
        print(f"{r['ruta']}: {'; '.join(r['problemas'])}", file=sys.stderr)
    loaded = sum(r["resultado"] == "cargado" for r in results)
    print(f"{len(results)} archivos: {loaded} cargados, {len(results) - loaded} rechazados.")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
