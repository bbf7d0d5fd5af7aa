"""Dónde está la copia local de Security-Datasets: el único sitio que lo dice.

La usan las pruebas (``tests/conftest.py``), las medidas (``bench/run.py``) y el
``Makefile``, que ejecuta este archivo para saber si hay espejo y, si lo hay,
descargar de él (``TALLER_BASE_URL``) en lugar de GitHub.

La copia se busca en ``TALLER_MIRROR`` o, si no se indica, en
``<repositorio>/../shared/security-datasets``. Que no exista no es un error:
las pruebas que necesitan datos los descargan entonces de la versión fija de
upstream por el camino normal del paquete (``python -m taller descargar``).
Para probar sin espejo: ``TALLER_MIRROR=/no/existe make test-fast``.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("TALLER_MIRROR") or REPO.parent / "shared" / "security-datasets")
# Las reglas Sigma de SigmaHQ (taller.sigma), con la forma de upstream.
SIGMA = Path(os.environ.get("TALLER_SIGMA_MIRROR") or REPO.parent / "shared" / "sigma")


def local_mirror() -> Path | None:
    """La carpeta del espejo local si existe y tiene ``datasets/``; si no, None."""
    return MIRROR.resolve() if (MIRROR / "datasets").is_dir() else None


def local_sigma() -> Path | None:
    """La carpeta de las reglas Sigma si existe y tiene ``rules/windows``; si no, None."""
    return SIGMA.resolve() if (SIGMA / "rules" / "windows").is_dir() else None


if __name__ == "__main__":
    import sys

    # Para el Makefile: imprime la ruta del espejo (o de las reglas Sigma con
    # el argumento «sigma»), o nada si no hay.
    found = local_sigma() if sys.argv[1:] == ["sigma"] else local_mirror()
    if found:
        print(found)
