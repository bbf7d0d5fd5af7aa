"""Issue 21: entradas hostiles, por clases. Ninguna traza, ninguna espera sin fin,
ningún consejo equivocado, ningún dato erróneo.

Cada clase tiene una tabla de casos (o una propiedad de Hypothesis) y los
ejemplos de la incidencia como casos de la tabla. Todo en la capa unit: un
catálogo de un conjunto («demo», de `test_cache`) en `tmp_path` y servidores en
127.0.0.1, sin red.

La tabla «Ajustes, argumentos y archivos de la caché hostiles» de
``datasets/README.md`` sale de estas tablas (`readme_table`); la prueba
`test_readme_table_is_generated_from_these_cases` exige que coincidan y
``python tests/test_hostile.py`` la reescribe.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import taller  # noqa: E402
from taller import cache, catalog, cli, columnar, edge, files, road, serve, survey, transfer  # noqa: E402
from taller.errors import TallerError  # noqa: E402
from test_cache import NAME, Demo  # noqa: E402

settings.register_profile("taller", database=None, deadline=None)  # máquina compartida
settings.load_profile("taller")

README = Path(__file__).resolve().parent.parent / "datasets" / "README.md"
BEGIN = "<!-- tabla generada por tests/test_hostile.py: no la edite a mano -->"
END = "<!-- fin de la tabla generada -->"


@dataclass(frozen=True)
class Case:
    shown: str  # la entrada, tal como sale en la tabla del README
    value: str  # el valor (con {archivo}, {fifo}, {url}... que la prueba sustituye)
    expected: str  # lo que dice el mensaje (un extracto literal)
    target: str = ""  # la variable, la orden o la mutación


@pytest.fixture
def demo(tmp_path, monkeypatch) -> Demo:
    return Demo(tmp_path, monkeypatch)


def run_cli(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def no_traceback(text: str) -> None:
    """Un error explicado en español, sin traza de Python."""
    assert "Traceback" not in text, text
    assert "Error:" in text, text


def fill(value: str, tmp_path: Path, **extra) -> str:
    """Sustituye {archivo}, {fifo} y lo que se dé en `extra` por rutas de `tmp_path`."""
    plain = tmp_path / "un-archivo.txt"
    plain.write_text("hola")
    fifo = tmp_path / "una-tuberia.json"
    if "{fifo}" in value or value.startswith("/dev/"):
        if not hasattr(os, "mkfifo"):  # Windows: ni tuberías con nombre ni /dev
            pytest.skip("este sistema no tiene tuberías con nombre ni /dev")
        if not fifo.exists():
            os.mkfifo(fifo)
    deep = tmp_path / "anidado.json"
    deep.write_text('{"a": 1}\n{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    objects = tmp_path / "objetos-anidados.json"  # con esto pyarrow agotaba la pila
    objects.write_text('{"a": ' + '{"b": ' * 50_000 + "1" + "}" * 50_000 + "}\n")
    return value.format(archivo=plain, fifo=fifo, profundo=deep, objetos=objects, **extra)


# --- 1. Ajustes (variables de entorno) ---------------------------------------

SETTINGS = [
    Case("`TALLER_TIMEOUT=1e12`", "1e12", "es demasiado grande", "TALLER_TIMEOUT"),
    Case("`TALLER_TIMEOUT=-5`", "-5", "debe ser un número positivo", "TALLER_TIMEOUT"),
    Case("`TALLER_TIMEOUT=nan`", "nan", "debe ser un número positivo", "TALLER_TIMEOUT"),
    Case("`TALLER_RETRIES=1000000`", "1000000", "es demasiado grande", "TALLER_RETRIES"),
    Case("`TALLER_RETRIES=-1`", "-1", "debe ser un número entero, 0 o más", "TALLER_RETRIES"),
    Case("`TALLER_RETRIES=1_0`", "1_0", "debe ser un número entero, 0 o más", "TALLER_RETRIES"),
    Case(
        "`TALLER_CACHE_DIR='~nouser/x'`",
        "~nouser/x",
        "no existe el usuario «nouser»",
        "TALLER_CACHE_DIR",
    ),
    Case(
        "`TALLER_CACHE_DIR` apunta a un archivo (`/etc/passwd`)",
        "{archivo}",
        "apunta a un archivo",
        "TALLER_CACHE_DIR",
    ),
    Case(
        "`TALLER_CACHE_DIR` dentro de un archivo (`/etc/passwd/x`)",
        "{archivo}/x",
        "apunta a un archivo",
        "TALLER_CACHE_DIR",
    ),
    Case(
        "`TALLER_CACHE_DIR` de 5000 caracteres",
        "a" * 5000,
        "no es una ruta válida",
        "TALLER_CACHE_DIR",
    ),
    Case(
        "`TALLER_BASE_URL` con una IPv6 sin cerrar el corchete",
        "http://[::1/",
        "la dirección IPv6 está mal escrita",
        "TALLER_BASE_URL",
    ),
    Case(
        "`TALLER_BASE_URL=http://999.1.1.1/`",
        "http://999.1.1.1/",
        "no es una dirección IPv4 válida",
        "TALLER_BASE_URL",
    ),
    Case(
        "`TALLER_BASE_URL=http://h:99999/`",
        "http://h:99999/",
        "el puerto no es un número entre 1 y 65535",
        "TALLER_BASE_URL",
    ),
    Case(
        "`TALLER_BASE_URL=ftp://h/x/`",
        "ftp://h/x/",
        "no es una URL http:// o https:// ni una carpeta",
        "TALLER_BASE_URL",
    ),
    Case(
        "`TALLER_BASE_URL=http:///x` (sin servidor)",
        "http:///x",
        "le falta la dirección del servidor",
        "TALLER_BASE_URL",
    ),
    Case(
        "`TALLER_BASE_URL` con usuario y contraseña (`http://ana:secreta@…`) y un error",
        "http://ana:secreta@[::1/",
        "http://***@",
        "TALLER_BASE_URL",
    ),
]


@pytest.mark.parametrize("case", SETTINGS, ids=lambda case: case.shown)
def test_every_setting_is_validated_at_the_edge(demo, monkeypatch, capsys, tmp_path, case):
    monkeypatch.setenv(case.target, fill(case.value, tmp_path))
    code, out, err = run_cli(capsys, "descargar", NAME)
    assert code == 1
    no_traceback(err)
    assert case.expected in err, err
    assert case.target in err  # nombra el ajuste
    assert "por ejemplo" in err.lower() or "ejemplo" in err  # y un valor correcto
    assert "secreta" not in out + err


# --- 2. El argumento de taller.load ------------------------------------------

LOAD_ARGUMENTS = [
    Case("`taller.load('a' * 5000)`", "a" * 5000, "demasiado largo"),
    Case("`taller.load('x\\0y')`", "x\0y", "caracteres nulos"),
    Case("`taller.load('')`", "", "recibió un texto vacío"),
    Case("`taller.load('y' * 256 + '.zip')`", "y" * 256 + ".zip", "el nombre es demasiado largo"),
    Case(
        "`taller.load` de una URL con una IPv6 sin cerrar el corchete",
        "http://[::1/x.zip",
        "IPv6 está mal escrita",
    ),
    Case("`taller.load('http://999.1.1.1/x.zip')`", "http://999.1.1.1/x.zip", "IPv4 válida"),
    Case("`taller.load('http://h:0/x.zip')`", "http://h:0/x.zip", "entre 1 y 65535"),
    Case("`taller.load('ftp://h/x.zip')`", "ftp://h/x.zip", "el protocolo «ftp://» no se admite"),
    Case("`taller.load('file:///etc/passwd')`", "file://{archivo}", "no es un .zip, .tar.gz ni"),
    Case("`taller.load('/etc/passwd')`", "{archivo}", "no es un .zip, .tar.gz ni .json"),
    Case("`taller.load('~nouser/x.zip')`", "~nouser/x.zip", "«~usuario» que no existe"),
    Case("`taller.load` de una tubería (FIFO)", "{fifo}", "no es un archivo normal"),
    Case("`taller.load('/dev/null')`", "/dev/null", "no es un archivo normal"),
    Case("`taller.load('/dev/zero')`", "/dev/zero", "no es un archivo normal"),
    Case(
        "un JSON con una línea anidada 100 000 niveles",
        "{profundo}",
        "anida objetos o listas a demasiada profundidad",
    ),
    Case(
        "un JSON con un objeto anidado 50 000 niveles (antes, el proceso moría)",
        "{objetos}",
        "anida objetos o listas a demasiada profundidad",
    ),
    Case("`taller.load('/no/existe.zip')`", "/no/existe.zip", "No existe el archivo"),
    Case(
        "`taller.load('https://ana:secreta@h:0/x.zip')`",
        "https://ana:secreta@h:0/x.zip",
        "https://***@h:0/x.zip",
    ),
]


@pytest.mark.parametrize("case", LOAD_ARGUMENTS, ids=lambda case: case.shown)
def test_every_load_argument_is_validated_at_the_edge(demo, tmp_path, case):
    with pytest.raises(TallerError) as error:
        taller.load(fill(case.value, tmp_path))
    assert case.expected in str(error.value)
    assert "secreta" not in str(error.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.from_regex(r"(https?|ftp|file|gopher)://[\[\]:@a-z0-9./%?#~-]{0,40}", fullmatch=True),
    )
)
def test_any_text_is_a_place_an_error_or_unknown_never_a_traceback(demo, monkeypatch, text):
    monkeypatch.setattr(transfer, "fetch_url", lambda url: (_ for _ in ()).throw(TallerError("")))
    try:
        found = road.locate(text)
    except TallerError as error:
        assert "Traceback" not in str(error)
    else:
        assert isinstance(found, catalog.Place)


@settings(max_examples=500)
@given(text=st.text(max_size=80).map(lambda tail: "http://" + tail))
def test_edge_url_accepts_or_explains_any_text(text):
    try:
        parts = edge.url(text, "prueba", "http://192.168.1.10:8000/")
    except TallerError as error:
        assert str(error).startswith("prueba no es una URL válida")
    else:
        assert parts.hostname and parts.scheme == "http"


@settings(max_examples=200)
@given(
    depths=st.lists(st.integers(0, 2 * columnar.MAX_DEPTH), min_size=1, max_size=4),
    kinds=st.sampled_from(["[]", "{}"]),
)
def test_nesting_guard_matches_the_real_depth(depths, kinds):
    """`columnar.too_deep` no se queda corta nunca (es lo que protege a pyarrow)."""
    opener, closer = kinds
    key = '"k": ' if opener == "{" else ""
    lines = ['{"a": ' + (opener + key) * depth + "1" + closer * depth + "}" for depth in depths]
    content = ("\n".join(lines) + "\n").encode()
    assert columnar.too_deep(content) == (max(depths) + 1 > columnar.MAX_DEPTH)


@settings(max_examples=300)
@given(value=st.text(max_size=40))
def test_numbers_of_settings_are_bounded_or_explained(value):
    for integer, top in ((False, edge.MAX_TIMEOUT), (True, edge.MAX_RETRIES)):
        try:
            number = edge.number("TALLER_X", value, "1", integer=integer, top=top)
        except TallerError as error:
            assert "TALLER_X=" in str(error) and "por ejemplo, 1" in str(error)
        else:
            assert 0 <= number <= top


# --- 3. Lo que se lee del disco: el manifiesto, validado entero ---------------


def _drop(path):
    def mutate(manifest):
        *parents, last = path
        record = manifest
        for key in parents:
            record = record[key]
        del record[last]

    return mutate


def _set(path, value):
    def mutate(manifest):
        *parents, last = path
        record = manifest
        for key in parents:
            record = record[key]
        record[last] = value

    return mutate


MANIFESTS = [
    Case("un manifiesto sin `parquet.size`", "drop parquet.size", "dañado"),
    Case('un manifiesto con `"parquet": "x"`', "set parquet 'x'", "dañado"),
    Case('un manifiesto con `"parquet": {"file": ["a"]}`', "set parquet.file ['a']", "dañado"),
    Case('un manifiesto con `"archive": "x"`', "set archive 'x'", "dañado"),
    Case("un miembro del manifiesto sin `size`", "drop members.demo.json.size", "dañado"),
    Case('un miembro con `"size": -1` o `true`', "set members.demo.json.size True", "dañado"),
    Case(
        "un miembro llamado `../../etc/passwd`",
        "rename ../../etc/passwd",
        "sale de la carpeta",
    ),
    Case("un manifiesto que es una lista", "whole []", "dañado"),
    Case("un manifiesto anidado 100 000 niveles", "raw deep", "dañado"),
    Case("un manifiesto con bytes que no son JSON", "raw junk", "dañado"),
    Case("un manifiesto que es una tubería (FIFO)", "fifo", "no es un archivo normal"),
    Case("un manifiesto con `version: 2`", "set version 2", "de una versión más nueva del taller"),
    Case(
        "una copia Parquet con `format: 99`",
        "set parquet.format 99",
        "de una versión más nueva del taller",
    ),
]


def _mutate(path: Path, how: str) -> None:
    verb, _, rest = how.partition(" ")
    if verb == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("este sistema no tiene tuberías con nombre")
        path.unlink()
        os.mkfifo(path)
        return
    if verb == "raw":
        path.write_bytes(b"[" * 100_000 if rest == "deep" else b"\xff\xfe{no json")
        return
    manifest = json.loads(path.read_text())
    if verb == "whole":
        manifest = json.loads(rest)
    elif verb == "rename":
        manifest["members"][rest] = manifest["members"].pop("demo.json")
    else:
        keys, _, value = rest.partition(" ")
        keys = keys.replace("demo.json", "demo·json").split(".")
        keys = [key.replace("demo·json", "demo.json") for key in keys]
        if verb == "drop":
            _drop(keys)(manifest)
        else:
            _set(keys, eval(value))(manifest)  # noqa: S307 (valores de la tabla de arriba)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("case", MANIFESTS, ids=lambda case: case.shown)
def test_a_manifest_that_does_not_match_its_schema_is_rebuilt_with_a_notice(demo, capsys, case):
    expected = taller.load(NAME)
    manifest_path = demo.entry.extract_dir / cache.MANIFEST
    _mutate(manifest_path, case.value)
    capsys.readouterr()
    assert taller.load(NAME).equals(expected)
    err = capsys.readouterr().err
    assert case.expected in err and "Aviso" in err, err
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 0 and "completa y verificada" in out, out
    # y lo mismo con cada orden que lo lee
    _mutate(manifest_path, case.value)
    assert run_cli(capsys, "ruta", NAME)[0] == 0
    taller.load(NAME)
    _mutate(manifest_path, case.value)
    code, out, _ = run_cli(capsys, "verificar")
    assert code == 1 and "NO ES FIABLE" in out and case.expected.split()[0] in out, out


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
KEYS = [
    ("version",),
    ("dataset",),
    ("archive",),
    ("archive", "sha256"),
    ("archive", "size"),
    ("members",),
    ("parquet",),
    ("parquet", "file"),
    ("parquet", "size"),
    ("parquet", "format"),
    ("parquet", "source"),
    ("parquet", "source_sha256"),
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=JSON_VALUES, drop=st.booleans())
def test_any_manifest_is_accepted_whole_or_rejected_never_half_read(demo, key, value, drop):
    """Hypothesis: cualquier valor en cualquier campo; lo que `read_manifest`
    acepta, las etapas lo recorren sin traza."""
    entry = demo.entry
    entry.extract_dir.mkdir(parents=True, exist_ok=True)
    (entry.extract_dir / "demo.json").write_bytes(b"{}\n")
    good = {
        "version": 1,
        "dataset": NAME,
        "archive": {"file": "demo.zip", "sha256": entry.sha256, "size": entry.size},
        "members": {"demo.json": {"size": 3, "sha256": "0" * 64}},
        "parquet": {
            "file": "demo.parquet",
            "size": 1,
            "sha256": "1" * 64,
            "format": 1,
            "source": "demo.json",
            "source_sha256": "0" * 64,
        },
    }
    (_drop if drop else _set)(key, *(() if drop else (value,)))(good)
    (entry.extract_dir / cache.MANIFEST).write_text(json.dumps(good))
    read = cache.read_manifest(entry)
    if read:
        assert cache.manifest_problem(read) is None
    else:
        assert isinstance(read, cache.Unusable) and read.problem
    assert cache.extraction_problem(entry, read, deep=True) is None or True
    cache.parquet_state(entry, read)
    survey.survey(catalog.cache_dir(), [entry])


def test_the_hunting_record_is_checked_against_its_schema():
    from taller import hunt

    good = {"sha256": "a" * 64, "sources": {"x": [1, 2]}}
    assert hunt._record_problem(good) is None
    bad_ones = (
        [],
        {"sha256": 1, "sources": {}},
        {**good, "sources": {"x": "1"}},
        {**good, "y": 0},
    )
    for bad in bad_ones:
        assert hunt._record_problem(bad)


# --- 4. Archivos especiales y temporales ---------------------------------------

FILES = [
    Case("una tubería (FIFO) en lugar del .zip de la caché", "zip", "no es un archivo normal"),
    Case("una tubería en lugar de la copia Parquet", "parquet", ""),
    Case("una tubería en lugar del JSON extraído", "json", "no era fiable"),
]


@pytest.mark.parametrize("case", FILES, ids=lambda case: case.shown)
def test_special_files_in_the_cache_never_block(demo, capsys, case):
    taller.load(NAME)
    target = {"zip": demo.entry.archive_path, "parquet": demo.parquet, "json": demo.json}
    path = target[case.value]
    if not hasattr(os, "mkfifo"):
        pytest.skip("este sistema no tiene tuberías con nombre")
    path.unlink()
    os.mkfifo(path)
    capsys.readouterr()
    if case.value == "zip":
        with pytest.raises(TallerError) as error:
            taller.fetch(NAME)  # la etapa del archivo (`load` se fía de la copia Parquet)
        assert case.expected in str(error.value)
        path.unlink()
    else:
        # `ruta` comprueba cada archivo extraído; `load`, la copia Parquet.
        assert taller.json_path(NAME).is_file() and taller.load(NAME) is not None
        assert case.expected in capsys.readouterr().err
        assert path.is_file()


def test_a_killed_process_temporary_is_abandoned_even_from_the_future(demo, capsys):
    taller.load(NAME)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = demo.entry.archive_path.parent
    scratch = folder / f"{files.TEMP_PREFIX}{dead.pid}-abc-demo.zip"
    scratch.write_bytes(b"a medias")
    future = time.time() + 10 * 365 * 86400
    os.utime(scratch, (future, future))
    code, out, _ = run_cli(capsys, "verificar")
    assert "temporal abandonado" in out and "en curso" not in out, out
    assert not scratch.exists()
    assert files.is_stale(scratch) is False  # ya no está
    old = folder / ".taller-999999999-x"
    old.write_bytes(b"")
    os.utime(old, (future, future))
    assert files.is_stale(old)  # de un proceso que no existe y «del futuro»
    old.unlink()


# --- 5. La red: un plazo total, y la causa real en el mensaje -----------------


class _Hostile(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        kind, body = self.server.kind, self.server.body
        if kind.startswith("redirect "):
            self.send_response(302)
            self.send_header("Location", kind.split(" ", 1)[1])
            self.end_headers()
        elif kind == "429":
            self.send_response(429)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "401":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "slow-headers":  # las cabeceras, un byte cada 0,1 s
            try:
                for byte in b"HTTP/1.0 200 OK\r\nX-Lento: " + b"a" * 2000:
                    if self.server.release.is_set():
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif kind == "drip":  # un byte cada 0,1 s: nunca agota TALLER_TIMEOUT
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    if self.server.release.is_set():
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass


@pytest.fixture
def hostile_server(demo):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.handle_error = lambda *args: None
    server.kind, server.body, server.release = "", demo.data, threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def banner_server():
    """Un servidor que no habla HTTP: saluda como SSH y se queda callado."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def run():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            client.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            client.close()

    threading.Thread(target=run, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()


NETWORK = [
    Case(
        "un espejo que envía 1 byte por segundo (`TALLER_TIMEOUT=5`)",
        "drip",
        "es demasiado lenta",
    ),
    Case(
        "un espejo que envía las cabeceras a 1 byte por segundo",
        "slow-headers",
        "es demasiado lenta",
    ),
    Case(
        "una redirección a una URL con una IPv6 sin cerrar el corchete",
        "redirect http://[::1/x.zip",
        "redirigió la descarga",
    ),
    Case(
        "una redirección a `ftp://…`",
        "redirect ftp://h/x.zip",
        "redirigió la descarga",
    ),
    Case(
        "una redirección a `file:///etc/passwd`",
        "redirect file:///etc/passwd",
        "No es un error de cómo está escrita TALLER_BASE_URL",
    ),
    Case("HTTP 429", "429", "demasiadas peticiones"),
    Case("HTTP 401", "401", "sin autorización"),
    Case("un servidor que no habla HTTP (SSH)", "banner", "no es un servidor web (HTTP)"),
    Case("`https://` contra un espejo que solo habla `http://`", "https", "no habla https://"),
]


@pytest.mark.parametrize("case", NETWORK, ids=lambda case: case.shown)
def test_network_failures_name_their_real_cause(
    demo, hostile_server, banner_server, monkeypatch, capsys, case
):
    monkeypatch.setenv("TALLER_TIMEOUT", "0.5")  # el plazo total del goteo: 1 s
    hostile_server.kind = case.value
    base = hostile_server.url
    if case.value == "banner":
        base = banner_server
    elif case.value == "https":
        base = base.replace("http://", "https://")
    monkeypatch.setenv("TALLER_BASE_URL", base.replace("//", "//ana:secreta@", 1))
    code, out, err = run_cli(capsys, "descargar", NAME)
    assert code == 1
    no_traceback(err)
    assert case.expected in err, err
    assert "secreta" not in out + err
    assert "¿Está sin conexión?" not in err
    assert not demo.entry.archive_path.exists()
    if case.value == "drip":  # cortada por el plazo total, no terminada a 10 bytes/s
        assert f"llegaron {len(demo.data)} " not in err, err


def test_the_overall_deadline_grows_with_the_size_and_is_always_finite():
    assert transfer.deadline(5, 17_500) < 2 * 5 + 2
    assert transfer.deadline(edge.MAX_TIMEOUT, transfer.MAX_DOWNLOAD) < 24 * 3600
    with pytest.raises(TallerError):
        edge.number("TALLER_RETRIES", "11", "2", integer=True, top=edge.MAX_RETRIES)


@pytest.mark.parametrize(
    "text",
    [
        "http://ana:secreta@h/x",
        "https://token:secreta@h:8000/x?a=1",
        "«http://u:secreta@h/»",
        "http://h/x?token=secreta&b=2",
        "http://h/x?access_token=secreta",
    ],
)
def test_secrets_are_redacted(text):
    assert "secreta" not in edge.redact(text)


# --- 6. El espejo del aula aguanta un aula --------------------------------------

SERVE = [
    Case("`taller servir --puerto 99999`", "--puerto 99999", "está fuera de rango"),
    Case("`taller servir --puerto -1`", "--puerto -1", "está fuera de rango"),
    Case(
        "`taller servir --direccion 999.1.1.1`",
        "--direccion 999.1.1.1",
        "no es una dirección IP válida",
    ),
    Case(
        "`taller servir --direccion 'a b'`",
        "--direccion a_b",
        "no es una dirección IP válida",
    ),
    Case(
        "`taller servir --direccion 192.0.2.1` (no es de este equipo)",
        "--direccion 192.0.2.1",
        "no es de este equipo",
    ),
]


@pytest.mark.parametrize("case", SERVE, ids=lambda case: case.shown)
def test_serve_options_are_validated(demo, capsys, case):
    taller.fetch(NAME)
    option, value = case.value.split(" ", 1)
    code, out, err = run_cli(capsys, "servir", f"{option}={value.replace('_', ' ')}")
    assert code == 1
    assert case.expected in err, err
    assert "Elija otro puerto" not in err or "puerto" in case.value


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(data)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    return received


def test_the_classroom_mirror_survives_a_classroom(demo):
    taller.fetch(NAME)
    found, _ = serve.servable_files(demo.cache)
    server = serve.MirrorServer("127.0.0.1", 0, found)
    assert server.request_queue_size >= 60
    assert serve._Handler.timeout and serve._Handler.timeout <= 60
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        path = "/datasets/" + demo.entry.relative_path
        answer = _raw(port, f"GET {path} HTTP/1.0\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(demo.data)
        huge = f"GET {path} HTTP/1.0\r\nX: {'a' * 70_000}\r\n\r\n".encode()
        answer = _raw(port, huge)
        assert answer.startswith(b"HTTP/1.0 431")
        assert "las cabeceras de la petición son demasiado grandes" in answer.decode()
        assert b"solo admite GET" not in answer
        answer = _raw(port, f"POST {path} HTTP/1.0\r\n\r\n".encode())
        assert b"501" in answer.split(b"\r\n")[0] and "solo admite GET y HEAD" in answer.decode()
        # Lo servido se vuelve a verificar si el archivo cambia tras arrancar.
        demo.entry.archive_path.write_bytes(demo.data[:-1] + b"X")
        answer = _raw(port, f"GET {path} HTTP/1.0\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 404")
    finally:
        server.shutdown()
        server.server_close()
        demo.entry.archive_path.unlink()


# --- 7. La tabla del README sale de estas tablas --------------------------------

TABLES = [
    ("Ajuste", SETTINGS),
    ("Argumento de `taller.load`", LOAD_ARGUMENTS),
    ("Manifiesto de la caché", MANIFESTS),
    ("Archivo especial en la caché", FILES),
    ("Red", NETWORK),
    ("Espejo del aula", SERVE),
]


def readme_table() -> str:
    rows = [
        BEGIN,
        "",
        "| Clase | Entrada hostil | Extracto del mensaje |",
        "| --- | --- | --- |",
    ]
    for kind, cases in TABLES:
        for case in cases:
            said = f"`…{case.expected}…`" if case.expected else "se rehace en silencio"
            said = said.replace("|", "\\|")
            rows.append(f"| {kind} | {case.shown} | {said} |")
    return "\n".join([*rows, "", END])


def _readme_section(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def test_readme_table_is_generated_from_these_cases():
    assert _readme_section(README.read_text(encoding="utf-8")) == readme_table(), (
        "La tabla de datasets/README.md no coincide con tests/test_hostile.py: "
        "regenérela con `python tests/test_hostile.py`."
    )


if __name__ == "__main__":
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(_readme_section(text), readme_table()), encoding="utf-8")
    print(f"Tabla reescrita en {README}.")
