"""Issue 20: los archivos propios recorren el mismo camino que los del catálogo.

Una ruta, una URL ``file://`` y una URL http(s) (servida en 127.0.0.1 por el
espejo de prueba de conftest) llegan a `taller.load` y a `taller.parquet_path`
con la misma verificación: una copia Parquet en la caché, en una carpeta con
el nombre de la huella SHA-256 del contenido, anotada en su manifiesto y
comprobada antes de cada uso. Todo se hace en `tmp_path`, sin datos reales.
"""

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import taller
from taller import cache, catalog, cli, files, hunt, survey
from taller.errors import TallerError
from taller.loader import read_json_lines
from test_cache import make_zip

ROWS = 40


def events(count=ROWS, host="PC1") -> bytes:
    lines = [
        json.dumps(
            {
                "EventID": 10,
                "Channel": hunt.SYSMON,
                "Hostname": host,
                "SourceImage": "C:\\Windows\\System32\\rundll32.exe",
                "TargetImage": "C:\\Windows\\System32\\lsass.exe",
                "GrantedAccess": "0x1010",
                "Image": None,
                "TargetObject": None,
                "ProcessId": str(100 + i),
                "@timestamp": f"2020-09-20T16:16:{i % 60:02d}.362Z",
            }
        )
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def make_tar_gz(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def own_folder(data: bytes) -> Path:
    """La carpeta de la caché que corresponde a ese contenido."""
    return catalog.cache_dir() / "propios" / hashlib.sha256(data).hexdigest()


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / cache.MANIFEST).read_bytes())


@pytest.fixture(autouse=True)
def _cache_has_no_orphans():
    """Tras cada prueba, `verificar` no ve nada suelto ni temporales en la caché."""
    yield
    found = survey.survey(catalog.cache_dir(), [])
    assert found.orphans == [] and found.stale == [] and found.busy == []


def test_an_own_json_gets_a_verified_copy_keyed_by_its_content(tmp_path):
    data = events()
    path = tmp_path / "mios" / "eventos.json"
    path.parent.mkdir()
    path.write_bytes(data)

    copy = taller.parquet_path(path)
    folder = own_folder(data)
    assert copy == folder / "eventos.parquet"
    manifest = manifest_of(folder)
    assert manifest["archive"] == {
        "file": "eventos.json",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    assert manifest["parquet"]["sha256"] == files.sha256(copy)
    assert manifest["parquet"]["source"] == "eventos.json"
    assert pd.read_parquet(copy)["ProcessId"].tolist()[:2] == ["100", "101"]  # tipos del JSON
    pd.testing.assert_frame_equal(taller.load(path), read_json_lines(path))

    # Mismo contenido con otro nombre: la misma copia. Otro contenido: otra carpeta.
    twin = tmp_path / "copia.json"
    twin.write_bytes(data)
    assert taller.parquet_path(twin) == copy
    path.write_bytes(events(ROWS + 1))
    assert taller.parquet_path(path).parent == own_folder(events(ROWS + 1))
    assert len(list((catalog.cache_dir() / "propios").iterdir())) == 2


def test_a_damaged_own_copy_is_caught_rebuilt_and_reported(tmp_path, capsys):
    path = tmp_path / "eventos.json"
    path.write_bytes(events())
    expected = taller.load(path)
    copy = taller.parquet_path(path)
    good = copy.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0x01
    copy.write_bytes(bytes(damaged))
    capsys.readouterr()

    pd.testing.assert_frame_equal(taller.load(path), expected)
    assert "la copia Parquet de «eventos.json» está dañada" in capsys.readouterr().err
    assert copy.read_bytes() == good
    copy.write_bytes(b"PAR1 roto")
    assert taller.parquet_path(path).read_bytes() == good


def test_a_second_load_reads_the_copy_not_the_json(tmp_path):
    path = tmp_path / "eventos.json"
    path.write_bytes(events())
    expected = taller.load(path)
    copy = taller.parquet_path(path)
    built = copy.stat().st_mtime_ns
    pd.testing.assert_frame_equal(taller.load(path), expected)
    assert copy.stat().st_mtime_ns == built  # leída y verificada, no rehecha


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_own_archive_is_extracted_and_verified_like_a_catalogue_one(tmp_path, kind):
    data = events()
    packed = (make_zip if kind == "zip" else make_tar_gz)({"dentro/e.json": data})
    path = tmp_path / f"propio.{kind}"
    path.write_bytes(packed)

    copy = taller.parquet_path(path)
    folder = own_folder(packed)
    assert copy == folder / "dentro" / "e.parquet"
    manifest = manifest_of(folder)
    assert manifest["members"] == {
        "dentro/e.json": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    }
    # Lo extraído no se guarda: solo el manifiesto y la copia.
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        cache.MANIFEST,
        "dentro",
        "dentro/e.parquet",
    ]
    assert taller.load(path).shape == (ROWS, 10)


