"""El sitio construido: cada página del índice, en español y no vacía, y cada
enlace al repositorio o de lanzamiento apuntando al único repositorio canónico."""

import re
from itertools import pairwise
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

from built_site import REPO, toc_files


def read_config():
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def page(site, doc):
    return BeautifulSoup((site / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")


def test_every_toc_entry_yields_a_page(site):
    missing = [doc for doc in toc_files() if not (site / f"{doc}.html").is_file()]
    assert missing == []


@pytest.mark.parametrize("doc", toc_files())
def test_page_is_spanish_and_not_empty(site, doc):
    soup = page(site, doc)
    assert soup.html.get("lang") == "es"
    article = soup.select_one("article.bd-article")
    assert article is not None, f"{doc}: sin artículo principal"
    text = article.get_text(" ", strip=True)
    assert len(text) > 500, f"{doc}: la página está casi vacía ({len(text)} caracteres)"
    assert article.find("h1") is not None, f"{doc}: sin título"


def test_interface_strings_are_spanish(site):
    html = (site / "book" / "intro.html").read_text(encoding="utf-8")
    assert "Buscar" in html
    assert "Search" not in BeautifulSoup(html, "html.parser").get_text(" ")


def test_footer_names_the_team_in_spanish(site):
    for doc in toc_files():
        footer = page(site, doc).select_one("footer .component-author")
        assert footer is not None, f"{doc}: el pie no nombra al autor"
        assert footer.get_text(" ", strip=True) == "Por el equipo del taller"


def test_no_thebe_nor_hub_without_configuration(site):
    """Thebe está desactivado: ni su botón ni sus scripts (ni el inglés «Loading
    thebe from CDN...»). Un botón de JupyterHub solo si se indica `jupyterhub_url`."""
    launch = read_config()["launch_buttons"]
    assert launch["thebe"] is False
    for doc in toc_files():
        html = (site / f"{doc}.html").read_text(encoding="utf-8")
        assert "thebe" not in html.lower(), f"{doc}: quedan restos de Thebe"
        if not launch.get("jupyterhub_url"):
            assert "JupyterHub" not in page(site, doc).select_one(
                ".article-header-buttons"
            ).get_text(" "), f"{doc}: botón de JupyterHub sin hub configurado"


def test_title_and_logo(site):
    config = read_config()
    soup = page(site, "book/intro")
    assert config["title"] in soup.title.get_text()
    logo = soup.select_one("img.logo__image")
    assert logo is not None and logo["src"].endswith("logo.svg")
    assert (site / "_static" / "logo.svg").is_file()
    assert soup.find("link", rel="icon")["href"].endswith("favicon.png")


def test_repository_and_launch_links_use_the_canonical_repository(site):
    repo_url = read_config()["repository"]["url"]
    owner_repo = urlparse(repo_url).path.strip("/")
    checked = 0
    for doc in toc_files():
        for link in page(site, doc).select(
            ".article-header-buttons a[href], .header-article-items a[href]"
        ):
            href = unquote(link["href"])
            host = urlparse(href).netloc
            if (
                host in {"github.com", "mybinder.org", "colab.research.google.com"}
                or "hub." in host
            ):
                assert owner_repo in href, f"{doc}: {href} no apunta a {repo_url}"
                checked += 1
    # Repositorio, incidencias y edición en cada página; lanzadores en los cuadernos.
    assert checked >= 3 * len(toc_files())


# --- Los dos programas de la portada (su fuente es book/programa.yml) ----------

PROGRAMME = yaml.safe_load((REPO / "book" / "programa.yml").read_text(encoding="utf-8"))
NOT_NOTEBOOKS = {"Descanso", "Comida", "Fin", "Cierre y preguntas"}


def minutes(text):
    hours, _, mins = text.partition(":")
    return int(hours) * 60 + int(mins)


def programme_tables(site):
    """{encabezado: [(inicio, etiqueta, número de cuaderno o None, minutos o None)]}."""
    tables = {}
    for section in page(site, "book/intro").select("section section"):
        heading = section.find(["h3"])
        table = section.find("table")
        if heading is None or table is None:
            continue
        rows = []
        for row in table.select("tbody tr"):
            start, block, length = (cell.get_text(" ", strip=True) for cell in row.select("td"))
            match = re.match(r"(\d\d)\. ", block)
            rows.append(
                (minutes(start), block, match and match.group(1), int(length) if length else None)
            )
        tables[heading.get_text(" ", strip=True).rstrip("#").strip()] = rows
    return tables


def test_home_page_programmes_agree_with_programa_yml(site):
    tables = programme_tables(site)
    half = next(rows for title, rows in tables.items() if title.startswith("Medio día"))
    full = next(rows for title, rows in tables.items() if title.startswith("Día completo"))
    for rows, key in ((half, "medio_dia"), (full, "dia_completo")):
        expected = {nb: m for nb, m in PROGRAMME[key]["minutos"].items() if m is not None}
        shown = {nb: m for _, _, nb, m in rows if nb}
        assert shown == expected, f"{key}: la página de inicio no coincide con book/programa.yml"
        # Cada bloque empieza cuando termina el anterior.
        for (start, block, _, length), (following, *_) in pairwise(rows):
            assert start + length == following, (
                f"{key}: «{block}» no acaba cuando empieza el siguiente"
            )
    # Media jornada: con las pausas, dentro de cuatro horas, y el encabezado dice cuánto dura.
    half_total = half[-1][0] + half[-1][3]
    assert half_total <= 240
    assert (
        f"{half_total // 60} h {half_total % 60} min"
        == PROGRAMME["medio_dia"]["duracion_total"].split(",")[0]
    )
    breaks = [m for _, block, _, m in half if block == "Descanso"]
    assert breaks == list(PROGRAMME["medio_dia"]["descansos"].values())
    # Jornada completa: las sesiones (sin pausas, comida ni marca de fin) suman el encabezado.
    sessions = sum(m for _, block, _, m in full if m and block not in {"Descanso", "Comida"})
    stated = re.search(r"(\d+) h (\d+) min", PROGRAMME["dia_completo"]["duracion_total"])
    assert sessions == int(stated.group(1)) * 60 + int(stated.group(2))


def test_programmes_link_every_notebook_that_exists(site):
    links = {a["href"] for a in page(site, "book/intro").select("article table a[href]")}
    for number in PROGRAMME["dia_completo"]["minutos"]:
        notebook = next((REPO / "notebooks").glob(f"{number}_*.ipynb"), None)
        if notebook is not None and f"notebooks/{notebook.stem}" in toc_files():
            assert any(f"{notebook.stem}.html" in href for href in links), (
                f"El programa no enlaza el cuaderno {notebook.stem}"
            )


# --- El glosario --------------------------------------------------------------


def test_glossary_defines_the_workshop_terms_once(site):
    soup = page(site, "book/glosario")
    terms = [
        dt.get_text(" ", strip=True).replace("¶", "").strip()
        for dt in soup.select("dl.glossary dt")
    ]
    assert len(terms) == len(set(terms)), "Un término definido dos veces"
    for needed in (
        "huella SHA-256",
        "línea de comandos",
        "hora del evento",
        "marca de tiempo de recepción",
        "decodificar",
        "descriptor",
        "identificador de inicio de sesión",
        "EventID",
        "Sysmon",
    ):
        assert any(needed in term for term in terms), f"Falta «{needed}» en el glosario"


def test_book_pages_link_terms_to_the_glossary(site):
    """Los enlaces Markdown `glosario.md#term-…` llevan a anclas de términos que existen."""
    anchors = {dt.get("id") for dt in page(site, "book/glosario").select("dl.glossary dt")}
    used = 0
    for doc in toc_files():
        for link in page(site, doc).select('article a[href*="glosario.html#"]'):
            target = link["href"].split("#", 1)[1]
            assert target in anchors, f"{doc}: enlace a un término que no existe: {target}"
            used += 1
    assert used >= 10, "Las páginas casi no enlazan con el glosario"


# --- No raw markup ------------------------------------------------------------

# Lo que vería quien lee si una directiva o un rol de MyST no se representara: la
# valla de una directiva, un rol, una opción. (Issue 19: un título «Para profundizar»
# con código en línea llegó a mostrar «```{dropdown} …» como un párrafo).
RAW_MARKUP = re.compile(
    r"```\s*\{|~~~\s*\{|:::|\{(?:term|doc|ref|numref|dropdown|glossary|download|note|warning)\}"
    r"|:sorted:|:class:|:open:"
)


def visible_text(soup):
    """El texto que se lee en el artículo, fuera de los bloques que muestran código adrede."""
    article = soup.select_one("article.bd-article") or soup.body or soup
    for hidden in article.select("script, style, template"):
        hidden.decompose()
    return article.get_text(" ")


def test_no_page_shows_raw_directives_or_roles(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(toc_files())
    found = {}
    for path in pages:
        if "_static" in path.parts or "diapositivas" in path.parts:
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        text = visible_text(soup)
        hits = sorted({m[0] for m in RAW_MARKUP.finditer(text)})
        if hits:
            found[str(path.relative_to(site))] = hits
    assert found == {}, f"páginas con sintaxis de MyST a la vista: {found}"


def test_deep_blocks_and_solutions_are_folded(site):
    """Las secciones «Para profundizar» y las soluciones son <details> cerrados, con título."""
    for doc in toc_files():
        if not doc.startswith("notebooks/"):
            continue
        soup = page(site, doc)
        for heading in soup.select("article h3"):
            assert not heading.get_text().startswith("Para profundizar"), (
                f"{doc}: «{heading.get_text(strip=True)}» queda como sección abierta"
            )
        for box in soup.select("article details"):
            assert not box.has_attr("open"), f"{doc}: un desplegable abierto"
            summary = box.find("summary")
            assert summary is not None and summary.get_text(strip=True), (
                f"{doc}: un desplegable sin título"
            )
