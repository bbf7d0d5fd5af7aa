"""Traza del camino de los datos: por qué módulos de `taller` pasa ``taller.parquet_path``.

Sigue con ``sys.setprofile`` cada llamada y cada vuelta entre funciones de
Python y anota en qué módulo del paquete está el marco más interno de
`taller` en cada momento. Cuenta:

- **entradas**: cada vez que el recorrido pasa a otro módulo de `taller`
  (una «estancia» es un tramo seguido en el mismo módulo; la primera cuenta);
- **vueltas**: las entradas que se deben a que una función termina y el
  recorrido sube a un módulo que ya había dejado (el que la llamó);
- **lecturas del manifiesto**: cuántas veces se abre ``.manifiesto.json``.

Las dos primeras cifras se dan también «sin hojas»: sin las idas a un módulo
que vuelven enseguida sin pasar por ningún otro (calcular una huella en
`taller.files`, leer una propiedad de una entrada del catálogo). Así se ve el
recorrido entre etapas, sin los ayudantes.

Sin argumentos, usa un conjunto de prueba hecho en una carpeta temporal (un
.zip con un JSON Lines de 2000 eventos servido desde una carpeta espejo) y
traza dos llamadas: con la caché vacía (descarga, extracción y copia Parquet)
y con la caché ya preparada. Con ``--nombre`` traza un conjunto del catálogo
(con el espejo de ``TALLER_BASE_URL`` o el de upstream) en una caché temporal.

    .venv/bin/python scripts/trace_road.py
    .venv/bin/python scripts/trace_road.py --nombre empire_psexec_dcerpc_tcp_svcctl -v
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PACKAGE = REPO / "taller"
MANIFEST = ".manifiesto.json"


def module_of(frame) -> str | None:
    """Módulo de `taller` del marco más interno del paquete (None si no hay)."""
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(PACKAGE):
            return path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        frame = frame.f_back
    return None


def trace(function, *args):
    """(resultado, lista de estancias (módulo, cómo se entró), lecturas del manifiesto)."""
    stays: list[tuple[str, str]] = []
    reads = [0]

    def profile(frame, event, arg):
        if event == "call":
            module, how = module_of(frame), "llamada"
        elif event == "return":
            module, how = module_of(frame.f_back), "vuelta"
        else:
            return
        if module is not None and (not stays or stays[-1][0] != module):
            stays.append((module, how))

    def audit(event, args):
        if event == "open" and str(args[0]).endswith(MANIFEST):
            mode = args[1] if isinstance(args[1], str) else "r"
            if "r" in mode and "+" not in mode:
                reads[0] += 1

    counting = [True]
    sys.addaudithook(lambda event, args: counting[0] and audit(event, args))
    sys.setprofile(profile)
    try:
        result = function(*args)
    finally:
        sys.setprofile(None)
        counting[0] = False
    return result, stays, reads[0]


def without_leaves(stays):
    """Las estancias sin las idas y vueltas a un módulo que no llama a ningún otro."""
    kept: list[tuple[str, str]] = []
    index = 0
    while index < len(stays):
        module, how = stays[index]
        following = stays[index + 1] if index + 1 < len(stays) else None
        if how == "llamada" and following and following[1] == "vuelta" and kept:
            if following[0] == kept[-1][0]:
                index += 2  # una hoja: se salta la ida y la vuelta
                continue
        if not kept or kept[-1][0] != module:
            kept.append((module, how))
        index += 1
    return kept


def summary(label: str, stays, reads: int, verbose: bool) -> None:
    returns = sum(how == "vuelta" for _, how in stays)
    trunk = without_leaves(stays)
    visits: dict[str, int] = {}
    for module, _ in stays:
        visits[module] = visits.get(module, 0) + 1
    print(f"{label}:")
    print(f"  entradas en módulos: {len(stays)} (en {len(visits)} módulos)")
    print(f"  vueltas a un módulo ya dejado: {returns}")
    print(
        f"  sin hojas: {len(trunk)} entradas, {sum(how == 'vuelta' for _, how in trunk)} vueltas"
    )
    print(f"  lecturas del manifiesto: {reads}")
    print("  por módulo: " + ", ".join(f"{m} {n}" for m, n in sorted(visits.items())))
    if verbose:
        print("  recorrido: " + " → ".join(("↑" if h == "vuelta" else "") + m for m, h in stays))
        print("  sin hojas: " + " → ".join(("↑" if h == "vuelta" else "") + m for m, h in trunk))


def demo_dataset(folder: Path):
    """Un catálogo de un conjunto, «demo», con su .zip en un espejo local."""
    from taller import catalog

    lines = [
        json.dumps({"EventID": 1, "Hostname": "PC1", "ProcessId": str(i), "Message": "café"})
        for i in range(2000)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("demo.json", "\n".join(lines) + "\n")
    data = buffer.getvalue()
    upstream = "datasets/atomic/windows/prueba/host/demo.zip"
    source = folder / "espejo" / upstream
    source.parent.mkdir(parents=True)
    source.write_bytes(data)
    entry = catalog.Dataset(
        name="demo",
        id="SDWIN-PRUEBA",
        title="Demo",
        kind="host",
        techniques=("T1055",),
        tactics=("TA0005",),
        path=upstream,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        members=("demo.json",),
        notebooks=(),
    )
    catalog.datasets = lambda: {"demo": entry}
    os.environ["TALLER_BASE_URL"] = str(folder / "espejo")
    return "demo"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nombre", help="un conjunto del catálogo (por defecto, uno de prueba)")
    parser.add_argument("-v", "--recorrido", action="store_true", help="imprime el recorrido")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="traza-") as scratch:
        os.environ["TALLER_CACHE_DIR"] = str(Path(scratch) / "cache")
        import taller

        name = args.nombre or demo_dataset(Path(scratch))
        # Que importar módulos no cuente en la traza: todo importado antes.
        import importlib

        import requests  # noqa: F401
        import tqdm  # noqa: F401

        for module in sorted(PACKAGE.glob("*.py")):
            if module.stem not in ("__init__", "__main__"):
                importlib.import_module(f"taller.{module.stem}")

        path, stays, reads = trace(taller.parquet_path, name)
        summary(f"parquet_path({name!r}), caché vacía", stays, reads, args.recorrido)
        again, stays, reads = trace(taller.parquet_path, name)
        summary(f"parquet_path({name!r}), caché preparada", stays, reads, args.recorrido)
        assert again == path and path.is_file()
    return 0


if __name__ == "__main__":
    sys.exit(main())
