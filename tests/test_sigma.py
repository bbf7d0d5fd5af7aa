"""Reglas Sigma (`taller.sigma`): conversión, semántica del SQL, reglas verificadas y orden.

La capa unit: sin datos de Security-Datasets. El SQL que genera el backend se
ejecuta en DuckDB sobre una tabla pequeña hecha aquí, con los casos en que SQL
y Sigma difieren si no se tiene cuidado: mayúsculas, barras inversas, campos
ausentes bajo un ``not`` y los tipos de número y booleano.
"""

import duckdb
import pytest

from taller import cli, sigma
from taller.errors import TallerError

RULE = """
title: Prueba
logsource:
    category: process_access
    product: windows
detection:
    selection:
        TargetImage|endswith: '\\lsass.exe'
    filter_main:
        SourceUser|contains: 'AUTHORI'
    condition: selection and not filter_main
"""

EVENTS = [
    # (EventID, TargetImage, SourceUser, esperado)
    (10, "C:\\Windows\\System32\\LSASS.EXE", None, True),  # sin SourceUser: el filtro no coincide
    (10, "C:\\Windows\\System32\\lsass.exe", "NT AUTHORITY\\SYSTEM", False),
    (10, "C:\\Windows\\System32\\notlsass.exe", None, False),
    (10, "C:/Windows/lsass.exe", None, False),  # la barra inversa cuenta
    (1, "C:\\Windows\\System32\\lsass.exe", None, False),  # otro EventID
]


def where(text: str, dialect: str = "duckdb") -> str:
    rule = sigma.read_rule(text, "prueba.yml")[0]
    conversion = sigma.convert(rule, "prueba.yml")
    assert conversion.reason is None, conversion.reason
    return getattr(conversion, dialect), conversion


def table(con, rows, fields):
    con.execute(
        "CREATE TABLE raw (dataset VARCHAR, Channel VARCHAR, EventID BIGINT, "
        + ", ".join(f'"{name}" VARCHAR' for name in fields)
        + ")"
    )
    con.executemany(
        f"INSERT INTO raw VALUES (?, ?, ?{', ?' * len(fields)})",
        [("d", sigma.SYSMON, *row) for row in rows],
    )


def matches(condition, conversion, rows, fields):
    with duckdb.connect() as con:
        table(con, rows, fields)
        view = sigma.view_sql(
            "raw", ["dataset", "Channel", "EventID", *fields], conversion.fields, '"', True
        )
        con.execute(f"CREATE VIEW events AS {view}")
        found = con.execute(f"SELECT * FROM events WHERE {condition}").fetchall()
        return len(found)


def test_the_sql_follows_sigma_semantics():
    condition, conversion = where(RULE)
    rows = [row[:3] for row in EVENTS]
    assert matches(condition, conversion, rows, ["TargetImage", "SourceUser"]) == sum(
        row[3] for row in EVENTS
    )
    assert conversion.fields == ("Channel", "EventID", "SourceUser", "TargetImage")
    assert conversion.logsource == ("windows", "process_access", "")


def test_spark_doubles_every_backslash_of_the_literals():
    duck, _ = where(RULE, "duckdb")
    spark, _ = where(RULE, "spark")
    assert "ILIKE '%\\\\\\\\lsass.exe' ESCAPE '\\\\'" in spark
    assert "\\lsass.exe" in duck and "\\\\lsass" not in duck


def test_numbers_and_booleans_compare_as_text():
    text = RULE.replace(
        "TargetImage|endswith: '\\lsass.exe'", "SourcePort: 445\n        Initiated: true"
    )
    condition, conversion = where(text)
    rows = [(10, "445", "True", None), (10, "446", "true", None), (10, "445", "false", None)]
    assert matches(condition, conversion, rows, ["SourcePort", "Initiated", "SourceUser"]) == 1


def test_keyword_rules_are_counted_with_their_reason():
    text = RULE.replace("condition: selection and not filter_main", "condition: keywords")
    text = text.replace("detection:", "detection:\n    keywords:\n        - mimikatz")
    rule = sigma.read_rule(text, "k.yml")[0]
    assert sigma.convert(rule, "k.yml").reason == "busca palabras sueltas (keywords), sin campo"


