"""Hora del evento (`taller.event_time`) y desfase de cada equipo (`taller.clock_offsets`).

Capa unit: tablas pequeñas hechas aquí, con los tipos que produce `taller.load`
(``EventTime`` sin zona y en segundos, ``UtcTime`` como texto, ``@timestamp``
en UTC). Capa data: el orden real de la historia de PsExec en
``empire_psexec_dcerpc_tcp_svcctl``, calculado como en los cuadernos 03 a 05.
"""

import pandas as pd
import pytest

import taller

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def frame(rows, index=None):
    """Una tabla con las columnas y los tipos de `taller.load`."""
    df = pd.DataFrame(rows, index=index)
    df["EventTime"] = pd.to_datetime(df["EventTime"]).astype("datetime64[s]")
    if "UtcTime" in df:
        df["UtcTime"] = df["UtcTime"].astype("string[pyarrow]")
    if "@timestamp" in df:
        df["@timestamp"] = pd.to_datetime(df["@timestamp"], utc=True, format="ISO8601")
    return df


def utc(text):
    return pd.Timestamp(text, tz="UTC")


# Un equipo a UTC−4: un evento de Sysmon (con las dos horas) y un 4624 (solo EventTime).
HOST_MINUS_4 = [
    {
        "Hostname": "ws6",
        "Channel": SYSMON,
        "EventID": 1,
        "UtcTime": "2020-09-20 16:16:56.597",
        "EventTime": "2020-09-20 12:16:56",
        "@timestamp": "2020-09-20T16:16:57.114Z",
    },
    {
        "Hostname": "ws6",
        "Channel": "Security",
        "EventID": 4624,
        "UtcTime": None,
        "EventTime": "2020-09-20 12:16:56",
        "@timestamp": "2020-09-20T16:16:58.212Z",
    },
]


def test_sysmon_keeps_milliseconds_and_security_is_moved_to_utc():
    df = frame(HOST_MINUS_4)
    times = taller.event_time(df)
    assert str(times.dtype) == "datetime64[ns, UTC]"
    assert times.tolist() == [utc("2020-09-20 16:16:56.597"), utc("2020-09-20 16:16:56")]


def test_received_order_is_not_event_order():
    df = frame(HOST_MINUS_4)
    times = taller.event_time(df)
    # Por @timestamp el proceso llega antes que el inicio de sesión...
    assert df["@timestamp"].iloc[0] < df["@timestamp"].iloc[1]
    # ...pero por hora del evento los dos caen en el mismo segundo, 16:16:56.
    assert times.dt.floor("s").nunique() == 1


def test_offset_rounds_to_the_quarter_hour():
    rows = [
        # EventTime se trunca al segundo: EventTime − UtcTime vale −4 h −0,9 s.
        {
            "Hostname": "ws6",
            "UtcTime": "2020-09-20 16:16:06.900",
            "EventTime": "2020-09-20 12:16:06",
            "@timestamp": "2020-09-20T16:16:09Z",
        },
        {
            "Hostname": "ws6",
            "UtcTime": "2020-09-20 16:16:07.100",
            "EventTime": "2020-09-20 12:16:08",
            "@timestamp": "2020-09-20T16:16:09Z",
        },
        # Un equipo a UTC+5:30 (India): los husos van de cuarto en cuarto de hora.
        {
            "Hostname": "in1",
            "UtcTime": "2020-09-20 16:16:06.400",
            "EventTime": "2020-09-20 21:46:06",
            "@timestamp": "2020-09-20T16:16:09Z",
        },
    ]
    offsets = taller.clock_offsets(frame(rows))
    assert offsets.name == "offset"
    assert offsets["ws6"] == pd.Timedelta(hours=-4)
    assert offsets["in1"] == pd.Timedelta(hours=5, minutes=30)


