"""El sitio como lo encuentra un lector en un navegador real (el Chromium sin
interfaz de Debian, sin conexión): portada e índice, páginas que cargan sin
errores, navegación con «siguiente», búsqueda en español, salidas de los
cuadernos y soluciones ocultas, botones de lanzamiento y capturas con anchura
de escritorio y de teléfono."""

import json
import re
import struct
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import yaml
from PIL import Image

from browser_support import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    article_text,
    article_title,
    block_other_hosts,
    measure_reading,
)
from built_site import REPO, toc_files
from spelling import Line, misspellings

HOME = "book/intro.html"
PLOT_NOTEBOOK = "notebooks/06_visualizar"
NOTEBOOKS = [doc for doc in toc_files() if doc.startswith("notebooks/")]
# Los cuadernos que importan PySpark necesitan Java: sin botón de Colab, con una nota.
SPARK = re.compile(r"^\s*(from|import)\s+pyspark\b", re.MULTILINE)


def config():
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def doc_of(url: str, site_url: str) -> str:
    """'http://127.0.0.1:PORT/notebooks/01_numpy.html?x#y' -> 'notebooks/01_numpy'."""
    path = urlparse(url).path
    base = urlparse(site_url).path
    assert path.startswith(base) and path.endswith(".html"), url
    return path[len(base) : -len(".html")]


def test_home_page_shows_spanish_title_and_whole_table_of_contents(open_page, site):
    page, _ = open_page("index.html")  # la raíz redirige a la introducción
    page.wait_for_url(re.compile(r"/book/intro\.html$"))
    title = config()["title"]
    assert title in page.title()
    assert page.locator("article h1").first.inner_text().strip().rstrip("#").strip() == title
    assert page.locator("html").get_attribute("lang") == "es"

    sidebar = page.locator("nav.bd-docs-nav")
    assert sidebar.is_visible(), "El índice lateral no se ve en la página de inicio"
    sidebar_text = sidebar.inner_text()
    missing = [
        article_title(site, doc)
        for doc in toc_files()
        if article_title(site, doc) not in sidebar_text
    ]
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
    assert page.locator("a.right-next").count() == 0, (
        "La última página no debería tener «siguiente»"
    )
    assert watcher.problems() == [], watcher.report("Recorrido con «siguiente»")


@pytest.mark.parametrize("term", ["Sysmon", "merge"])
def test_search_finds_the_pages_that_contain_the_term(open_page, site, site_url, term):
    # Cada página cuyo texto tiene la palabra debe encontrarse; cada página encontrada debe
    # contenerla (la reducción a la raíz en español puede encontrar palabras más largas,
    # como «_merge»).
    word = re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])", re.IGNORECASE)
    expected = {doc for doc in toc_files() if word.search(article_text(site, doc))}
    assert expected, f"Ninguna página contiene «{term}»: la prueba no comprobaría nada"

    page, watcher = open_page(f"search.html?q={term}")
    summary = page.locator("#search-results p.search-summary")
    summary.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#search-results p.search-summary').innerText.trim() !== ''"
    )
    hrefs = page.locator("#search-results ul.search li a").evaluate_all(
        "links => links.map(a => a.href)"
    )
    found = {doc_of(urljoin(page.url, href), site_url) for href in hrefs}
    # Un resultado por página, más uno por cada término del glosario que coincide (misma
    # página, otra ancla).
    assert f" {len(hrefs)} " in summary.inner_text()
    assert expected <= found, f"La búsqueda de «{term}» no encuentra: {sorted(expected - found)}"
    unrelated = {doc for doc in found if term.lower() not in article_text(site, doc).lower()}
    assert unrelated == set(), (
        f"La búsqueda de «{term}» devuelve páginas sin el término: {sorted(unrelated)}"
    )
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


