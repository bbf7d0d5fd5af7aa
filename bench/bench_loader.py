"""Compara `taller.load` con `pandas.read_json(lines=True)` sobre el mismo JSON.

Uso (desde la raíz del repositorio; descarga el conjunto si falta)::

    python bench/bench_loader.py [NOMBRE] [--repeticiones N]

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


def main() -> int:
    parser = argparse.ArgumentParser(description="taller.load frente a pandas.read_json")
    parser.add_argument("nombre", nargs="?", default=DATASET)
    parser.add_argument("--repeticiones", type=int, default=5)
    args = parser.parse_args()

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
