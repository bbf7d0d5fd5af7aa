"""Lo que comparten las pruebas del sitio y del navegador: el sitio construido,
servido en la interfaz de bucle local, el Chromium sin interfaz de Debian
manejado por Playwright y un observador que anota lo que falló mientras cargaba
una página.

Las pruebas no salen de la máquina y dan siempre lo mismo: cada petición a un
servidor que no sea el nuestro de bucle local se aborta antes de salir."""

import re
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

from built_site import REPO, build_site

LOOPBACK = "127.0.0.1"
# El Chromium de Debian (apt-get install chromium): Playwright nunca descarga un navegador.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = REPO / "test-artifacts"


class QuietHandler(SimpleHTTPRequestHandler):
    """Archivos estáticos, sin una línea de registro por petición en stderr."""

    def log_message(self, format, *args):
        pass


@contextmanager
def serve(directory: Path):
    """Sirve `directory` en 127.0.0.1 con un puerto efímero; da la URL base."""
    server = ThreadingHTTPServer((LOOPBACK, 0), partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name="sitio-local", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def is_ours(url: str, base_url: str) -> bool:
    return urlparse(url).netloc == urlparse(base_url).netloc


class PageWatcher:
    """Recoge errores de la consola, excepciones sin capturar y peticiones fallidas a
    nuestros archivos."""

    def __init__(self, page, base_url: str):
        self.base_url = base_url
        self.console_errors = []
        self.page_errors = []
        self.failed_requests = []
        self.blocked = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message):
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        # Los únicos errores esperados: recursos de otros servidores, que se bloquean a propósito.
        if (
            "Failed to load resource" in message.text
            and source
            and not is_ours(source, self.base_url)
        ):
            return
        self.console_errors.append(f"{message.text} ({source})")

    def _on_request_failed(self, request):
        # net::ERR_ABORTED: la petición la canceló una navegación (p. ej., el
        # favicon al pulsar Intro en la búsqueda), no un archivo roto; uno que
        # falte llega como respuesta HTTP 404 a _on_response.
        if request.failure == "net::ERR_ABORTED":
            return
        if is_ours(request.url, self.base_url):
            self.failed_requests.append(f"{request.url}: {request.failure}")

    def _on_response(self, response):
        if is_ours(response.url, self.base_url) and response.status >= 400:
            self.failed_requests.append(f"{response.url}: HTTP {response.status}")

    def problems(self):
        return self.console_errors + self.page_errors + self.failed_requests

    def report(self, what: str) -> str:
        return f"{what}: errores en el navegador:\n" + "\n".join(
            f"  {problem}" for problem in self.problems()
        )


def block_other_hosts(context, base_url: str, blocked: list):
    """Aborta cada petición que no vaya a nuestro servidor de bucle local.

    El patrón es una expresión regular para que Playwright la compare dentro del
    controlador del navegador: las peticiones de nuestros archivos nunca esperan a Python."""
    others = re.compile(rf"^(?!{re.escape(base_url)})")

    def abort(route):
        blocked.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(others, abort)


