"""Comprobaciones de los ejercicios de 04_transformar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

import base64
import re
from functools import cache

from taller.exercises import exercise

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"


def _events():
    from taller.loader import load

    return load(PSEXEC)


def _number(answer) -> float | None:
    try:
        return float(str(answer).replace(",", "."))
    except (TypeError, ValueError):
        return None


@cache
def _host_counts() -> tuple[int, int]:
    hostnames = _events()["Hostname"]
    return int(hostnames.str.lower().str.split(".").str[0].nunique()), int(hostnames.nunique())


@exercise("04.1")
def _(answer):
    expected, raw = _host_counts()
    value = _number(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de equipos (un int)."
    if value == expected:
        return True, "Tres equipos: las dos víctimas de Empire y el controlador de dominio."
    if value == raw:
        return False, (
            "Pista: ese es el número de nombres tal cual; quite el dominio "
            '(str.split(".").str[0]) y pase a minúsculas antes de contar.'
        )
    return False, "Pista: cuente con nunique() los valores de la columna host."


@cache
def _server() -> str:
    from taller.patterns import ENCODED_COMMAND

    events = _events()
    command = events.loc[events["EventID"] == 4697, "ServiceFileName"]
    payload = command.str.extract(ENCODED_COMMAND)["payload"].iloc[0]
    script = base64.b64decode(payload).decode("utf-16-le")
    inner = re.search(r"frombase64string\('([^']+)'\)", script, re.IGNORECASE)
    return base64.b64decode(inner.group(1)).decode("utf-16-le")


def _address(text) -> str:
    return str(text).strip().lower().removeprefix("http://").rstrip("/")


@exercise("04.2")
def _(answer):
    expected = _server()
    if _address(answer) == _address(expected):
        return True, "Es el servidor de Empire del que el stager descarga la segunda fase."
    if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", str(answer).strip()) and len(str(answer)) > 16:
        return False, (
            "Pista: eso sigue en Base64; decodifíquelo con base64.b64decode(...)"
            '.decode("utf-16-le").'
        )
    return False, (
        r"Pista: re.search(r\"frombase64string\('([^']+)'\)\", script, "
        "re.IGNORECASE).group(1) es el Base64 de dentro."
    )


@cache
def _seconds() -> tuple[float, float]:
    """(máximo según la hora del evento, diferencia según @timestamp)."""
    from taller.clocks import event_time

    events = _events()
    events = events.assign(event_time=event_time(events))
    service = events[events["EventID"] == 4697].iloc[0]
    connection = events[
        (events["EventID"] == 3) & (events["Image"].str.endswith("powershell.exe", na=False))
    ]
    connection = connection[connection["DestinationIp"] == _address(_server())].iloc[0]
    by_event = (connection["event_time"] - service["event_time"]).total_seconds()
    by_receipt = (connection["@timestamp"] - service["@timestamp"]).total_seconds()
    return by_event, by_receipt


@exercise("04.3")
def _(answer):
    upper, by_receipt = _seconds()
    value = _number(answer)
    if value is None:
        return False, "Pista: la respuesta es un número de segundos."
    if upper - 1 - 0.05 <= value <= upper + 0.05:
        if abs(value - upper) <= 0.05:
            return True, (
                "Como mucho ese tiempo, y como poco un segundo menos: el 4697 "
                "solo dice en qué segundo ocurrió."
            )
        return True, "Dentro del margen que permite la resolución de un segundo del 4697."
    if abs(value - by_receipt) <= 0.05:
        return False, ("Pista: eso sale de @timestamp, la hora de recepción; use event_time.")
    return False, (
        "Pista: reste el event_time del 4697 al event_time de la conexión (Sysmon 3 "
        "hacia el servidor) y use total_seconds()."
    )


WRONG = {
    "04.1": lambda: [_host_counts()[1], 2],
    "04.2": lambda: ["10.10.10.6", "aAB0AHQAcAA6AC8ALwAxADAALgAxADAALgAxADAALgA1AA=="],
    "04.3": lambda: [round(_seconds()[1], 1), _seconds()[0] + 2, 0],
}
