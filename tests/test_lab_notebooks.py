"""JupyterLab mismo, manejado en Chromium por todos los cuadernos, como lo usa quien aprende.

Un `jupyter lab` de verdad (lab_support.LabServer: 127.0.0.1, token aleatorio y
la configuración en español del taller, instalada igual que en la imagen, Binder
y `make lab`) sirve una copia temporal de los cuadernos (el repositorio no se
toca), con la caché de datos en la carpeta `datasets/` verificada que `make
test` llena antes. En cada cuaderno 00–09:

- «Ejecutar → Ejecutar todas las celdas», con un clic en el menú en español,
  llega al final: sin salidas de error, sin la salida de ninguna solución, sin
  «Correcto» antes de escribir una respuesta (cada comprobación dice que aún
  no hay respuesta, así que ninguna solución ha sobrescrito `answer`) y sin
  marcado MyST sin interpretar en el cuaderno mostrado;
- la barra de herramientas del cuaderno y la de la celda activa, la barra de
  estado y las barras laterales no tienen texto en inglés;
- en un ejercicio: una respuesta equivocada recibe «Todavía no» y, tras una
  celda de respuesta que falla (un KeyError), la comprobación se niega a
  juzgar («Sin juzgar»).

Otra prueba abre cada menú de la barra de menús (con sus submenús) y el menú
contextual de una celda y exige que todo esté en español, y que cada «Menú» →
«Entrada» que citan los cuadernos y el libro exista. Las capturas van a
test-artifacts/jupyterlab/ (una por cuaderno a 1280 px y una con el ancho de un
teléfono), con lo que tardó cada cuaderno (no se comprueba: los tiempos son cosa
de `make bench`)."""

import json
import re
import shutil
import time

import pytest