def test_a_file_url_is_the_same_file_as_its_path(tmp_path):
    path = tmp_path / "con espacio" / "eventos.zip"
    path.parent.mkdir()
    path.write_bytes(make_zip({"e.json": events()}))
    url = path.as_uri()
    assert "%20" in url
    assert taller.parquet_path(url) == taller.parquet_path(path)
    pd.testing.assert_frame_equal(taller.load(url), taller.load(path))
    with pytest.raises(TallerError, match="No existe el archivo «file:///no/existe.json»"):
        taller.load("file:///no/existe.json")
    with pytest.raises(TallerError, match="No existe el archivo"):
        taller.parquet_path(tmp_path / "falta.json")


def test_an_http_url_is_downloaded_once_and_copied_like_the_rest(fake_mirror, tmp_path):
    packed = make_zip({"e.json": events()})
    fake_mirror.serve("/propio/e.zip", packed)
    url = fake_mirror.url + "propio/e.zip"

    copy = taller.parquet_path(url)
    assert copy == own_folder(packed) / "e.parquet"
    (downloaded,) = (catalog.cache_dir() / cache.OTHERS).iterdir()
    assert downloaded.read_bytes() == packed and downloaded.name.endswith("-e.zip")
    assert manifest_of(copy.parent)["archive"]["file"] == downloaded.name

    local = tmp_path / "e.zip"
    local.write_bytes(packed)
    pd.testing.assert_frame_equal(taller.load(url), taller.load(local))
    assert taller.parquet_path(url) == copy == taller.parquet_path(local)  # mismo contenido
    assert fake_mirror.count("/propio/e.zip") == 1


def test_what_is_not_an_event_file_is_refused_before_anything_is_cached(tmp_path):
    path = tmp_path / "notas.txt"
    path.write_text("hola")
    with pytest.raises(TallerError, match="no es un .zip, .tar.gz ni .json"):
        taller.parquet_path(path)
    with pytest.raises(TallerError, match="La línea 2 de «mal.json»"):
        bad = tmp_path / "mal.json"
        bad.write_bytes(b'{"a": 1}\n{roto\n')
        taller.parquet_path(bad)
    assert not (catalog.cache_dir() / "propios").exists()


def test_verificar_does_not_call_own_copies_orphans(tmp_path, capsys):
    path = tmp_path / "eventos.json"
    path.write_bytes(events())
    taller.parquet_path(path)
    cli.main(["verificar"])
    assert "no pertenece" not in capsys.readouterr().out


def test_the_hunt_takes_own_files_next_to_catalogue_names(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.zip"
    first.write_bytes(events(3, host="PC1"))
    second.write_bytes(make_zip({"b.json": events(5, host="PC2")}))
    found = hunt.corpus_files(sources=[first, second.as_uri()])
    assert found == {"a.json": taller.parquet_path(first), "b.zip": taller.parquet_path(second)}
    with duckdb.connect() as con:
        hunt.duckdb_events(con, found)
        rows = con.execute(
            "SELECT dataset, host, source_process, count(*) FROM events "
            "GROUP BY ALL ORDER BY dataset"
        ).fetchall()
    assert rows == [("a.json", "pc1", "rundll32.exe", 3), ("b.zip", "pc2", "rundll32.exe", 5)]
