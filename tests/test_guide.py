"""La guía del instructor (book/guia_instructor.md): sus programas suman bien,
coinciden con la línea de tiempo de cada cuaderno, nombran cuadernos que
existen y su apartado de JupyterHub describe el botón que construye de verdad
el tema."""

import json
import re
from urllib.parse import urlencode

import pytest
import yaml

from built_site import REPO

GUIDE = REPO / "book" / "guia_instructor.md"
BREAKS = ("Descanso", "Comida")


def tables():
    """{encabezado: [(inicio, minutos, bloque)]} de cada tabla de programa de la guía."""
    found, heading = {}, None
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
        match = re.match(r"\| (\d{1,2}:\d{2}) \| *(\d*) *\| (.*?) \|", line)
        if match and heading:
            found.setdefault(heading, []).append(
                (match[1], int(match[2]) if match[2] else None, match[3])
            )
    return found


def programme(prefix):
    (rows,) = [rows for heading, rows in tables().items() if heading.startswith(prefix)]
    return rows


def minutes(clock):
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


@pytest.mark.parametrize("prefix", ["Dos horas", "Medio día", "Día completo"])
def test_start_times_follow_from_the_minutes(prefix):
    rows = programme(prefix)
    for (start, length, block), (following, _, _) in zip(rows, rows[1:], strict=False):
        assert minutes(start) + length == minutes(following), f"{prefix}: {block}"


def test_the_programmes_last_what_they_promise():
    two_hours = programme("Dos horas")
    assert sum(length for _, length, _ in two_hours) == 120
    half_day = programme("Medio día")
    assert half_day[-1][2] == "Fin" and minutes(half_day[-1][0]) == 3 * 60 + 50
    full_day = programme("Día completo")
    sessions = sum(
        length for _, length, block in full_day if length and not block.startswith(BREAKS)
    )
    stated = yaml.safe_load((REPO / "book" / "programa.yml").read_text(encoding="utf-8"))
    total = stated["dia_completo"]["duracion_total"]
    hours, mins = re.search(r"(\d+) h (\d+) min", total).groups()
    assert sessions == int(hours) * 60 + int(mins)


def notebook_minutes():
    """{"03": (media jornada, jornada completa)} según la línea de tiempo de cada cuaderno."""
    found = {}
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "".join(
            "".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"
        )
        match = re.search(
            r"\*\*Tiempo:\*\* (\d+) min en el programa de medio día · (\d+) min en el de día", text
        )
        if match:
            found[path.name[:2]] = (int(match[1]), int(match[2]))
    return found


@pytest.mark.parametrize("prefix, column", [("Medio día", 0), ("Día completo", 1)])
def test_each_notebook_gets_the_minutes_its_time_line_states(prefix, column):
    stated = notebook_minutes()
    assert len(stated) >= 5, stated
    for _, length, block in programme(prefix):
        number = re.match(r"`(\d\d)_", block)
        if number and number[1] in stated:
            assert length == stated[number[1]][column], f"{prefix}: {block}"


def test_every_notebook_named_by_the_guide_exists():
    names = set(re.findall(r"`(\d\d_[a-z_]+)`", GUIDE.read_text(encoding="utf-8")))
    assert len(names) >= 9, names
    existing = {path.stem for path in (REPO / "notebooks").glob("*.ipynb")}
    assert names <= existing, sorted(names - existing)


def test_the_jupyterhub_button_is_the_one_the_theme_builds():
    """sphinx-book-theme abre
    <hub>/hub/user-redirect/git-pull?repo=…&urlpath=lab/tree/<repo>/<path>&branch=…"""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert "jupyterhub_url" in config["launch_buttons"]
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    repository = config["repository"]
    name = repository["url"].rstrip("/").rsplit("/", 1)[1]
    text = GUIDE.read_text(encoding="utf-8")
    hub = re.search(r'jupyterhub_url: "(https://[^"]+)"', text)[1]
    query = urlencode(
        {
            "repo": repository["url"],
            "urlpath": f"lab/tree/{name}/notebooks/03_filtrar_resumir.ipynb",
            "branch": repository["branch"],
        },
        safe="/",
    )
    # La guía parte la dirección en varias líneas para que quepa en la página.
    block = re.search(r"```text\n(" + re.escape(hub) + r".*?)```", text, re.S)[1]
    assert "".join(line.strip() for line in block.splitlines()) == (
        f"{hub}/hub/user-redirect/git-pull?{query}"
    )