def test_host_without_sysmon_uses_receipt_time():
    # Un controlador de dominio sin Sysmon: EventTime − @timestamp, con 3,4 s de retraso.
    rows = [
        {
            "Hostname": "dc",
            "Channel": "Security",
            "EventTime": "2020-09-20 12:16:56",
            "@timestamp": "2020-09-20T16:16:59.400Z",
        },
        {
            "Hostname": "dc",
            "Channel": "Security",
            "EventTime": "2020-09-20 12:17:10",
            "@timestamp": "2020-09-20T16:17:11.900Z",
        },
    ]
    df = frame(rows)
    assert taller.clock_offsets(df)["dc"] == pd.Timedelta(hours=-4)
    assert taller.event_time(df).tolist() == [
        utc("2020-09-20 16:16:56"),
        utc("2020-09-20 16:17:10"),
    ]


def test_hosts_are_not_mixed():
    rows = HOST_MINUS_4 + [
        {
            "Hostname": "madrid",
            "Channel": SYSMON,
            "EventID": 1,
            "UtcTime": "2020-09-20 16:16:56.000",
            "EventTime": "2020-09-20 18:16:56",
            "@timestamp": "2020-09-20T16:16:57Z",
        },
        {
            "Hostname": "madrid",
            "Channel": "Security",
            "EventID": 4624,
            "UtcTime": None,
            "EventTime": "2020-09-20 18:20:00",
            "@timestamp": "2020-09-20T16:20:02Z",
        },
    ]
    df = frame(rows)
    offsets = taller.clock_offsets(df)
    assert offsets.to_dict() == {"ws6": pd.Timedelta(hours=-4), "madrid": pd.Timedelta(hours=2)}
    assert taller.event_time(df).iloc[3] == utc("2020-09-20 16:20:00")


def test_unknown_is_nat_and_index_is_kept():
    rows = [
        # Sin UtcTime, sin @timestamp y sin otro evento del equipo con dos relojes.
        {
            "Hostname": "lonely",
            "Channel": "Security",
            "EventTime": "2020-09-20 12:00:00",
            "UtcTime": None,
        },
        # Sin EventTime ni UtcTime.
        {"Hostname": "ws6", "Channel": "Security", "EventTime": None, "UtcTime": None},
        {
            "Hostname": "ws6",
            "Channel": SYSMON,
            "EventTime": "2020-09-20 12:16:56",
            "UtcTime": "2020-09-20 16:16:56.597",
        },
    ]
    df = frame(rows, index=[30, 10, 20])
    times = taller.event_time(df)
    assert times.index.tolist() == [30, 10, 20]
    assert times.isna().tolist() == [True, True, False]
    assert pd.isna(taller.clock_offsets(df)["lonely"])


def test_text_columns_and_no_hostname():
    # EventTime como texto (otro cargador) y sin columna Hostname: un solo equipo.
    df = pd.DataFrame(
        {
            "EventTime": ["2020-09-20 12:16:56", "2020-09-20 12:16:57"],
            "UtcTime": ["2020-09-20 16:16:56.500", None],
        }
    )
    assert taller.event_time(df).tolist() == [
        utc("2020-09-20 16:16:56.500"),
        utc("2020-09-20 16:16:57"),
    ]


def test_frames_without_clock_columns():
    df = pd.DataFrame({"Hostname": ["a"], "EventID": [1]})
    assert taller.event_time(df).isna().all()
    assert taller.clock_offsets(df).isna().all()


# --- Capa data: la historia de PsExec en su orden real ---

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"


