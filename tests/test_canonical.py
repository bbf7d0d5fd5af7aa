"""Un solo repositorio canónico: `repository.url` y `repository.branch` de
_config.yml. De ahí salen la URL base del sitio, los botones de lanzamiento,
las insignias del README, las órdenes de clonado, las etiquetas de Docker y
cada enlace al repositorio, a su sitio de Pages o a su Binder; un archivo que
no coincida falla aquí."""

import re
import shlex
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from built_site import REPO

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
OWNER, NAME = urlparse(REPO_URL).path.strip("/").split("/")
PAGES_URL = f"https://{OWNER}.github.io/{NAME}/"
BINDER_URL = f"https://mybinder.org/v2/gh/{OWNER}/{NAME}/{BRANCH}"

URL = re.compile(r"https?://[^\s)\]>\"'`\\]+")

# Cada archivo en el que un lector, un alumno o una herramienta ve un enlace al repositorio.
SCANNED = [
    "README.md",
    "_config.yml",
    "book/**/*.md",
    "notebooks/*.ipynb",
    "docker/*",
    "binder/*",
    ".github/workflows/*.yml",
    "taller/*.py",
    "datasets/README.md",
]


def scanned_files():
    files = sorted({path for pattern in SCANNED for path in REPO.glob(pattern) if path.is_file()})
    assert files
    return files


def links(path):
    return [url.rstrip(".,;:") for url in URL.findall(path.read_text(encoding="utf-8"))]


def all_links():
    return [(path.relative_to(REPO), url) for path in scanned_files() for url in links(path)]


def test_canonical_repository_is_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)
    assert BRANCH


def test_site_base_url_is_the_pages_url():
    assert CONFIG["html"]["baseurl"] == PAGES_URL


def test_launch_buttons_open_this_repository_in_jupyterlab_on_mybinder():
    buttons = CONFIG["launch_buttons"]
    # Jupyter Book construye <binderhub_url>/v2/gh/<owner>/<repo>/<branch> con `repository`.
    assert buttons["binderhub_url"].rstrip("/") == "https://mybinder.org"
    assert buttons["notebook_interface"] == "jupyterlab"
    assert CONFIG["html"]["use_repository_button"] is True


def readme_badges():
    """[(imagen, destino)] de las imágenes con enlace del README."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"\[!\[[^\]]*\]\(([^)]+)\)\]\(([^)]+)\)", text)


def test_readme_binder_badge_opens_a_notebook_of_this_repository_in_jupyterlab():
    targets = [target for image, target in readme_badges() if "mybinder.org/badge" in image]
    assert len(targets) == 1
    target = urlparse(targets[0])
    assert f"{target.scheme}://{target.netloc}{target.path}" == BINDER_URL
    (urlpath,) = parse_qs(target.query)["urlpath"]
    assert urlpath.startswith("lab/tree/")
    assert (REPO / urlpath.removeprefix("lab/tree/")).exists(), urlpath


def test_readme_site_badge_points_to_the_pages_url():
    assert PAGES_URL in [target for _, target in readme_badges()]


def test_docker_labels_derive_from_the_canonical_repository():
    text = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = dict(re.findall(r'(org\.opencontainers\.image\.[\w.]+)="([^"]*)"', text))
    assert found["org.opencontainers.image.source"] == REPO_URL
    for key in ("org.opencontainers.image.url", "org.opencontainers.image.documentation"):
        if key in found:
            assert found[key] == PAGES_URL


def test_every_clone_command_clones_the_canonical_repository():
    clones = 0
    for path in scanned_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "git clone " not in line:
                continue
            # Una orden larga puede seguir en las líneas siguientes («\\» al final).
            last = number
            while line.rstrip().endswith("\\") and last + 1 < len(lines):
                last += 1
                line = line.rstrip()[:-1] + " " + lines[last].strip()
            words = shlex.split(
                line[line.index("git clone ") :].split("#")[0].strip().strip('"\\n,')
            )
            url = next(word for word in words[2:] if not word.startswith("-"))
            assert url in {REPO_URL, REPO_URL + ".git"}, f"{path.name}:{number + 1}: {url}"
            clones += 1
            # La línea siguiente habitual entra en la carpeta que creó git.
            following = lines[last + 1].strip() if last + 1 < len(lines) else ""
            if following.startswith("cd "):
                assert following.split()[1] == NAME, f"{path.name}:{last + 2}: {following}"
    assert clones >= 1


def test_github_links_to_our_organisation_or_repository_name_are_the_canonical_repository():
    for path, url in all_links():
        parsed = urlparse(url)
        if parsed.netloc not in {"github.com", "www.github.com"}:
            continue
        parts = parsed.path.strip("/").split("/")
        if len(parts) < 2:
            continue
        owner, name = parts[0], parts[1].removesuffix(".git")
        if owner.lower() == OWNER.lower() or name.lower() == NAME.lower():
            assert (owner, name) == (OWNER, NAME), f"{path}: {url} no es {REPO_URL}"
            if len(parts) > 3 and parts[2] in {"tree", "blob", "edit"}:
                assert parts[3] == BRANCH, f"{path}: {url} no usa la rama {BRANCH}"


def test_pages_links_are_the_canonical_site():
    for path, url in all_links():
        parsed = urlparse(url)
        if parsed.netloc.endswith(".github.io") and (
            parsed.netloc.split(".")[0].lower() == OWNER.lower() or NAME in parsed.path
        ):
            assert url.startswith(PAGES_URL) or url + "/" == PAGES_URL, (
                f"{path}: {url} no es {PAGES_URL}"
            )


def test_binder_links_to_this_repository_use_the_canonical_owner_and_branch():
    found = 0
    for path, url in all_links():
        parsed = urlparse(url)
        if parsed.netloc != "mybinder.org" or not parsed.path.startswith("/v2/"):
            continue
        parts = parsed.path.strip("/").split("/")
        if OWNER.lower() in (p.lower() for p in parts) or NAME.lower() in (
            p.lower() for p in parts
        ):
            base = f"{parsed.scheme}://{parsed.netloc}/" + "/".join(parts[:5])
            assert base == BINDER_URL, f"{path}: {url} no es {BINDER_URL}"
            found += 1
    assert found >= 1


@pytest.mark.parametrize("url", [REPO_URL, PAGES_URL, BINDER_URL])
def test_derived_urls_are_well_formed(url):
    parsed = urlparse(url)
    assert parsed.scheme == "https" and parsed.netloc and " " not in url
