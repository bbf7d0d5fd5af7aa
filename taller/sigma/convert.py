"""De Sigma a SQL: la pipeline de fuentes de registro y el backend de DuckDB y Spark."""

import re
from dataclasses import dataclass
from pathlib import Path

from taller.errors import TallerError
from taller.sigma.rules import LOWER

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
            se calcula una vez (véase `view_sql`) y cada término es una búsqueda
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
