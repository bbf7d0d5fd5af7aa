"""Tipos que se combinan y cada forma de Security-Datasets, con archivos hechos aquí.

Los tipos: ``(df["EventID"] == 4624) & (df["IpAddress"] == "x")`` en los dos
órdenes, con ``|`` y con ``~``, sobre datos cargados con `taller.load`, igual
con pandas 2.3 que con pandas 3 (el trabajo de compatibilidad de la CI corre
este archivo con la última versión de pandas 3).

Las formas (véase `taller.shapes`): exportaciones de Log Analytics (Microsoft
Sentinel) con ``EventData`` en JSON, en XML o como lista sin nombres;
tablas de la nube y de Linux; CloudTrail; registros de Zeek; capturas de red.
Cada una, como un pequeño archivo sintético en tmp_path.
"""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import taller
from taller import loader, shapes
from taller.errors import TallerError


def lines(rows) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode() + b"\n"


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def zipped(path, members: dict):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


LOGONS = [
    {"@timestamp": "2020-09-20T16:16:09.362Z", "EventID": 4624, "IpAddress": "172.18.39.5",
     "LogonType": "3", "ProcessId": "0x1f4", "Hostname": "WS5"},
    {"@timestamp": "2020-09-20T16:16:10.000Z", "EventID": 4624, "IpAddress": "-",
     "LogonType": "10", "Hostname": "WS5"},
    {"@timestamp": "2020-09-20T16:16:11.000Z", "EventID": 4688, "IpAddress": "172.18.39.5",
     "ProcessId": "500", "Hostname": "WS6"},
    {"@timestamp": "2020-09-20T16:16:12.000Z", "EventID": 1, "Image": "C:\\cmd.exe",
     "Hostname": "WS6"},
]  # fmt: skip


@pytest.fixture
def events(tmp_path):
    return taller.load(write(tmp_path / "logons.json", lines(LOGONS)))


# --- Tipos que se combinan --------------------------------------------------------


