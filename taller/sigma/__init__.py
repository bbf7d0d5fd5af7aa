"""Detecciones como código: reglas Sigma sobre los conjuntos de Windows.

Sigma es el formato en que se comparten las detecciones; pySigma las convierte
al lenguaje de cada motor. Este paquete las lleva a los dos motores del taller,
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

from taller.sigma.command import report, try_rule  # noqa: F401
from taller.sigma.convert import (  # noqa: F401
    Conversion,
    backend,
    convert,
    convert_all,
    convert_file,
    explain,
    logsource_condition,
    pipeline,
    read_rule,
    techniques_of,
)
from taller.sigma.evaluate import (  # noqa: F401
    RESULTS,
    Evaluation,
    duckdb_events,
    evaluate_duckdb,
    evaluate_spark,
    load_results,
    missing_fields,
    parent,
    results_path,
    run_evaluation,
    spark_events,
    technique_table,
    verdicts,
    view_sql,
)
from taller.sigma.events import (  # noqa: F401
    ALIASES,
    NESTED,
    cached_hosts,
    events_table,
    table_columns,
    windows_hosts,
)
from taller.sigma.rules import (  # noqa: F401
    LICENSE_NOTE,
    LOWER,
    RULES_COMMIT,
    RULES_COUNT,
    RULES_DIGEST,
    RULES_TAG,
    RULES_URL,
    SIGMA_CACHE,
    SPANISH_SMALL_WORDS,
    SYSMON,
    UPSTREAM_ARCHIVE,
    WORKSHOP_RULES,
    rules_dir,
    rules_source,
    sigma_cache,
    tree_digest,
)
