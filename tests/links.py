"""Enlaces del sitio construido (_build/html): los internos deben llevar a algún
sitio (lo comprueba tests/test_links.py); los externos solo se listan, nunca se
visitan.

`make links` ejecuta este archivo: escribe _build/enlaces-externos.txt, una URL
externa por línea, ordenadas y sin repetir, con las páginas que la usan, para
que quien mantiene el taller las compruebe a mano cuando tenga conexión.

    python tests/links.py [SITIO] [INFORME]
"""

import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "_build" / "html"
REPORT = REPO / "_build" / "enlaces-externos.txt"

# Atributos que apuntan a otro archivo o página.
LINK_ATTRIBUTES = {
    "a": "href",
    "link": "href",
    "img": "src",
    "script": "src",
    "source": "src",
    "iframe": "src",
    "video": "src",
    "audio": "src",
}
EXTERNAL_SCHEMES = {"http", "https", "ftp"}


def html_pages(site: Path):
    # _static/*.html son fragmentos de plantilla del tema copiados tal cual, no páginas.
    return sorted(
        path
        for path in site.rglob("*.html")
        if not {"_sources", "_static"}.intersection(path.relative_to(site).parts)
    )


@cache
def parse(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@cache
def anchors(path: Path) -> frozenset:
    soup = parse(path)
    return frozenset(
        [tag["id"] for tag in soup.find_all(id=True)]
        + [tag["name"] for tag in soup.find_all("a", attrs={"name": True})]
    )


def references(site: Path, page: Path):
    """(etiqueta, url) de cada atributo con un enlace de una página."""
    for tag in parse(page).find_all(list(LINK_ATTRIBUTES)):
        value = tag.get(LINK_ATTRIBUTES[tag.name])
        if value and value.strip():
            yield tag, value.strip()
        for candidate in (tag.get("srcset") or "").split(","):
            if candidate.strip():
                yield tag, candidate.split()[0]


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in EXTERNAL_SCHEMES or url.startswith("//")


def broken_internal_links(site: Path):
    """['página.html: href → motivo'] de cada enlace relativo que no lleva a nada."""
    problems = []
    for page in html_pages(site):
        name = page.relative_to(site).as_posix()
        for _tag, url in references(site, page):
            parts = urlsplit(url)
            if is_external(url) or parts.scheme:
                continue  # otros servidores, mailto:, data:, javascript:...
            if parts.path:
                target = page.parent / unquote(parts.path)
                if parts.path.endswith("/") or target.is_dir():
                    target = target / "index.html"
            else:
                target = page
            resolved = target.resolve()
            if site.resolve() not in resolved.parents:
                problems.append(f"{name}: {url} → sale del sitio")
            elif not resolved.is_file():
                problems.append(
                    f"{name}: {url} → no existe {resolved.relative_to(site.resolve())}"
                )
            elif (
                parts.fragment
                and resolved.suffix == ".html"
                and unquote(parts.fragment) not in anchors(resolved)
            ):
                problems.append(f"{name}: {url} → no hay ningún id «{unquote(parts.fragment)}»")
    return problems


def external_links(site: Path):
    """{url: {páginas que la enlazan}} de cada enlace o imagen externos del sitio."""
    found = defaultdict(set)
    for page in html_pages(site):
        name = page.relative_to(site).as_posix()
        for tag, url in references(site, page):
            local = urlsplit(url).hostname in {
                "127.0.0.1",
                "localhost",
            }  # la máquina del propio lector
            if tag.name in ("a", "img") and is_external(url) and not local:
                found[url].add(name)
    return found


def write_report(site: Path = SITE, report: Path = REPORT) -> int:
    assert (site / "index.html").is_file(), (
        f"No hay sitio construido en {site}: ejecute antes «make book»"
    )
    links = external_links(site)
    every_page = {page.relative_to(site).as_posix() for page in html_pages(site)}
    lines = []
    for url in sorted(links):
        pages = links[url]
        where = "(todas las páginas)" if pages == every_page else " ".join(sorted(pages))
        lines.append(f"{url}\t{where}")
    header = [
        "# Enlaces externos del sitio construido: compruébelos a mano con conexión.",
        "# Una URL por línea, ordenadas y sin repetir;"
        " tras el tabulador, las páginas que la usan.",
    ]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else SITE
    report = Path(sys.argv[2]) if len(sys.argv) > 2 else REPORT
    count = write_report(site, report)
    print(f"{count} enlaces externos en {report}")
