"""Hora del evento: los tres relojes de un registro de Windows en un solo eje UTC.

Los conjuntos de Security-Datasets con eventos de Windows llevan tres relojes
distintos, y solo dos dicen cuándo ocurrió algo:

=====================  ==============================  ===========  ==========
Campo                  Qué es                          Zona         Resolución
=====================  ==============================  ===========  ==========
``@timestamp``         cuando el recolector *recibió*  UTC          1 ms
                       el evento, no cuando ocurrió
``EventTime``          cuando Windows lo registró      hora local   1 s
                       (Security, System, PowerShell…)  del equipo
``UtcTime``            cuando Sysmon lo vio            UTC          1 ms
``TimeGenerated``      cuando Windows lo registró      UTC          según la
                       (exportación de Log Analytics)               fuente
=====================  ==============================  ===========  ==========

Tipos: las tres funciones devuelven fechas ``datetime64[ns, UTC]`` (o
duraciones ``timedelta64[ns]``) tanto con pandas 2.3 como con pandas 3, que
por sí solo leería microsegundos.

Ordenar o medir duraciones con ``@timestamp`` da resultados falsos: el retraso
de recepción cambia con el canal y con la carga (de décimas de segundo a
varios segundos), así que un evento que ocurrió después puede *llegar* antes.
En ``empire_psexec_dcerpc_tcp_svcctl`` el ``cmd.exe`` que lanza el servicio
del atacante (Sysmon 1, ``UtcTime`` 16:16:56.597) se recibe a las
16:16:57.114, y el inicio de sesión por red que lo hizo posible (4624,
``EventTime`` 12:16:56 en un equipo a UTC−4) se recibe a las 16:16:58.212:
por ``@timestamp`` el efecto va antes que la causa.

`event_time` devuelve la hora del evento en UTC para cada fila: ``UtcTime``
si la tiene (Sysmon, en milisegundos) y, si no, ``EventTime`` convertida a UTC
con el desfase de su equipo (en segundos: ``EventTime`` no tiene fracciones,
y Windows la trunca, de modo que el evento ocurrió dentro de ese segundo).
`clock_offsets` calcula ese desfase por ``Hostname``:

1. con los eventos del equipo que llevan ``UtcTime`` y ``EventTime`` (los de
   Sysmon): la mediana de ``EventTime − UtcTime``;
2. si el equipo no tiene ninguno (un controlador de dominio sin Sysmon), con
   ``EventTime − @timestamp``, que además incluye el retraso de recepción;

en los dos casos redondeada al cuarto de hora más próximo (los husos horarios
son múltiplos de 15 minutos), lo que absorbe ese retraso mientras sea menor
de 7,5 minutos. Un equipo sin ``EventTime`` o sin ninguna de esas parejas
queda sin desfase (``NaT``), y sus eventos sin hora (``NaT``).

Dentro de un mismo segundo, ``EventTime`` no ordena nada. Lo que sí ordena
los eventos de **un mismo canal de un mismo equipo** es su número de registro
(``RecordNumber``; ``EventRecordID`` en otros formatos); entre canales
distintos, solo la causalidad (el proceso 4688 con el mismo PID que el
Sysmon 1, por ejemplo) o un reloj más fino.

Límites: un solo desfase por equipo (un cambio de horario de verano dentro del
conjunto no se detecta) y se supone que el reloj del equipo estaba en hora.
"""

import pandas as pd

QUARTER_HOUR = pd.Timedelta(minutes=15)


def _hosts(df: pd.DataFrame) -> pd.Series:
    """El equipo de cada fila; sin columna ``Hostname``, todas son del mismo."""
    if "Hostname" in df:
        return df["Hostname"].astype("string").fillna("")
    return pd.Series("", index=df.index, dtype="string")


def _utc_time(df: pd.DataFrame) -> pd.Series:
    """``UtcTime`` de Sysmon como fecha UTC (``NaT`` donde no hay)."""
    if "UtcTime" not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    column = df["UtcTime"]
    if pd.api.types.is_datetime64_any_dtype(column):
        if column.dt.tz is None:
            return column.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    parsed = pd.to_datetime(column.astype("string"), utc=True, format="ISO8601", errors="coerce")
    return parsed.astype("datetime64[ns, UTC]")


