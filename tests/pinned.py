"""Los paquetes de las pruebas, prestados a un entorno desechable que instala `taller` él mismo.

`tests/test_binder.py` y `tests/test_windows.py` crean un entorno virtual,
instalan en él la copia del repositorio como lo haría quien aprende y le
prestan, para no descargarlos otra vez, los paquetes fijados del entorno de
las pruebas. Ese préstamo no debe incluir ningún `taller`: el instalado en el
entorno de las pruebas (la rueda del trabajo de las versiones más nuevas, o la
instalación editable de .venv) taparía el de la copia.
"""

import sys
from pathlib import Path


def packages_without_taller(folder: Path) -> Path:
    """`folder` con enlaces a los paquetes del entorno de las pruebas, salvo `taller`."""
    folder.mkdir(parents=True)
    for site in (Path(path) for path in sys.path if path.endswith("site-packages")):
        for child in site.iterdir():
            link = folder / child.name
            if not child.name.startswith(("taller", "__editable__")) and not link.exists():
                link.symlink_to(child)
    return folder
