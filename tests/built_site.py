"""Build the site once per test session with `make book-only`, the same
command and flags as `make book` (every Sphinx warning an error)."""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "_build" / "html"


def toc_files():
    """Every document of `_toc.yml`, in reading order, as paths without suffix."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [chapter["file"] for chapter in part["chapters"]]
    return docs


def build_site():
    """`make book-only` (the flags are the Makefile's) with this environment's jupyter-book."""
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
