"""Detecciones como código: reglas Sigma sobre los conjuntos de Windows.

Sigma es el formato en que se comparten las detecciones; pySigma las convierte
al lenguaje de cada motor. Este módulo las lleva a los dos motores del taller,
DuckDB y Spark SQL, y las mide contra las grabaciones de Security-Datasets:

- `pipeline`: de las fuentes de registro de Sigma (``category: process_access``,
  ``service: security``…) a los eventos de Security-Datasets (``Channel`` y
  ``EventID``). Reutiliza las *pipelines* de pySigma para Sysmon y Windows.
- `SQLBackend`: el *backend* SQLite de SigmaHQ adaptado a DuckDB y a Spark
  (véase CONTRIBUTING.md, «Reglas Sigma»).
- `rules_dir`: las reglas de SigmaHQ para Windows de la etiqueta fijada, que se
  obtienen como los conjuntos de datos: de una carpeta o URL
  (``TALLER_SIGMA_URL``) o de upstream, verificadas con su huella y guardadas
  en la caché. Licencia DRL 1.1: cite a sus autores y a SigmaHQ.
- `evaluate`: cada regla contra cada conjunto de equipo Windows de la caché;
  `score` cuenta verdaderos y falsos positivos con las técnicas de cada ficha.

Las columnas de los eventos se leen como texto (salvo ``EventID``, entero) y
un campo que ningún conjunto trae se añade vacío y se informa: Sigma lee un
campo ausente como «no coincide», y así lo hace también el SQL generado.
"""

import hashlib
import io
import json
import os
import re
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from taller import catalog
from taller.errors import TallerError

# --- Las reglas de SigmaHQ ----------------------------------------------------

RULES_TAG = "r2026-07-01"
RULES_COMMIT = "552f3fee420ef232a8e5790c4fae591847e32347"
# Huella del árbol: SHA-256 de las líneas «<sha256>  <ruta>» (ordenadas) de
# LICENSE y de cada regla de rules/windows/ (véase `tree_digest`).
RULES_DIGEST = "5bfdf106a0062d2995e2fde201a3e5cfdb2147dd07e83abe0c0d006594f14712"
RULES_COUNT = 2403
UPSTREAM_ARCHIVE = f"https://codeload.github.com/SigmaHQ/sigma/tar.gz/{RULES_COMMIT}"
RULES_URL = f"https://github.com/SigmaHQ/sigma/blob/{RULES_COMMIT}/"
LICENSE_NOTE = (
    "Reglas de SigmaHQ (https://github.com/SigmaHQ/sigma), etiqueta "
    f"{RULES_TAG}, con licencia Detection Rule License (DRL) 1.1: "
    "cada regla es de los autores que indica su campo «author» y de SigmaHQ."
)
# Carpeta de la caché para las reglas y los resultados.
SIGMA_CACHE = "sigma"

SYSMON = "Microsoft-Windows-Sysmon/Operational"
# Sufijo de la copia en minúsculas de cada campo de texto (SQL de DuckDB).
LOWER = "__lower"
# Palabras que van en minúscula en el título de una regla en español (el
# validador de títulos de SigmaHQ solo conoce las inglesas).
SPANISH_SMALL_WORDS = (
    "a",
    "al",
    "con",
    "de",
    "del",
    "desde",
    "el",
    "en",
    "la",
    "las",
    "los",
    "o",
    "para",
    "por",
    "sin",
    "y",
)
# Las reglas del taller (cuaderno 09) viven en el repositorio.
WORKSHOP_RULES = Path(__file__).resolve().parent / "reglas"


def sigma_cache() -> Path:
    return catalog.cache_dir() / SIGMA_CACHE


def tree_digest(root: Path) -> tuple[str, int]:
    """(huella del árbol, número de reglas) de una carpeta con la forma de upstream."""
    lines = []
    rules = sorted((root / "rules" / "windows").rglob("*.yml"))
    for path in [root / "LICENSE", *rules]:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest(), len(rules)


def rules_source() -> str:
    """De dónde se obtienen las reglas: ``TALLER_SIGMA_URL`` o el archivo de upstream."""
    return os.environ.get("TALLER_SIGMA_URL") or UPSTREAM_ARCHIVE


def _copy_tree(source: Path, target: Path) -> None:
    for path in [source / "LICENSE", *sorted((source / "rules" / "windows").rglob("*.yml"))]:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())


