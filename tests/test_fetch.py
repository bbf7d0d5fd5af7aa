"""Descarga y verificación contra un espejo HTTP real en 127.0.0.1 que falla a
propósito: cada fallo da un error en español con el nombre del conjunto y el
remedio, la orden termina con código distinto de cero y la caché queda igual."""

import hashlib
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile

import pytest

import taller
from taller import catalog, cli, download
from taller.errors import TallerError


@pytest.fixture(autouse=True)
def _no_retries(monkeypatch):
    """Sin reintentos salvo que la prueba los pida: los fallos se ven a la primera."""
    monkeypatch.setenv("TALLER_RETRIES", "0")


SMALL = "AADAuditEvents"  # 1,7 KiB: las pruebas de errores no necesitan más
MEDIUM = "empire_psexec_dcerpc_tcp_svcctl"  # 641 KiB: para que las descargas se solapen


def url_path(name):
    return "/" + catalog.datasets()[name].path


def tree(root):
    """Todo lo que hay bajo `root` (archivos y carpetas, también temporales ocultos)."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fetch_over_http_verifies_extracts_and_then_reuses_the_cache(cache, mirror):
    entry = catalog.datasets()[SMALL]
    path = taller.fetch(SMALL)
    assert path == cache / "compound/GoldenSAMLADFSMailAccess/AADAuditEvents.Zip"
    assert sha256(path) == entry.sha256
    json_file = taller.json_path(SMALL)
    assert (
        json_file == cache / "compound/GoldenSAMLADFSMailAccess/AADAuditEvents/AADAuditEvents.json"
    )
    assert json_file.read_bytes().count(b"\n") == 4
    assert taller.json_path(SMALL) == json_file
    assert mirror.count(url_path(SMALL)) == 1


def test_download_everything_with_progress_bars_then_a_second_run_downloads_nothing(
    cache, mirror, capsys
):
    code, out, err = run_cli(capsys, "descargar", "--todos")
    assert code == 0, err
    for entry in catalog.selection():  # los de las lecciones, no todo upstream
        assert f"listo  {entry.name} (" in out
        assert f"Descargando {entry.name}: 100%" in err
        assert sha256(entry.archive_path) == entry.sha256
        assert entry.extract_dir.is_dir()
    # Cada conjunto con eventos JSON queda con su copia Parquet: la primera carga ya es rápida.
    copies = sorted(p.name for p in cache.rglob("*.parquet"))
    jsons = sorted(p.name.removesuffix(".json") + ".parquet" for p in cache.rglob("[!.]*.json"))
    assert copies == jsons and len(copies) == 13
    assert f"14 de 14 conjuntos listos en {cache}." in out
    assert len(mirror.requests) == 14
    before = tree(cache)

    code, out, err = run_cli(capsys, "descargar", "--todos")
    assert code == 0
    assert "Descargando" not in err
    assert len(mirror.requests) == 14  # nada nuevo: todo salió de la caché, verificado
    assert tree(cache) == before

    code, out, _ = run_cli(capsys, "verificar")
    assert code == 0
    assert "La caché está completa y verificada" in out


def test_cached_files_get_normal_permissions_not_those_of_temporary_files(cache):
    umask = os.umask(0)
    os.umask(umask)
    entry = catalog.datasets()[SMALL]
    taller.json_path(SMALL)
    assert stat.S_IMODE(entry.archive_path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(entry.extract_dir.stat().st_mode) == 0o777 & ~umask


def test_a_local_directory_works_as_mirror(cache, mirror_root, monkeypatch, mirror):
    monkeypatch.setenv("TALLER_BASE_URL", str(mirror_root))
    entry = catalog.datasets()[MEDIUM]
    assert sha256(taller.fetch(MEDIUM)) == entry.sha256
    assert taller.json_path(MEDIUM).stat().st_size == 12650959
    assert mirror.requests == []


def test_an_id_downloads_every_dataset_it_covers(cache, capsys):
    code, out, _ = run_cli(capsys, "descargar", "SDWIN-190518210652")
    assert code == 0
    assert "listo  empire_psexec_dcerpc_tcp_svcctl (" in out
    assert "listo  empire_psexec_dcerpc_tcp_svcctl_red (" in out


def test_path_prints_where_the_json_is(cache, capsys):
    code, out, _ = run_cli(capsys, "ruta", SMALL)
    assert code == 0
    assert out == f"{cache}/compound/GoldenSAMLADFSMailAccess/AADAuditEvents/AADAuditEvents.json\n"


def test_path_of_a_network_capture_explains_which_tool_opens_it(cache, capsys):
    code, out, err = run_cli(capsys, "ruta", "empire_psexec_dcerpc_tcp_svcctl_red")
    assert code == 1
    assert "«empire_psexec_dcerpc_tcp_svcctl_red» no contiene eventos JSON sino capturas" in err
    assert "Wireshark" in err and "tshark" in err and "Zeek" in err
    assert "empire_psexec_dcerpc_tcp_svcctl_WORKSTATION5_2020-09-20121608.cap" in err
    assert (
        catalog.datasets()["empire_psexec_dcerpc_tcp_svcctl_red"].extract_dir
        / "empire_psexec_dcerpc_tcp_svcctl_WORKSTATION6_2020-09-20121608.cap"
    ).is_file()


# --- Entradas erróneas: mensaje claro, código distinto de cero, caché intacta ---


def failed_download(capsys, cache, *args):
    before = tree(cache)
    code, _, err = run_cli(capsys, "descargar", *args)
    assert code == 1
    assert tree(cache) == before
    return err


def test_unknown_name(cache, capsys):
    err = failed_download(capsys, cache, "AADAuditEvent")
    assert "No hay ningún conjunto llamado «AADAuditEvent»" in err
    assert "¿Quería decir «AADAuditEvents»?" in err
    assert "Hubo 1 error:" in err


def test_http_404(cache, mirror, capsys):
    mirror.fail(url_path(SMALL), 404)
    err = failed_download(capsys, cache, SMALL)
    assert "El servidor no tiene «AADAuditEvents» (HTTP 404 en " in err
    assert "TALLER_BASE_URL" in err


def test_http_500_then_success_is_retried(cache, mirror, monkeypatch, capsys):
    monkeypatch.setenv("TALLER_RETRIES", "1")
    mirror.fail(url_path(SMALL), 500, times=1)
    code, out, err = run_cli(capsys, "descargar", SMALL)
    assert code == 0, err
    assert mirror.count(url_path(SMALL)) == 2
    assert sha256(catalog.datasets()[SMALL].archive_path) == catalog.datasets()[SMALL].sha256


def test_http_500_that_persists(cache, mirror, monkeypatch, capsys):
    monkeypatch.setenv("TALLER_RETRIES", "1")
    mirror.fail(url_path(SMALL), 500)
    err = failed_download(capsys, cache, SMALL)
    assert "error HTTP 500 al descargar «AADAuditEvents»" in err
    assert "también tras 1 reintento." in err
    assert mirror.count(url_path(SMALL)) == 2


def test_timeout(cache, mirror, monkeypatch, capsys):
    monkeypatch.setenv("TALLER_TIMEOUT", "0.3")
    mirror.delay(url_path(SMALL), 3)
    err = failed_download(capsys, cache, SMALL)
    assert "El servidor tardó más de 0.3 s en responder al descargar «AADAuditEvents»" in err
    assert "TALLER_TIMEOUT" in err


def test_connection_refused_offline_suggests_a_local_mirror(cache, monkeypatch, capsys):
    with socket.socket() as probe:  # un puerto libre en el que nadie escucha
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TALLER_BASE_URL", f"http://127.0.0.1:{port}/")
    err = failed_download(capsys, cache, SMALL)
    assert f"No se pudo conectar con 127.0.0.1:{port} para descargar «AADAuditEvents»" in err
    assert "¿Está sin conexión?" in err
    assert "TALLER_BASE_URL" in err


def test_truncated_download(cache, mirror, capsys):
    mirror.truncate(url_path(MEDIUM))
    err = failed_download(capsys, cache, MEDIUM)
    assert "La descarga de «empire_psexec_dcerpc_tcp_svcctl» se cortó antes de terminar" in err


def test_hash_mismatch_of_a_tampered_file(cache, mirror, capsys):
    mirror.tamper(url_path(SMALL))
    err = failed_download(capsys, cache, SMALL)
    assert "El archivo recibido para «AADAuditEvents» no coincide con su huella SHA-256" in err
    assert "no se ha guardado" in err


def test_missing_file_in_a_local_mirror(cache, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALLER_BASE_URL", str(tmp_path / "espejo-vacio"))
    err = failed_download(capsys, cache, SMALL)
    assert "El espejo local no tiene «AADAuditEvents»" in err


def test_bad_environment_values_are_explained(cache, monkeypatch, capsys):
    monkeypatch.setenv("TALLER_TIMEOUT", "mucho")
    err = failed_download(capsys, cache, SMALL)
    assert "La variable TALLER_TIMEOUT='mucho' debe ser un número positivo de segundos" in err
    assert "Descargando" not in err


def test_neither_names_nor_all_is_a_usage_error_like_the_others(capsys):
    code, _, err = run_cli(capsys, "descargar")
    assert code == 2
    assert err.startswith("uso: python -m taller descargar")
    assert "Error: indique uno o varios conjuntos, o bien --todos" in err


def test_a_tampered_cache_file_is_reported_and_then_replaced(cache, mirror, capsys):
    entry = catalog.datasets()[SMALL]
    taller.fetch(SMALL)
    entry.archive_path.write_bytes(b"manipulado")
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1
    assert "AADAuditEvents: DAÑADO: su SHA-256 no coincide con el catálogo" in out
    assert "Faltan 13 conjuntos" in out
    assert sha256(taller.fetch(SMALL)) == entry.sha256  # pooch ve la huella mala y lo repone
    assert mirror.count(url_path(SMALL)) == 2


# --- Concurrencia: dos descargas a la vez nunca dejan un archivo a medias ---


def assert_complete(entry):
    assert sha256(entry.archive_path) == entry.sha256
    with zipfile.ZipFile(entry.archive_path) as bundle:
        for info in bundle.infolist():
            assert (entry.extract_dir / info.filename).stat().st_size == info.file_size
    siblings = {path.name for path in entry.archive_path.parent.iterdir()}
    assert siblings == {entry.archive_path.name, entry.extract_dir.name}  # sin temporales
    inside = {path.name for path in entry.extract_dir.iterdir()}
    parquet = {name.removesuffix(".json") + ".parquet" for name in entry.members}
    assert inside in (
        {*entry.members, ".manifiesto.json"},
        {*entry.members, *parquet, ".manifiesto.json"},
    )


def test_two_processes_downloading_the_same_dataset_at_once(cache, mirror):
    mirror.rendezvous(url_path(MEDIUM), 2)  # el servidor espera a tener las dos peticiones
    command = [sys.executable, "-m", "taller", "descargar", MEDIUM]
    processes = [
        subprocess.Popen(
            command,
            cwd=catalog.REPO_ROOT,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    assert mirror.count(url_path(MEDIUM)) == 2
    assert_complete(catalog.datasets()[MEDIUM])


def test_two_threads_loading_the_same_dataset_at_once(cache, mirror):
    mirror.rendezvous(url_path(MEDIUM), 2)
    results, errors = [], []

    def work():
        try:
            results.append(download.json_path(MEDIUM))
        except Exception as exc:  # se comprueba abajo: ningún hilo debe fallar
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert_complete(catalog.datasets()[MEDIUM])


def test_an_unverified_url_outside_the_catalogue_goes_to_otros(cache, mirror, mirror_root):
    archive = mirror_root / catalog.datasets()[SMALL].path
    mirror.serve("/otro/AADAuditEvents.Zip", archive.read_bytes())
    path = download.fetch_url(mirror.url + "otro/AADAuditEvents.Zip")
    assert path.parent == cache / "otros"
    assert path.name.endswith("-AADAuditEvents.Zip")
    assert path.read_bytes() == archive.read_bytes()


def test_an_unverified_url_that_fails_leaves_the_cache_as_it_was(cache, mirror):
    with pytest.raises(TallerError) as error:
        download.fetch_url(mirror.url + "no/existe.zip")
    assert "El servidor no tiene «existe.zip» (HTTP 404" in str(error.value)
    assert tree(cache) == []
