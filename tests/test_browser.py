"""The site as a reader meets it in a real browser (Debian's headless Chromium,
offline): home page and table of contents, clean page loads, «siguiente»
navigation, Spanish search, notebook outputs and hidden solutions, launch
buttons and screenshots at desktop and phone widths."""

import re
import struct
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import yaml
from PIL import Image

from browser_support import ARTIFACTS, DESKTOP, PHONE, article_text, article_title
from built_site import REPO, toc_files

HOME = "book/intro.html"
PLOT_NOTEBOOK = "notebooks/06_visualizar"
NOTEBOOKS = [doc for doc in toc_files() if doc.startswith("notebooks/")]


def config():
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def doc_of(url: str, site_url: str) -> str:
    """'http://127.0.0.1:PORT/notebooks/01_numpy.html?x#y' -> 'notebooks/01_numpy'."""
    path = urlparse(url).path
    base = urlparse(site_url).path
    assert path.startswith(base) and path.endswith(".html"), url
    return path[len(base):-len(".html")]


def test_home_page_shows_spanish_title_and_whole_table_of_contents(open_page, site):
    page, _ = open_page("index.html")  # the root redirects to the introduction
    page.wait_for_url(re.compile(r"/book/intro\.html$"))
    title = config()["title"]
    assert title in page.title()
    assert page.locator("article h1").first.inner_text().strip().rstrip("#").strip() == title
    assert page.locator("html").get_attribute("lang") == "es"

    sidebar = page.locator("nav.bd-docs-nav")
    assert sidebar.is_visible(), "El índice lateral no se ve en la página de inicio"
    sidebar_text = sidebar.inner_text()
    missing = [article_title(site, doc) for doc in toc_files()
               if article_title(site, doc) not in sidebar_text]
    assert missing == [], f"Faltan en el índice lateral: {missing}"


@pytest.mark.parametrize("doc", toc_files())
def test_page_loads_without_errors(open_page, doc):
    page, watcher = open_page(f"{doc}.html", wait_until="networkidle")
    assert page.locator("article.bd-article").is_visible()
    assert watcher.problems() == [], watcher.report(doc)


def test_next_links_walk_the_table_of_contents_in_order(open_page, site_url):
    page, watcher = open_page(HOME)
    visited = [doc_of(page.url, site_url)]
    for _ in range(len(toc_files())):
        following = page.locator("a.right-next")
        if following.count() == 0:
            break
        assert following.get_attribute("title") == "siguiente página"
        assert "siguiente" in following.inner_text().lower()
        following.click()
        page.wait_for_load_state("load")
        visited.append(doc_of(page.url, site_url))
    assert visited == toc_files(), "El enlace «siguiente» no recorre el índice en orden"
    assert page.locator("a.right-next").count() == 0, "La última página no debería tener «siguiente»"
    assert watcher.problems() == [], watcher.report("Recorrido con «siguiente»")


@pytest.mark.parametrize("term", ["Sysmon", "merge"])
def test_search_finds_the_pages_that_contain_the_term(open_page, site, site_url, term):
    # Every page whose text has the word must be found; every page found must contain it
    # (Spanish stemming may also match longer words, such as «_merge»).
    word = re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])", re.IGNORECASE)
    expected = {doc for doc in toc_files() if word.search(article_text(site, doc))}
    assert expected, f"Ninguna página contiene «{term}»: la prueba no comprobaría nada"

    page, watcher = open_page(f"search.html?q={term}")
    summary = page.locator("#search-results p.search-summary")
    summary.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#search-results p.search-summary').innerText.trim() !== ''")
    hrefs = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
    found = {doc_of(urljoin(page.url, href), site_url) for href in hrefs}
    assert str(len(found)) in summary.inner_text()
    assert expected <= found, f"La búsqueda de «{term}» no encuentra: {sorted(expected - found)}"
    unrelated = {doc for doc in found if term.lower() not in article_text(site, doc).lower()}
    assert unrelated == set(), f"La búsqueda de «{term}» devuelve páginas sin el término: {sorted(unrelated)}"
    assert watcher.problems() == [], watcher.report(f"Búsqueda de «{term}»")