def _extract_upstream(url: str, target: Path) -> None:
    """Extrae LICENSE y rules/windows/ del .tar.gz del repositorio de SigmaHQ."""
    import requests

    from taller import download

    try:
        response = requests.get(url, timeout=download.timeout())
        response.raise_for_status()
    except requests.RequestException as exc:
        raise TallerError(
            f"No se pudieron descargar las reglas Sigma de {url}: {exc}. Compruebe la "
            "conexión o indique una copia local con TALLER_SIGMA_URL."
        ) from None
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not member.isfile() or ".." in parts[1].split("/"):
                continue
            inner = parts[1]
            if inner == "LICENSE" or (
                inner.startswith("rules/windows/") and inner.endswith(".yml")
            ):
                destination = target / inner
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.extractfile(member).read())


def rules_dir() -> Path:
    """Carpeta con las reglas de SigmaHQ verificadas (la forma de upstream).

    La primera vez las copia de ``TALLER_SIGMA_URL`` (una carpeta local o una
    URL de un ``.tar.gz`` con la forma del repositorio) o, si no se indica, del
    archivo de upstream en el commit fijado; comprueba la huella del árbol y
    las guarda en ``<caché>/sigma/<etiqueta>/``. Las veces siguientes solo
    comprueba la huella de la copia.
    """
    import shutil

    from taller.files import temporary_dir

    target = sigma_cache() / RULES_TAG
    if target.is_dir():
        digest, _ = tree_digest(target)
        if digest == RULES_DIGEST:
            return target
        from taller import cache

        cache.notice(f"las reglas Sigma de {target} no coinciden con su huella; se rehacen.")
        shutil.rmtree(target)
    source = rules_source()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = temporary_dir(target.parent)
    try:
        if "://" in source:
            _extract_upstream(source, scratch)
        else:
            folder = Path(source).expanduser()
            if not (folder / "rules" / "windows").is_dir():
                raise TallerError(
                    f"TALLER_SIGMA_URL={source} no es una carpeta con las reglas de SigmaHQ "
                    "(falta rules/windows/)."
                )
            _copy_tree(folder, scratch)
        digest, count = tree_digest(scratch)
        if digest != RULES_DIGEST:
            raise TallerError(
                f"Las reglas Sigma de {source} ({count} reglas) no son las de la etiqueta "
                f"{RULES_TAG}: su huella no coincide. No se usan."
            )
        os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


# --- Fuentes de registro: la pipeline ------------------------------------------

# Canales de Security-Datasets que no están en la tabla de pySigma.
_EXTRA_CHANNELS = {}


def pipeline():
    """Pipeline de pySigma: fuentes de registro de Sigma → ``Channel``/``EventID``.

    Sysmon (pySigma-pipeline-sysmon) pasa cada categoría (``process_access``,
    ``create_remote_thread``, ``registry_set``…) a su ``EventID`` y al servicio
    ``sysmon``; Windows (pySigma-pipeline-windows) pasa cada servicio
    (``security``, ``system``, ``powershell``…) y las categorías de PowerShell
    (``ps_script``, ``ps_module``…) a su canal. Son los nombres de campo de
    Security-Datasets, que guarda los eventos tal como los escribe Windows.
    """
    from sigma.pipelines.sysmon import sysmon_pipeline
    from sigma.pipelines.windows import windows_logsource_pipeline

    return sysmon_pipeline() + windows_logsource_pipeline()


# --- El backend: SQL de DuckDB y de Spark -----------------------------------------


