"""Accesibilidad del sitio construido: axe-core en el navegador no encuentra ningún
problema grave ni crítico, cada imagen tiene un texto alternativo en español con
sentido, las figuras de los cuadernos lo toman de los metadatos de la celda
(mystnb.image.alt) y los nombres accesibles de la interfaz (aria-label, title)
también están en español."""

import re
from pathlib import Path

import axe_playwright_python
import nbformat
import pytest
from bs4 import BeautifulSoup

from built_site import REPO, toc_files
from spelling import Line, misspellings

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
SERIOUS = {"serious", "critical"}
NOTEBOOKS = [doc for doc in toc_files() if doc.startswith("notebooks/")]
GENERIC_ALT = {
    "png",
    "svg",
    "jpg",
    "image",
    "imagen",
    "img",
    "figure",
    "figura",
    "gráfico",
    "grafico",
    "plot",
    "chart",
    "output",
    "salida",
    "diagrama",
    "foto",
    "logo",
}


def soup(site, doc):
    return BeautifulSoup((site / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")


def alt_problem(alt):
    """Por qué un texto alternativo no tiene sentido, o None."""
    text = (alt or "").strip()
    if not text:
        return "sin texto alternativo"
    if (
        re.fullmatch(r"[\w./-]+\.(png|svg|jpe?g|gif|webp)", text, re.IGNORECASE)
        or "_images/" in text
    ):
        return "el texto alternativo es un nombre de archivo"
    if text.lower() in GENERIC_ALT or len(text.split()) < 3:
        return "texto alternativo demasiado genérico"
    return None


@pytest.mark.parametrize("doc", ["book/intro"] + NOTEBOOKS)
def test_axe_finds_no_serious_problems(open_page, doc):
    page, _ = open_page(f"{doc}.html", wait_until="networkidle")
    page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core"
    serious = [v for v in results["violations"] if v["impact"] in SERIOUS]
    described = [
        f"  [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} elementos, p. ej. "
        f"{', '.join(str(node['target']) for node in v['nodes'][:3])})"
        for v in serious
    ]
    assert serious == [], (
        f"{doc}: problemas de accesibilidad graves según axe-core:\n" + "\n".join(described)
    )


@pytest.mark.parametrize("doc", toc_files())
def test_article_images_have_meaningful_spanish_alt_text(site, doc):
    problems, lines = [], []
    for img in soup(site, doc).select("article.bd-article img"):
        alt = img.get("alt")
        problem = alt_problem(alt)
        if problem:
            problems.append(f"  {img.get('src')}: {problem} ({alt!r})")
        else:
            lines.append(Line(f"{doc}: alt de {img.get('src')}", alt))
    problems += [
        f"  {line.where}: «{word}» no es español correcto" for line, word in misspellings(lines)
    ]
    assert problems == [], (
        f"{doc}: imágenes sin un texto alternativo útil en español:\n" + "\n".join(problems)
    )


def figure_cells(path):
    """(número de celda, texto alternativo o None) de cada celda de código con imagen."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        if any(
            key.startswith("image/")
            for output in cell.get("outputs", [])
            for key in output.get("data", {})
        ):
            yield number, cell.metadata.get("mystnb", {}).get("image", {}).get("alt")


def test_the_visualisation_notebook_has_figures():
    assert list(figure_cells(REPO / "notebooks" / "06_visualizar.ipynb")), (
        "06_visualizar no guarda ninguna figura entre sus salidas"
    )


@pytest.mark.parametrize("doc", NOTEBOOKS)
def test_notebook_figures_take_their_alt_text_from_cell_metadata(site, doc):
    rendered = {
        img.get("alt") for img in soup(site, doc).select("article.bd-article .cell_output img")
    }
    problems = []
    for number, alt in figure_cells(REPO / f"{doc}.ipynb"):
        if not alt:
            problems.append(f"  celda {number}: falta metadata mystnb.image.alt")
        elif alt not in rendered:
            problems.append(
                f"  celda {number}: el sitio no muestra su texto alternativo ({alt[:60]!r})"
            )
    assert problems == [], f"{doc}:\n" + "\n".join(problems)


# Nombres de nuestras cadenas de la interfaz (book/_ext/interfaz_es.py) que no conoce ningún
# diccionario.
INTERFACE_NAMES = set()
# Palabras inglesas que dejan los temas y que el diccionario español acepta por casualidad.
ENGLISH_LEFTOVERS = {
    "home",
    "toggle",
    "page",
    "search",
    "skip",
    "previous",
    "next",
    "edit",
    "source",
}


@pytest.mark.parametrize("doc", ["book/intro", "notebooks/06_visualizar"])
def test_interface_accessible_names_are_spanish(site, doc):
    """Lo que anuncia un lector de pantalla (aria-label, title, alt) y los botones del tema."""
    page = soup(site, doc)
    for hidden in page.select(".onlyprint"):  # solo impreso: ni se ve ni se lee en voz alta
        hidden.decompose()
    lines = []
    for tag in page.find_all(True):
        for attribute in ("aria-label", "title", "alt", "placeholder"):
            value = tag.get(attribute)
            in_article = tag.name == "img" and tag.find_parent("article") is not None
            if (
                isinstance(value, str) and value.strip() and not in_article
            ):  # imágenes del artículo: véase arriba
                lines.append(Line(f"<{tag.name} {attribute}>", value))
    for label in page.select(".btn__text-container, .prev-next-subtitle, summary"):
        lines.append(
            Line(
                f"<{label.name} class={' '.join(label.get('class', []))}>",
                label.get_text(" ", strip=True),
            )
        )
    assert len(lines) > 10
    found = {
        f"  {line.where} = «{line.text}»: «{word}»"
        for line, word in misspellings(lines)
        if word not in INTERFACE_NAMES
    }
    found |= {
        f"  {line.where} = «{line.text}»: «{word}»"
        for line in lines
        for word in re.findall(r"\w+", line.text)
        if word.lower() in ENGLISH_LEFTOVERS
    }
    found = sorted(found)
    assert found == [], f"{doc}: textos de la interfaz que no están en español:\n" + "\n".join(
        found
    )