@pytest.fixture(scope="module")
def events(mirror_root, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALLER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("TALLER_BASE_URL", str(mirror_root))
        df = taller.load(PSEXEC)
    return df.assign(event_time=taller.event_time(df))


def psexec_story(events):
    """Los hitos del movimiento lateral en WORKSTATION6, como los ordenan los cuadernos.

    El archivo ya viene en orden de número de registro dentro de cada canal; se
    ordena por hora del evento de forma estable, así que los empates del mismo
    segundo conservan ese orden.
    """
    victim = events["Hostname"].str.startswith("WORKSTATION6")
    channel = events["Channel"].str.lower()
    is_logon = (events["EventID"] == 4624) & events["IpAddress"].eq("172.18.39.5").fillna(False)
    is_service = events["EventID"].isin([4697, 7045])
    is_process = ((channel == "security") & (events["EventID"] == 4688)) | (
        (channel == SYSMON.lower()) & (events["EventID"] == 1)
    )
    image = events["NewProcessName"].fillna(events["Image"]).str.lower()
    launched = image.str.endswith(("\\cmd.exe", "\\powershell.exe", "\\conhost.exe"), na=False)
    story = events[victim & (is_logon | is_service | (is_process & launched))]
    story = story[story["event_time"] < pd.Timestamp("2020-09-20 16:17:00", tz="UTC")]
    return story.sort_values("event_time", kind="stable")


def test_psexec_story_in_event_time_order(events):
    story = psexec_story(events)
    ids = story["EventID"].tolist()
    assert ids == [4624, 4697, 4688, 4688, 4688, 7045, 1, 1, 1]
    # Security (1 s): todo en el segundo 16:16:56 UTC; el orden lo da RecordNumber.
    seconds = story.loc[story["EventID"] != 1, "event_time"].unique()
    assert seconds.tolist() == [pd.Timestamp("2020-09-20 16:16:56", tz="UTC")]
    security = story[story["Channel"].str.lower() == "security"]
    assert security["RecordNumber"].is_monotonic_increasing
    # Sysmon (ms): cmd.exe → powershell.exe → conhost.exe dentro de ese mismo segundo.
    sysmon = story[story["EventID"] == 1]
    assert sysmon["event_time"].dt.strftime("%H:%M:%S.%f").str[:12].tolist() == [
        "16:16:56.597",
        "16:16:56.620",
        "16:16:56.658",
    ]
    assert sysmon["Image"].str.lower().str.rsplit("\\", n=1).str[-1].tolist() == [
        "cmd.exe",
        "powershell.exe",
        "conhost.exe",
    ]


def test_psexec_receipt_order_is_wrong(events):
    story = psexec_story(events)
    logon = story[story["EventID"] == 4624].iloc[0]
    cmd = story[(story["EventID"] == 1)].iloc[0]
    # La trampa del issue 10: por @timestamp el efecto llega antes que la causa.
    assert cmd["@timestamp"] < logon["@timestamp"]
    assert str(cmd["UtcTime"]) == "2020-09-20 16:16:56.597"
    assert cmd["@timestamp"] == pd.Timestamp("2020-09-20 16:16:57.114", tz="UTC")
    assert logon["@timestamp"] == pd.Timestamp("2020-09-20 16:16:58.212", tz="UTC")
    assert logon["EventTime"] == pd.Timestamp("2020-09-20 12:16:56")


def test_psexec_service_registry_precedes_its_process(events):
    """Sysmon ve crear la clave del servicio en el registro (ms) antes de que nazca su cmd.exe."""
    sysmon = events[events["Channel"] == SYSMON]
    service_key = sysmon["TargetObject"].str.contains(r"\\Services\\Updater", na=False)
    cmd = (sysmon["EventID"] == 1) & sysmon["Image"].str.endswith("cmd.exe", na=False)
    assert sysmon.loc[service_key, "event_time"].min() < sysmon.loc[cmd, "event_time"].min()


def test_psexec_offsets_and_lags(events):
    offsets = taller.clock_offsets(events)
    assert set(offsets) == {pd.Timedelta(hours=-4)}
    assert len(offsets) == events["Hostname"].nunique()
    assert events["event_time"].notna().all()
    lag = (events["@timestamp"] - events["event_time"]).dt.total_seconds()
    by_channel = lag.groupby(events["Channel"].str.lower()).mean()
    # Security llega más tarde que PowerShell clásico; nadie pasa de 4 s.
    assert by_channel["security"] > by_channel["windows powershell"]
    assert lag.max() < 4
