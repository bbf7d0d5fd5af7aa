"""`python -m taller servir`: el espejo del aula, como lo usan los asistentes.

La caché del instructor se llena desde la copia local de Security-Datasets; el
espejo corre en un proceso aparte en 127.0.0.1 y otro proceso descarga y
verifica conjuntos a través de él con TALLER_BASE_URL. Cada proceso que se
arranca aquí se para por su PID."""

import hashlib
import http.client
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from built_site import REPO

CATALOGUE = {  # los de las lecciones (seleccion): lo que el espejo del aula debe tener
    name: entry
    for name, entry in yaml.safe_load(
        (REPO / "taller" / "catalogo.yaml").read_text(encoding="utf-8")
    )["conjuntos"].items()
    if entry["seleccion"]
}
# Dos conjuntos de datos pequeños de tipos distintos (uno compuesto, uno atómico).
SERVED = ["AADAuditEvents", "psh_lsass_memory_dump_comsvcs"]
BOOT_TIMEOUT = 30


def taller(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "taller", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def environment(cache: Path, base_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        TALLER_CACHE_DIR=str(cache),
        TALLER_BASE_URL=base_url,
        TALLER_TIMEOUT="5",
        TALLER_RETRIES="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def instructor_cache(tmp_path_factory, mirror_root):
    """Lo que tiene el instructor tras `python -m taller descargar`: dos conjuntos, verificados."""
    cache = tmp_path_factory.mktemp("instructor") / "datasets"
    result = taller("descargar", *SERVED, env=environment(cache, str(mirror_root)))
    assert result.returncode == 0, result.stdout + result.stderr
    return cache


class Mirror:
    def __init__(self, cache: Path):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taller",
                "servir",
                "--direccion",
                "127.0.0.1",
                "--puerto",
                "0",
            ],
            cwd=REPO,
            env=environment(cache, "/nonexistent"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.output = []
        self.url = None
        try:
            # Se lee el aviso de arranque hasta la URL que deben usar los asistentes.
            for line in self.process.stdout:
                self.output.append(line)
                found = re.search(r"TALLER_BASE_URL=(http://127\.0\.0\.1:\d+/)", line)
                if found:
                    self.url = found.group(1)
                if "Ctrl+C" in line:
                    break
        except Exception:
            self.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1].strip("/")) if self.url else None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def get(self, path, method="GET"):
        """Una petición en bruto: la ruta viaja tal como se escribe (sin normalizarla)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type")
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(instructor_cache):
    mirror = Mirror(instructor_cache)
    try:
        assert mirror.url, "El espejo no anunció su URL:\n" + "".join(mirror.output)
        yield mirror
    finally:
        mirror.stop()
    assert mirror.process.returncode is not None


def test_banner_says_what_attendees_use(served):
    banner = "".join(served.output)
    assert f"{len(SERVED)} de {len(CATALOGUE)} conjuntos verificados" in banner
    assert f"TALLER_BASE_URL={served.url} python -m taller descargar --todos" in banner
    # Los conjuntos que el instructor no descargó se nombran, no se ocultan.
    missing = next(name for name in CATALOGUE if name not in SERVED)
    assert f"{missing}: no está en la caché" in banner


def test_another_process_downloads_and_verifies_through_the_mirror(served, tmp_path):
    cache = tmp_path / "attendee"
    env = environment(cache, served.url)
    result = taller("descargar", *SERVED, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(SERVED)} de {len(SERVED)} conjuntos listos" in result.stdout
    for name in SERVED:
        archive = cache / CATALOGUE[name]["ruta"].removeprefix("datasets/")
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == CATALOGUE[name]["sha256"]
    # Y `taller` lee lo que llegó a través del espejo.
    loaded = subprocess.run(
        [sys.executable, "-c", f"import taller; print(len(taller.load({SERVED[1]!r})))"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0 and int(loaded.stdout.strip()) > 0, loaded.stderr


def test_a_dataset_the_mirror_lacks_is_a_clear_error(served, tmp_path):
    missing = next(name for name in CATALOGUE if name not in SERVED)
    result = taller("descargar", missing, env=environment(tmp_path / "attendee", served.url))
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and missing in result.stderr


def test_serves_the_upstream_layout_with_head_and_get(served, instructor_cache):
    relative = CATALOGUE[SERVED[0]]["ruta"]
    status, body, kind = served.get("/" + relative)
    assert status == 200 and kind == "application/zip"
    assert body == (instructor_cache / relative.removeprefix("datasets/")).read_bytes()
    status, body, _ = served.get("/" + relative, method="HEAD")
    assert status == 200 and body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/datasets/",
        "/etc/passwd",
        "/datasets/../../../../etc/passwd",
        "/datasets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/datasets/atomic/windows/credential_access/host/psh_lsass_memory_dump_comsvcs/",
        # El JSON extraído y la copia Arrow están en la caché, pero no son archivos del catálogo.
        "/datasets/atomic/windows/credential_access/host/psh_lsass_memory_dump_comsvcs/"
        "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json",
        "/taller/catalogo.yaml",
    ],
)
def test_anything_outside_the_catalogue_is_404(served, path):
    status, body, _ = served.get(path)
    assert status == 404, path
    assert "No está en el catálogo del taller" in body.decode("utf-8")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_read_only(served, method):
    status, body, _ = served.get("/" + CATALOGUE[SERVED[0]]["ruta"], method=method)
    assert status in (405, 501)
    assert "solo admite GET y HEAD" in body.decode("utf-8")


def test_symlinks_and_damaged_files_are_not_served(instructor_cache, tmp_path):
    """Una caché cuyas rutas del catálogo apuntan fuera de ella, o cuyos bytes cambiaron."""
    cache = tmp_path / "datasets"
    shutil.copytree(instructor_cache, cache, symlinks=True)
    secret = tmp_path / "secreto.txt"
    secret.write_text("fuera de la caché\n", encoding="utf-8")
    linked, damaged = (
        cache / CATALOGUE[name]["ruta"].removeprefix("datasets/") for name in SERVED
    )
    # Un archivo del catálogo sustituido por un enlace a un archivo fuera de la caché.
    linked.unlink()
    linked.symlink_to(secret)
    # Un archivo del catálogo con un byte cambiado.
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))

    mirror = Mirror(cache)
    try:
        banner = "".join(mirror.output) + (
            mirror.process.stderr.read() if mirror.url is None else ""
        )
        # Nada verificado que servir: el espejo se niega a arrancar y dice por qué.
        assert mirror.url is None
        mirror.process.wait(timeout=BOOT_TIMEOUT)
        assert mirror.process.returncode == 1
        assert f"{SERVED[0]}: no es un archivo normal dentro de la caché" in banner
        assert f"{SERVED[1]}: su SHA-256 no coincide con el catálogo" in banner
        assert "no hay ningún conjunto verificado que servir" in banner
    finally:
        mirror.stop()


def test_a_link_to_a_folder_outside_the_cache_is_not_followed(instructor_cache, tmp_path):
    """Una carpeta de la estructura de upstream que es un enlace a una copia en otro sitio."""
    cache = tmp_path / "datasets"
    shutil.copytree(instructor_cache, cache, symlinks=True)
    outside = tmp_path / "fuera"
    shutil.move(cache / "atomic", outside)
    (cache / "atomic").symlink_to(outside, target_is_directory=True)

    mirror = Mirror(cache)
    try:
        assert mirror.url, "".join(mirror.output)
        banner = "".join(mirror.output)
        assert f"1 de {len(CATALOGUE)} conjuntos verificados" in banner
        assert f"{SERVED[1]}: no es un archivo normal dentro de la caché" in banner
        assert mirror.get("/" + CATALOGUE[SERVED[1]]["ruta"])[0] == 404
        assert mirror.get("/" + CATALOGUE[SERVED[0]]["ruta"])[0] == 200
    finally:
        mirror.stop()


def test_help_is_in_spanish():
    result = subprocess.run(
        [sys.executable, "-m", "taller", "servir", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "sirve la caché verificada" not in result.stdout  # ese es el resumen del proceso padre
    assert "--puerto" in result.stdout and "dirección en la que escucha" in result.stdout


def test_the_extracted_files_exist_in_the_cache_yet_are_not_served(served, instructor_cache):
    entry = CATALOGUE[SERVED[1]]
    folder = entry["ruta"].removeprefix("datasets/").removesuffix(".zip")
    extracted = instructor_cache / folder / entry["contenido"][0]
    assert extracted.is_file()
    assert served.get(f"/datasets/{folder}/{entry['contenido'][0]}")[0] == 404


def test_the_hunting_corpus_is_served_and_announced_when_the_instructor_has_it(
    instructor_cache, mirror_root, tmp_path
):
    """El corpus del cuaderno 09 (`descargar --corpus`) también pasa por el espejo."""
    from taller import catalog

    hunt = min((e for e in catalog.corpus() if e.size and not e.selected), key=lambda e: e.size)
    cache = tmp_path / "datasets"
    shutil.copytree(instructor_cache, cache, symlinks=True)
    fetched = taller("descargar", hunt.name, env=environment(cache, str(mirror_root)))
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr

    mirror = Mirror(cache)
    try:
        assert mirror.url, "".join(mirror.output)
        banner = "".join(mirror.output)
        in_corpus = {entry.name for entry in catalog.corpus()} & {hunt.name, *SERVED}
        assert f" y {len(in_corpus)} de {len(catalog.corpus())} del corpus de caza" in banner
        assert f"TALLER_BASE_URL={mirror.url} python -m taller descargar --corpus" in banner
        attendee = taller("descargar", hunt.name, env=environment(tmp_path / "a", mirror.url))
        assert attendee.returncode == 0, attendee.stdout + attendee.stderr
    finally:
        mirror.stop()