def _backend_class():
    from sigma.backends.sqlite import sqliteBackend

    class SQLBackend(sqliteBackend):
        """El backend SQLite de SigmaHQ con el SQL que entienden DuckDB y Spark.

        Cambia tres cosas: ``LIKE`` por ``ILIKE`` (en DuckDB y Spark ``LIKE``
        distingue mayúsculas, y Sigma no), la igualdad de texto también sin
        mayúsculas, y las expresiones regulares con la función de cada motor.
        En Spark, además, cada barra inversa de un texto SQL se escribe doble.
        """

        name = "DuckDB y Spark SQL (backend SQLite de SigmaHQ adaptado)"
        startswith_expression = "{field} ILIKE '{value}%' ESCAPE '\\'"
        endswith_expression = "{field} ILIKE '%{value}' ESCAPE '\\'"
        contains_expression = "{field} ILIKE '%{value}%' ESCAPE '\\'"
        wildcard_match_expression = "{field} ILIKE '{value}' ESCAPE '\\'"
        wildcard_match_str_expression = "{field} ILIKE '{value}' ESCAPE '\\'"
        null_safe_expression = "COALESCE({expr}, false)"
        collate_nocase = True
        collation_expression = "{expr}"
        bool_values = {True: "'true'", False: "'false'"}
        bool_numeric_values = {True: "'1'", False: "'0'"}
        bool_expression = "lower({field}) IN ({value}, {numeric_value})"

        def __init__(self, dialect: str = "duckdb", **options):
            if dialect not in ("duckdb", "spark"):
                raise ValueError(dialect)
            self.dialect = dialect
            if dialect == "duckdb":
                self.re_expression = "regexp_matches({field}, '{regex}')"
                self.case_sensitive_match_expression = "{field} GLOB {value}"
            else:
                self.re_expression = "{field} RLIKE '{regex}'"
            super().__init__(pipeline(), table="events", **options)

        def _duckdb_plain(self, cond) -> str | None:
            """contains/starts_with/ends_with sobre la copia en minúsculas del campo.

            Mucho más rápido que ILIKE en DuckDB: la columna ``<campo>__lower``
            se calcula una vez (véase `_view_sql`) y cada término es una búsqueda
            de texto simple.
            """
            from sigma.types import SigmaString, SpecialChars

            value = cond.value
            if not isinstance(value, SigmaString) or not value:
                return None
            multi = SpecialChars.WILDCARD_MULTI
            lowered = self.escape_and_quote_field(cond.field + LOWER)
            if len(value) > 1 and value.startswith(multi) and value.endswith(multi):
                inner, template = value[1:-1], "contains({field}, {value})"
            elif value.endswith(multi):
                inner, template = value[:-1], "starts_with({field}, {value})"
            elif value.startswith(multi):
                inner, template = value[1:], "ends_with({field}, {value})"
            else:
                inner, template = value, "{field} = {value}"
            if inner.contains_special() or not inner:
                return None
            text = "".join(part for part in inner.s if isinstance(part, str)).lower()
            return template.format(field=lowered, value="'" + text.replace("'", "''") + "'")

        def convert_condition_field_eq_val_str(self, cond, state):
            from sigma.types import SigmaString

            if self.dialect == "duckdb":
                fast = self._duckdb_plain(cond)
                if fast:
                    return fast
            converted = super().convert_condition_field_eq_val_str(cond, state)
            # Igualdad literal «campo='valor'»: Sigma no distingue mayúsculas.
            if (
                isinstance(converted, str)
                and " ILIKE " not in converted
                and isinstance(cond.value, SigmaString)
            ):
                field_name = self.escape_and_quote_field(cond.field)
                value = self.convert_value_str(cond.value, state)
                return f"lower({field_name}) = lower({value})"
            return converted

        def convert_condition_field_eq_val_num(self, cond, state):
            # Los campos son texto (menos EventID): el número se compara como texto.
            if cond.field == "EventID":
                return super().convert_condition_field_eq_val_num(cond, state)
            field_name = self.escape_and_quote_field(cond.field)
            return f"{field_name} = '{cond.value}'"

        def convert_condition_field_compare_op_val(self, cond, state):
            field_name = self.escape_and_quote_field(cond.field)
            operator = self.compare_operators[cond.value.op]
            return f"TRY_CAST({field_name} AS DOUBLE) {operator} {cond.value.number}"

        def escape_and_quote_field(self, field_name):
            quote = '"' if self.dialect == "duckdb" else "`"
            return quote + field_name.replace(quote, quote * 2) + quote

        def finalize_query_default(self, rule, query, index, state):
            if self.dialect == "spark":
                query = query.replace("\\", "\\\\")
            return query

    return SQLBackend


def backend(dialect: str = "duckdb"):
    """Un backend de pySigma que escribe la condición WHERE para `dialect`."""
    return _backend_class()(dialect)


# --- Las reglas: lectura y conversión -------------------------------------------


@dataclass
class Conversion:
    """Una regla convertida (o no) a SQL."""

    path: str  # ruta relativa de la regla (o nombre del archivo)
    id: str
    title: str
    author: str
    level: str
    techniques: tuple[str, ...]  # de las etiquetas attack.tNNNN(.NNN)
    duckdb: str | None = None  # condición WHERE para DuckDB
    spark: str | None = None  # condición WHERE para Spark
    fields: tuple[str, ...] = ()  # campos que usa, tras la pipeline
    logsource: tuple[str, str, str] = ("", "", "")  # (product, category, service)
    reason: str | None = None  # por qué no se convirtió (en español)


