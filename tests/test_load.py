"""Carga de cada conjunto del catálogo con sus tipos documentados y un hecho
conocido por conjunto; fuentes admitidas (nombre, id, ruta, URL, archivo local);
archivos y JSON erróneos generados aquí mismo, en carpetas temporales."""

import gzip
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import zipfile

import pandas as pd
import pytest

import taller
from mirror import REPO
from taller import archive, cache, catalog, jsonlines, loader
from taller.errors import TallerError

EVENT_SETS = [entry.name for entry in catalog.selection() if not entry.is_capture]
SHAPES = {
    "covenant_psremoting_command": (4284, 180),
    "empire_psexec_dcerpc_tcp_svcctl": (4348, 186),
    "empire_dllinjection_LoadLibrary_CreateRemoteThread": (12200, 192),
    "covenant_lolbin_wuauclt_createremotethread": (1326, 166),
    "empire_mimikatz_logonpasswords": (6026, 156),
    "psh_lsass_memory_dump_comsvcs": (184, 88),
    "empire_shell_dcerpc_smb_service_dll_hijack": (6349, 206),
    "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod": (6383, 186),
    "covenant_persiststartup": (1238, 130),
    "AADAuditEvents": (4, 38),
    "Microsoft365DefenderEvents": (9, 98),
    "OfficeActivityEvents": (1, 35),
    "WindowsEvents": (38, 99),  # Hostname (de Computer); ProcessId_dynamic... a su nombre
}