def test_notebook_page_shows_outputs_and_a_plot(open_page):
    page, watcher = open_page(f"{PLOT_NOTEBOOK}.html", wait_until="networkidle")
    assert page.locator(".cell_output").count() >= 3, "El cuaderno no muestra sus salidas"
    plots = page.locator(".cell_output img")
    assert plots.count() >= 1, "El cuaderno de visualización no muestra ningún gráfico"
    plot = plots.first
    plot.scroll_into_view_if_needed()
    assert plot.is_visible()
    width = plot.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 100, "La imagen del gráfico no se ha cargado"
    assert watcher.problems() == [], watcher.report(PLOT_NOTEBOOK)


@pytest.mark.parametrize("doc", NOTEBOOKS)
def test_hidden_solutions_open_when_clicked(open_page, doc):
    page, _ = open_page(f"{doc}.html")
    toggles = page.locator(".tag_hide-cell details")
    assert toggles.count() >= 1, f"{doc}: no hay soluciones ocultas (celdas con la etiqueta hide-cell)"
    for index in range(toggles.count()):
        toggle = toggles.nth(index)
        code = toggle.locator(".cell_input pre")
        summary = toggle.locator("summary")
        toggle.scroll_into_view_if_needed()
        assert not code.is_visible(), f"{doc}: la solución {index + 1} se ve sin pulsar el botón"
        assert summary.inner_text().strip() == "Mostrar la solución"
        summary.click()
        code.wait_for(state="visible")
        assert code.inner_text().strip() != ""
        assert summary.inner_text().strip() == "Ocultar la solución"


@pytest.mark.parametrize("doc", NOTEBOOKS)
def test_launch_buttons_open_this_notebook_in_the_canonical_repository(open_page, doc):
    settings = config()
    repo_url = settings["repository"]["url"].rstrip("/")
    branch = settings["repository"]["branch"]
    owner, name = urlparse(repo_url).path.strip("/").split("/")
    notebook = f"{doc}.ipynb"
    assert (REPO / notebook).is_file()
    launch = settings["launch_buttons"]

    page, _ = open_page(f"{doc}.html")
    page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
    links = {}
    for link in page.locator(".dropdown-launch-buttons a.dropdown-item").all():
        assert link.is_visible()
        links[link.inner_text().strip()] = urlparse(link.get_attribute("href"))
    assert set(links) == {"Binder", "JupyterHub", "Colab"}

    binder = links["Binder"]
    assert f"{binder.scheme}://{binder.netloc}" == launch["binderhub_url"]
    assert binder.path == f"/v2/gh/{owner}/{name}/{branch}"
    assert parse_qs(binder.query) == {"urlpath": [f"lab/tree/{notebook}"]}

    hub = links["JupyterHub"]
    assert f"{hub.scheme}://{hub.netloc}" == launch["jupyterhub_url"]
    assert hub.path == "/hub/user-redirect/git-pull"
    assert parse_qs(hub.query) == {"repo": [repo_url], "branch": [branch],
                                   "urlpath": [f"lab/tree/{name}/{notebook}"]}

    colab = links["Colab"]
    assert f"{colab.scheme}://{colab.netloc}" == launch["colab_url"]
    assert colab.path == f"/github/{owner}/{name}/blob/{branch}/{notebook}"


def png_size(path: Path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} no es un PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["escritorio", "movil"])
@pytest.mark.parametrize("doc", ["book/intro", PLOT_NOTEBOOK], ids=["inicio", "cuaderno"])
def test_screenshots_at_desktop_and_phone_widths(open_page, doc, viewport):
    page, _ = open_page(f"{doc}.html", viewport=viewport, wait_until="networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{doc}: la página se sale {overflow} px por la derecha a {viewport['width']} px de ancho"

    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{doc.replace('/', '-')}-{viewport['width']}x{viewport['height']}.png"
    target.unlink(missing_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 0
    assert png_size(target) == (viewport["width"], viewport["height"])
    with Image.open(target) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, f"{target.name}: la captura parece vacía"
