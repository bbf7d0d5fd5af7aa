"""The download helper each notebook carries in its «Preparación» section.

Notebooks must run alone (Binder, Colab, a laptop), so they cannot import
`taller`; each defines the same small `fetch_dataset`. nbval only ever runs it
with the cache full, so here it is taken out of the notebooks and run against
the loopback mirror: a good download, a bad URL, a tampered file, no server.
"""

import ast
import hashlib
import json
from pathlib import Path

import pytest
import requests

from built_site import REPO
from taller import catalog

DATASET = catalog.datasets()["covenant_psremoting_command"]


def helper_sources():
    """{notebook: source of its fetch_dataset}, for every notebook that defines one."""
    found = {}
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            code = "".join(cell["source"])
            if cell["cell_type"] != "code" or "def fetch_dataset" not in code:
                continue
            for node in ast.parse(code).body:
                if isinstance(node, ast.FunctionDef) and node.name == "fetch_dataset":
                    found[path.stem] = ast.get_source_segment(code, node)
    return found


def test_every_data_notebook_carries_the_same_helper():
    sources = helper_sources()
    data_notebooks = [p.stem for p in sorted((REPO / "notebooks").glob("0[2-8]_*.ipynb"))]
    assert sorted(sources) == data_notebooks and len(data_notebooks) == 7
    assert len(set(sources.values())) == 1, "las copias de fetch_dataset difieren entre cuadernos"


def load_helper(base_url, cache_dir):
    namespace = {"hashlib": hashlib, "requests": requests, "Path": Path,
                 "BASE_URL": base_url, "CACHE_DIR": cache_dir}
    exec(next(iter(helper_sources().values())), namespace)
    return namespace["fetch_dataset"]


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("slash", ["", "/"])
def test_downloads_verifies_and_then_reuses_the_copy(mirror, tmp_path, capsys, slash):
    fetch = load_helper(mirror.url.rstrip("/") + slash, tmp_path)
    target = fetch(DATASET.path, DATASET.sha256)
    assert target == tmp_path / DATASET.path.removeprefix("datasets/")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == DATASET.sha256
    assert fetch(DATASET.path, DATASET.sha256) == target
    assert mirror.count("/" + DATASET.path) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"Descargado: {target.name}", f"Usando la copia local: {target.name}"]


def test_a_folder_works_as_mirror(mirror_root, tmp_path):
    fetch = load_helper(str(mirror_root), tmp_path)
    assert fetch(DATASET.path, DATASET.sha256).is_file()


def test_a_missing_file_is_explained_in_spanish_and_nothing_is_saved(mirror, tmp_path):
    mirror.fail("/" + DATASET.path, 404)
    fetch = load_helper(mirror.url, tmp_path)
    with pytest.raises(RuntimeError, match=r"No se pudo descargar covenant_psremoting_command\.zip .*TALLER_BASE_URL"):
        fetch(DATASET.path, DATASET.sha256)
    assert files_in(tmp_path) == []


def test_a_tampered_file_is_refused_and_nothing_is_saved(mirror, tmp_path):
    mirror.tamper("/" + DATASET.path)
    fetch = load_helper(mirror.url, tmp_path)
    with pytest.raises(ValueError, match="La huella SHA-256 de covenant_psremoting_command.zip no coincide"):
        fetch(DATASET.path, DATASET.sha256)
    assert files_in(tmp_path) == []


def test_no_server_is_explained_in_spanish(tmp_path):
    fetch = load_helper("http://127.0.0.1:9/", tmp_path)
    with pytest.raises(RuntimeError, match="Compruebe la conexión"):
        fetch(DATASET.path, DATASET.sha256)
    assert files_in(tmp_path) == []