def article_title(site: Path, doc: str) -> str:
    """El título de la página como lo ve el lector: el primer encabezado, sin el enlace « # »."""
    soup = BeautifulSoup((site / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
    heading = soup.select_one("article.bd-article h1")
    for link in heading.select("a.headerlink"):
        link.decompose()
    return heading.get_text(" ", strip=True)


def article_text(site: Path, doc: str) -> str:
    soup = BeautifulSoup((site / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
    return soup.select_one("article.bd-article").get_text(" ", strip=True)


# --- Fixtures (registradas en conftest.py) -----------------------------------


@pytest.fixture(scope="session")
def site():
    """El sitio, construido una vez por sesión como `make book` (cada aviso, un error)."""
    return build_site()


@pytest.fixture(scope="session")
def site_url(site):
    """URL base del sitio construido, servido en 127.0.0.1 (puerto efímero)."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """El Chromium sin interfaz de Debian, manejado por Playwright (sin descargar navegador)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def open_page(browser, site_url):
    """open_page("book/intro.html", viewport=PHONE, wait_until="load") -> (page, watcher).

    Cada llamada recibe un contexto de navegador nuevo, sin conexión: solo se sirven las
    peticiones a la interfaz de bucle local."""
    contexts = []

    def _open(path, viewport=DESKTOP, wait_until="load"):
        context = browser.new_context(viewport=viewport, locale="es-ES", service_workers="block")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watcher = PageWatcher(page, site_url)
        block_other_hosts(context, site_url, watcher.blocked)
        response = page.goto(site_url + path, wait_until=wait_until)
        assert response is not None and response.ok, f"{path}: la página no se pudo abrir"
        return page, watcher

    yield _open
    for context in contexts:
        context.close()


# --- Medidas de lectura (issue 12) ----------------------------------------------

# Se ejecuta en la página. Abre cada parte plegada (soluciones, «Para profundizar»)
# para medir también lo que el lector despliega y luego informa, en el artículo, de:
# - las tablas y los bloques de código o de salida cuyo contenido es más ancho que
#   su caja, de modo que el lector tiene que desplazarse de lado (la caja es el
#   antepasado más cercano que recorta o desplaza: la zona de salida de un
#   DataFrame, el envoltorio desplazable de una tabla Markdown, el propio <pre>);
# - cada imagen: su anchura natural y la mostrada, la anchura de su caja y si un
#   clic en ella abre el archivo de la imagen;
# - los controles de búsqueda que ve el lector (campos, y botones que parecen un
#   campo de búsqueda o abren uno), con su texto de ejemplo o su etiqueta;
# - el texto alternativo de cada imagen de la página, del artículo o de la interfaz.
MEASURE_READING_JS = r"""
() => {
  const article = document.querySelector("article.bd-article");
  article.querySelectorAll("details").forEach((d) => { d.open = true; });
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden";
  };
  const cells = [...article.querySelectorAll(".cell")];
  const where = (el) => {
    const cell = el.closest(".cell");
    if (cell) return `celda ${cells.indexOf(cell) + 1}`;
    const section = el.closest("section[id]");
    return section ? `sección #${section.id}` : "artículo";
  };
  const clipping = (el) => {
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return p;
    }
    return article;
  };
  const sample = (el) => el.innerText.trim().split("\n")[0].slice(0, 70);
  const overflowing = (items) => items.filter(({ overflow }) => overflow > 1);

  const tables = [...article.querySelectorAll("table")].filter(shown).map((table) => {
    const box = clipping(table);
    const overflow = Math.max(
      box.scrollWidth - box.clientWidth,
      table.getBoundingClientRect().width - box.clientWidth,
    );
    return { where: where(table), overflow: Math.round(overflow), text: sample(table) };
  });
  const blocks = [...article.querySelectorAll("pre")].filter(shown).map((pre) => ({
    where: where(pre),
    kind: pre.closest(".cell_output") ? "salida" : "código",
    overflow: Math.round(pre.scrollWidth - pre.clientWidth),
    text: sample(pre),
  }));
  const images = [...article.querySelectorAll("img")].filter(shown).map((img) => {
    const link = img.closest("a[href]");
    return {
      where: where(img),
      src: img.getAttribute("src"),
      natural: img.naturalWidth,
      rendered: Math.round(img.getBoundingClientRect().width),
      box: Math.round(clipping(img).clientWidth),
      opens_full_size: !!link && new URL(link.href).pathname === new URL(img.src).pathname,
    };
  });
  const searches = [
    ...document.querySelectorAll(
      "input[type=search], input[name=q], .search-button-field, button.search-button",
    ),
  ].filter(shown).map((el) => ({
    tag: el.tagName.toLowerCase(),
    classes: el.className,
    placeholder: el.getAttribute("placeholder") || "",
    label: el.getAttribute("aria-label") || el.innerText.trim(),
    // On screen when the page opens, not scrolled away nor covered by something else.
    in_view: (() => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const onScreen = r.top >= 0 && r.bottom <= window.innerHeight;
      return onScreen && !!hit && (hit === el || el.contains(hit) || hit.contains(el));
    })(),
  }));
  const alts = [...document.querySelectorAll("img")].map((img) => ({
    src: img.getAttribute("src"),
    alt: img.getAttribute("alt"),
    in_article: article.contains(img),
  }));
  return {
    tables: tables.length,
    overflowing_tables: overflowing(tables),
    blocks: blocks.length,
    overflowing_blocks: overflowing(blocks),
    images,
    searches,
    alts,
    page_overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}
"""


def measure_reading(page) -> dict:
    """Lo que encuentra quien lee `page`: véase MEASURE_READING_JS."""
    return page.evaluate(MEASURE_READING_JS)
