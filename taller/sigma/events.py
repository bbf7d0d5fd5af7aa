"""Los eventos de los conjuntos de Windows en una tabla Parquet para los dos motores."""

import hashlib
import json
import os
from pathlib import Path

from taller import catalog
from taller.sigma.rules import sigma_cache

# --- Los eventos: una tabla para los dos motores --------------------------------

# Algunos conjuntos se grabaron con Winlogbeat: los campos del evento vienen
# dentro de «event_data» y el canal, el identificador y el equipo con otros
# nombres. La tabla los pone todos con los nombres de Windows.
NESTED = ("event_data", "user_data")
ALIASES = {"log_name": "Channel", "event_id": "EventID", "computer_name": "Hostname"}


def windows_hosts() -> list:
    """Conjuntos de equipo Windows del catálogo (``atomic/windows/*/host``)."""
    return [
        entry
        for entry in catalog.datasets().values()
        if entry.path.startswith("datasets/atomic/windows/")
        and "/host/" in entry.path
        and not entry.is_capture
    ]


def cached_hosts() -> list:
    """Los conjuntos de `windows_hosts` que ya están en la caché."""
    return [entry for entry in windows_hosts() if entry.archive_path.exists()]


def _source_columns(schema) -> list[tuple[str, str | None]]:
    """(nombre de Windows, ruta en el Parquet) de cada columna de texto o número."""
    import pyarrow as pa

    found = []
    for name, kind in zip(schema.names, schema.types, strict=True):
        if name in NESTED and pa.types.is_struct(kind):
            found += [(child.name, f"{name}.{child.name}") for child in kind]
        elif not (pa.types.is_nested(kind)):
            found.append((ALIASES.get(name, name), name))
    return found


def events_table(entries=None) -> Path:
    """Un Parquet con los eventos de todos los conjuntos, con los nombres de Windows.

    Cada columna es texto (``EventID``, entero) y lleva el nombre de Windows,
    también en los conjuntos de Winlogbeat; dos columnas cuyo nombre solo
    difiere en mayúsculas (``ProcessId`` y ``ProcessID``) se unen en una, como
    las lee DuckDB. Se guarda en ``<caché>/sigma/eventos-<clave>.parquet`` con
    su registro (``eventos-<clave>.json``: huella SHA-256 y las copias de origen) y se
    rehace si alguna copia cambia, como la tabla de caza del cuaderno 09.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import taller
    from taller import cache
    from taller.files import make_readable, sha256, temporary_name, write_atomically

    entries = cached_hosts() if entries is None else entries
    files = {entry.name: Path(taller.parquet_path(entry.name)) for entry in entries}
    folder = sigma_cache()
    # Una tabla por selección de conjuntos (todo lo de la caché, el corpus…).
    key = hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:12]
    target = folder / f"eventos-{key}.parquet"
    record = folder / f"eventos-{key}.json"
    sources = {
        name: [path.stat().st_size, path.stat().st_mtime_ns]
        for name, path in sorted(files.items())
    }
    if target.exists():
        try:
            saved = json.loads(record.read_text(encoding="utf-8"))
            if saved["sources"] == sources and saved["sha256"] == sha256(target):
                return target
        except (OSError, ValueError, KeyError, TypeError):
            pass
        cache.notice(f"la tabla de eventos {target} no corresponde a la caché; se rehace.")
    # Primera pasada: los nombres (el más frecuente de cada grupo de mayúsculas).
    counts: dict[str, dict[str, int]] = {}
    for path in files.values():
        for name, _ in _source_columns(pq.read_schema(path)):
            variants = counts.setdefault(name.lower(), {})
            variants[name] = variants.get(name, 0) + 1
    canonical = {
        low: max(sorted(variants), key=lambda name: variants[name])
        for low, variants in counts.items()
    }
    names = sorted(set(canonical.values()) - {"EventID", "dataset"})
    schema = pa.schema(
        [("dataset", pa.string()), ("EventID", pa.int64())]
        + [(name, pa.string()) for name in names]
    )
    folder.mkdir(parents=True, exist_ok=True)
    scratch = temporary_name(folder, ".parquet")
    try:
        with pq.ParquetWriter(scratch, schema, compression="zstd") as writer:
            for dataset, path in files.items():
                table = pq.read_table(path)
                flat = table.flatten()
                columns: dict[str, pa.Array] = {}
                for name, source in _source_columns(table.schema):
                    key = canonical[name.lower()]
                    column = flat.column(source)
                    kind = pa.int64() if key == "EventID" else pa.string()
                    try:
                        column = column.cast(kind)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        column = pc.cast(column.cast(pa.string()), kind, safe=False)
                    columns[key] = pc.coalesce(columns[key], column) if key in columns else column
                rows = table.num_rows
                arrays = [pa.array([dataset] * rows, pa.string())]
                for item in schema.names[1:]:
                    arrays.append(
                        columns[item].combine_chunks()
                        if item in columns
                        else pa.nulls(rows, schema.field(item).type)
                    )
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        make_readable(scratch)
        digest = sha256(scratch)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    write_atomically(record, json.dumps({"sha256": digest, "sources": sources}).encode())
    return target


def table_columns(table: Path) -> set[str]:
    import pyarrow.parquet as pq

    return set(pq.read_schema(table).names)