def folded_parts(doc: str) -> tuple[int, int]:
    """(soluciones, bloques «Para profundizar») en la fuente del cuaderno."""
    notebook = json.loads((REPO / f"{doc}.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    solutions = sum(text.startswith("<details>\n<summary>Mostrar la solución") for text in texts)
    deep = sum(text.startswith("### Para profundizar:") for text in texts)
    return solutions, deep


# 00 comprueba el entorno: no tiene ejercicios, así que tampoco soluciones ocultas.
WITH_SOLUTIONS = [doc for doc in NOTEBOOKS if not doc.startswith("notebooks/00_")]


@pytest.mark.parametrize("doc", WITH_SOLUTIONS)
def test_hidden_solutions_open_when_clicked(open_page, doc):
    """Las soluciones y los bloques «Para profundizar» son recuadros cerrados que abre un clic."""
    page, watcher = open_page(f"{doc}.html")
    solutions, deep = folded_parts(doc)
    assert solutions >= 1, f"{doc}: ningún ejercicio tiene la solución en un <details>"
    boxes = {
        "la solución": page.locator(
            "article details:has(> summary:text-is('Mostrar la solución'))"
        ),
        "profundizar": page.locator("article details.profundizar"),
    }
    assert boxes["la solución"].count() == solutions, f"{doc}: no se pliegan todas las soluciones"
    assert boxes["profundizar"].count() == deep, (
        f"{doc}: no se pliegan todos los bloques «Para profundizar»"
    )
    for what, toggles in boxes.items():
        for index in range(toggles.count()):
            toggle = toggles.nth(index)
            body = toggle.locator("pre, p").first
            summary = toggle.locator("summary").first
            toggle.scroll_into_view_if_needed()
            assert not body.is_visible(), f"{doc}: {what} {index + 1} se ve sin abrirla"
            if what == "profundizar":
                assert summary.inner_text().strip().startswith("Para profundizar:")
            summary.click()
            body.wait_for(state="visible")
            assert body.inner_text().strip() != ""
    assert watcher.problems() == [], watcher.report(doc)


def needs_java(doc: str) -> bool:
    notebook = json.loads((REPO / f"{doc}.ipynb").read_text(encoding="utf-8"))
    return any(
        SPARK.search("".join(cell["source"]))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    )


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
    # JupyterHub solo si un instructor configura un servidor; Colab solo donde puede
    # ejecutar el cuaderno tal cual (allí no hay Java para Spark).
    expected = {"Binder"}
    if launch.get("jupyterhub_url"):
        expected.add("JupyterHub")
    if not needs_java(doc):
        expected.add("Colab")
    assert set(links) == expected

    binder = links["Binder"]
    assert f"{binder.scheme}://{binder.netloc}" == launch["binderhub_url"]
    assert binder.path == f"/v2/gh/{owner}/{name}/{branch}"
    assert parse_qs(binder.query) == {"urlpath": [f"lab/tree/{notebook}"]}

    if "JupyterHub" in links:
        hub = links["JupyterHub"]
        assert f"{hub.scheme}://{hub.netloc}" == launch["jupyterhub_url"]
        assert hub.path == "/hub/user-redirect/git-pull"
        assert parse_qs(hub.query) == {
            "repo": [repo_url],
            "branch": [branch],
            "urlpath": [f"lab/tree/{name}/{notebook}"],
        }

    if "Colab" in links:
        colab = links["Colab"]
        assert f"{colab.scheme}://{colab.netloc}" == launch["colab_url"]
        assert colab.path == f"/github/{owner}/{name}/blob/{branch}/{notebook}"

    note = page.locator("article .admonition.aviso-colab")
    if needs_java(doc):
        assert note.count() == 1 and note.is_visible(), f"{doc}: falta el aviso sobre Colab"
        assert "Java" in note.inner_text()
    else:
        assert note.count() == 0, f"{doc}: aviso sobre Colab en un cuaderno que no usa Spark"


def png_size(path: Path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} no es un PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["escritorio", "movil"])
@pytest.mark.parametrize("doc", ["book/intro", PLOT_NOTEBOOK], ids=["inicio", "cuaderno"])
def test_screenshots_at_desktop_and_phone_widths(open_page, doc, viewport):
    page, _ = open_page(f"{doc}.html", viewport=viewport, wait_until="networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (
        f"{doc}: la página se sale {overflow} px por la derecha a {viewport['width']} px de ancho"
    )

    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{doc.replace('/', '-')}-{viewport['width']}x{viewport['height']}.png"
    target.unlink(missing_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 0
    assert png_size(target) == (viewport["width"], viewport["height"])
    with Image.open(target) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, f"{target.name}: la captura parece vacía"


# --- Leer el sitio (issue 12): medido con anchura de escritorio y de teléfono --

WIDTHS = {"escritorio": DESKTOP, "movil": PHONE}
# Páginas cuyas tablas o código aún se desplazan de lado a 1280 px mientras sus
# autores recortan columnas y líneas: {"doc": "motivo"}. La meta es que esté vacío;
# las marcas son estrictas: una página que empieza a caber falla hasta que se
# quita su marca.
STILL_TOO_WIDE = {
    "notebooks/05_correlacionar": (
        "celda 5: la tabla de inicios de sesión de red (4 columnas con IPv6) se sale 26 px"
    ),
    "book/cluster": "una orden de SPARK_HOME de más de 79 caracteres (29 px)",
    "book/catalogo": "líneas de «python -m taller listar» con comentarios largos (102 px)",
}
# Orden de palabras inglés o palabras que llevaban los logotipos de lanzamiento
# («Binder logo»).
ENGLISH_ALT = re.compile(r"\b(logo|image|icon|picture|launch)$|^(image|icon|logo) of\b", re.I)


@pytest.fixture(scope="module")
def reading(browser, site_url):
    """Cada página del índice, medida con las dos anchuras, una sola vez.

    Las capturas de la parte superior de cada página van a test-artifacts/lectura/, y
    todas las cifras, a test-artifacts/lectura/medidas.json."""
    folder = ARTIFACTS / "lectura"
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for label, viewport in WIDTHS.items():
        for doc in toc_files():
            context = browser.new_context(
                viewport=viewport, locale="es-ES", service_workers="block"
            )
            context.set_default_timeout(TIMEOUT_MS)
            block_other_hosts(context, site_url, [])
            page = context.new_page()
            page.goto(f"{site_url}{doc}.html", wait_until="networkidle")
            page.screenshot(path=str(folder / f"{doc.replace('/', '-')}-{viewport['width']}.png"))
            results[doc, label] = measure_reading(page)
            context.close()
    summary = {}
    for (doc, label), measured in results.items():
        summary.setdefault(label, {})[doc] = {
            "tablas": measured["tables"],
            "tablas_que_desbordan": measured["overflowing_tables"],
            "bloques": measured["blocks"],
            "bloques_que_desbordan": measured["overflowing_blocks"],
            "figuras": measured["images"],
            "busqueda": measured["searches"],
        }
    (folder / "medidas.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return results


def share(results, label, docs, key):
    total = sum(results[doc, label][key.removeprefix("overflowing_")] for doc in docs)
    over = sum(len(results[doc, label][key]) for doc in docs)
    return over, total


def describe(items):
    return "\n".join(
        f"    {item['where']}: {item['overflow']} px de más («{item['text']}»)" for item in items
    )


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(doc, marks=pytest.mark.xfail(reason=STILL_TOO_WIDE[doc], strict=True))
        if doc in STILL_TOO_WIDE
        else doc
        for doc in toc_files()
    ],
)
def test_tables_and_code_fit_the_text_column_at_desktop_width(reading, doc):
    """A 1280 px nada del artículo obliga a desplazarse de lado, soluciones incluidas."""
    measured = reading[doc, "escritorio"]
    problems = []
    if measured["overflowing_tables"]:
        problems.append("  tablas:\n" + describe(measured["overflowing_tables"]))
    if measured["overflowing_blocks"]:
        problems.append("  código y salidas:\n" + describe(measured["overflowing_blocks"]))
    assert problems == [], f"{doc}: a 1280 px hay que desplazarse de lado:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", toc_files())
