"""Las formas en que Security-Datasets publica sus datos, y la tabla de cada una.

`taller.load` da a cada forma un resultado definido:

==========================  =================================================
Lo que hay en el archivo    Resultado
==========================  =================================================
eventos de Windows en JSON  una fila por evento, tal cual (``@timestamp``,
Lines (Sysmon, Security…)   ``Hostname``, ``Channel``, ``EventID``…)
eventos tal como los envía  los mismos nombres: ``computer_name`` pasa a
Winlogbeat (``event_id``,   ``Hostname``, ``log_name`` a ``Channel``,
``event_data``...)          ``event_id`` a ``EventID``, ``record_number`` a
                            ``RecordNumber``, ``source_name`` a
                            ``SourceName``, ``message`` a ``Message``, y cada
                            campo de ``event_data`` a su propia columna
exportación de un área de   aplanada en las mismas columnas que los demás
trabajo de Log Analytics    eventos de Windows: ``Hostname`` (de
(Microsoft Sentinel):       ``Computer``), ``Channel`` (o ``EventLog``),
``Computer``,               ``EventID``, ``TimeGenerated`` (la hora del
``TimeGenerated`` y         evento, en UTC) y cada campo de ``EventData``
``EventData``               (un objeto JSON o el XML de Windows escrito como
                            texto) en su propia columna; ``EventData`` deja
                            de estar. ``EventData_dynamic`` (una lista sin
                            nombres de campo) se conserva entera, como texto:
                            sin nombres no hay columnas que crear. Un campo
                            que Log Analytics renombró por choque de tipos
                            (``ProcessId_dynamic``, ``Protocol_string``)
                            vuelve a su nombre
tablas de la nube (AWS,     los eventos que son, una fila por evento; un
Azure AD, Microsoft 365)    documento CloudTrail (``{"Records": [...]}``) o
y de Linux en JSON          una lista JSON (``[{...}, ...]``) se convierten
                            en una fila por elemento
registros de Zeek           un registro (``conn.log``, en TSV o en JSON) se
                            carga como la tabla que es; un archivo comprimido
                            con varios se rechaza con la lista de registros,
                            para cargarlos uno a uno
capturas de red (``.cap``,  se rechazan: no son tablas; el mensaje dice que
``.pcap``, ``.pcapng``)     se abren con Wireshark o tshark, o se convierten
                            en registros con Zeek
==========================  =================================================

La lectura del JSON Lines está en `taller.jsonlines`.
"""

import html
import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from taller import jsonlines
from taller.archive import CAPTURE_SUFFIXES

ZEEK_SUFFIXES = (".log",)
_XML_DATA = re.compile(r'<Data Name="([^"]+)"\s*>([^<]*)</Data>|<Data Name="([^"]+)"\s*/>')


def _explode_single_record_list(table: pa.Table) -> pa.Table:
    """``{"Records": [...]}`` en una línea: pyarrow da una fila; se pasa a una por objeto."""
    if table.num_rows != 1 or table.num_columns != 1:
        return table
    column_type = table.schema.field(0).type
    if not (pa.types.is_list(column_type) and pa.types.is_struct(column_type.value_type)):
        return table
    structs = pc.list_flatten(table.column(0)).combine_chunks()
    if len(structs) == 0:
        return table
    return pa.Table.from_struct_array(structs)


# --- Exportaciones de Log Analytics (Microsoft Sentinel) -----------------------


def is_log_analytics(names) -> bool:
    """¿Son las columnas de una exportación de eventos de Windows de Log Analytics?"""
    names = set(names)
    return (
        {"Computer", "TimeGenerated", "EventID"} <= names
        and bool(names & {"EventData", "EventData_dynamic"})
        and "Hostname" not in names
    )


