"""Compara `taller.load` con `pandas.read_json(lines=True)` sobre el mismo JSON.

Uso (desde la raíz del repositorio; descarga el conjunto si falta)::

    python bench/bench_loader.py [NOMBRE] [--repeticiones N]

Se miden tres lecturas, alternadas en la misma ejecución para que todas
sufran la misma carga de la máquina:

- ``taller.load``: lo que usa el alumno; tras la primera vez lee la copia
  Arrow que el cargador guarda en la caché.
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


def main() -> int:
    parser = argparse.ArgumentParser(description="taller.load frente a pandas.read_json")
    parser.add_argument("nombre", nargs="?", default=DATASET)
    parser.add_argument("--repeticiones", type=int, default=5)
    args = parser.parse_args()

    path = taller.json_path(args.nombre)
    readers = {
        "taller.load": lambda: taller.load(args.nombre),
        "taller sin copia": lambda: loader.read_json_lines(path),
        "pandas.read_json": lambda: pd.read_json(path, lines=True),
    }
    frames = {reader: read() for reader, read in readers.items()}
    for frame in frames.values():
        assert frame.shape == frames["pandas.read_json"].shape
        assert list(frame.columns) == list(frames["pandas.read_json"].columns)

    times = {reader: [] for reader in readers}
    for _ in range(args.repeticiones):
        for reader, read in readers.items():
            start = time.perf_counter()
            read()
            times[reader].append(time.perf_counter() - start)

    rows, columns = frames["pandas.read_json"].shape
    print(f"Conjunto: {args.nombre} ({path.stat().st_size / 1e6:.1f} MB de JSON, "
          f"{rows} eventos, {columns} columnas; mismas filas y columnas en los tres)")
    print(f"Repeticiones: {args.repeticiones}; CPU: {os.cpu_count()}; "
          f"carga media de la máquina: {os.getloadavg()[0]:.1f}")
    print(f"{'lector':<18}{'mejor (s)':>11}{'mediana (s)':>13}{'veces más rápido':>18}")
    reference = times["pandas.read_json"]
    for reader, values in times.items():
        best = min(reference) / min(values)
        median = statistics.median(reference) / statistics.median(values)
        print(f"{reader:<18}{min(values):>11.3f}{statistics.median(values):>13.3f}"
              f"{best:>9.1f} / {median:.1f}")
    print("(veces más rápido que pandas.read_json: con el mejor tiempo / con la mediana)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
