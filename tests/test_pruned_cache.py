"""La caché «solo Parquet» de la imagen Docker (``descargar --sin-json``).

La imagen guarda de cada conjunto el archivo comprimido verificado y su copia
Parquet verificada, sin el JSON extraído (más de 1 GB en el corpus del
cuaderno 09). Estas pruebas comprueban que ese estado es de fiar: `verificar`
lo acepta, `taller.load` y `parquet_path` no extraen nada, `json_path` vuelve
a extraer el JSON verificado sin tocar la copia Parquet, ``descargar`` sin la
opción no lo deshace, y un manifiesto que anota mal lo borrado se rehace.
Todo con el conjunto «demo» de `test_cache` (un .zip hecho en `tmp_path`).
"""

import json

import pytest

import taller
from taller import cache, download, files, hunt
from test_cache import NAME, Demo, run_cli


@pytest.fixture
def pruned(tmp_path, monkeypatch, capsys) -> Demo:
    """«demo» descargado con --sin-json: el archivo y la copia Parquet, sin el JSON."""
    demo = Demo(tmp_path, monkeypatch)
    code, out, err = run_cli(capsys, "descargar", "--sin-json", NAME)
    assert code == 0, out + err
    return demo


def manifest_of(demo: Demo) -> dict:
    return json.loads((demo.entry.extract_dir / cache.MANIFEST).read_text())


def test_download_without_json_keeps_only_the_archive_and_its_verified_parquet(pruned, capsys):
    assert not pruned.json.exists()
    assert pruned.parquet.is_file() and pruned.entry.archive_path.is_file()
    assert manifest_of(pruned)["pruned"] == ["demo.json"]
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 0, out
    assert (
        f"{NAME}: correcto, con su copia Parquet verificada (el JSON se extrae al pedirlo)" in out
    )
    assert "La caché está completa y verificada" in out


def test_load_and_parquet_path_read_the_copy_without_extracting(pruned):
    assert len(taller.load(NAME)) == 50
    assert taller.parquet_path(NAME) == pruned.parquet
    assert not pruned.json.exists()


def test_json_path_extracts_the_verified_json_again_and_keeps_the_parquet_copy(pruned, capsys):
    copy = pruned.parquet.stat()
    path = taller.json_path(NAME)
    assert path == pruned.json and path.is_file()
    record = manifest_of(pruned)["members"]["demo.json"]
    assert (path.stat().st_size, files.sha256(path)) == (record["size"], record["sha256"])
    assert "pruned" not in manifest_of(pruned)
    assert pruned.parquet.stat().st_mtime_ns == copy.st_mtime_ns  # la misma copia
    assert capsys.readouterr().err == ""  # no es una reparación: nada que avisar
    assert not [p for p in pruned.entry.extract_dir.parent.iterdir() if files.is_temporary(p.name)]


def test_download_without_the_option_leaves_the_pruned_state_alone(pruned, capsys):
    code, out, _ = run_cli(capsys, "descargar", NAME)
    assert code == 0 and "listo  demo" in out
    assert not pruned.json.exists() and manifest_of(pruned)["pruned"] == ["demo.json"]


def test_a_damaged_parquet_copy_is_rebuilt_from_a_json_extracted_again(pruned, capsys):
    pruned.parquet.write_bytes(b"PAR1 roto")
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "copia Parquet NO ES FIABLE" in out
    assert len(taller.load(NAME)) == 50
    assert pruned.json.is_file() and "pruned" not in manifest_of(pruned)


def test_the_hunt_counts_the_json_size_from_the_manifest_even_when_pruned(pruned):
    record = manifest_of(pruned)["members"]["demo.json"]
    assert hunt.json_bytes([NAME]) == record["size"] > 0


@pytest.mark.parametrize("listed", ["demo.json", ["otro.json"], [1]])
def test_a_manifest_that_lists_pruned_files_wrongly_is_not_trusted(pruned, listed, capsys):
    manifest = {**manifest_of(pruned), "pruned": listed}
    cache.write_manifest(pruned.entry.extract_dir, manifest)
    problem = cache.manifest_problem(manifest)
    assert problem and problem.startswith("pruned no es una lista")
    assert len(taller.load(NAME)) == 50
    assert "no era fiable" in capsys.readouterr().err
    assert pruned.json.is_file() and "pruned" not in manifest_of(pruned)


def test_pruning_needs_a_verified_parquet_copy(tmp_path, monkeypatch):
    demo = Demo(tmp_path, monkeypatch)
    download.extraction(demo.entry)  # extraído, sin copia Parquet
    assert download.prune(demo.entry) is False
    assert demo.json.is_file()
