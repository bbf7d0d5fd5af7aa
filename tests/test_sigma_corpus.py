"""Reglas de SigmaHQ medidas en el corpus: una parte de la evaluación completa.

Las reglas de acceso a procesos (``process_access``) y de hilos remotos de
SigmaHQ, verificadas por su huella, contra los conjuntos de equipo Windows del
corpus del cuaderno 09 (``catalog.corpus()``, descargados si faltan: la
prueba no depende de lo que haya en la caché): la regla de volcado de LSASS
salta en algún conjunto de acceso a credenciales, y la página del libro lista
como falso positivo cada conjunto de otra técnica en que salta. La evaluación
completa está en `make bench`.
"""

import sys

import pytest

from mirror import REPO
from taller import catalog, sigma

pytestmark = pytest.mark.data

sys.path.insert(0, str(REPO / "book" / "_ext"))
import cobertura_sigma  # noqa: E402

LSASS = "rules/windows/process_access/proc_access_win_lsass_memdump.yml"


@pytest.fixture(scope="module")
def results():
    root = sigma.rules_dir()
    paths = sorted((root / "rules" / "windows" / "process_access").glob("*.yml"))
    paths += sorted((root / "rules" / "windows" / "create_remote_thread").glob("*.yml"))
    entries = catalog.corpus()
    conversions = sigma.convert_all(root, paths)
    evaluation = sigma.evaluate_duckdb(conversions, sigma.events_table(entries))
    return {
        "tag": sigma.RULES_TAG,
        "datasets": {e.name: {"techniques": list(e.techniques)} for e in entries},
        "rules": [
            {
                "path": c.path,
                "id": c.id,
                "title": c.title,
                "author": c.author,
                "techniques": list(c.techniques),
                "reason": c.reason or evaluation.errors.get(c.path),
                "missing": list(evaluation.missing.get(c.path, ())),
                "alerts": evaluation.alerts.get(c.path, {}),
            }
            for c in conversions
        ],
        "seconds": {"conversion": 0.0, "query": evaluation.seconds["query"]},
    }


def test_the_lsass_rule_fires_on_credential_access(results):
    rule = next(rule for rule in results["rules"] if rule["path"] == LSASS)
    assert rule["id"] == cobertura_sigma.LSASS_RULE and rule["reason"] is None
    t1003 = [
        name
        for name in rule["alerts"]
        if any(t.startswith("T1003") for t in results["datasets"][name]["techniques"])
    ]
    assert t1003


def test_the_page_lists_every_lsass_false_positive(results, monkeypatch, tmp_path):
    monkeypatch.setattr(cobertura_sigma, "FIGURE", tmp_path / "figura.png")
    page = cobertura_sigma.markdown(results)
    rule = next(rule for rule in results["rules"] if rule["path"] == LSASS)
    outside = [
        name
        for name in rule["alerts"]
        if not any(t.startswith("T1003") for t in results["datasets"][name]["techniques"])
    ]
    section = page.split("## Un ejemplo: volcado de LSASS")[1].split("## Licencia")[0]
    for name in rule["alerts"]:
        verdict = "FP" if name in outside else "TP"
        assert f"| `{name}` |" in section and section.split(f"| `{name}` |")[1].split("\n")[
            0
        ].rstrip().endswith(f"| {verdict} |"), name
    assert (tmp_path / "figura.png").stat().st_size > 0
    assert "DRL" in page.split("## Licencia de las reglas")[1]


def test_no_converted_rule_breaks_the_engine(results):
    assert [
        rule for rule in results["rules"] if rule["reason"] and "Error" in rule["reason"]
    ] == []


def test_the_command_reports_unknown_fields_and_verdicts(tmp_path, capsys):
    from taller import cli

    rule = tmp_path / "regla.yml"
    rule.write_text(
        "title: Prueba\ntags:\n    - attack.t1003.001\nlogsource:\n    category: process_access\n"
        "    product: windows\ndetection:\n    selection:\n"
        "        TargetImage|endswith: '\\lsass.exe'\n        GrantedAccess: '0x1fffff'\n"
        "        Imagen|endswith: '.exe'\n    condition: selection or selection\n",
        encoding="utf-8",
    )
    name = "cmd_lsass_memory_dumpert_syscalls"
    assert cli.main(["sigma", str(rule), "--conjunto", name]) == 0
    out = capsys.readouterr().out
    assert "campos desconocidos, que ningún conjunto trae: Imagen" in out
    assert f"  {name}: no salta (FN: simula T1003.001)" in out


def test_spark_finds_the_same_alerts_as_duckdb(results):
    """El SQL de Spark de las mismas reglas da las mismas alertas que el de DuckDB."""
    from taller import hunt

    root = sigma.rules_dir()
    paths = [root / rule["path"] for rule in results["rules"]]
    conversions = sigma.convert_all(root, paths)
    entries = catalog.corpus()
    spark = hunt.spark_session("taller-sigma-prueba")
    try:
        evaluation = sigma.evaluate_spark(spark, conversions, sigma.events_table(entries))
    finally:
        spark.stop()
    assert evaluation.errors == {}
    expected = {
        rule["path"]: rule["alerts"] for rule in results["rules"] if rule["reason"] is None
    }
    assert {path: evaluation.alerts[path] for path in expected} == expected