def _local_time(df: pd.DataFrame) -> pd.Series:
    """``EventTime`` como fecha sin zona: la hora local del equipo (``NaT`` si falta)."""
    if "EventTime" not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    column = df["EventTime"]
    if not pd.api.types.is_datetime64_any_dtype(column):
        column = pd.to_datetime(column.astype("string"), format="ISO8601", errors="coerce")
    if (
        column.dt.tz is not None
    ):  # alguien la marcó con una zona: nos quedamos con la hora de reloj
        column = column.dt.tz_localize(None)
    return column.astype("datetime64[ns]")


def _utc_column(df: pd.DataFrame, name: str) -> pd.Series:
    """La columna de fechas `name` en UTC, con resolución de nanosegundos (``NaT`` si falta)."""
    if name not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    column = df[name]
    if not pd.api.types.is_datetime64_any_dtype(column) or column.dt.tz is None:
        column = pd.to_datetime(column, utc=True, format="ISO8601", errors="coerce")
    return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def _received_time(df: pd.DataFrame) -> pd.Series:
    """``@timestamp``: la marca de tiempo de recepción."""
    return _utc_column(df, "@timestamp")


def _generated_time(df: pd.DataFrame) -> pd.Series:
    """``TimeGenerated`` de Log Analytics: la hora del evento en UTC."""
    return _utc_column(df, "TimeGenerated")


def _rounded_median(differences: pd.Series, hosts: pd.Series) -> pd.Series:
    """Mediana por equipo de ``hora local − UTC``, redondeada al cuarto de hora."""
    known = differences.notna()
    if not known.any():
        return pd.Series(dtype="timedelta64[ns]")
    medians = differences[known].groupby(hosts[known]).median()
    return medians.dt.round(QUARTER_HOUR)


def clock_offsets(df: pd.DataFrame) -> pd.Series:
    """Desfase de la hora local de cada equipo respecto a UTC (hora local − UTC).

    Devuelve una `Series` de duraciones (``timedelta64[ns]``) con un valor por
    cada ``Hostname`` de `df`, llamada ``offset``: ``-4 h`` para un equipo a
    UTC−4, ``NaT`` si no se puede saber. La hora UTC de un ``EventTime`` es
    ``EventTime − offset``. El método (parejas ``UtcTime``/``EventTime`` y, si
    no hay, ``@timestamp``/``EventTime``, redondeado al cuarto de hora) está
    en la documentación del módulo.
    """
    hosts = _hosts(df)
    local = _local_time(df)
    local_utc = local.dt.tz_localize("UTC")
    from_sysmon = _rounded_median(local_utc - _utc_time(df), hosts)
    from_receipt = _rounded_median(local_utc - _received_time(df), hosts)
    offsets = from_sysmon.combine_first(from_receipt)
    every_host = pd.Index(hosts.unique(), name="Hostname")
    return offsets.reindex(every_host).astype("timedelta64[ns]").rename("offset")


def event_time(df: pd.DataFrame) -> pd.Series:
    """Cuándo ocurrió cada evento, en UTC: una `Series` alineada con ``df.index``.

    ``UtcTime`` (Sysmon, milisegundos) si la fila la tiene; si no, ``EventTime``
    (hora local del equipo, segundos) menos el desfase de su ``Hostname``
    según `clock_offsets`; si tampoco, ``TimeGenerated`` (exportaciones de Log
    Analytics, ya en UTC); ``NaT`` si no hay forma de saberlo. El tipo es
    ``datetime64[ns, UTC]``. Véase la documentación del módulo para saber por
    qué no se usa ``@timestamp`` y qué puede ordenar cada reloj.
    """
    hosts = _hosts(df)
    offsets = hosts.map(clock_offsets(df)).astype("timedelta64[ns]")
    from_event_time = (_local_time(df) - offsets).dt.tz_localize("UTC")
    result = _utc_time(df).fillna(from_event_time).fillna(_generated_time(df))
    return result.astype("datetime64[ns, UTC]").rename("event_time")
