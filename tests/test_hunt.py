"""La tabla de caza del cuaderno 09 (`taller.hunt.hunting_table`) tampoco miente,
y un corpus que mezcla formas de eventos de Windows no deja columnas vacías.

Con dos copias Parquet pequeñas hechas en tmp_path: la tabla se construye una
vez y se reutiliza; si se daña o cambia una copia de origen, se rehace (y se
avisa del daño); `verificar` no la cuenta como un resto huérfano.
"""

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taller import hunt, survey
from taller.errors import TallerError


@pytest.fixture
def copies(tmp_path, monkeypatch):
    monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path / "cache"))
    found = {}
    for name, source in [("a", "powershell.exe"), ("b", "dwm.exe")]:
        columns = {column: [None] for column in hunt.RAW_COLUMNS}
        columns.update(EventID=[8], Channel=[hunt.SYSMON], SourceImage=[f"C:\\{source}"])
        columns["EventID"] = pa.array([8], pa.int64())
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(columns), path)
        found[name] = path
    return found


def rows(path):
    table = pq.read_table(path)
    return sorted(zip(table["dataset"].to_pylist(), table["SourceImage"].to_pylist(), strict=True))


def test_the_table_holds_every_copy_and_is_reused(copies):
    table = hunt.hunting_table(copies)
    assert rows(table) == [("a", "C:\\powershell.exe"), ("b", "C:\\dwm.exe")]
    built = table.stat().st_mtime_ns
    assert hunt.hunting_table(copies) == table
    assert table.stat().st_mtime_ns == built


def test_a_damaged_table_is_rebuilt_with_a_notice(copies, capsys):
    table = hunt.hunting_table(copies)
    damaged = bytearray(table.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    table.write_bytes(bytes(damaged))
    capsys.readouterr()
    hunt.hunting_table(copies)
    assert "dañada" in capsys.readouterr().err
    assert rows(table) == [("a", "C:\\powershell.exe"), ("b", "C:\\dwm.exe")]


def test_a_changed_source_copy_rebuilds_the_table(copies):
    hunt.hunting_table(copies)
    columns = {column: [None] for column in hunt.RAW_COLUMNS}
    columns.update(Channel=[hunt.SYSMON], SourceImage=["C:\\rundll32.exe"])
    columns["EventID"] = pa.array([8], pa.int64())
    pq.write_table(pa.table(columns), copies["b"])
    table = hunt.hunting_table(copies)
    assert rows(table) == [("a", "C:\\powershell.exe"), ("b", "C:\\rundll32.exe")]


def test_the_survey_does_not_call_the_table_an_orphan(copies, tmp_path):
    table = hunt.hunting_table(copies)
    found = survey.survey(tmp_path / "cache", [])
    assert table.parent not in found.orphans and found.orphans == []


# --- Un corpus que mezcla las formas de eventos de Windows ------------------------

SENTINEL = {
    "TimeGenerated": "2021-05-10T12:00:01Z",
    "Computer": "WORKSTATION5.theshire.local",
    "Channel": hunt.SYSMON,
    "EventID": 10,
    "EventData": json.dumps(
        {
            "SourceImage": "C:\\Windows\\System32\\rundll32.exe",
            "TargetImage": "C:\\Windows\\system32\\lsass.exe",
            "GrantedAccess": "0x1FFFFF",
        }
    ),
}
WINDOWS = {
    "@timestamp": "2020-09-20T16:16:09Z",
    "Hostname": "WS6.theshire.local",
    "Channel": hunt.SYSMON,
    "EventID": 10,
    "SourceImage": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "TargetImage": "C:\\Windows\\system32\\lsass.exe",
    "GrantedAccess": "0x1010",
}


WINLOGBEAT = {
    "@timestamp": "2019-05-18T20:36:46.254Z",
    "computer_name": "HFDC01.shire.com",
    "log_name": hunt.SYSMON,
    "event_id": 10,
    "record_number": "5402080",
    "event_data": {
        "SourceImage": "C:\\Windows\\system32\\wbem\\wmiprvse.exe",
        "TargetImage": "C:\\Windows\\system32\\lsass.exe",
        "GrantedAccess": "0x1410",
    },
}


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """Cinco formas: JSON de Windows, Parquet del taller, exportación de Sentinel
    en JSON y en un Parquet sin normalizar (copia ajena) y Winlogbeat sin procesar."""
    monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path / "cache"))
    found = {}
    shapes = [("windows_json", WINDOWS), ("sentinel_json", SENTINEL), ("winlogbeat", WINLOGBEAT)]
    for name, row in shapes:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(row) + "\n", encoding="utf-8")
        found[name] = path
    found["windows_parquet"] = tmp_path / "windows.parquet"
    pq.write_table(pa.Table.from_pylist([WINDOWS]), found["windows_parquet"])
    found["sentinel_parquet"] = tmp_path / "sentinel.parquet"
    pq.write_table(pa.Table.from_pylist([SENTINEL]), found["sentinel_parquet"])
    return found


def test_a_corpus_of_mixed_shapes_never_yields_empty_hunting_columns(mixed):
    with duckdb.connect() as con:
        hunt.duckdb_events(con, mixed)
        rows = con.execute(
            "SELECT dataset, channel, event_id, host, source_process, target_process, "
            "granted_access FROM events ORDER BY dataset"
        ).fetchall()
    assert [row[0] for row in rows] == sorted(mixed)
    for row in rows:
        assert None not in row, row
    by_name = {row[0]: row for row in rows}
    assert by_name["sentinel_parquet"][3:] == (
        "workstation5.theshire.local",
        "rundll32.exe",
        "lsass.exe",
        "0x1fffff",
    )
    assert by_name["sentinel_json"][3:] == by_name["sentinel_parquet"][3:]
    assert by_name["windows_json"][4] == "powershell.exe"
    assert by_name["winlogbeat"][3:] == ("hfdc01.shire.com", "wmiprvse.exe", "lsass.exe", "0x1410")


def test_the_hunting_table_of_a_mixed_corpus_keeps_every_host(mixed):
    table = pq.read_table(hunt.hunting_table(mixed))
    assert table["Hostname"].null_count == 0 and table["EventID"].null_count == 0


def test_a_table_that_is_not_windows_events_is_refused_by_name(mixed, tmp_path):
    cloud = tmp_path / "aad.json"
    cloud.write_text(json.dumps({"TimeGenerated": "x", "OperationName": "y"}) + "\n")
    with duckdb.connect() as con, pytest.raises(TallerError, match="«aad» .*OperationName"):
        hunt.duckdb_events(con, {**mixed, "aad": cloud})