_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$")
_REASONS = (
    ("Value-only string expressions", "busca palabras sueltas (keywords), sin campo"),
    ("Value-only number expressions", "busca palabras sueltas (keywords), sin campo"),
    ("Correlation", "regla de correlación"),
    ("not supported by the backend", "usa algo que el backend SQL no admite"),
)


def explain(exc: Exception) -> str:
    """El motivo, en español, por el que pySigma no pudo leer o convertir una regla."""
    text = str(exc)
    for english, spanish in _REASONS:
        if english in text:
            return spanish
    name = type(exc).__name__
    unknown = re.search(r"Unknown modifier '([^']+)'", text)
    if unknown:
        return f"modificador desconocido «{unknown[1]}»"
    if "Modifier" in name or "modifier" in text:
        return f"modificador no admitido: {text.splitlines()[0]}"
    if "YAML" in name or "yaml" in text.lower() or "Parse" in name:
        return f"YAML no válido: {text.splitlines()[0]}"
    return f"{name}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def techniques_of(rule) -> tuple[str, ...]:
    """Técnicas de ATT&CK de una regla, de sus etiquetas (``attack.t1003.001``)."""
    found = []
    for tag in rule.tags:
        match = _TECHNIQUE.match(f"{tag.namespace}.{tag.name}".lower())
        if match:
            found.append(match[1].upper())
    return tuple(dict.fromkeys(found))


def _rule_fields(rule) -> tuple[str, ...]:
    from sigma.conditions import ConditionFieldEqualsValueExpression
    from sigma.types import SigmaFieldReference

    fields = set()

    def walk(cond):
        if isinstance(cond, ConditionFieldEqualsValueExpression):
            if cond.field:
                fields.add(cond.field)
            if isinstance(cond.value, SigmaFieldReference):
                fields.add(cond.value.field)
        for arg in getattr(cond, "args", None) or []:
            walk(arg)

    for condition in rule.detection.parsed_condition:
        walk(condition.parsed)
    return tuple(sorted(fields))


def read_rule(text: str, label: str):
    """Lee el YAML de una regla Sigma; los errores, en español (`TallerError`)."""
    import yaml
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    try:
        collection = SigmaCollection.from_yaml(text)
    except yaml.YAMLError as exc:
        raise TallerError(f"{label}: el YAML no es válido: {exc}") from None
    except SigmaError as exc:
        raise TallerError(f"{label}: no es una regla Sigma válida: {explain(exc)}") from None
    except Exception as exc:  # pySigma a veces falla con errores de Python
        raise TallerError(f"{label}: no es una regla Sigma válida: {explain(exc)}") from None
    rules = [rule for rule in collection.rules if hasattr(rule, "detection")]
    if not rules:
        raise TallerError(f"{label}: el archivo no contiene ninguna regla Sigma.")
    return rules


def _logsource_key(logsource) -> tuple[str, str, str]:
    return tuple(
        str(getattr(logsource, part) or "") for part in ("product", "category", "service")
    )


def logsource_condition(key: tuple[str, str, str], dialect: str = "duckdb") -> str:
    """La condición (canal y EventID) que la pipeline añade a una fuente de registro.

    Se obtiene convirtiendo una regla mínima con esa fuente: sirve para leer
    de la tabla solo los eventos que pueden interesar a sus reglas.
    """
    from sigma.rule import SigmaRule

    product, category, service = key
    logsource = {k: v for k, v in zip(("product", "category", "service"), key, strict=True) if v}
    rule = SigmaRule.from_dict(
        {
            "title": "Fuente de registro",
            "logsource": logsource,
            "detection": {"selection": {"Channel|exists": True}, "condition": "selection"},
        }
    )
    converted = backend(dialect).convert_rule(rule)[0]
    # Se aplica a la tabla sin copias en minúsculas.
    return re.sub(r'"([^"]+)__lower"', r'lower("\1")', converted)


