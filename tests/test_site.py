"""The built site: every page of the table of contents, in Spanish, not empty,
and every repository or launch link pointing at the one canonical repository."""

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
        for link in page(site, doc).select(".article-header-buttons a[href], .header-article-items a[href]"):
            href = unquote(link["href"])
            host = urlparse(href).netloc
            if host in {"github.com", "mybinder.org", "colab.research.google.com"} or "hub." in host:
                assert owner_repo in href, f"{doc}: {href} no apunta a {repo_url}"
                checked += 1
    # Repositorio, incidencias y edición en cada página; lanzadores en los cuadernos.
    assert checked >= 3 * len(toc_files())