def test_wide_content_scrolls_inside_its_box_on_a_phone(reading, doc):
    """A 390 px no caben una línea de 79 caracteres ni una tabla de cinco columnas: pueden
    desplazarse dentro de su caja, nunca empujar la página hacia un lado."""
    assert reading[doc, "movil"]["page_overflow"] <= 0, (
        f"{doc}: a 390 px la página entera se sale por la derecha"
    )


def test_reading_measurements_are_reported(reading):
    """Las proporciones del issue, por anchura, escritas donde las encuentra un revisor."""
    lines = []
    for label, viewport in WIDTHS.items():
        for name, docs in (("cuadernos", NOTEBOOKS), ("todas las páginas", toc_files())):
            tables = share(reading, label, docs, "overflowing_tables")
            blocks = share(reading, label, docs, "overflowing_blocks")
            lines.append(
                f"{viewport['width']} px, {name}: tablas que desbordan {tables[0]}/{tables[1]}, "
                f"bloques de código o salida que desbordan {blocks[0]}/{blocks[1]}"
            )
        figures = [
            image["rendered"] / image["natural"]
            for doc in NOTEBOOKS
            for image in reading[doc, label]["images"]
            if "_images/" in image["src"] and image["natural"]
        ]
        if figures:
            low, high = min(figures) * 100, max(figures) * 100
            lines.append(
                f"{viewport['width']} px, figuras de los cuadernos: {len(figures)}, "
                f"mostradas entre el {low:.0f} % y el {high:.0f} % de su ancho real"
            )
    report = ARTIFACTS / "lectura" / "resumen.txt"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    assert sum(reading[doc, "escritorio"]["blocks"] for doc in NOTEBOOKS) > 100, (
        "Los cuadernos casi no tienen bloques de código: la medida no mide nada"
    )


