"""Una caché que no puede mentir, y las entradas erróneas que se le pueden dar.

Cada prueba reproduce un fallo real (extracción vieja o que falta, copia
columnar dañada, UTF-8 no válido, URL fuera del catálogo, límite de tamaño,
temporales abandonados, mensajes que señalaban en la dirección equivocada,
trazas de Python, gzip de varios miembros) con datos pequeños hechos
aquí (un catálogo de un solo conjunto, «demo», cuyo .zip se crea en
`tmp_path`) y servidores en 127.0.0.1: ninguna necesita Security-Datasets.
Tras cada fallo se comprueba que la caché queda como estaba o, si se reparó,
que `verificar` la da por buena.
"""

import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

import taller
from taller import archive, cache, catalog, cli, download, files, survey
from taller.errors import TallerError

ROWS = 50
NAME = "demo"
UPSTREAM = "datasets/atomic/windows/prueba/host/demo.zip"


def events(count=ROWS) -> bytes:
    lines = [
        json.dumps(
            {
                "EventID": 1,
                "Hostname": "PC1",
                "ProcessId": str(100 + i),
                "@timestamp": f"2020-09-20T16:16:{i % 60:02d}.362Z",
                "Message": "café",
            }
        )
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def make_zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def run_cli(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Demo:
    """Un catálogo de un conjunto («demo») servido desde una carpeta espejo."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.data = make_zip({"demo.json": events()})
        self.mirror = tmp_path / "espejo"
        self.source = self.mirror / UPSTREAM
        self.source.parent.mkdir(parents=True)
        self.source.write_bytes(self.data)
        self.cache = tmp_path / "cache"
        self.entry = catalog.Dataset(
            name=NAME,
            id="SDWIN-PRUEBA",
            title="Demo",
            kind="host",
            techniques=("T1055",),
            tactics=("TA0005",),
            path=UPSTREAM,
            sha256=hashlib.sha256(self.data).hexdigest(),
            size=len(self.data),
            members=("demo.json",),
            notebooks=(),
            selected=True,
        )
        monkeypatch.setattr(catalog, "datasets", lambda: {NAME: self.entry})
        monkeypatch.setenv("TALLER_CACHE_DIR", str(self.cache))
        monkeypatch.setenv("TALLER_BASE_URL", str(self.mirror))
        monkeypatch.setenv("TALLER_RETRIES", "0")
        monkeypatch.setenv("TALLER_TIMEOUT", "5")

    @property
    def json(self) -> Path:
        return self.entry.extract_dir / "demo.json"

    @property
    def parquet(self) -> Path:
        return self.entry.extract_dir / "demo.parquet"


@pytest.fixture
def demo(tmp_path, monkeypatch) -> Demo:
    return Demo(tmp_path, monkeypatch)


def assert_consistent(capsys):
    """`verificar` da la caché por buena (y no quedan temporales)."""
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 0, out
    assert "La caché está completa y verificada" in out
    assert "temporal" not in out and "no pertenece" not in out, out


# Pruebas que dejan a propósito en la caché algo que solo el alumno puede arreglar.
LEFT_AS_THE_TEST_MADE_IT = {
    # sin conexión no se puede reponer el .zip dañado: queda como estaba
    "test_offline_with_a_damaged_cached_zip_says_both",
    # los huérfanos se listan, no se borran
    "test_old_style_temporaries_and_orphan_files_are_reported",
}


@pytest.fixture(autouse=True)
def _cache_left_consistent(request, monkeypatch):
    """Tras cada caso, la caché es coherente: sin temporales, y cada archivo, cada
    extracción y cada copia Parquet coinciden con el catálogo y el manifiesto."""
    yield
    if request.node.originalname in LEFT_AS_THE_TEST_MADE_IT:
        return
    root = catalog.cache_dir()
    entries = list(catalog.datasets().values()) if "demo" in request.fixturenames else []
    found = survey.survey(root, entries)
    assert found.stale == [] and found.busy == [], "quedan temporales"
    assert found.orphans == [], f"quedan archivos sueltos: {found.orphans}"
    for entry in entries:
        if entry.archive_path.is_file():
            assert files.sha256(entry.archive_path) == entry.sha256
        if entry.extract_dir.exists():
            manifest = cache.read_manifest(entry)
            assert cache.extraction_problem(entry, manifest) is None
            state = cache.parquet_state(entry, manifest)
            assert state.problem is None or state.missing, state.problem


# --- Un servidor HTTP que falla como ninguno de los de conftest ---------------


class _Odd(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        kind = self.server.kind
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.end_headers()
        elif kind == "stall":  # media respuesta y silencio
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.server.body)))
            self.end_headers()
            self.wfile.write(self.server.body[: len(self.server.body) // 2])
            self.wfile.flush()
            self.server.release.wait(10)
        elif kind == "endless":  # sin Content-Length, sin fin
            self.send_response(200)
            self.end_headers()
            try:
                while not self.server.release.is_set():
                    self.wfile.write(b"x" * 65536)
                    self.server.sent += 65536
            except OSError:
                pass
        elif kind == "html":
            body = b"<!DOCTYPE html><html><body>Iniciar sesion</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def odd_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    server.daemon_threads = True
    server.handle_error = lambda *args: None
    server.paths, server.release, server.sent, server.body = [], threading.Event(), 0, b""
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


# --- Extracción vieja o que falta -----------------------------------------


def test_truncated_json_and_damaged_zip_are_repaired_and_reported(demo, capsys):
    code, _, err = run_cli(capsys, "descargar", NAME)
    assert code == 0, err
    demo.json.write_bytes(b"\n".join(demo.json.read_bytes().splitlines()[:10]) + b"\n")
    with open(demo.entry.archive_path, "ab") as handle:
        handle.write(b"x")

    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1
    assert f"{NAME}: DAÑADO: su SHA-256 no coincide con el catálogo" in out
    code, out, err = run_cli(capsys, "descargar", NAME)
    assert code == 0, err
    assert f"el archivo de «{NAME}» que había en la caché estaba dañado" in err
    assert f"la carpeta extraída de «{NAME}» no era fiable (demo.json mide" in err
    assert taller.load(NAME).shape == (ROWS, 5)
    assert_consistent(capsys)


def test_extracted_file_of_same_size_but_different_content_is_caught_by_the_hash(demo, capsys):
    run_cli(capsys, "descargar", NAME)
    data = bytearray(demo.json.read_bytes())
    data[10] ^= 0x20
    demo.json.write_bytes(bytes(data))
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "no coincide con su huella SHA-256" in out
    code, out, err = run_cli(capsys, "ruta", NAME)
    assert code == 0 and out.strip() == str(demo.json)
    assert "se ha vuelto a extraer" in err
    assert demo.json.read_bytes() == events()


def test_deleted_json_is_reported_by_verificar_and_ruta_and_restored_by_descargar(demo, capsys):
    run_cli(capsys, "descargar", NAME)
    demo.json.unlink()
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "NO ES FIABLE: falta demo.json" in out
    code, out, err = run_cli(capsys, "ruta", NAME)
    assert code == 0 and Path(out.strip()).is_file()
    assert "falta demo.json" in err
    demo.json.unlink()
    code, out, err = run_cli(capsys, "descargar", NAME)
    assert code == 0, err
    assert demo.json.read_bytes() == events()
    assert_consistent(capsys)


def test_extraction_without_manifest_but_right_content_is_adopted_silently(demo, capsys):
    """Sin manifiesto pero con el contenido correcto: se reconoce sin extraer ni avisar."""
    taller.json_path(NAME)
    (demo.entry.extract_dir / cache.MANIFEST).unlink()
    old_copy = demo.entry.extract_dir / "demo.json.arrow"
    old_copy.write_bytes(b"ARROW1 de la version anterior")
    inode = demo.json.stat().st_ino
    capsys.readouterr()
    assert taller.load(NAME).shape == (ROWS, 5)
    assert capsys.readouterr() == ("", "")
    assert demo.json.stat().st_ino == inode and not old_copy.exists()
    assert_consistent(capsys)


# --- Copia columnar dañada ------------------------------------------------


@pytest.mark.parametrize("where", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_any_flipped_byte_of_the_parquet_copy_is_detected(demo, capsys, where):
    expected = taller.load(NAME)
    good = demo.parquet.read_bytes()
    data = bytearray(good)
    data[int(len(data) * where)] ^= 0x01
    demo.parquet.write_bytes(bytes(data))
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "copia Parquet NO ES FIABLE" in out
    pd.testing.assert_frame_equal(taller.load(NAME), expected)
    assert "la copia Parquet de «demo» está dañada" in capsys.readouterr().err
    assert demo.parquet.read_bytes() == good
    assert_consistent(capsys)


def test_parquet_path_is_verified_and_read_by_pandas(demo):
    path = taller.parquet_path(NAME)
    assert path == demo.parquet
    assert pd.read_parquet(path)["ProcessId"].tolist()[:2] == ["100", "101"]  # tipos del JSON
    path.write_bytes(b"PAR1 roto")
    assert taller.parquet_path(NAME).read_bytes() != b"PAR1 roto"


# --- UTF-8 no válido -------------------------------------------------------


def test_invalid_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "mal.json"
    path.write_bytes(b'{"a":1}\n{"msg":"caf\xe9"}\n')
    with pytest.raises(TallerError) as error:
        taller.load(path)
    assert "La línea 2 de «mal.json» no es texto UTF-8" in str(error.value)


def test_invalid_utf8_inside_a_catalogue_archive_is_refused(demo, capsys):
    demo.data = make_zip({"demo.json": b'{"a":1}\n{"msg":"caf\xe9"}\n'})
    demo.source.write_bytes(demo.data)
    demo.entry = catalog.Dataset(
        **{
            **demo.entry.__dict__,
            "sha256": hashlib.sha256(demo.data).hexdigest(),
            "size": len(demo.data),
        }
    )
    with pytest.raises(TallerError, match="La línea 2 de «demo» no es texto UTF-8"):
        taller.load(NAME)
    assert not demo.parquet.exists()


# --- URL fuera del catálogo -----------------------------------------------


def test_truncated_download_of_a_url_outside_the_catalogue_is_not_cached(
    fake_mirror, monkeypatch, tmp_path
):
    monkeypatch.setenv("TALLER_RETRIES", "0")
    fake_mirror.serve("/propio/eventos.zip", make_zip({"e.json": events(2000)}))
    fake_mirror.truncate("/propio/eventos.zip")
    before = tree(catalog.cache_dir())
    with pytest.raises(TallerError, match="se cortó antes de terminar"):
        taller.load(fake_mirror.url + "propio/eventos.zip")
    assert tree(catalog.cache_dir()) == before


def test_html_page_served_instead_of_the_archive_is_not_cached(odd_server, monkeypatch):
    odd_server.kind = "html"
    for name in ("eventos.zip", "eventos.json"):
        with pytest.raises(TallerError) as error:
            taller.load(odd_server.url + name)
        assert "no se puede descomprimir" in str(error.value) or "HTML" in str(error.value)
    assert tree(catalog.cache_dir()) == []


def test_unreadable_cached_file_of_a_url_is_removed(fake_mirror, monkeypatch):
    good = make_zip({"e.json": events()})
    fake_mirror.serve("/propio/e.zip", good)
    url = fake_mirror.url + "propio/e.zip"
    assert taller.load(url).shape == (ROWS, 5)
    (cached,) = (catalog.cache_dir() / "otros").iterdir()
    cached.write_bytes(make_zip({"e.json": b"{roto\n"}))  # dañado después de guardarlo
    with pytest.raises(TallerError) as error:
        taller.load(url)
    assert "la próxima vez se descargará de nuevo" in str(error.value)
    assert not cached.exists()
    assert taller.load(url).shape == (ROWS, 5)
    assert fake_mirror.count("/propio/e.zip") == 2


# --- Límite de tamaño ------------------------------------------------------


def test_more_bytes_than_the_catalogue_says_stop_the_download(demo, fake_mirror, monkeypatch):
    monkeypatch.setenv("TALLER_BASE_URL", fake_mirror.url)
    fake_mirror.serve("/" + UPSTREAM, os.urandom(download.SIZE_MARGIN + len(demo.data) + 1))
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    assert "más de lo que puede ocupar" in str(error.value)
    assert tree(demo.cache) == []


def test_endless_stream_is_cut(demo, odd_server, monkeypatch):
    odd_server.kind = "endless"
    monkeypatch.setenv("TALLER_BASE_URL", odd_server.url)
    with pytest.raises(TallerError, match="Se ha detenido la descarga"):
        taller.fetch(NAME)
    time.sleep(0.3)
    sent = odd_server.sent
    time.sleep(0.3)
    assert odd_server.sent == sent  # la conexión se cerró: el servidor ya no puede enviar
    assert sent < 32 << 20  # lo leído (1 MiB y poco) más lo que cabía en los búferes del sistema
    assert tree(demo.cache) == []


# --- Temporales abandonados -------------------------------------------------


def test_temporary_left_by_a_download_killed_with_sigkill_is_cleaned(demo, fake_mirror, capsys):
    fake_mirror.serve("/" + UPSTREAM, demo.data)
    fake_mirror.delay("/" + UPSTREAM, 30)
    env = {**os.environ, "TALLER_BASE_URL": fake_mirror.url, "PYTHONPATH": str(catalog.REPO_ROOT)}
    script = (
        "import sys; from taller import catalog, cli; "
        f"catalog.datasets = lambda: {{'demo': catalog.Dataset(**{demo.entry.__dict__!r})}}; "
        "sys.exit(cli.main(['descargar', 'demo']))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    folder = demo.entry.archive_path.parent
    for _ in range(200):
        if folder.is_dir() and any(files.is_temporary(p.name) for p in folder.iterdir()):
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    left = [p for p in folder.iterdir() if files.is_temporary(p.name)]
    assert len(left) == 1 and not files.is_stale(left[0])  # aún reciente
    os.utime(left[0], (time.time() - files.DEAD_AFTER - 1,) * 2)  # un minuto después
    assert files.is_stale(left[0])
    fake_mirror.released.set()

    code, out, _ = run_cli(capsys, "verificar")
    assert "Se han borrado 1 temporal abandonado" in out
    assert not left[0].exists()
    code, _, err = run_cli(capsys, "descargar", NAME)
    assert code == 0, err
    assert_consistent(capsys)


def test_old_style_temporaries_and_orphan_files_are_reported(demo, capsys):
    run_cli(capsys, "descargar", NAME)
    folder = demo.entry.archive_path.parent
    old = folder / "tmpab12cd34"
    old.write_bytes(b"a medias")
    os.utime(old, (time.time() - 2 * files.STALE_AFTER,) * 2)
    (folder / "suelto.txt").write_text("¿de quién es?")
    (demo.entry.extract_dir / "otro.json").write_text("{}")
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 0
    assert "Se han borrado 1 temporal abandonado" in out and not old.exists()
    assert "2 elementos de la caché no pertenecen a ningún conjunto" in out
    assert "suelto.txt" in out and "otro.json" in out


# --- Mensajes que señalaban en la dirección equivocada -------------------------


def test_server_that_stalls_mid_body_is_reported_as_stalled_not_offline(
    demo, odd_server, monkeypatch
):
    odd_server.kind, odd_server.body = "stall", demo.data
    monkeypatch.setenv("TALLER_BASE_URL", odd_server.url)
    monkeypatch.setenv("TALLER_TIMEOUT", "0.5")
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    message = str(error.value)
    assert "dejó de enviar datos durante más de 0.5 s a mitad de la descarga" in message
    assert "sin conexión" not in message
    assert tree(demo.cache) == []


@pytest.mark.parametrize("value", ["0", "nan", "inf", "-3", "mucho"])
def test_bad_timeouts_are_explained_not_blamed_on_the_hash(demo, monkeypatch, value):
    monkeypatch.setenv("TALLER_TIMEOUT", value)
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    assert f"La variable TALLER_TIMEOUT={value!r} debe ser un número positivo" in str(error.value)
    assert tree(demo.cache) == []


def test_retries_must_be_a_whole_number(demo, monkeypatch):
    monkeypatch.setenv("TALLER_RETRIES", "1.5")
    with pytest.raises(TallerError, match="TALLER_RETRIES='1.5' debe ser un número entero"):
        taller.fetch(NAME)


@pytest.mark.parametrize("spelling", ["./no-existe/", "/a//no-existe", "file:///no/existe"])
def test_missing_mirror_folder_is_not_blamed_on_the_cache(demo, monkeypatch, spelling):
    monkeypatch.setenv("TALLER_BASE_URL", spelling)
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    message = str(error.value)
    assert "El espejo local no tiene «demo»" in message and "no existe" in message
    assert "espacio libre" not in message and "permisos" not in message


def test_file_url_mirror_serves_the_archive(demo, monkeypatch):
    monkeypatch.setenv("TALLER_BASE_URL", demo.mirror.as_uri())
    assert taller.fetch(NAME).read_bytes() == demo.data


def test_offline_with_a_damaged_cached_zip_says_both(demo, monkeypatch):
    taller.fetch(NAME)
    demo.entry.archive_path.write_bytes(b"roto")
    monkeypatch.setenv("TALLER_BASE_URL", "http://127.0.0.1:9/")
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    message = str(error.value)
    assert "La copia de «demo» que había en la caché está dañada" in message
    assert "No se pudo conectar con 127.0.0.1:9" in message


def test_requests_errors_are_in_spanish(demo, odd_server, monkeypatch):
    odd_server.kind = "redirect"
    monkeypatch.setenv("TALLER_BASE_URL", odd_server.url)
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    assert "demasiadas redirecciones" in str(error.value)
    assert "Exceeded" not in str(error.value)
    monkeypatch.setenv("TALLER_BASE_URL", "http://[::1/")
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    assert "no es una URL válida" in str(error.value)
    assert "Failed to parse" not in str(error.value)


def test_404_is_not_retried_and_500_without_retries_says_no_retries(
    demo, fake_mirror, monkeypatch
):
    monkeypatch.setenv("TALLER_BASE_URL", fake_mirror.url)
    monkeypatch.setenv("TALLER_RETRIES", "2")
    with pytest.raises(TallerError, match="HTTP 404"):
        taller.fetch(NAME)
    assert fake_mirror.count("/" + UPSTREAM) == 1
    monkeypatch.setenv("TALLER_RETRIES", "0")
    fake_mirror.fail("/" + UPSTREAM, 500)
    with pytest.raises(TallerError) as error:
        taller.fetch(NAME)
    assert "error HTTP 500" in str(error.value) and "reintento" not in str(error.value)


def test_404_on_the_learners_own_url_points_at_the_url(fake_mirror):
    with pytest.raises(TallerError) as error:
        taller.load(fake_mirror.url + "mio/eventos.zip")
    assert "HTTP 404" in str(error.value) and "Compruebe la URL" in str(error.value)
    assert "TALLER_BASE_URL" not in str(error.value)


def test_load_refuses_a_folder_or_something_that_is_not_a_name(tmp_path):
    with pytest.raises(TallerError, match="es una carpeta, no un archivo"):
        taller.load(tmp_path)
    for wrong in (None, 3, ["a"]):
        with pytest.raises(TallerError, match="taller.load necesita el nombre de un conjunto"):
            taller.load(wrong)


@pytest.mark.parametrize(
    "argv, spanish",
    [
        (["listar", "--t", "T1055"], "opción ambigua: --t puede ser"),
        (["descargar", "--todos=sí"], "sobra el valor"),
        (["servir", "--puerto", "ocho"], "debe ser un número entero"),
        (["ruta"], "faltan argumentos obligatorios: NOMBRE"),
        (["borrar"], "opción no válida: 'borrar' (elija entre"),
        (["listar", "--nada"], "argumentos no reconocidos: --nada"),
    ],
)
def test_argparse_speaks_only_spanish_and_exits_2(capsys, argv, spanish):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert spanish in err
    for english in (
        "ambiguous",
        "ignored",
        "explicit",
        "invalid",
        "argument ",
        "required",
        "usage",
        "expected",
        "unrecognized",
        "choose",
    ):
        assert english not in err, err


# --- Trazas de Python convertidas en mensajes (o en datos) ---------------------


def test_out_of_range_dates_and_huge_process_ids_keep_their_information(tmp_path):
    rows = [
        {
            "TimeGenerated": "1601-01-01T00:00:00Z",
            "@timestamp": "1601-01-01 00:00:00",
            "ProcessId": "0x1ffffffffffffffffff",
        },
        {
            "TimeGenerated": "9999-12-31T23:59:59.9999999Z",
            "@timestamp": "2020-01-01 00:00:00",
            "ProcessId": "3",
        },
    ]
    path = tmp_path / "fechas.json"
    path.write_text("\n".join(map(json.dumps, rows)))
    df = taller.load(path)
    assert df["TimeGenerated"].tolist() == [rows[0]["TimeGenerated"], rows[1]["TimeGenerated"]]
    # El «cero» de Windows es «sin fecha» (NaT); el año 9999 deja la columna como texto.
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df["@timestamp"].isna().tolist() == [True, False]
    assert df["ProcessId"].tolist() == ["0x1ffffffffffffffffff", "3"]


def test_disk_error_during_local_extraction_is_explained(tmp_path, monkeypatch):
    path = tmp_path / "e.zip"
    path.write_bytes(make_zip({"e.json": events()}))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "no-existe"))
    with pytest.raises(TallerError, match="No se pudo extraer «e.zip» en una carpeta temporal"):
        taller.load(path)


def test_verificar_with_a_folder_or_an_unreadable_file_instead_of_the_zip(
    demo, capsys, monkeypatch
):
    demo.entry.archive_path.mkdir(parents=True)
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "ILEGIBLE" in out and "hay una carpeta" in out
    with pytest.raises(TallerError, match="hay una carpeta"):
        taller.fetch(NAME)
    demo.entry.archive_path.rmdir()
    taller.fetch(NAME)

    def unreadable(path):
        raise PermissionError(13, "Permiso denegado", str(path))

    with monkeypatch.context() as patch:
        patch.setattr(files, "sha256", unreadable)
        code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "No se puede leer el archivo de «demo»" in out


def test_zip_with_clashing_names_is_refused(tmp_path):
    for members in ({"a.json": b"{}", "a.json/b.json": b"{}"}, {"a/b.json": b"{}", "a": b"{}"}):
        path = tmp_path / "choque.zip"
        path.write_bytes(make_zip(members))
        with pytest.raises(TallerError, match="contiene nombres que chocan"):
            taller.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["choque.zip"]


# --- gzip de varios miembros ----------------------------------------------------


def tar_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_gzip_split_in_several_members_is_read_whole(tmp_path):
    raw = tar_bytes({"e.json": events(5000)})
    blocks = [raw[i : i + 65280] for i in range(0, len(raw), 65280)]  # como bgzip
    path = tmp_path / "bgzip.tar.gz"
    path.write_bytes(b"".join(gzip.compress(block) for block in blocks))
    assert len(blocks) > 3
    assert taller.load(path).shape == (5000, 5)


def test_two_concatenated_tar_gz_keep_every_member(tmp_path):
    path = tmp_path / "juntos.tar.gz"
    path.write_bytes(
        gzip.compress(tar_bytes({"a.json": events(3)}))
        + gzip.compress(tar_bytes({"b/c.json": events(4)}))
        + b"\n"
    )
    members = archive.extract(path, tmp_path / "x", "juntos.tar.gz")
    assert [(m.name, m.size) for m in members] == [
        ("a.json", len(events(3))),
        ("b/c.json", len(events(4))),
    ]
    assert (tmp_path / "x" / "b" / "c.json").read_bytes() == events(4)