import spelling
from browser_support import ARTIFACTS, DESKTOP, PHONE, block_other_hosts
from built_site import REPO
from lab_support import LabServer

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(path.name for path in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHOTS = ARTIFACTS / "jupyterlab"
# Spark (08, 09) arranca una JVM: en una máquina de 2 núcleos ocupada, un cuaderno tarda minutos.
RUN_TIMEOUT_MS = 600_000
STEP_TIMEOUT_MS = 120_000
RAW_MARKUP = ["```{", ":::", "{term}", "{dropdown}", ":sorted:"]
CHECK_CELL = re.compile(r'^taller\.check\("(\d\d\.\d+)", answer\)\s*$')
ANSWER_LINE = re.compile(r"^answer = \.\.\..*$", re.M)
WRONG_ANSWER = "answer = -1  # una respuesta equivocada"
FAILING_ANSWER = 'answer = {}["Hostnme"]  # una celda que falla'

# Palabras que una interfaz en español puede mostrar y que el diccionario no
# conoce: nombres propios (programas, formatos) y nombres de teclas, que
# JupyterLab escribe en inglés en todos los idiomas (Ctrl+S, Shift+Enter).
PROPER_NAMES = {
    "Asciidoc",
    "CodeMirror",
    "IPython",
    "Jupyter",
    "JupyterLab",
    "LaTeX",
    "Markdown",
    "Matplotlib",
    "NumPy",
    "PySpark",
    "Python",
    "Qtpdf",
    "Qtpng",
    "Webpdf",
    "ipykernel",
    "jupyter",
    "reStructuredText",
    "seaborn",
    "Ctrl",
    "Shift",
    "Enter",
    "Alt",
    "Up",
    "Down",
    "Mayús",
    "Intro",
}
# Descripciones emergentes que JupyterLab 4.6 crea sin su traductor (el botón del
# depurador y el botón «…» de una barra estrecha usan `nullTranslator`): ninguna
# traducción llega a ellas. Una por una, para que cualquier otra en inglés falle.
UNTRANSLATABLE_TOOLTIPS = {"Enable Debugger", "Disable Debugger", "More commands"}
# Submenús cuyas entradas son nombres y no texto de la interfaz: los lenguajes del
# resaltado de sintaxis, los idiomas de la interfaz (cada uno en su idioma) y las
# rutas recientes.
NAME_SUBMENUS = {"Resaltado de sintaxis del editor de texto", "Idioma", "Abrir reciente"}

# Lee el modelo del cuaderno abierto (el servidor arranca con expose_app_in_browser).
NOTEBOOK_STATE_JS = r"""
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session?.kernel;
  return {
    kernel: kernel ? kernel.status : null,
    cells: panel.content.widgets.map((cell) => ({
      type: cell.model.type,
      source: cell.model.sharedModel.getSource(),
      count: cell.model.type === "code" ? cell.model.executionCount : null,
      pending: cell.model.type === "code"
        && (cell.node.querySelector(".jp-InputPrompt")?.textContent || "").includes("*"),
      outputs: cell.model.type === "code" ? cell.model.outputs.toJSON() : [],
      rendered: cell.model.type === "markdown"
        ? (cell.node.querySelector(".jp-MarkdownOutput")?.textContent ?? null)
        : null,
    })),
  };
}
"""

# El texto visible de la barra de herramientas del cuaderno, la de la celda
# activa, la barra de estado y la del explorador de archivos, y las descripciones
# (title, aria-label) de sus elementos visibles; las de las pestañas laterales.
BARS_JS = r"""
() => {
  const shown = (el) => el.offsetParent !== null;
  const read = (root) => {
    if (!root) return [];
    const texts = root.innerText.split("\n");
    for (const el of root.querySelectorAll("[title], [aria-label]")) {
      if (!shown(el)) continue;
      texts.push(el.getAttribute("title") || "", el.getAttribute("aria-label") || "");
    }
    return texts;
  };
  const panel = window.jupyterapp.shell.currentWidget;
  return {
    toolbar: read(panel.toolbar.node)
      .concat(read(panel.content.node.querySelector(".jp-mod-active .jp-cell-toolbar"))),
    statusbar: read(document.querySelector("#jp-main-statusbar")),
    sidebars: read(document.querySelector(".jp-FileBrowser-toolbar")).concat(
      [...document.querySelectorAll(".jp-SideBar .lm-TabBar-tab")]
        .map((tab) => tab.getAttribute("title") || "")),
    // Lo que se ve en el botón de un encabezado plegado: su texto visible y el
    // que pone jupyterlab/custom.css.
    hidden_cells: [...document.querySelectorAll(".jp-showHiddenCellsButton")]
      .map((el) => [...el.children]
        .filter((child) => getComputedStyle(child).display !== "none")
        .map((child) => child.textContent)
        .concat([getComputedStyle(el, "::after").content]
          .filter((after) => after !== "none" && after !== "normal")
          .map((after) => after.replace(/^"|"$/g, "")))
        .join(" ").trim()),
  };
}
"""

# Las entradas del último menú abierto: posición, tipo, texto y si se ve.
MENU_ITEMS_JS = r"""
(menu) => [...menu.querySelectorAll(":scope > ul > li.lm-Menu-item")].map((li, i) => [
  i, li.dataset.type, li.querySelector(".lm-Menu-itemLabel").textContent,
  li.offsetParent !== null,
])
"""


def output_text(output) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else text
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    parts = [data.get(kind, "") for kind in ("text/plain", "text/html", "text/markdown")]
    return "\n".join("".join(part) if isinstance(part, list) else part for part in parts)


def cell_output(cell) -> str:
    return "\n".join(output_text(output) for output in cell["outputs"])


def english(strings) -> list[str]:
    """Los textos con alguna palabra que no es española ni un nombre admitido."""
    strings = [text for text in strings if text and text.strip()]
    words = {word for text in strings for word in spelling.words(text)} - PROPER_NAMES
    foreign = spelling.not_spanish(words)
    wrong = [text for text in strings if set(spelling.words(text)) & foreign]
    # Un término por concepto: el kernel es «núcleo», nunca «intérprete».
    wrong += [text for text in strings if re.search(r"(?i)\bintérprete\b", text)]
    return sorted(set(wrong))


# --- Fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workshop_lab(tmp_path_factory):
    """JupyterLab en español sobre una copia temporal de los cuadernos y del libro."""
    home = tmp_path_factory.mktemp("lab-cuadernos")
    server = LabServer(
        home,
        spanish=True,
        env={"TALLER_CACHE_DIR": str(REPO / "datasets")},
        extra_args=["--LabApp.expose_app_in_browser=True"],
    )
    try:
        ignore = shutil.ignore_patterns(".*", "__pycache__", "*.py")
        shutil.copytree(REPO / "notebooks", server.root / "notebooks", ignore=ignore)
        shutil.copytree(REPO / "book", server.root / "book", ignore=ignore)
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def timings():
    """Los segundos que tardó cada cuaderno en JupyterLab; se guardan junto a las capturas."""
    measured = {}
    yield measured
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "tiempos.json").write_text(
        json.dumps(measured, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


@pytest.fixture
def open_notebook(browser, workshop_lab):
    """open_notebook("01_numpy.ipynb", viewport=DESKTOP) -> página, con el núcleo inactivo.

    Cada llamada abre un contexto nuevo del navegador (sin red: solo llega al
    servidor); al final se apagan los núcleos, para que solo haya uno a la vez."""
    contexts = []

    def _open(name, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, locale="es-ES", service_workers="block")
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        blocked = []
        block_other_hosts(context, workshop_lab.url, blocked)
        page = context.new_page()
        page.goto(f"{workshop_lab.url}lab/tree/notebooks/{name}?reset&token={workshop_lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext"
            "?.session?.kernel?.status === 'idle'"
        )
        return page

    yield _open
    for context in contexts:
        context.close()
    for session in workshop_lab.api("sessions"):
        workshop_lab.api(f"sessions/{session['id']}", method="DELETE")


# --- Manejar JupyterLab ----------------------------------------------------------


def state(page):
    return page.evaluate(NOTEBOOK_STATE_JS)


def wait_until_idle(page, timeout=STEP_TIMEOUT_MS):
    """Espera a que el núcleo esté inactivo y ninguna celda espere turno («[*]»)."""
    page.wait_for_function(
        f"() => {{ const s = ({NOTEBOOK_STATE_JS})();"
        " return s.kernel === 'idle' && !s.cells.some((c) => c.pending); }",
        timeout=timeout,
    )


def choose(page, menu: str, item: str):
    """Abre `menu` en la barra de menús y pulsa la entrada que se llama exactamente `item`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(
        ".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")
    ).click()


def run_all(page):
    choose(page, "Ejecutar", "Ejecutar todas las celdas")
    # Termina cuando se ejecutaron todas las celdas de código o una falló (ahí para JupyterLab).
    page.wait_for_function(
        f"() => {{ const s = ({NOTEBOOK_STATE_JS})();"
        " const code = s.cells.filter((c) => c.type === 'code');"
        " const failed = code.some((c) => c.outputs.some((o) => o.output_type === 'error'));"
        " return s.kernel === 'idle' && !code.some((c) => c.pending)"
        " && (failed || code.every((c) => c.count !== null)); }",
        timeout=RUN_TIMEOUT_MS,
    )


def run_cell_with(page, index: int, source: str):
    """Escribe `source` en la celda `index` como quien aprende y la ejecuta con Shift+Enter."""
    before = state(page)["cells"][index]["count"]
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(source)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"() => ({NOTEBOOK_STATE_JS})().cells[{index}].count !== {json.dumps(before)}"
    )
    wait_until_idle(page)
    return state(page)["cells"][index]


def run_selected(page, index: int):
    """Ejecuta con Shift+Enter la celda seleccionada (tiene que ser `index`)."""
    before = state(page)["cells"][index]["count"]
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"() => ({NOTEBOOK_STATE_JS})().cells[{index}].count !== {json.dumps(before)}"
    )
    wait_until_idle(page)
    return state(page)["cells"][index]


def read_menu(page, depth=0, skip=()):
    """Los textos del último menú abierto, con los de sus submenús (que abre)."""
    menus = page.locator(".lm-Menu")
    level = menus.count() - 1
    menu = menus.nth(level)
    labels = []
    for index, kind, label, visible in menu.evaluate(MENU_ITEMS_JS):
        if kind == "separator" or not visible:
            continue
        labels.append(label)
        if kind == "submenu" and depth < 2:
            menu.locator(":scope > ul > li.lm-Menu-item").nth(index).hover()
            page.wait_for_function(
                f"() => document.querySelectorAll('.lm-Menu').length > {level + 1}"
            )
            if label not in NAME_SUBMENUS:
                labels += read_menu(page, depth + 1)
    return labels


MENU_MENTION = re.compile(
    r"«(Archivo|Editar|Ver|Ejecutar|Núcleo|Pestañas|Configuración|Ayuda)»\s*→\s*«([^»]+)»"
)


def menu_mentions():
    """[(archivo, menú, entrada)] de cada «Menú» → «Entrada» de los cuadernos y del libro."""
    texts = [(path, path.read_text(encoding="utf-8")) for path in (REPO / "book").glob("*.md")]
    for path in (REPO / "notebooks").glob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        texts += [
            (path, "".join(cell["source"]))
            for cell in notebook["cells"]
            if cell["cell_type"] == "markdown"
        ]
    return [
        (path.relative_to(REPO), menu, " ".join(item.split()))
        for path, text in texts
        for menu, item in MENU_MENTION.findall(text)
    ]


def kernel_help_links(page) -> set:
    """Los enlaces del menú Ayuda que pone el propio núcleo (su información, kernel_info)."""
    links = page.evaluate(
        "async () => (await window.jupyterapp.shell.currentWidget.sessionContext"
        ".session.kernel.info).help_links.map((link) => link.text)"
    )
    return set(links)


# --- Pruebas -------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_in_jupyterlab(name, open_notebook, timings):
    page = open_notebook(name)
    started = time.monotonic()
    run_all(page)
    cells = state(page)["cells"]

    errors = [
        (index, output_text(output))
        for index, cell in enumerate(cells)
        for output in cell["outputs"]
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{name}: «Ejecutar todas las celdas» termina con errores: {errors}"
    code = [index for index, cell in enumerate(cells) if cell["type"] == "code"]
    assert all(cells[index]["count"] is not None for index in code), name

    # Nada dice «Correcto» antes de que se escriba una respuesta, y cada comprobación
    # sigue viendo `answer = ...`: no se ejecutó ninguna solución.
    correct = [index for index in code if "Correcto" in cell_output(cells[index])]
    assert not correct, f"{name}: «Correcto» sin respuesta en las celdas {correct}"
    checks = [index for index in code if CHECK_CELL.match(cells[index]["source"])]
    for index in checks:
        assert "todavía no hay respuesta" in cell_output(cells[index]), (
            f"{name}, celda {index}: la comprobación no ve la celda de respuesta sin "
            f"escribir (¿ha ejecutado una solución?): {cell_output(cells[index])!r}"
        )

    # Ningún marcado sin interpretar en lo que se lee: el Markdown mostrado y las salidas.
    shown = [cell["rendered"] or "" for cell in cells if cell["type"] == "markdown"]
    unrendered = [cell["source"][:60] for cell in cells if cell["type"] == "markdown"]
    unrendered = [text for text, html in zip(unrendered, shown, strict=True) if not html]
    assert not unrendered, f"{name}: celdas de Markdown sin mostrar: {unrendered}"
    shown += [cell_output(cells[index]) for index in code]
    raw = sorted({mark for text in shown for mark in RAW_MARKUP if mark in text})
    assert not raw, f"{name}: JupyterLab muestra marcado sin interpretar: {raw}"

    bars = page.evaluate(BARS_JS)
    visible = bars["toolbar"] + bars["statusbar"] + bars["sidebars"] + bars["hidden_cells"]
    wrong = [text for text in english(visible) if text not in UNTRANSLATABLE_TOOLTIPS]
    assert not wrong, f"{name}: texto en inglés en las barras de herramientas o de estado: {wrong}"

    timings[name] = round(time.monotonic() - started, 1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name.removesuffix('.ipynb')}.png")

    if not checks:
        return
    # Un ejercicio: una respuesta equivocada y después una celda de respuesta que falla.
    check = checks[0]
    answer = check - 1
    source = cells[answer]["source"]
    assert ANSWER_LINE.search(source), (name, source)
    exercise = CHECK_CELL.match(cells[check]["source"]).group(1)

    run_cell_with(page, answer, ANSWER_LINE.sub(lambda _: WRONG_ANSWER, source))
    verdict = cell_output(run_selected(page, check))
    assert "Todavía no" in verdict and "Correcto" not in verdict, (exercise, verdict)

    failed = run_cell_with(page, answer, ANSWER_LINE.sub(lambda _: FAILING_ANSWER, source))
    assert any(output.get("ename") == "KeyError" for output in failed["outputs"]), failed
    verdict = cell_output(run_selected(page, check))
    assert "Correcto" not in verdict and "Sin juzgar" in verdict, (
        f"Ejercicio {exercise}: tras una celda de respuesta que falla, la comprobación "
        f"tiene que negarse a juzgar: {verdict!r}"
    )


def test_menus_and_cell_context_menu_are_spanish(open_notebook):
    page = open_notebook("01_numpy.ipynb")
    bar = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert bar == [
        "Archivo",
        "Editar",
        "Ver",
        "Ejecutar",
        "Núcleo",
        "Pestañas",
        "Configuración",
        "Ayuda",
    ], bar
    labels = {}
    for index, title in enumerate(bar):
        page.locator(".lm-MenuBar-item").nth(index).click()
        labels[title] = read_menu(page)
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    # «Pestañas» termina con los documentos abiertos.
    labels["Pestañas"] = [label for label in labels["Pestañas"] if not label.endswith(".ipynb")]
    # «Ayuda» termina con los enlaces del núcleo: los de jupyterlab/ipython_kernel_config.json.
    kernel_links = kernel_help_links(page)
    assert "Referencia de pandas" in kernel_links, kernel_links
    assert kernel_links <= set(labels["Ayuda"]), (kernel_links, labels["Ayuda"])

    page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").first.click(button="right")
    labels["menú contextual de una celda"] = read_menu(page)
    page.keyboard.press("Escape")

    for where, items in labels.items():
        assert items, where
        wrong = english(items)
        assert not wrong, f"{where}: entradas en inglés: {wrong}"
    # Lo que los cuadernos y el libro mandan elegir es lo que dicen los menús.
    mentions = menu_mentions()
    assert len(mentions) >= 3, mentions
    for where, menu, item in mentions:
        assert item in labels.get(menu, []), f"{where}: «{menu}» → «{item}» no está en el menú"
    assert "Ejecutar todas las celdas" in labels["Ejecutar"]


def test_a_collapsed_heading_offers_its_hidden_cells_in_spanish(open_notebook):
    """El botón que JupyterLab escribe «3 cells hidden» en todo idioma (crea las celdas
    de Markdown sin su traductor) dice en español lo que hace: jupyterlab/custom.css."""
    page = open_notebook("01_numpy.ipynb")
    page.locator(".jp-MarkdownCell .jp-collapseHeadingButton").first.click()
    page.locator(".jp-showHiddenCellsButton").first.wait_for()
    labels = page.evaluate(BARS_JS)["hidden_cells"]
    assert labels, "no hay ningún encabezado plegado"
    assert set(labels) == {"Mostrar las celdas ocultas"}, labels
    assert not english(labels)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "01_numpy-encabezado-plegado.png")
    # Y sigue sirviendo para desplegar.
    before = page.locator(".jp-Notebook .jp-Cell:visible").count()
    page.locator(".jp-showHiddenCellsButton").first.click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Notebook .jp-Cell').length > 0"
        f" && [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
        f".filter((c) => c.offsetParent !== null).length > {before}"
    )


def test_a_phone_sized_screen_shows_the_notebook_in_spanish(open_notebook):
    page = open_notebook("03_filtrar_resumir.ipynb", viewport=PHONE)
    bars = page.evaluate(BARS_JS)
    wrong = [
        text
        for text in english(bars["toolbar"] + bars["statusbar"] + bars["sidebars"])
        if text not in UNTRANSLATABLE_TOOLTIPS
    ]
    assert not wrong, wrong
    # En una pantalla estrecha, el cuaderno entero: sin el explorador de archivos.
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    page.wait_for_function(
        "() => document.querySelector('.jp-NotebookPanel').getBoundingClientRect().width > 300"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "03_filtrar_resumir-movil.png")
