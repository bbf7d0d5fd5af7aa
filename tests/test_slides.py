"""Las diapositivas de reveal.js del sitio construido (`_build/html/diapositivas/`):
recorridas en Chromium, sin conexión, de la primera a la última."""

import re

import pytest
from bs4 import BeautifulSoup

DECK = "diapositivas/index.html"
# Lo que cubre la charla: una frase por cada capítulo del libro que resume.
TOPICS = [
    "Jupyter: un cuaderno",
    "Binder: sin instalar nada",
    "pandas: el DataFrame",
    "El proceso de análisis",
    "Caso práctico: inyección de procesos",
    "Y ahora, a los cuadernos",
]


def test_the_deck_and_reveal_are_served_from_the_site(site):
    deck = site / DECK
    assert deck.is_file()
    soup = BeautifulSoup(deck.read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == "es"
    local = [tag.get("src") or tag.get("href") for tag in soup.select("script[src], link[href]")]
    assert local and all(not re.match(r"(https?:)?//", url) for url in local), local
    for url in local:
        assert (deck.parent / url).is_file(), url
    # reveal.js es MIT: su licencia viaja con él.
    assert "Permission is hereby granted" in (deck.parent / "reveal" / "LICENSE").read_text(
        encoding="utf-8"
    )


def test_page_through_the_deck_offline(open_page):
    page, watcher = open_page(DECK)
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    total = page.evaluate("Reveal.getTotalSlides()")
    assert total >= 15, total

    seen, images = [], set()
    for _ in range(total):
        current = page.evaluate(
            """() => {
                const slide = Reveal.getCurrentSlide();
                const clone = slide.cloneNode(true);
                clone.querySelectorAll('aside.notes').forEach(note => note.remove());
                return {
                  text: clone.innerText,
                  images: [...slide.querySelectorAll('img')].map(
                    img => [img.getAttribute('src'), img.complete && img.naturalWidth > 0]),
                };
            }"""
        )
        seen.append(current["text"])
        images.update((src, loaded) for src, loaded in current["images"])
        if page.evaluate("Reveal.isLastSlide()"):
            break
        # El control remoto del presentador: diapositiva siguiente, también las verticales.
        page.keyboard.press("Space")
        page.wait_for_timeout(50)

    assert len(seen) == total, f"{len(seen)} de {total} diapositivas"
    assert page.evaluate("Reveal.isLastSlide()")
    text = "\n".join(seen)
    for topic in TOPICS:
        assert topic in text, topic
    # Cada figura del libro que muestran las diapositivas está y se carga.
    assert len(images) >= 5, images
    assert all(loaded for _, loaded in images), images
    # Sin conexión: no se pidió nada fuera del sitio y nada falló.
    assert not watcher.blocked, watcher.blocked
    assert not watcher.problems(), watcher.report(DECK)


def test_speaker_notes_are_there_but_not_on_the_slides(open_page):
    page, _ = open_page(DECK)
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    notes = page.evaluate("document.querySelectorAll('aside.notes').length")
    assert notes >= 5
    assert (
        page.evaluate("getComputedStyle(document.querySelector('aside.notes')).display") == "none"
    )
    assert page.evaluate("Reveal.hasPlugin('notes')")


@pytest.mark.parametrize("doc", ["book/intro", "book/guia_instructor"])
def test_the_deck_is_linked_from(site, doc):
    soup = BeautifulSoup((site / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in soup.select("article a[href]")]
    assert any(
        href.endswith("diapositivas/index.html") or href.endswith("diapositivas/")
        for href in links
    ), links