def convert(rule, path: str, backends: dict | None = None) -> Conversion:
    """Convierte una regla ya leída a SQL de DuckDB y de Spark."""
    import copy

    backends = backends or {dialect: backend(dialect) for dialect in ("duckdb", "spark")}
    authors = str(rule.author or "").strip()
    result = Conversion(
        path=path,
        id=str(rule.id or ""),
        title=str(rule.title or ""),
        author=authors,
        level=str(rule.level.name.lower() if rule.level else ""),
        techniques=techniques_of(rule),
        logsource=_logsource_key(rule.logsource),
    )
    try:
        processed = copy.deepcopy(rule)
        result.duckdb = backends["duckdb"].convert_rule(processed)[0]
        result.fields = _rule_fields(processed)
        result.spark = backends["spark"].convert_rule(copy.deepcopy(rule))[0]
    except Exception as exc:
        result.duckdb = result.spark = None
        result.reason = explain(exc)
        return result
    if '"Channel' not in result.duckdb:
        result.duckdb = result.spark = None
        result.reason = "fuente de registro sin canal de Windows conocido"
    return result


def convert_file(path: Path, root: Path | None = None, backends: dict | None = None):
    """Todas las reglas de un archivo YAML, convertidas (lista de `Conversion`)."""
    label = path.relative_to(root).as_posix() if root else path.name
    try:
        rules = read_rule(path.read_text(encoding="utf-8"), label)
    except TallerError as exc:
        reason = str(exc).removeprefix(f"{label}: ")
        return [Conversion(label, "", path.stem, "", "", (), reason=reason)]
    return [convert(rule, label, backends) for rule in rules]


def convert_all(root: Path, paths=None) -> list[Conversion]:
    """Convierte todas las reglas de `root` (o solo `paths`)."""
    backends = {dialect: backend(dialect) for dialect in ("duckdb", "spark")}
    paths = sorted((root / "rules" / "windows").rglob("*.yml")) if paths is None else paths
    return [c for path in paths for c in convert_file(Path(path), root, backends)]


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


# --- La evaluación: cada regla contra cada conjunto -----------------------------


def missing_fields(conversions, columns) -> dict[str, tuple[str, ...]]:
    """{ruta de la regla: campos que usa y ningún conjunto trae}."""
    known = {name.lower() for name in columns}
    return {
        c.path: absent
        for c in conversions
        if c.duckdb and (absent := tuple(f for f in c.fields if f.lower() not in known))
    }