@pytest.fixture(scope="module")
def frames(mirror_root, tmp_path_factory):
    """Todos los conjuntos de eventos, cargados una vez desde el espejo local."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALLER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("TALLER_BASE_URL", str(mirror_root))
        yield {name: taller.load(name) for name in EVENT_SETS}


def tree(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


def only(frame, mask):
    """La única fila que cumple `mask` (falla si hay cero o varias)."""
    rows = frame[mask]
    assert len(rows) == 1, f"se esperaba una fila y hay {len(rows)}"
    return rows.iloc[0]


def ends(column, text):
    return column.str.endswith(text, na=False)


# --- Cada conjunto del catálogo: filas, columnas y un hecho conocido ---------


def test_every_event_set_of_the_catalogue_is_covered():
    assert sorted(SHAPES) == sorted(EVENT_SETS)


@pytest.mark.parametrize("name", EVENT_SETS)
def test_rows_and_columns(frames, name):
    assert frames[name].shape == SHAPES[name]


def test_fact_psexec_one_service_installed(frames):
    df = frames["empire_psexec_dcerpc_tcp_svcctl"]
    service = only(df, df["EventID"] == 4697)
    assert service["ServiceName"] == "Updater"
    assert service["Hostname"] == "WORKSTATION6.theshire.local"
    assert only(df, df["EventID"] == 7045)["ServiceName"] == "Updater"


def test_fact_psremoting_wsmprovhost_on_the_target(frames):
    df = frames["covenant_psremoting_command"]
    row = only(df, (df["EventID"] == 1) & ends(df["Image"], "wsmprovhost.exe"))
    assert (row["Hostname"], row["User"]) == ("WORKSTATION6.theshire.local", "THESHIRE\\pgustavo")


def test_fact_dll_injection_one_remote_thread_into_notepad(frames):
    df = frames["empire_dllinjection_LoadLibrary_CreateRemoteThread"]
    row = only(df, df["EventID"] == 8)
    assert row["SourceImage"].endswith("powershell.exe")
    assert row["TargetImage"] == "C:\\Windows\\System32\\notepad.exe"
    assert row["StartFunction"] == "LoadLibraryA"


def test_fact_wuauclt_creates_a_remote_thread(frames):
    df = frames["covenant_lolbin_wuauclt_createremotethread"]
    assert only(df, df["EventID"] == 8)["SourceImage"] == "C:\\Windows\\System32\\wuauclt.exe"
    row = only(df, (df["EventID"] == 1) & ends(df["Image"], "wuauclt.exe"))
    assert "/UpdateDeploymentProvider" in row["CommandLine"]


def test_fact_mimikatz_reads_lsass_from_powershell(frames):
    df = frames["empire_mimikatz_logonpasswords"]
    row = only(
        df,
        (df["EventID"] == 10)
        & ends(df["TargetImage"], "lsass.exe")
        & ends(df["SourceImage"], "powershell.exe"),
    )
    assert row["GrantedAccess"] == "0x1010"


def test_fact_comsvcs_dumps_lsass_to_a_file(frames):
    df = frames["psh_lsass_memory_dump_comsvcs"]
    only(df, (df["EventID"] == 11) & ends(df["TargetFilename"], "\\lsass-comsvcs.dmp"))
    assert "@timestamp" not in df  # este conjunto solo trae TimeCreated


def test_fact_ikeext_loads_the_planted_dll(frames):
    df = frames["empire_shell_dcerpc_smb_service_dll_hijack"]
    row = only(df, (df["EventID"] == 7) & ends(df["ImageLoaded"], "wlbsctrl.dll"))
    assert (row["Hostname"], row["Image"]) == (
        "WORKSTATION6.theshire.local",
        "C:\\Windows\\System32\\svchost.exe",
    )


def test_fact_wmi_spawns_powershell_on_the_target(frames):
    df = frames["empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod"]
    row = only(df, (df["EventID"] == 1) & ends(df["ParentImage"], "WmiPrvSE.exe"))
    assert row["Image"].endswith("powershell.exe")
    assert row["Hostname"] == "WORKSTATION6.theshire.local"


def test_fact_persistence_in_the_startup_folder(frames):
    df = frames["covenant_persiststartup"]
    row = only(
        df, (df["EventID"] == 11) & df["TargetFilename"].str.contains("\\Startup\\", regex=False)
    )
    assert row["TargetFilename"].endswith("\\Startup\\startup.bat")
    assert row["Hostname"] == "IT001.shire.com"


def test_fact_golden_saml_tables(frames):
    aad = frames["AADAuditEvents"]
    assert "Add delegated permission grant" in set(aad["OperationName"])
    defender = frames["Microsoft365DefenderEvents"]
    assert (defender["ActionType"] == "MailItemsAccessed").sum() == 1
    office = only(
        frames["OfficeActivityEvents"], frames["OfficeActivityEvents"]["Operation"].notna()
    )
    assert (office["Operation"], office["UserId"]) == (
        "MailItemsAccessed",
        "pgustavo@simulandlabs.com",
    )
    windows = frames["WindowsEvents"]
    assert only(windows, windows["EventID"] == 412)["Computer"] == "ADFS01.simulandlabs.com"
    assert (windows["EventID"] == 4624).sum() == 28
    # Exportación de Log Analytics: Hostname sale de Computer; EventData_dynamic, entera.
    assert (windows["Hostname"] == windows["Computer"]).all()
    assert windows["EventID"].notna().all()
    # El canal sale de Channel o de EventLog; un evento 5156 no trae ninguno de los dos.
    no_channel = only(windows, windows["Channel"].isna())
    assert no_channel["EventID"] == 5156 and pd.isna(no_channel["EventLog"])
    assert windows["EventData_dynamic"].dropna().str.startswith("[").all()


# --- Tipos honestos (la tabla de taller/loader.py y datasets/README.md) -----


def test_event_ids_and_logon_types_compare_with_plain_integers(frames):
    df = frames["empire_psexec_dcerpc_tcp_svcctl"]
    assert df["EventID"].dtype == "Int64" and df["LogonType"].dtype == "Int64"
    assert len(df[df["LogonType"] == 3]) == 23  # llega como "3" en el JSON
    logons = df.loc[df["EventID"] == 4624, "LogonType"]
    assert logons.value_counts().to_dict() == {3: 7, 5: 1}
    assert df["LogonType"].isna().sum() == 4348 - 25  # huecos como <NA>, no como NaN


def test_process_ids_in_decimal_and_hexadecimal_become_the_same_integers(frames, mirror_root):
    name = "covenant_lolbin_wuauclt_createremotethread"
    df = frames[name]
    raw = [
        json.loads(line)
        for line in taller.json_path(name).read_text(encoding="utf-8").splitlines()
    ]
    for field in ("ProcessId", "SourceProcessId", "TargetProcessId", "NewProcessId"):
        assert df[field].dtype == "Int64"
        expected = [int(row[field], 0) if field in row else None for row in raw]
        assert [None if pd.isna(v) else v for v in df[field]] == expected
    assert any(row.get("ProcessId", "").startswith("0x") for row in raw)  # hay de los dos
    assert any(row.get("ProcessId", "0x").isdigit() for row in raw)


def test_timestamps_are_utc_datetimes_and_subtract_as_expected(frames):
    df = frames["empire_psexec_dcerpc_tcp_svcctl"]
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df["@timestamp"].min() == pd.Timestamp("2020-09-20 16:16:09.362", tz="UTC")
    assert df["@timestamp"].max() - df["@timestamp"].min() == pd.Timedelta("2min 12.129s")
    for name in ("AADAuditEvents", "OfficeActivityEvents", "WindowsEvents"):
        assert str(frames[name]["TimeGenerated"].dtype) == "datetime64[ns, UTC]"
    assert frames["WindowsEvents"]["TimeGenerated"].min() == pd.Timestamp(
        "2021-08-02 13:05:32.77Z"
    )


def test_guids_and_hex_values_stay_text(frames):
    df = frames["empire_psexec_dcerpc_tcp_svcctl"]
    for field in ("ProcessGuid", "SourceProcessGUID", "GrantedAccess", "TargetLogonId", "UtcTime"):
        assert df[field].dtype == loader.TEXT, field
    assert df["ProcessGuid"].dropna().str.fullmatch(r"\{[0-9a-fA-F-]{36}\}").all()
    assert df["GrantedAccess"].dropna().str.fullmatch(r"0x[0-9a-f]+").all()


def test_collector_local_times_are_naive_datetimes(frames):
    df = frames["empire_psexec_dcerpc_tcp_svcctl"]
    assert str(df["EventTime"].dtype) == "datetime64[s]"
    assert df["EventTime"].dt.tz is None


def test_no_silent_floats_in_any_dataset(frames):
    for name, df in frames.items():
        assert df.select_dtypes("float").columns.tolist() == [], name


def test_process_id_that_is_always_missing_is_still_int64(frames):
    column = frames["Microsoft365DefenderEvents"]["ProcessId"]
    assert column.dtype == "Int64" and column.isna().all()


def test_same_rows_and_columns_in_the_same_order_as_pandas(frames):
    name = "covenant_lolbin_wuauclt_createremotethread"
    theirs = pd.read_json(taller.json_path(name), lines=True)
    assert list(frames[name].columns) == list(theirs.columns)
    assert len(frames[name]) == len(theirs)


# --- Copia Parquet en la caché -----------------------------------------------


def parquet_copy(name):
    json_file = taller.json_path(name)
    return json_file, json_file.with_name(json_file.name.removesuffix(".json") + ".parquet")


def test_each_dataset_keeps_a_readable_parquet_copy_next_to_its_json(frames):
    umask = os.umask(0)
    os.umask(umask)
    for name in EVENT_SETS:
        _, copy = parquet_copy(name)
        assert taller.parquet_path(name) == copy
        assert copy.read_bytes()[:4] == b"PAR1"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o666 & ~umask, name
        manifest = json.loads((copy.parent / ".manifiesto.json").read_text())
        assert manifest["parquet"]["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
        assert manifest["parquet"]["file"] == copy.name
    assert [p.name for p in copy.parent.iterdir() if p.name.startswith(".taller-")] == []


def test_pandas_and_duckdb_read_the_parquet_copy(frames):
    import duckdb

    name = "empire_psexec_dcerpc_tcp_svcctl"
    path = taller.parquet_path(name)
    raw = pd.read_parquet(path)
    assert raw.shape == SHAPES[name]
    assert list(raw.columns) == list(frames[name].columns)
    query = f"SELECT count(*) FROM read_parquet('{path}') WHERE EventID = 4697"
    assert duckdb.sql(query).fetchall() == [(1,)]


@pytest.mark.parametrize("where", [0.2, 0.4, 0.6, 0.8])
def test_a_damaged_parquet_copy_is_detected_and_rebuilt(frames, capsys, where):
    """Issue 14, caso 2: un byte cambiado en el cuerpo de la copia ya no pasa en silencio."""
    name = "WindowsEvents"
    _, copy = parquet_copy(name)
    good = copy.read_bytes()
    data = bytearray(good)
    data[int(len(data) * where)] ^= 0x01
    copy.write_bytes(bytes(data))
    capsys.readouterr()
    pd.testing.assert_frame_equal(taller.load(name), frames[name])
    err = capsys.readouterr().err
    assert f"la copia Parquet de «{name}» está dañada" in err and "se ha rehecho" in err
    assert copy.read_bytes() == good


def test_an_unreadable_or_stale_parquet_copy_is_rebuilt(frames, capsys):
    name = "WindowsEvents"
    _, copy = parquet_copy(name)
    copy.write_bytes(b"no es parquet")
    pd.testing.assert_frame_equal(taller.load(name), frames[name])
    assert copy.read_bytes()[:4] == b"PAR1"
    manifest_file = copy.parent / ".manifiesto.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["parquet"]["format"] = 0  # una copia de una versión anterior del taller
    manifest_file.write_text(json.dumps(manifest))
    capsys.readouterr()
    pd.testing.assert_frame_equal(taller.load(name), frames[name])
    assert "es de una versión anterior del taller" in capsys.readouterr().err
    assert json.loads(manifest_file.read_text())["parquet"]["format"] == cache.PARQUET_FORMAT


def test_load_prints_nothing_when_everything_is_cached(frames, capsys):
    capsys.readouterr()
    taller.load("empire_psexec_dcerpc_tcp_svcctl")
    assert capsys.readouterr() == ("", "")


# --- Fuentes admitidas -------------------------------------------------------


def test_by_id_and_upstream_path(frames):
    entry = catalog.datasets()["empire_psexec_dcerpc_tcp_svcctl"]
    pd.testing.assert_frame_equal(taller.load(entry.id), frames[entry.name])
    pd.testing.assert_frame_equal(taller.load(entry.path), frames[entry.name])


def test_by_url_served_by_the_http_mirror(cache, mirror, frames):
    entry = catalog.datasets()["AADAuditEvents"]
    pd.testing.assert_frame_equal(taller.load(mirror.url + entry.path), frames[entry.name])
    assert mirror.count("/" + entry.path) == 1


def test_a_url_outside_the_catalogue(cache, mirror, frames, mirror_root):
    entry = catalog.datasets()["OfficeActivityEvents"]
    mirror.serve("/propio/oficina.zip", (mirror_root / entry.path).read_bytes())
    pd.testing.assert_frame_equal(
        taller.load(mirror.url + "propio/oficina.zip"), frames[entry.name]
    )


@pytest.mark.parametrize("name", ["empire_psexec_dcerpc_tcp_svcctl", "covenant_persiststartup"])
def test_local_archives_of_the_mirror(frames, mirror_root, name):
    local = mirror_root / catalog.datasets()[name].path
    pd.testing.assert_frame_equal(taller.load(local), frames[name])


def test_a_local_json_lines_file(frames):
    pd.testing.assert_frame_equal(
        taller.load(taller.json_path("WindowsEvents")), frames["WindowsEvents"]
    )


def test_upstream_tar_gz_without_gzip_trailer(frames, mirror_root, tmp_path):
    """Un .tar.gz cuyo gzip acaba sin su cola de 8 bytes: el módulo gzip no lo lee."""
    original = mirror_root / catalog.datasets()["covenant_persiststartup"].path
    with tarfile.open(original) as bundle:
        tar_bytes = io.BytesIO()
        with tarfile.open(fileobj=tar_bytes, mode="w") as copy:
            for member in bundle:
                copy.addfile(member, bundle.extractfile(member))
    trailerless = tmp_path / "sin_cola.tar.gz"
    trailerless.write_bytes(gzip.compress(tar_bytes.getvalue())[:-8])
    with pytest.raises(EOFError):
        gzip.decompress(trailerless.read_bytes())
    pd.testing.assert_frame_equal(taller.load(trailerless), frames["covenant_persiststartup"])


def test_network_captures_explain_which_tool_opens_them(mirror_root, frames):
    with pytest.raises(TallerError) as error:
        taller.load("empire_psexec_dcerpc_tcp_svcctl_red")
    message = str(error.value)
    assert "no contiene eventos JSON sino capturas de tráfico de red" in message
    assert all(tool in message for tool in ("Wireshark", "tshark", "Zeek"))
    local = mirror_root / catalog.datasets()["empire_psexec_dcerpc_tcp_svcctl_red"].path
    with pytest.raises(TallerError, match="Descomprima el archivo para abrirlas"):
        taller.load(local)


# --- Archivos comprimidos erróneos (generados aquí) --------------------------


def make_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


def make_tar_gz(path, members, symlink=None):
    with tarfile.open(path, "w:gz") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            bundle.addfile(info)
    return path


EVENT = b'{"EventID": 1, "@timestamp": "2020-09-20T16:16:09.362Z"}\n'


def assert_refused(source, *phrases):
    with pytest.raises(TallerError) as error:
        taller.load(source)
    message = str(error.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


@pytest.fixture
def untouched():
    """Comprueba al final que la caché no cambió (sin datos reales: la capa unit
    da a cada prueba una caché vacía propia)."""
    cache = catalog.cache_dir()
    before = tree(cache)
    yield cache
    assert tree(cache) == before


def test_corrupt_zip(tmp_path, untouched):
    path = tmp_path / "roto.zip"
    path.write_bytes(b"PK\x03\x04 esto no es un zip")
    assert_refused(path, "«roto.zip» está dañado o incompleto")


def test_truncated_zip(tmp_path, untouched):
    real = make_zip(tmp_path / "entero.zip", {"eventos.json": EVENT * 5000}).read_bytes()
    path = tmp_path / "cortado.zip"
    path.write_bytes(real[: len(real) // 2])
    assert_refused(path, "«cortado.zip» está dañado o incompleto", "Vuelva a descargarlo")


def test_zip_with_a_damaged_member(tmp_path, untouched):
    path = make_zip(tmp_path / "danado.zip", {"eventos.json": EVENT * 1000})
    data = bytearray(path.read_bytes())
    data[50] ^= 0xFF  # un byte del contenido comprimido (la cabecera ocupa 42)
    path.write_bytes(bytes(data))
    assert_refused(path, "«danado.zip» está dañado o incompleto")


def test_encrypted_zip(tmp_path, untouched):
    path = make_zip(tmp_path / "cifrado.zip", {"eventos.json": EVENT})
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # bit 0: cifrado
        data[data.index(signature) + offset] |= 1
    path.write_bytes(bytes(data))
    assert_refused(path, "«cifrado.zip» está dañado o incompleto (o cifrado)")


def test_archive_with_several_json_files(tmp_path, untouched):
    path = make_zip(tmp_path / "varios.zip", {"a.json": EVENT, "b.json": EVENT})
    assert_refused(path, "«varios.zip» contiene varios JSON (a.json, b.json)")


def test_empty_archives(tmp_path, untouched):
    assert_refused(make_zip(tmp_path / "vacio.zip", {}), "«vacio.zip» está vacío")
    assert_refused(make_tar_gz(tmp_path / "vacio.tar.gz", {}), "«vacio.tar.gz» está vacío")


@pytest.mark.parametrize(
    "member", ["../fuera.json", "a/../../fuera.json", "/tmp/fuera.json", "C:\\fuera.json"]
)
def test_members_that_escape_the_folder_are_refused(tmp_path, untouched, member):
    path = make_zip(tmp_path / "trampa.zip", {"bueno.json": EVENT, member: EVENT})
    assert_refused(path, "«trampa.zip» contiene un archivo con una ruta peligrosa", member)
    destination = tmp_path / "destino" / "x"
    with pytest.raises(TallerError):
        archive.extract(path, destination, "trampa.zip")
    assert not destination.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["destino", "trampa.zip"]


def test_tar_members_that_escape_or_are_links_are_refused(tmp_path, untouched):
    escape = make_tar_gz(tmp_path / "trampa.tar.gz", {"../fuera.json": EVENT})
    assert_refused(escape, "ruta peligrosa", "../fuera.json")
    link = make_tar_gz(tmp_path / "enlace.tar.gz", {"bueno.json": EVENT}, symlink="enlace.json")
    assert_refused(link, "«enlace.tar.gz» contiene «enlace.json», que no es un archivo normal")
    assert not (tmp_path / "fuera.json").exists()


def test_archives_that_would_expand_too_much_are_refused(tmp_path, untouched, monkeypatch):
    monkeypatch.setattr(archive, "MAX_EXTRACTED_BYTES", 1 << 20)
    zeros = b"0" * (2 << 20)  # 2 MiB que se comprimen en unos pocos KiB
    bomb = make_zip(tmp_path / "bomba.zip", {"eventos.json": zeros})
    assert bomb.stat().st_size < 20_000
    assert_refused(bomb, "«bomba.zip» se expandiría a más de 1 MiB")
    assert_refused(make_tar_gz(tmp_path / "bomba.tar.gz", {"a.json": zeros}), "se expandiría")


def test_archive_without_json(tmp_path, untouched):
    path = make_zip(tmp_path / "notas.zip", {"leeme.txt": b"hola"})
    assert_refused(path, "«notas.zip» no contiene ningún archivo JSON (contiene: leeme.txt)")


def test_unknown_formats_and_missing_files(tmp_path, untouched):
    other = tmp_path / "datos.rar"
    other.write_bytes(b"Rar!")
    assert_refused(other, "«datos.rar» no es un .zip, .tar.gz ni .json")
    assert_refused(tmp_path / "no_existe.zip", "No existe el archivo")
    assert_refused(
        "no_existe_este_conjunto", "No hay ningún conjunto llamado «no_existe_este_conjunto»"
    )


# --- JSON erróneo o poco habitual ---------------------------------------------


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_line_that_is_not_json_is_reported_by_number(tmp_path):
    path = write(tmp_path, "malo.json", EVENT * 2 + b'{"EventID": 3, roto\n' + EVENT)
    assert_refused(path, "La línea 3 de «malo.json» no es JSON válido", "vuelva a descargarlo")


def test_a_bad_line_inside_an_archive_names_the_archive(tmp_path):
    path = make_zip(tmp_path / "eventos.zip", {"eventos.json": EVENT + b"{\n"})
    assert_refused(path, "La línea 2 de «eventos.zip» no es JSON válido")


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"EventID,Hostname\n4624,WORKSTATION6\n", "la línea 1 no es JSON válido"),
        # Una lista de objetos sí se carga (tests/test_shapes.py); una de números, no.
        (b"[\n  4624,\n  4625\n]\n", "la línea 1 no es JSON válido"),
        (b"[4624, 4625]\n", "la línea 1 no es un objeto JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "la línea 1 no es texto UTF-8"),
    ],
)
def test_files_that_are_not_json_lines_at_all(tmp_path, content, reason):
    path = write(tmp_path, "otro.json", content)
    assert_refused(
        path, "«otro.json» no es un archivo JSON Lines (un objeto JSON por línea)", reason
    )


def test_an_empty_json_file(tmp_path):
    assert_refused(write(tmp_path, "vacio.json", b"\n\n"), "«vacio.json» está vacío")


def test_columns_that_mix_numbers_and_text_are_read_as_text(tmp_path):
    rows = [
        {"EventID": 4624, "LogonType": "3", "IpPort": "-", "RecordNumber": 1},
        {"EventID": 4625, "LogonType": "10", "IpPort": 49730},
        {"EventID": 4624, "LogonType": "3", "IpPort": 445, "RecordNumber": 3},
    ]
    df = taller.load(write(tmp_path, "mezcla.json", "\n".join(map(json.dumps, rows)).encode()))
    assert df["IpPort"].tolist() == ["-", "49730", "445"]
    assert df["LogonType"].tolist() == [3, 10, 3]
    assert df["RecordNumber"].dtype == "Int64" and df["RecordNumber"].isna().tolist() == [
        False,
        True,
        False,
    ]


def test_type_changes_and_new_columns_between_pieces(tmp_path, monkeypatch):
    """Cada trozo deduce su propio esquema; al unirlos no se pierde ni se reordena nada."""
    monkeypatch.setattr(jsonlines, "MIN_PIECE", 64)
    monkeypatch.setattr(jsonlines.os, "cpu_count", lambda: 4)
    rows = [{"EventID": i, "Port": i} for i in range(20)]
    rows += [{"EventID": 20, "Port": "-", "Nueva": "x"}] + [
        {"EventID": i, "Extra": True} for i in range(21, 40)
    ]
    path = write(tmp_path, "trozos.json", "\n".join(map(json.dumps, rows)).encode())
    df = taller.load(path)
    assert list(df.columns) == ["EventID", "Port", "Nueva", "Extra"]
    assert df["Port"].dtype == loader.TEXT and df["Port"].iloc[20] == "-"
    assert df["EventID"].tolist() == list(range(40))

    rows = [{"EventID": i} for i in range(20)] + [{"EventID": 20, "Tarde": 1.5}]
    df = taller.load(write(tmp_path, "tarde.json", "\n".join(map(json.dumps, rows)).encode()))
    assert list(df.columns) == ["EventID", "Tarde"] and df["Tarde"].iloc[20] == 1.5


def test_values_that_do_not_convert_leave_the_column_as_text(tmp_path):
    rows = [
        {"ProcessId": "0x1f4", "@timestamp": "2020-09-20T16:16:09.362Z"},
        {"ProcessId": "desconocido", "@timestamp": "ayer"},
    ]
    df = taller.load(write(tmp_path, "raro.json", "\n".join(map(json.dumps, rows)).encode()))
    assert df["ProcessId"].tolist() == ["0x1f4", "desconocido"]
    assert df["@timestamp"].tolist() == ["2020-09-20T16:16:09.362Z", "ayer"]


def test_documented_types_are_the_ones_in_the_readme():
    readme = (REPO / "datasets" / "README.md").read_text(encoding="utf-8")
    for field, dtype in [
        ("EventID", "Int64"),
        ("LogonType", "Int64"),
        ("ProcessId", "Int64"),
        ("@timestamp", "datetime64[ns, UTC]"),
        ("TimeGenerated", "datetime64[ns, UTC]"),
        ("GrantedAccess", "str"),
        ("EventTime", "datetime64[s]"),
    ]:
        assert re.search(rf"`{re.escape(field)}`.*`{re.escape(dtype)}`", readme), field