def test_documented_dtypes(events):
    assert events["EventID"].dtype == "Int64"
    assert events["LogonType"].dtype == "Int64"
    assert events["ProcessId"].tolist()[:1] == [500] and events["ProcessId"].dtype == "Int64"
    assert events["IpAddress"].dtype == loader.TEXT == pd.StringDtype("pyarrow", na_value=np.nan)
    assert str(events["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert events["IpAddress"].isna().tolist() == [False, False, False, True]


def test_and_in_both_orders(events):
    logon, source = events["EventID"] == 4624, events["IpAddress"] == "172.18.39.5"
    assert events[logon & source].index.tolist() == [0]
    assert events[source & logon].index.tolist() == [0]
    assert (logon & source).tolist() == (source & logon).tolist()


def test_or_and_not_in_both_orders(events):
    logon, source = events["EventID"] == 4624, events["IpAddress"] == "172.18.39.5"
    assert events[logon | source].index.tolist() == [0, 1, 2]
    assert events[source | logon].index.tolist() == [0, 1, 2]
    assert events[~logon & source].index.tolist() == [2]
    assert events[source & ~logon].index.tolist() == [2]
    assert events[~source & logon].index.tolist() == [1]
    assert events[logon & ~source].index.tolist() == [1]
    assert events[~(logon | source)].index.tolist() == [3]


def test_a_missing_text_compares_false_without_na_false(events):
    """El hueco de ``IpAddress`` (fila 3) no hace fallar ni ``==`` ni ``.str``."""
    assert (events["IpAddress"] == "-").tolist() == [False, True, False, False]
    contains = events["IpAddress"].str.contains("172")
    assert contains.dtype == bool and contains.tolist() == [True, False, True, False]
    assert events[events["Image"].str.endswith("cmd.exe")].index.tolist() == [3]


def test_masks_with_a_missing_integer_are_false_when_filtering(tmp_path):
    rows = [{"EventID": 4624, "IpAddress": "x"}, {"IpAddress": "x"}]
    df = taller.load(write(tmp_path / "hueco.json", lines(rows)))
    mask = (df["EventID"] == 4624) & (df["IpAddress"] == "x")
    assert df[mask].index.tolist() == [0]
    assert df[(df["IpAddress"] == "x") & ~(df["EventID"] == 4624)].index.tolist() == []


def test_timestamps_are_nanoseconds_and_the_windows_zero_is_nat(tmp_path):
    rows = [
        {"@timestamp": "2020-09-20T16:16:09.362Z", "TimeGenerated": "1601-01-01T00:00:00Z"},
        {"@timestamp": "2020-09-20T16:16:09.362123Z", "TimeGenerated": "2021-08-02T13:09:20Z"},
    ]
    df = taller.load(write(tmp_path / "cero.json", lines(rows)))
    assert str(df["TimeGenerated"].dtype) == "datetime64[ns, UTC]"
    assert df["TimeGenerated"].isna().tolist() == [True, False]
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df["@timestamp"].iloc[1].microsecond == 362123


def test_other_out_of_range_dates_leave_the_column_as_text(tmp_path):
    rows = [{"@timestamp": "9999-12-31T00:00:00Z"}, {"@timestamp": "2020-09-20T16:16:09Z"}]
    df = taller.load(write(tmp_path / "nunca.json", lines(rows)))
    assert df["@timestamp"].dtype == loader.TEXT
    assert df["@timestamp"].tolist()[0] == "9999-12-31T00:00:00Z"


def test_event_ids_written_as_text_in_a_few_events_are_still_integers(tmp_path):
    rows = [{"EventID": 10, "Channel": "Microsoft-Windows-Sysmon/Operational"}] * 50
    rows += [{"EventID": "1000", "Channel": "Application"}]
    df = taller.load(write(tmp_path / "application.json", lines(rows)))
    assert df["EventID"].dtype == "Int64" and df["EventID"].iloc[-1] == 1000


def test_integers_beyond_64_bits_become_text_never_float(tmp_path):
    rows = [{"Key": 1, "Other": 2}, {"Key": 18446744073709551615, "Other": 3}]
    df = taller.load(write(tmp_path / "grande.json", lines(rows)))
    assert df["Key"].tolist() == ["1", "18446744073709551615"]
    assert df["Other"].dtype == "Int64"


# --- Exportaciones de Log Analytics (Microsoft Sentinel) ----------------------------

ENVELOPE = {
    "TenantId": "00000000-0000-0000-0000-000000000000",
    "SourceSystem": "OpsManager",
    "Computer": "WORKSTATION5.theshire.local",
    "Channel": "Microsoft-Windows-Sysmon/Operational",
    "Type": "Event",
}


def sentinel_rows():
    first = dict(ENVELOPE, TimeGenerated="2021-05-10T12:00:01.5Z", EventID=10)
    first["EventData"] = json.dumps(
        {
            "UtcTime": "2021-05-10 12:00:01.123",
            "SourceImage": "C:\\Windows\\System32\\rundll32.exe",
            "TargetImage": "C:\\Windows\\system32\\lsass.exe",
            "GrantedAccess": "0x1FFFFF",
            "SourceProcessId": "4242",
        }
    )
    second = dict(ENVELOPE, TimeGenerated="2021-05-10T12:00:02Z", EventID=1)
    second["EventData"] = json.dumps({"Image": "C:\\Windows\\System32\\cmd.exe"})
    third = dict(ENVELOPE, TimeGenerated="2021-05-10T12:00:03Z", EventID="1000")
    third.update(Channel="Application", EventData=None)
    return [first, second, third]


def test_a_log_analytics_export_is_flattened_into_the_windows_columns(tmp_path):
    df = taller.load(write(tmp_path / "sentinel.json", lines(sentinel_rows())))
    assert df["Hostname"].tolist() == ["WORKSTATION5.theshire.local"] * 3
    assert df["Channel"].tolist()[:2] == ["Microsoft-Windows-Sysmon/Operational"] * 2
    assert df["EventID"].dtype == "Int64" and df["EventID"].tolist() == [10, 1, 1000]
    assert df["TargetImage"].iloc[0] == "C:\\Windows\\system32\\lsass.exe"
    assert df["GrantedAccess"].iloc[0] == "0x1FFFFF"
    assert df["SourceProcessId"].dtype == "Int64" and df["SourceProcessId"].iloc[0] == 4242
    assert df["Image"].iloc[1].endswith("cmd.exe")
    assert "EventData" not in df
    times = taller.event_time(df)
    assert times.iloc[0] == pd.Timestamp("2021-05-10 12:00:01.123", tz="UTC")  # UtcTime
    assert times.iloc[2] == pd.Timestamp("2021-05-10 12:00:03", tz="UTC")  # TimeGenerated


def test_a_log_analytics_export_with_xml_event_data(tmp_path):
    row = dict(ENVELOPE, TimeGenerated="2021-05-10T12:00:01Z", EventID=4624, Channel=None)
    del row["Channel"]
    row["EventLog"] = "Security"
    row["EventData"] = (
        '<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'
        '<Data Name="TargetUserName">pgustavo</Data><Data Name="LogonType">3</Data>'
        '<Data Name="IpAddress">172.18.39.5</Data><Data Name="Empty" /></EventData>'
    )
    df = taller.load(write(tmp_path / "xml.json", lines([row])))
    assert df["Channel"].tolist() == ["Security"] and df["Hostname"].notna().all()
    assert df["LogonType"].tolist() == [3] and df["IpAddress"].tolist() == ["172.18.39.5"]
    assert df[(df["EventID"] == 4624) & (df["TargetUserName"] == "pgustavo")].shape[0] == 1


def test_an_unnamed_event_data_array_is_kept_whole(tmp_path):
    row = dict(ENVELOPE, TimeGenerated="2021-08-02T13:09:20.04Z", EventID=412, Channel="Security")
    row["EventData_dynamic"] = json.dumps(["00000000", "http://schemas.example/claims", "-"])
    archive = zipped(tmp_path / "WindowsEvents.Zip", {"WindowsEvents.json": lines([row])})
    df = taller.load(archive)
    assert df["Hostname"].tolist() == [ENVELOPE["Computer"]]
    assert json.loads(df["EventData_dynamic"].iloc[0])[1] == "http://schemas.example/claims"


# --- Nube y Linux -------------------------------------------------------------------


def test_cloud_tables_are_loaded_as_the_events_they_are(tmp_path):
    rows = [
        {"TimeGenerated": "2021-08-02T13:29:25.983Z", "OperationName": "Update application",
         "InitiatedBy": '{"user": {"userPrincipalName": "pgustavo@simulandlabs.com"}}',
         "Level": "4"},
        {"TimeGenerated": "2021-08-02T13:30:00Z", "OperationName": "Add service principal",
         "Level": "4"},
    ]  # fmt: skip
    df = taller.load(zipped(tmp_path / "AADAuditEvents.Zip", {"AADAuditEvents.json": lines(rows)}))
    assert df.shape == (2, 4) and str(df["TimeGenerated"].dtype) == "datetime64[ns, UTC]"
    assert "Hostname" not in df and df["OperationName"].dtype == loader.TEXT


def test_linux_syslog_from_log_analytics_is_not_mistaken_for_windows(tmp_path):
    rows = [
        {"TimeGenerated": "2020-11-10T07:48:12Z", "Computer": "UBUNTU5", "Facility": "authpriv",
         "SyslogMessage": "arp -a", "ProcessID": 2412},
    ]  # fmt: skip
    df = taller.load(write(tmp_path / "sh_arp_cache.json", lines(rows)))
    assert list(df.columns) == ["TimeGenerated", "Computer", "Facility", "SyslogMessage",
                                "ProcessID"]  # fmt: skip
    assert df["ProcessID"].tolist() == [2412]


@pytest.mark.parametrize("pretty", [False, True])
def test_a_cloudtrail_document_becomes_one_row_per_record(tmp_path, pretty):
    records = [
        {"eventTime": "2020-09-14T00:50:11Z", "eventName": "ListBuckets",
         "sourceIPAddress": "1.2.3.4", "userIdentity": {"type": "AssumedRole"}},
        {"eventTime": "2020-09-14T00:50:13Z", "eventName": "GetObject",
         "sourceIPAddress": "1.2.3.4", "userIdentity": {"type": "AssumedRole"}},
    ]  # fmt: skip
    text = json.dumps({"Records": records}, indent=2 if pretty else None)
    df = taller.load(write(tmp_path / "cloudtrail.json", text.encode()))
    assert df["eventName"].tolist() == ["ListBuckets", "GetObject"]
    assert df["userIdentity"].iloc[0] == {"type": "AssumedRole"}


def test_a_json_array_of_events(tmp_path):
    text = json.dumps([{"EventID": 1, "Image": "a.exe"}, {"EventID": 2}], indent=1)
    df = taller.load(write(tmp_path / "lista.json", text.encode()))
    assert df["EventID"].tolist() == [1, 2] and df["EventID"].dtype == "Int64"


# --- Zeek y capturas de red ------------------------------------------------------------

ZEEK_TSV = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
    "#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tproto\tservice\tduration\n"
    "#types\ttime\tstring\taddr\tport\tenum\tstring\tinterval\n"
    "1600618568.123456\tCx1\t172.18.39.5\t49730\ttcp\t-\t0.5\n"
    "1600618569.000000\tCx2\t172.18.39.6\t445\ttcp\tsmb\t(empty)\n"
    "#close\t2020-09-20-16-20-00\n"
)


def test_a_zeek_tsv_log_is_a_table(tmp_path):
    df = taller.load(write(tmp_path / "conn.log", ZEEK_TSV.encode()))
    assert df.shape == (2, 7) and df["id.orig_p"].tolist() == [49730, 445]
    assert pd.isna(df["service"].iloc[0]) and df["service"].iloc[1] == "smb"
    assert str(df["ts"].dtype).startswith("datetime64") and df["ts"].dt.year.tolist() == [2020] * 2


def test_a_zeek_json_log_and_an_archive_with_a_single_log(tmp_path):
    rows = [{"ts": 1600618568.12, "uid": "Cx1", "query": "theshire.local", "qtype": 1}]
    df = taller.load(write(tmp_path / "dns.log", lines(rows)))
    assert df["query"].tolist() == ["theshire.local"]
    single = zipped(tmp_path / "uno.zip", {"zeek/conn.log": ZEEK_TSV})
    assert taller.load(single)["uid"].tolist() == ["Cx1", "Cx2"]


def test_an_archive_with_several_zeek_logs_is_refused_naming_them(tmp_path):
    archive = zipped(
        tmp_path / "NASHUA-zeek_logs.zip",
        {"conn.log": ZEEK_TSV, "dns.log": lines([{"ts": 1.0}]), "http.log": ZEEK_TSV},
    )
    with pytest.raises(TallerError) as error:
        taller.load(archive)
    message = str(error.value)
    assert "3 registros de Zeek (conn.log, dns.log, http.log)" in message
    assert "zeek-cut" in message and 'taller.load("…/conn.log")' in message


def test_a_capture_archive_is_refused_naming_the_tools(tmp_path):
    archive = zipped(tmp_path / "pcaps.zip", {"NASHUA.pcapng": b"\x0a\x0d\x0d\x0a"})
    with pytest.raises(TallerError) as error:
        taller.load(archive)
    message = str(error.value)
    assert "capturas de tráfico de red (NASHUA.pcapng)" in message
    assert all(tool in message for tool in ("Wireshark", "tshark", "Zeek"))


def test_refusal_is_only_for_archives_without_events():
    assert shapes.refusal("x", ["a.json", "b.pcap"]) is None
    assert shapes.refusal("x", ["conn.log"]) is None  # un solo registro: se carga
    assert "capturas" in shapes.refusal("x", ["__MACOSX/._a.json", "a.cap"])


def test_raw_winlogbeat_events_get_the_windows_columns(tmp_path):
    rows = [
        {"@timestamp": "2019-05-18T20:36:46.254Z", "computer_name": "HFDC01.shire.com",
         "log_name": "Microsoft-Windows-Sysmon/Operational", "event_id": 3,
         "record_number": "5402080", "source_name": "Microsoft-Windows-Sysmon",
         "event_data": {"Image": "C:\\Windows\\System32\\svchost.exe", "ProcessId": "292"}},
        {"@timestamp": "2019-05-18T20:36:47Z", "computer_name": "HFDC01.shire.com",
         "log_name": "Security", "event_id": 4624, "record_number": "17",
         "event_data": {"LogonType": "3", "IpAddress": "172.18.39.5"}},
    ]  # fmt: skip
    df = taller.load(write(tmp_path / "winlogbeat.json", lines(rows)))
    assert df["Hostname"].tolist() == ["HFDC01.shire.com"] * 2
    assert df["Channel"].tolist()[1] == "Security" and df["EventID"].tolist() == [3, 4624]
    assert df["RecordNumber"].dtype == "Int64" and df["ProcessId"].tolist()[0] == 292
    assert df[(df["EventID"] == 4624) & (df["IpAddress"] == "172.18.39.5")].index.tolist() == [1]
    assert "event_data" not in df and "event_id" not in df
