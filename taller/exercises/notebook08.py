"""Comprobaciones de los ejercicios de 08_spark_sql.ipynb.

Las respuestas esperadas se calculan con pandas (`taller.load`) sobre los
mismos conjuntos que el cuaderno consulta con Spark: así la comprobación no
necesita Java y, de paso, confirma que Spark y pandas coinciden.
"""

from functools import cache

import pandas as pd

from taller.exercises import exercise
from taller.exercises.answers import INTEGER, TEXT

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"
COVENANT = "covenant_lolbin_wuauclt_createremotethread"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
HOST = "WORKSTATION6.theshire.local"


def _load(name: str) -> pd.DataFrame:
    from taller.loader import load

    return load(name)


@cache
def _process_creations() -> tuple[int, int]:
    """(4688 de HOST en Security en cualquier grafía, solo con «Security» exacto)."""
    events = _load(PSEXEC)
    created = events[events["EventID"] == 4688]
    created = created[created["Hostname"] == HOST]
    any_case = created["Channel"].str.lower() == "security"
    exact = created["Channel"] == "Security"
    return int(any_case.sum()), int(exact.sum())


@exercise(
    "08.1",
    INTEGER,
    hints=(
        "Una consulta que filtre el evento 4688, el canal Security y el "
        "equipo, y cuente las filas que quedan.",
        "En el WHERE: EventID igual a 4688, el Hostname completo y el canal "
        "comparado en minúsculas con lower(...), porque cada equipo lo escribe "
        "a su manera; count(*) cuenta las filas.",
    ),
)
def _(value):
    expected, exact = _process_creations()
    if value == expected:
        return True, (
            "Son los procesos que Security vio nacer en la víctima, entre ellos "
            "los que lanzó el servicio."
        )
    if value == exact:
        return False, (
            "WORKSTATION6 escribe el canal en minúsculas; compare el canal sin "
            "distinguir mayúsculas."
        )
    return False, None


@cache
def _thread_accesses() -> frozenset[str]:
    events = _load(COVENANT)
    sysmon = events[events["Channel"] == SYSMON]
    threads = sysmon[sysmon["EventID"] == 8]
    accesses = sysmon[sysmon["EventID"] == 10]
    joined = threads.merge(
        accesses,
        left_on=["SourceProcessGuid", "TargetProcessGuid"],
        right_on=["SourceProcessGUID", "TargetProcessGUID"],
        suffixes=("_thread", "_access"),
    )
    return frozenset(joined["GrantedAccess_access"].str.lower())


@exercise(
    "08.2",
    TEXT,
    hints=(
        "Una los eventos 8 con los 10 por las dos claves a la vez (el proceso "
        "de origen y el de destino); la respuesta es el GrantedAccess de la "
        "fila unida.",
        "Escriba dos subconsultas con WITH, una con los eventos 8 y otra con "
        "los 10, y únalas con un JOIN cuyo ON iguale las dos claves de cada "
        "lado (Guid en el 8, GUID en el 10), unidas con AND.",
    ),
)
def _(value):
    if value.lower() in _thread_accesses():
        return True, (
            "Es la máscara del acceso entre el mismo par de procesos que el hilo "
            "remoto: el mismo resultado que con pandas en el cuaderno 07."
        )
    return False, None


def _wrong_08_2() -> list:
    events = _load(COVENANT)
    sysmon = events[events["Channel"] == SYSMON]
    masks = sysmon.loc[sysmon["EventID"] == 10, "GrantedAccess"].str.lower()
    expected = _thread_accesses()
    # La máscara más frecuente (un acceso cualquiera) y la del caso de Empire.
    common = masks[~masks.isin(expected)].value_counts().index[0]
    return [common, "0x1f3fff"]


# Respuestas equivocadas verosímiles, para tests/test_exercises.py.
WRONG = {
    "08.1": lambda: [_process_creations()[1], _process_creations()[0] + 1],
    "08.2": _wrong_08_2,
}