def test_techniques_come_from_the_attack_tags():
    text = "tags:\n    - attack.credential-access\n    - attack.t1003.001\n" + RULE
    assert sigma.read_rule(text, "t.yml")[0].tags
    assert sigma.techniques_of(sigma.read_rule(text, "t.yml")[0]) == ("T1003.001",)


def test_rules_with_a_wrong_digest_are_refused(tmp_path, monkeypatch):
    source = tmp_path / "sigma"
    (source / "rules" / "windows").mkdir(parents=True)
    (source / "LICENSE").write_text("DRL 1.1")
    (source / "rules" / "windows" / "x.yml").write_text(RULE)
    monkeypatch.setenv("TALLER_SIGMA_URL", str(source))
    with pytest.raises(TallerError, match="no son las de la etiqueta"):
        sigma.rules_dir()
    assert not (sigma.sigma_cache() / sigma.RULES_TAG).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title: [mala\n", "el YAML no es válido"),
        (RULE.replace("|endswith", "|terminaen"), "modificador desconocido «terminaen»"),
        ("title: Sin detección\n", "no es una regla Sigma válida"),
    ],
)
def test_the_command_explains_a_bad_rule_in_spanish(tmp_path, capsys, content, message):
    path = tmp_path / "regla.yml"
    path.write_text(content, encoding="utf-8")
    assert cli.main(["sigma", str(path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("Error: regla.yml: ") and message in error


def test_the_command_needs_windows_host_datasets(tmp_path, capsys):
    path = tmp_path / "regla.yml"
    path.write_text(RULE, encoding="utf-8")
    assert cli.main(["sigma", str(path)]) == 1  # la caché de la capa unit está vacía
    assert "No hay conjuntos de equipo Windows en la caché" in capsys.readouterr().err


def test_the_workshop_rules_pass_the_offline_sigmahq_validators():
    """Los validadores de SigmaHQ que funcionan sin red, con las palabras cortas del español.

    Tres necesitan descargar los datos de MITRE (attacktag, d3_fendtag y
    sigmahq_tags_techniques_without_tactics) y cuatro, los de SigmaHQ
    (nombres de archivo, taxonomía, EventID y proveedores de Windows): no se
    ejecutan aquí.
    """
    from sigma.collection import SigmaCollection
    from sigma.plugins import InstalledSigmaPlugins
    from sigma.validators.sigmahq.title import SigmahqTitleCaseValidator

    online = {
        "attacktag",
        "d3_fendtag",
        "sigmahq_tags_techniques_without_tactics",
        "sigmahq_filename",
        "sigmahq_field_name_existence",
        "sigmahq_fieldname_cased",
        "sigmahq_invalid_field_name",
        "sigmahq_logsource_unknown",
        "sigmahq_logsource_eventid",
        "sigmahq_windows_provider",
        "sigmahq_invalid_all_modifier",
    }
    # Solo los validadores: descubrir también las pipelines instaladas cambia el
    # estado global de pySigma, y después las categorías de Sysmon ya no llegan
    # a su canal en este proceso (fallaban las pruebas siguientes de las reglas).
    plugins = InstalledSigmaPlugins.autodiscover(include_backends=False, include_pipelines=False)
    validators = plugins.validators
    paths = sorted(sigma.WORKSHOP_RULES.glob("*.yml"))
    assert len(paths) == 4
    rules = SigmaCollection.load_ruleset(paths)
    assert not rules.errors
    issues = []
    for name, validator_class in validators.items():
        if name in online:
            continue
        if validator_class is SigmahqTitleCaseValidator:
            validator = validator_class(
                word_list=(*validator_class.word_list, *sigma.SPANISH_SMALL_WORDS)
            )
        else:
            validator = validator_class()
        try:
            found = [issue for rule in rules.rules for issue in validator.validate(rule)]
        except RuntimeError as exc:  # necesita datos de la red
            assert "Failed to load" in str(exc), (name, exc)
            continue
        issues += [(name, str(issue)) for issue in found + validator.finalize()]
    assert issues == []
