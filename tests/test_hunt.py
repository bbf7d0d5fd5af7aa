"""La tabla de caza del cuaderno 09 (`taller.hunt.hunting_table`) tampoco miente.

Con dos copias Parquet pequeñas hechas en tmp_path: la tabla se construye una
vez y se reutiliza; si se daña o cambia una copia de origen, se rehace (y se
avisa del daño); `verificar` no la cuenta como un resto huérfano.
"""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taller import cache, hunt


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
    found = cache.survey(tmp_path / "cache", [])
    assert table.parent not in found.orphans and found.orphans == []
