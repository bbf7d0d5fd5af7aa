"""Comprobaciones de los ejercicios de 08_spark_sql.ipynb.

Las respuestas esperadas se calculan con pandas (`taller.load`) sobre los
mismos conjuntos que el cuaderno consulta con Spark: así la comprobación no
necesita Java y, de paso, confirma que Spark y pandas coinciden.
"""

from functools import cache

import pandas as pd

from taller.exercises import exercise

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


@exercise("08.1")
def _(answer):
    expected, exact = _process_creations()
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return False, "Pista: la respuesta es un número de eventos (un int)."
    if value == expected:
        return True, (
            "Son los procesos que Security vio nacer en la víctima, entre ellos "
            "los que lanzó el servicio."
        )
    if value == exact:
        return False, (
            "Pista: WORKSTATION6 escribe el canal en minúsculas; compare con "
            "lower(Channel) = 'security'."
        )
    return False, (
        "Pista: filtre por EventID = 4688, por el canal Security en cualquier "
        "grafía y por Hostname, y cuente con count(*)."
    )


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


def _masks(answer) -> set[str] | None:
    items = [answer] if isinstance(answer, str) else answer
    try:
        return {str(item).strip().lower() for item in items}
    except TypeError:
        return None


@exercise("08.2")
def _(answer):
    expected = _thread_accesses()
    given = _masks(answer)
    if given is None:
        return False, 'Pista: escriba la máscara como texto, por ejemplo "0x1000".'
    if given == expected:
        return True, (
            "Es la máscara del acceso entre el mismo par de procesos que el hilo "
            "remoto: el mismo resultado que con pandas en el cuaderno 07."
        )
    return False, (
        "Pista: una el evento 8 (SourceProcessGuid, TargetProcessGuid) con el 10 "
        "(SourceProcessGUID, TargetProcessGUID) por las dos claves a la vez y "
        "devuelva GrantedAccess."
    )


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
