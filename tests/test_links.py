"""Todo enlace interno y referencia cruzada del sitio construido lleva a algún
sitio; los externos se listan para quien mantiene el taller (`make links`) y
aquí nunca se visitan."""

import subprocess
import sys
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from built_site import REPO, toc_files
from links import broken_internal_links, external_links, html_pages


def test_every_internal_link_resolves(site):
    pages = html_pages(site)
    assert len(pages) >= len(toc_files())
    problems = broken_internal_links(site)
    assert problems == [], "Enlaces internos rotos:\n" + "\n".join(problems)


def test_checker_finds_missing_files_and_fragments(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "index.html").write_text('<p id="arriba">Inicio</p>', encoding="utf-8")
    (tmp_path / "book" / "a.html").write_text(
        '<h1 id="titulo">A</h1><a href="#titulo">bien</a><a href="../index.html#arriba">bien</a>'
        '<a href="b.html">falta</a><a href="../index.html#abajo">sin id</a>'
        '<img src="x.png" alt="x">'
        '<a href="https://example.org/">externo</a><a href="mailto:a@b.c">correo</a>',
        encoding="utf-8",
    )
    problems = broken_internal_links(tmp_path)
    assert len(problems) == 3
    assert any("b.html" in problem for problem in problems)
    assert any("abajo" in problem for problem in problems)
    assert any("x.png" in problem for problem in problems)
    assert external_links(tmp_path) == {"https://example.org/": {"book/a.html"}}


def test_external_links_report(site, tmp_path):
    report = tmp_path / "enlaces-externos.txt"
    result = subprocess.run(
        [sys.executable, REPO / "tests" / "links.py", site, report],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [
        line
        for line in report.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    urls = [line.split("\t")[0] for line in lines]
    assert urls == sorted(set(urls)), "El informe debe estar ordenado y sin repeticiones"
    listed = {url: pages for url, pages in (line.split("\t") for line in lines)}

    # Cada enlace externo del texto de la introducción está en la lista, con su página.
    intro = BeautifulSoup(
        (site / "book" / "intro.html").read_text(encoding="utf-8"), "html.parser"
    )
    in_text = {
        a["href"]
        for a in intro.select("article.bd-article a[href^='http']")
        if urlsplit(a["href"]).hostname not in {"127.0.0.1", "localhost"}
    }
    assert in_text, "La introducción no tiene enlaces externos: la prueba no comprobaría nada"
    for url in in_text:
        assert url in listed, f"Falta {url} en el informe"
        assert "book/intro.html" in listed[url] or listed[url] == "(todas las páginas)"
