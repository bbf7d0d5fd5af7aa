"""Issue 22: el camino de los datos va en un sentido, sin idas y vueltas.

`scripts/trace_road.py` traza ``taller.parquet_path`` con un conjunto de
prueba hecho en una carpeta temporal (sin datos reales ni red) y cuenta las
entradas en módulos del paquete, las vueltas a un módulo ya dejado y las
lecturas del manifiesto. Aquí se exigen las cotas de la issue: con la caché
vacía, entre etapas (sin las idas a un ayudante que vuelven enseguida), y con
la caché preparada, contando cada paso.
"""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "trace_road.py"


def traces() -> dict[str, dict[str, int]]:
    result = subprocess.run(
        [sys.executable, SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    found = {}
    for block in result.stdout.split("parquet_path(")[1:]:
        label = "vacía" if "caché vacía" in block.splitlines()[0] else "preparada"
        numbers = {
            "entries": r"entradas en módulos: (\d+)",
            "returns": r"vueltas a un módulo ya dejado: (\d+)",
            "trunk_entries": r"sin hojas: (\d+) entradas",
            "trunk_returns": r"sin hojas: \d+ entradas, (\d+) vueltas",
            "manifest_reads": r"lecturas del manifiesto: (\d+)",
        }
        found[label] = {key: int(re.search(rx, block)[1]) for key, rx in numbers.items()}
    return found


def test_parquet_path_goes_one_way_and_reads_the_manifest_once():
    found = traces()
    cold, warm = found["vacía"], found["preparada"]
    assert cold["trunk_entries"] <= 12 and cold["trunk_returns"] <= 4, cold
    assert warm["entries"] <= 12 and warm["returns"] <= 4, warm
    assert cold["manifest_reads"] == 1 and warm["manifest_reads"] == 1


def test_no_module_of_the_package_is_over_400_lines():
    package = SCRIPT.parent.parent / "taller"
    sizes = {
        path.relative_to(package).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in package.rglob("*.py")
    }
    assert {name: size for name, size in sizes.items() if size > 400} == {}