def _event_data_object(text) -> dict:
    """Los campos de un ``EventData``: objeto JSON o XML de Windows; {} si no hay."""
    if not isinstance(text, str) or not text.strip():
        return {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    if stripped.startswith("<"):
        fields = {}
        for name, value, empty in _XML_DATA.findall(stripped):
            fields[name or empty] = html.unescape(value) if name else None
        return fields
    return {}


def _event_data_table(column: pa.ChunkedArray) -> tuple[pa.Table, bool]:
    """Una fila por evento con los campos de su ``EventData``, tipados por pyarrow, y
    si todo el contenido pasó a columnas (un ``<Data>`` sin ``Name`` no tiene nombre)."""
    lines, complete = [], True
    for text in column.to_pylist():
        fields = _event_data_object(text)
        if isinstance(text, str) and text.strip():
            complete = complete and bool(fields) and text.count("<Data") <= len(fields)
        lines.append(json.dumps(fields, ensure_ascii=False))
    content = "\n".join(lines).encode()
    try:
        return jsonlines.read_json_bytes(content), complete
    except (pa.ArrowException, jsonlines.MixedTypes):  # campos anidados de tipos mezclados: texto
        rows = [json.loads(line) for line in lines]
        names = list(dict.fromkeys(name for row in rows for name in row))
        return pa.table(
            {
                name: pa.array(
                    [None if row.get(name) is None else _as_text(row[name]) for row in rows],
                    pa.string(),
                )
                for name in names
            }
        ), complete


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _coalesce(first: pa.ChunkedArray, second: pa.ChunkedArray) -> pa.ChunkedArray:
    """El primer valor no nulo de las dos columnas; como texto si sus tipos difieren."""
    if first.type != second.type:
        first, second = _text_column(first), _text_column(second)
    return pc.coalesce(first, second)


def _text_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return column.cast(pa.string())
    except pa.ArrowException:
        return pa.chunked_array(
            [pa.array([None if v is None else _as_text(v) for v in column.to_pylist()])],
            pa.string(),
        )


def _flatten_log_analytics(table: pa.Table) -> pa.Table:
    names = table.column_names
    columns = {name: table.column(name) for name in names}
    order = list(names)
    order.insert(order.index("Computer") + 1, "Hostname")
    columns["Hostname"] = columns["Computer"]
    if "EventLog" in columns:  # tabla Event: el canal se llama EventLog
        if "Channel" in columns:
            columns["Channel"] = _coalesce(columns["Channel"], columns["EventLog"])
        else:
            order.insert(order.index("EventLog") + 1, "Channel")
            columns["Channel"] = columns["EventLog"]
    # Log Analytics renombra un campo cuyo tipo choca con otro (ProcessId_dynamic,
    # Protocol_string): vuelve a su nombre, o completa la columna que ya lo tiene.
    for name in list(order):
        base = name.removesuffix("_dynamic").removesuffix("_string")
        if base == name or base == "EventData":
            continue
        if base in columns:
            columns[base] = _coalesce(columns[base], columns.pop(name))
        else:
            columns[base] = columns.pop(name)
            order[order.index(name)] = base
            continue
        order.remove(name)
    for source in ("EventData", "EventData_string"):
        if source in columns and pa.types.is_string(columns[source].type):
            fields, complete = _event_data_table(columns[source])
            if complete:  # solo se quita si todo su contenido pasó a columnas
                columns.pop(source)
                order.remove(source)
            for name in fields.column_names:
                if name not in columns:  # el sobre manda: no se pisa ninguna columna
                    columns[name] = fields.column(name)
                    order.append(name)
    return pa.table({name: columns[name] for name in order})


# --- Winlogbeat sin procesar (conjuntos de 2019 en .tar.gz) --------------------

WINLOGBEAT_NAMES = {
    "computer_name": "Hostname",
    "log_name": "Channel",
    "event_id": "EventID",
    "record_number": "RecordNumber",
    "source_name": "SourceName",
    "message": "Message",
}


def is_winlogbeat(names) -> bool:
    """¿Eventos tal como los envía Winlogbeat (``event_id``, ``event_data``...)?"""
    names = set(names)
    return {"event_id", "computer_name", "log_name"} <= names and "EventID" not in names


def _flatten_winlogbeat(table: pa.Table) -> pa.Table:
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if name == "event_data" and pa.types.is_struct(column.type):
            continue  # sus campos van al final, cada uno en su columna
        new_name = WINLOGBEAT_NAMES.get(name, name)
        if new_name == "RecordNumber" and pa.types.is_string(column.type):
            try:
                column = column.cast(pa.int64())
            except pa.ArrowException:
                pass
        columns[new_name] = column
    if "event_data" in table.column_names:
        data = table.column("event_data")
        if pa.types.is_struct(data.type):
            for index in range(data.type.num_fields):
                field = data.type.field(index).name
                if field not in columns:  # el sobre manda: no se pisa ninguna columna
                    columns[field] = pc.struct_field(data, [index])
                else:
                    columns[f"event_data.{field}"] = pc.struct_field(data, [index])
    return pa.table(columns)


def normalize(table: pa.Table) -> pa.Table:
    """La tabla de la forma que tenga el archivo, en las columnas del taller."""
    table = _explode_single_record_list(table)
    if is_log_analytics(table.column_names):
        table = _flatten_log_analytics(table)
    elif is_winlogbeat(table.column_names):
        table = _flatten_winlogbeat(table)
    return table


# --- Lo que hay dentro de un archivo comprimido ---------------------------------


def _is_metadata(name: str) -> bool:
    """``__MACOSX/._x.json``: metadatos de macOS, no datos."""
    parts = name.replace("\\", "/").split("/")
    return parts[-1].startswith("._") or "__MACOSX" in parts


def zeek_logs(names) -> list[str]:
    """Los registros de Zeek (``*.log``) entre los archivos de un archivo comprimido."""
    return [
        name for name in names if name.lower().endswith(ZEEK_SUFFIXES) and not _is_metadata(name)
    ]


def refusal(label: str, names) -> str | None:
    """El motivo (en español) por el que un archivo comprimido no es una tabla; None si lo es.

    Se rechaza lo que no contiene ningún JSON pero sí varios registros de Zeek
    (una tabla por registro: hay que elegir cuál) o capturas de red.
    """
    names = [name for name in names if not _is_metadata(name)]
    if any(name.lower().endswith((".json", ".jsonl")) for name in names):
        return None
    logs = zeek_logs(names)
    if len(logs) > 1:
        shown = ", ".join(name.rsplit("/", 1)[-1] for name in logs)
        return (
            f"«{label}» contiene {len(logs)} registros de Zeek ({shown}), una tabla distinta "
            "en cada uno. Descomprímalo y cargue cada registro con "
            'taller.load("…/conn.log"): taller lee los registros de Zeek en TSV y en JSON. '
            "También los leen zeek-cut y las herramientas de Zeek."
        )
    captures = [name for name in names if name.lower().endswith(CAPTURE_SUFFIXES)]
    if captures:
        shown = ", ".join(name.rsplit("/", 1)[-1] for name in captures)
        return (
            f"«{label}» no contiene eventos JSON sino capturas de tráfico de red ({shown}). "
            "pandas no las lee: ábralas con Wireshark o tshark, o conviértalas en "
            "registros con Zeek (que taller.load sí carga)."
        )
    return None


# --- Registros de Zeek -----------------------------------------------------------


def is_zeek_tsv(head: bytes) -> bool:
    return head.startswith(b"#separator")


def zeek_tsv_table(content: bytes, label: str) -> pa.Table:
    """`read_zeek_tsv` como tabla de Arrow: pasa por la copia Parquet como un JSON."""
    return pa.Table.from_pandas(read_zeek_tsv(content, label), preserve_index=False)


def read_zeek_tsv(content: bytes, label: str):
    """Un registro de Zeek en TSV (cabeceras ``#fields``/``#types``) como DataFrame.

    ``-`` (sin valor) pasa a nulo y ``(empty)`` a texto vacío; ``ts`` a fecha
    UTC; los campos ``count``/``int``/``port`` a enteros y ``interval``/
    ``double`` a decimales; el resto, texto.
    """
    import io

    import pandas as pd

    from taller.errors import TallerError

    text = content.decode("utf-8", errors="replace")
    separator, fields, types = "\t", None, None
    body = []
    for line in text.splitlines():
        if line.startswith("#separator"):
            separator = line.split(" ", 1)[1].encode().decode("unicode_escape")
        elif line.startswith("#fields"):
            fields = line.split(separator)[1:]
        elif line.startswith("#types"):
            types = line.split(separator)[1:]
        elif not line.startswith("#") and line:
            body.append(line)
    if not fields:
        raise TallerError(f"«{label}» no tiene la cabecera #fields de un registro de Zeek.")
    frame = pd.read_csv(
        io.StringIO("\n".join(body)),
        sep=separator,
        names=fields,
        dtype=str,
        na_values=["-"],
        keep_default_na=False,
        quoting=3,
    )
    frame = frame.replace("(empty)", "")
    for name, kind in zip(fields, types or [], strict=False):
        if kind == "time":
            frame[name] = pd.to_datetime(frame[name].astype(float), unit="s", utc=True)
        elif kind in ("count", "int", "port"):
            frame[name] = pd.to_numeric(frame[name]).astype("Int64")
        elif kind in ("interval", "double"):
            frame[name] = pd.to_numeric(frame[name])
        elif kind == "bool":
            frame[name] = frame[name].map({"T": True, "F": False}).astype("boolean")
    return frame