def _view_sql(source: str, columns, extra, quote: str, lowered: bool = False) -> str:
    """SELECT sobre `source` con los campos de `extra` que no están, vacíos.

    Con `lowered`, cada campo de `extra` lleva además su copia en minúsculas
    (``<campo>__lower``), la que usa el SQL de DuckDB.
    """
    known = {name.lower(): name for name in columns}
    wanted = list(dict.fromkeys(extra))
    parts = ["*"]
    seen = set()
    for name in wanted:
        if name.lower() in seen or name.lower() == "eventid":
            continue
        seen.add(name.lower())
        if name.lower() in known:
            if lowered:
                parts.append(
                    f"lower({quote}{known[name.lower()]}{quote}) AS {quote}{name}{LOWER}{quote}"
                )
        else:
            parts.append(f"CAST(NULL AS STRING) AS {quote}{name}{quote}")
            if lowered:
                parts.append(f"CAST(NULL AS STRING) AS {quote}{name}{LOWER}{quote}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def duckdb_events(con, table: Path, conversions=()) -> None:
    """Vista ``events`` en DuckDB sobre `events_table`, con los campos ausentes vacíos."""
    fields = [f for c in conversions if c.duckdb for f in c.fields]
    view = _view_sql(f"read_parquet('{table}')", table_columns(table), fields, '"', True)
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {view}")


def spark_events(spark, table: Path, conversions=()) -> None:
    """Vista ``events`` en Spark sobre `events_table` (nombres sin distinguir mayúsculas)."""
    spark.conf.set("spark.sql.caseSensitive", "false")
    spark.read.parquet(str(table)).createOrReplaceTempView("sigma_raw")
    fields = [f for c in conversions if c.spark for f in c.fields]
    view = _view_sql("sigma_raw", table_columns(table), fields, "`")
    spark.sql(f"CREATE OR REPLACE TEMP VIEW events AS {view}")


def _batch_sql(conditions: list[str]) -> str:
    counts = ", ".join(
        f"count(*) FILTER (WHERE {condition}) AS r{index}"
        for index, condition in enumerate(conditions)
    )
    return f"SELECT dataset, {counts} FROM events GROUP BY dataset"


def _run_batches(run, conditions: dict[str, str], batch: int) -> tuple[dict, dict]:
    """{regla: {conjunto: alertas}} y {regla: error}, por lotes de `batch` reglas.

    Un lote es una sola lectura de la tabla; si falla, se parte en dos para
    encontrar la regla que el motor no acepta.
    """
    alerts: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    pending = [list(conditions)[i : i + batch] for i in range(0, len(conditions), batch)]
    while pending:
        keys = pending.pop()
        try:
            rows = run(_batch_sql([conditions[key] for key in keys]))
        except Exception as exc:
            if len(keys) == 1:
                errors[keys[0]] = str(exc).splitlines()[0][:200]
            else:
                half = len(keys) // 2
                pending += [keys[:half], keys[half:]]
            continue
        for key in keys:
            alerts[key] = {}
        for row in rows:
            for key, count in zip(keys, row[1:], strict=True):
                if count:
                    alerts[key][row[0]] = int(count)
    return alerts, errors


@dataclass
class Evaluation:
    """Resultado de evaluar reglas sobre conjuntos."""

    conversions: list[Conversion]
    datasets: list[str]
    alerts: dict[str, dict[str, int]]  # {ruta: {conjunto: alertas}} (solo las que saltan)
    errors: dict[str, str] = field(default_factory=dict)  # {ruta: error del motor}
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _groups(conversions, dialect: str) -> dict[tuple, list[Conversion]]:
    """Las reglas convertidas, por fuente de registro."""
    groups: dict[tuple, list[Conversion]] = {}
    for c in conversions:
        if getattr(c, dialect):
            groups.setdefault(c.logsource, []).append(c)
    return groups


def _selected(datasets) -> str:
    if not datasets:
        return ""
    listed = ", ".join("'" + name.replace("'", "''") + "'" for name in datasets)
    return f" AND dataset IN ({listed})"


def evaluate_duckdb(conversions, table: Path, datasets=None, batch: int = 100, con=None):
    """Evalúa las reglas convertidas en DuckDB (`Evaluation`).

    Por cada fuente de registro se copian a memoria solo sus eventos y las
    columnas que usan sus reglas; cada lote de reglas es una sola lectura.
    """
    import duckdb

    own = con is None
    con = duckdb.connect() if own else con
    columns = table_columns(table)
    known = {name.lower(): name for name in columns}
    started = time.perf_counter()
    alerts: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    try:
        source = f"read_parquet('{table}')"
        names = datasets or [
            row[0] for row in con.execute(f"SELECT DISTINCT dataset FROM {source}").fetchall()
        ]
        for key, group in _groups(conversions, "duckdb").items():
            used = {f.lower() for c in group for f in c.fields} | {"channel", "eventid"}
            picked = ", ".join(f'"{known[f]}"' for f in sorted(used) if f in known)
            where = logsource_condition(key, "duckdb") + _selected(datasets)
            fields = [f for c in group for f in c.fields]
            inner = f"(SELECT dataset, {picked} FROM {source} WHERE {where})"
            view = _view_sql(inner, [*known.values()], fields, '"', True)
            con.execute(f"CREATE OR REPLACE TEMP TABLE events AS {view}")
            found, failed = _run_batches(
                lambda sql: con.execute(sql).fetchall(), {c.path: c.duckdb for c in group}, batch
            )
            alerts.update(found)
            errors.update(failed)
        con.execute("DROP TABLE IF EXISTS events")
    finally:
        if own:
            con.close()
    return Evaluation(
        list(conversions),
        sorted(names),
        alerts,
        errors,
        missing_fields(conversions, columns),
        {"query": time.perf_counter() - started},
    )


def evaluate_spark(spark, conversions, table: Path, datasets=None, batch: int = 50):
    """Evalúa las reglas convertidas en Spark (`Evaluation`)."""
    spark_events(spark, table, conversions)
    if datasets:
        listed = ", ".join("'" + name.replace("'", "\\'") + "'" for name in datasets)
        spark.sql(
            "CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM events "
            f"WHERE dataset IN ({listed})"
        )
    started = time.perf_counter()
    names = datasets or [
        row[0] for row in spark.sql("SELECT DISTINCT dataset FROM events").collect()
    ]
    conditions = {c.path: c.spark for c in conversions if c.spark}
    alerts, errors = _run_batches(
        lambda sql: [tuple(row) for row in spark.sql(sql).collect()], conditions, batch
    )
    return Evaluation(
        list(conversions),
        sorted(names),
        alerts,
        errors,
        missing_fields(conversions, table_columns(table)),
        {"query": time.perf_counter() - started},
    )


# --- Resultados guardados y recuento de aciertos ----------------------------------

RESULTS = "evaluacion.json"


def results_path() -> Path:
    """Dónde se guarda la evaluación de las reglas de SigmaHQ (en la caché)."""
    return sigma_cache() / RESULTS


def parent(technique: str) -> str:
    """La técnica sin subtécnica: T1003.001 → T1003."""
    return technique.split(".")[0]


def run_evaluation(entries=None, paths=None) -> dict:
    """Evalúa las reglas de SigmaHQ en los conjuntos de la caché y lo guarda.

    Devuelve (y guarda en `results_path`) un diccionario con las reglas, los
    conjuntos con sus técnicas y, por regla, sus alertas por conjunto, el
    motivo si no se convirtió y los campos que el corpus no trae.
    """
    from taller.files import write_atomically

    root = rules_dir()
    entries = cached_hosts() if entries is None else entries
    started = time.perf_counter()
    conversions = convert_all(root, paths)
    converted = time.perf_counter() - started
    table = events_table(entries)
    evaluation = evaluate_duckdb(conversions, table)
    results = {
        "tag": RULES_TAG,
        "commit": RULES_COMMIT,
        "digest": RULES_DIGEST,
        "datasets": {
            entry.name: {"techniques": list(entry.techniques), "path": entry.path}
            for entry in entries
        },
        "rules": [
            {
                "path": c.path,
                "id": c.id,
                "title": c.title,
                "author": c.author,
                "level": c.level,
                "techniques": list(c.techniques),
                "logsource": list(c.logsource),
                "reason": c.reason or evaluation.errors.get(c.path),
                "missing": list(evaluation.missing.get(c.path, ())),
                "alerts": evaluation.alerts.get(c.path, {}),
            }
            for c in conversions
        ],
        "seconds": {"conversion": converted, "query": evaluation.seconds["query"]},
    }
    results_path().parent.mkdir(parents=True, exist_ok=True)
    write_atomically(results_path(), json.dumps(results, ensure_ascii=False).encode())
    return results


def load_results() -> dict | None:
    """La evaluación guardada, o None si no la hay (`run_evaluation` la crea)."""
    try:
        results = json.loads(results_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results if results.get("digest") == RULES_DIGEST else None


def verdicts(results: dict) -> list[dict]:
    """Una fila por regla convertida y conjunto en que salta: ¿verdadero o falso positivo?

    Es verdadero positivo si la regla y la ficha del conjunto comparten una
    técnica (a nivel de técnica: T1003.001 y T1003.002 son T1003). Las reglas
    sin etiqueta de técnica no se cuentan como aciertos ni como fallos.
    """
    rows = []
    for rule in results["rules"]:
        own = {parent(t) for t in rule["techniques"]}
        for dataset, alerts in rule["alerts"].items():
            simulated = {parent(t) for t in results["datasets"][dataset]["techniques"]}
            verdict = "sin técnica" if not own else ("TP" if own & simulated else "FP")
            rows.append(
                {
                    "rule": rule["path"],
                    "title": rule["title"],
                    "dataset": dataset,
                    "alerts": alerts,
                    "verdict": verdict,
                    "rule_techniques": ", ".join(rule["techniques"]),
                    "dataset_techniques": ", ".join(results["datasets"][dataset]["techniques"]),
                }
            )
    return rows


def technique_table(results: dict) -> list[dict]:
    """Por técnica del corpus: conjuntos que la simulan, detectados (TP), no (FN) y FP.

    TP: conjuntos que simulan la técnica en los que salta al menos una regla
    etiquetada con ella. FN: los que la simulan y ninguna de esas reglas salta.
    FP: conjuntos que no la simulan en los que salta alguna de esas reglas.
    """
    datasets = results["datasets"]
    by_technique: dict[str, set] = {}
    for rule in results["rules"]:
        for technique in {parent(t) for t in rule["techniques"]}:
            by_technique.setdefault(technique, set()).update(rule["alerts"])
    rules_count: dict[str, int] = {}
    for rule in results["rules"]:
        if rule["reason"] is None:
            for technique in {parent(t) for t in rule["techniques"]}:
                rules_count[technique] = rules_count.get(technique, 0) + 1
    simulated: dict[str, set] = {}
    for name, info in datasets.items():
        for technique in {parent(t) for t in info["techniques"]}:
            simulated.setdefault(technique, set()).add(name)
    rows = []
    for technique in sorted(simulated):
        fired = by_technique.get(technique, set())
        rows.append(
            {
                "technique": technique,
                "datasets": len(simulated[technique]),
                "rules": rules_count.get(technique, 0),
                "TP": len(simulated[technique] & fired),
                "FN": len(simulated[technique] - fired),
                "FP": len(fired - simulated[technique]),
            }
        )
    return rows


# --- Probar una regla: la orden `taller sigma` -----------------------------------


def try_rule(path: Path, names: list[str] | None = None) -> tuple[list[Conversion], dict]:
    """Convierte las reglas de `path` y las evalúa en los conjuntos `names`.

    Sin `names`, en todos los conjuntos de equipo Windows de la caché. Los
    errores de la regla (YAML no válido, modificador desconocido, campos que
    ningún conjunto trae) se explican en español con `TallerError`.
    """
    path = Path(path)
    if not path.is_file():
        raise TallerError(f"No existe el archivo de regla «{path}».")
    rules = read_rule(path.read_text(encoding="utf-8"), path.name)
    backends = {dialect: backend(dialect) for dialect in ("duckdb", "spark")}
    conversions = [convert(rule, path.name, backends) for rule in rules]
    for c in conversions:
        if c.reason:
            raise TallerError(
                f"{path.name}: la regla «{c.title}» no se puede convertir: {c.reason}."
            )
    if names:
        entries = [catalog.resolve(name) for name in names]
        for entry in entries:
            if entry not in windows_hosts():
                raise TallerError(
                    f"«{entry.name}» no es un conjunto de equipo Windows: las reglas Sigma "
                    "de Windows solo se prueban en esos."
                )
        import taller

        for entry in entries:
            taller.parquet_path(entry.name)  # lo descarga si falta
    else:
        entries = cached_hosts()
        if not entries:
            raise TallerError(
                "No hay conjuntos de equipo Windows en la caché: descargue alguno con "
                "`python -m taller descargar NOMBRE` (o el corpus con --corpus)."
            )
    table = events_table(entries)
    evaluation = evaluate_duckdb(conversions, table)
    return conversions, {"evaluation": evaluation, "entries": entries}


def report(conversions, outcome, show_sql: bool = False) -> str:
    """El informe en español de `try_rule`."""
    evaluation = outcome["evaluation"]
    entries = {entry.name: entry for entry in outcome["entries"]}
    lines = []
    for c in conversions:
        lines.append(f"Regla: {c.title} ({c.id or 'sin id'})")
        if c.author:
            lines.append(f"  Autor: {c.author}")
        lines.append(f"  Técnicas: {', '.join(c.techniques) or 'ninguna etiqueta attack.tNNNN'}")
        if show_sql:
            lines.append(f"  SQL de DuckDB: {c.duckdb}")
            lines.append(f"  SQL de Spark:  {c.spark}")
        missing = evaluation.missing.get(c.path)
        if missing:
            lines.append(
                "  Aviso: campos desconocidos, que ningún conjunto trae: "
                f"{', '.join(missing)}. La regla nunca los encontrará: revise el nombre."
            )
        if c.path in evaluation.errors:
            lines.append(f"  Error del motor: {evaluation.errors[c.path]}")
            continue
        alerts = evaluation.alerts.get(c.path, {})
        own = {parent(t) for t in c.techniques}
        counts = {"TP": 0, "FP": 0, "FN": 0}
        for name, entry in sorted(entries.items()):
            simulated = {parent(t) for t in entry.techniques}
            fired = name in alerts
            if fired:
                verdict = "" if not own else ("TP" if own & simulated else "FP")
                if verdict:
                    counts[verdict] += 1
                lines.append(f"  {name}: {alerts[name]} alertas {verdict}".rstrip())
            elif own & simulated:
                counts["FN"] += 1
                lines.append(f"  {name}: no salta (FN: simula {', '.join(entry.techniques)})")
        lines.append(
            f"  Salta en {len(alerts)} de {len(entries)} conjuntos · "
            f"TP {counts['TP']} · FP {counts['FP']} · FN {counts['FN']}"
        )
    return "\n".join(lines)
