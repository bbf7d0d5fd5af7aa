"""El sitio se construye una vez por sesión de pruebas con `make book-only`, la
misma orden y opciones que `make book` (todo aviso de Sphinx es un error)."""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "_build" / "html"


def toc_files():
    """Cada documento de `_toc.yml`, en orden de lectura, como ruta sin extensión."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [chapter["file"] for chapter in part["chapters"]]
    return docs


def build_site():
    """`make book-only` (las opciones son las del Makefile) con el jupyter-book de este entorno."""
    result = subprocess.run(
        ["make", "--no-print-directory", "book-only", f"BIN={Path(sys.executable).parent}"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"La construcción del sitio falló:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return SITE
