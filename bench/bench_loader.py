"""Compara `taller.load` con `pandas.read_json(lines=True)` sobre el mismo JSON.

Uso (desde la raíz del repositorio; descarga el conjunto si falta)::

    python bench/bench_loader.py [NOMBRE] [--repeticiones N]
    python bench/bench_loader.py --todos [--repeticiones N]   # cada JSON del espejo

Con ``--todos`` (lo que hace ``make bench``) mide, archivo por archivo, todos
los conjuntos de eventos JSON del espejo local, en una caché temporal:
``pandas.read_json``, la primera carga de `taller.load` (lee el JSON y
construye la copia Parquet; antes se descarga y extrae, fuera del tiempo) y
las cargas siguientes (desde la copia). Objetivos: la primera carga no más de
1,2 veces ``read_json``; las siguientes, al menos 5 veces más rápidas. Imprime
la tabla por archivo, cuántos cumplen cada objetivo y el peor caso.

Se miden tres lecturas, alternadas en la misma ejecución para que todas
sufran la misma carga de la máquina:

- ``taller.load``: lo que usa el alumno; tras la primera vez lee la copia
  Parquet verificada que el cargador guarda en la caché.
- ``taller sin copia``: el mismo cargador leyendo el JSON (lector de pyarrow
  y conversión de tipos), como la primera vez.
- ``pandas.read_json``: la referencia.

Antes de medir se comprueba que las tres dan las mismas filas y columnas. Se
informa del mejor tiempo y de la mediana de cada una. No es una prueba
automática: los tiempos dependen de la máquina.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import taller  # noqa: E402  (tras ajustar sys.path, para ejecutarlo como script)
from taller import loader  # noqa: E402

DATASET = "empire_dllinjection_LoadLibrary_CreateRemoteThread"


def compare(name: str = DATASET, repetitions: int = 5) -> tuple[dict, dict[str, list[float]]]:
    """Mide los tres lectores alternados; devuelve la descripción del conjunto y los tiempos."""
    path = taller.json_path(name)
    readers = {
        "taller.load": lambda: taller.load(name),
        "taller sin copia": lambda: loader.read_json_lines(path),
        "pandas.read_json": lambda: pd.read_json(path, lines=True),
    }
    frames = {reader: read() for reader, read in readers.items()}
    for frame in frames.values():
        assert frame.shape == frames["pandas.read_json"].shape
        assert list(frame.columns) == list(frames["pandas.read_json"].columns)

    times = {reader: [] for reader in readers}
    for _ in range(repetitions):
        for reader, read in readers.items():
            start = time.perf_counter()
            read()
            times[reader].append(time.perf_counter() - start)

    rows, columns = frames["pandas.read_json"].shape
    dataset = {
        "name": name,
        "megabytes": path.stat().st_size / 1e6,
        "rows": rows,
        "columns": columns,
    }
    return dataset, times


def speedups(times: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    """Veces más rápido que pandas.read_json: (con el mejor tiempo, con la mediana)."""
    reference = times["pandas.read_json"]
    return {
        reader: (
            min(reference) / min(values),
            statistics.median(reference) / statistics.median(values),
        )
        for reader, values in times.items()
    }


FIRST_TARGET = 1.2  # primera carga: como mucho 1,2 × read_json
LATER_TARGET = 5.0  # cargas siguientes: al menos 5 veces más rápidas que read_json


def _timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def event_entries(mirror: Path) -> list:
    """Los conjuntos del catálogo con eventos JSON cuyo archivo está en el espejo."""
    from taller import catalog

    return [
        entry
        for entry in catalog.datasets().values()
        if (mirror / entry.path).is_file()
        and any(member.lower().endswith(".json") for member in entry.members)
    ]


def measure_file(entry, repetitions: int = 3) -> dict:
    """read_json, primera carga (con la copia Parquet) y cargas siguientes de un conjunto."""
    from taller import cache

    path = taller.json_path(entry.name)  # descarga y extracción, fuera del tiempo
    read_json, frame = _timed(lambda: pd.read_json(path, lines=True))
    rows = len(frame)
    del frame
    state = cache.parquet_state(entry, cache.read_manifest(entry), check_hash=False)
    if state.path is not None:
        state.path.unlink(missing_ok=True)  # la primera carga la vuelve a hacer
    first, loaded = _timed(lambda: taller.load(entry.name))
    assert len(loaded) == rows, entry.name
    later = min(_timed(lambda: taller.load(entry.name))[0] for _ in range(repetitions))
    return {
        "name": entry.name,
        "megabytes": path.stat().st_size / 1e6,
        "rows": rows,
        "read_json": read_json,
        "first": first,
        "later": later,
    }


def per_file(mirror: Path, repetitions: int = 3, progress=None) -> list[dict]:
    """Mide cada JSON del espejo en una caché temporal (que se borra al final)."""
    results = []
    saved = {key: os.environ.get(key) for key in ("TALLER_CACHE_DIR", "TALLER_BASE_URL")}
    with tempfile.TemporaryDirectory(prefix="taller-bench-") as scratch:
        os.environ["TALLER_CACHE_DIR"], os.environ["TALLER_BASE_URL"] = scratch, str(mirror)
        try:
            entries = event_entries(mirror)
            for number, entry in enumerate(entries, start=1):
                if progress:
                    progress(f"[{number}/{len(entries)}] {entry.name}")
                results.append(measure_file(entry, repetitions))
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.update({key: value})
    return results


def per_file_table(results: list[dict]) -> str:
    """La tabla Markdown por archivo, el recuento de objetivos y el peor caso."""
    lines = [
        "| Conjunto | MB | Eventos | `read_json` (s) | Primera carga (s) | Primera / `read_json` "
        "| Siguientes (s) | Veces más rápido |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: -r["megabytes"]):
        ratio, speedup = r["first"] / r["read_json"], r["read_json"] / r["later"]
        marks = ("" if ratio <= FIRST_TARGET else " ✗"), ("" if speedup >= LATER_TARGET else " ✗")
        lines.append(
            f"| {r['name']} | {r['megabytes']:.1f} | {r['rows']} | {r['read_json']:.3f} "
            f"| {r['first']:.3f} | {ratio:.2f}{marks[0]} | {r['later']:.4f} "
            f"| {speedup:.1f}{marks[1]} |"
        )
    worst_first = max(results, key=lambda r: r["first"] / r["read_json"])
    worst_later = min(results, key=lambda r: r["read_json"] / r["later"])
    first_ok = sum(r["first"] / r["read_json"] <= FIRST_TARGET for r in results)
    later_ok = sum(r["read_json"] / r["later"] >= LATER_TARGET for r in results)
    total_json = sum(r["read_json"] for r in results)
    total_first = sum(r["first"] for r in results)
    lines += [
        "",
        f"{len(results)} archivos JSON, {sum(r['megabytes'] for r in results):.0f} MB. "
        f"Primera carga ≤ {FIRST_TARGET} × `read_json`: {first_ok} de {len(results)} "
        f"(en total, {total_first:.1f} s frente a {total_json:.1f} s). "
        f"Cargas siguientes ≥ {LATER_TARGET:.0f} veces más rápidas: {later_ok} de {len(results)}.",
        f"Peor primera carga: {worst_first['name']} "
        f"({worst_first['first'] / worst_first['read_json']:.2f} × `read_json`, "
        f"{worst_first['megabytes']:.1f} MB). Peor carga siguiente: {worst_later['name']} "
        f"({worst_later['read_json'] / worst_later['later']:.1f} veces más rápida).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="taller.load frente a pandas.read_json")
    parser.add_argument("nombre", nargs="?", default=DATASET)
    parser.add_argument("--repeticiones", type=int, default=5)
    parser.add_argument("--todos", action="store_true", help="cada JSON del espejo local")
    args = parser.parse_args()
    if args.todos:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from mirror import local_mirror

        mirror = local_mirror()
        if mirror is None:
            print("No hay espejo local de Security-Datasets (TALLER_MIRROR).", file=sys.stderr)
            return 2
        results = per_file(mirror, args.repeticiones, lambda m: print(m, file=sys.stderr))
        print(per_file_table(results))
        return 0

    dataset, times = compare(args.nombre, args.repeticiones)
    print(
        f"Conjunto: {dataset['name']} ({dataset['megabytes']:.1f} MB de JSON, "
        f"{dataset['rows']} eventos, {dataset['columns']} columnas; "
        "mismas filas y columnas en los tres)"
    )
    print(
        f"Repeticiones: {args.repeticiones}; CPU: {os.cpu_count()}; "
        f"carga media de la máquina: {os.getloadavg()[0]:.1f}"
    )
    print(f"{'lector':<18}{'mejor (s)':>11}{'mediana (s)':>13}{'veces más rápido':>18}")
    for reader, (best, median) in speedups(times).items():
        values = times[reader]
        print(
            f"{reader:<18}{min(values):>11.3f}{statistics.median(values):>13.3f}"
            f"{best:>9.1f} / {median:.1f}"
        )
    print("(veces más rápido que pandas.read_json: con el mejor tiempo / con la mediana)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