@pytest.mark.parametrize("label", WIDTHS)
def test_one_search_box_with_the_spanish_placeholder(reading, open_page, label):
    placeholder = config()["sphinx"]["config"]["html_theme_options"]["search_bar_text"]
    for doc in toc_files():
        searches = reading[doc, label]["searches"]
        assert len(searches) == 1, f"{doc}: {len(searches)} controles de búsqueda a la vista"
        assert searches[0]["in_view"], f"{doc}: la búsqueda no se ve al abrir la página"
    page, watcher = open_page(HOME, viewport=WIDTHS[label])
    visible = page.locator("input[type=search]:visible")
    if label == "movil":
        # En un teléfono la barra lateral está plegada: la lupa abre el mismo campo.
        assert visible.count() == 0
        page.locator("button.search-button:visible").click()
    assert visible.count() == 1, "No se ve un campo de búsqueda"
    field = visible.first
    assert field.get_attribute("placeholder") == placeholder
    field.fill("Sysmon")
    field.press("Enter")
    page.wait_for_url(re.compile(r"/search\.html\?q=Sysmon"))
    assert watcher.problems() == [], watcher.report("Búsqueda")


@pytest.mark.parametrize("doc", toc_files())
def test_no_english_alternative_text_anywhere_on_the_page(reading, doc):
    """Las figuras del artículo y las imágenes de la interfaz (logotipos de lanzamiento y del
    sitio)."""
    alts = [item for item in reading[doc, "escritorio"]["alts"] if (item["alt"] or "").strip()]
    english = [item["alt"] for item in alts if ENGLISH_ALT.search(item["alt"].strip())]
    english += [
        f"{line.text} («{word}»)"
        for line, word in misspellings([Line(item["src"], item["alt"]) for item in alts])
    ]
    assert english == [], f"{doc}: textos alternativos que no están en español: {english}"


@pytest.mark.parametrize("label", WIDTHS)
def test_figures_fit_their_column_and_open_at_full_size(reading, label):
    plots = [
        (doc, image)
        for doc in NOTEBOOKS
        for image in reading[doc, label]["images"]
        if "_images/" in image["src"]
    ]
    assert plots, "Ningún cuaderno muestra figuras: la prueba no comprobaría nada"
    problems = []
    for doc, image in plots:
        if image["rendered"] > image["box"]:
            problems.append(
                f"  {doc} {image['where']}: {image['rendered']} px en {image['box']} px"
            )
        if not image["opens_full_size"]:
            problems.append(f"  {doc} {image['where']}: un clic no abre la imagen completa")
        if image["natural"] < image["rendered"]:
            problems.append(f"  {doc} {image['where']}: ampliada más allá de su tamaño real")
    assert problems == [], f"Figuras a {WIDTHS[label]['width']} px:\n" + "\n".join(problems)


def test_a_click_on_a_figure_opens_the_image_file(open_page):
    page, watcher = open_page(f"{PLOT_NOTEBOOK}.html")
    figure = page.locator(".cell_output a.image-reference img").first
    figure.scroll_into_view_if_needed()
    natural = figure.evaluate("img => img.naturalWidth")
    figure.click()
    page.wait_for_url(re.compile(r"/_images/[^/]+\.png$"))
    assert page.evaluate("() => document.images[0].naturalWidth") == natural
    assert watcher.problems() == [], watcher.report("Figura a tamaño completo")
