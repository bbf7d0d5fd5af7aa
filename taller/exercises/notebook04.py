"""Comprobaciones de los ejercicios de 04_transformar.ipynb.

Cada respuesta esperada se calcula aquí con los mismos datos del cuaderno;
ningún mensaje la revela.
"""

import base64
import re
from functools import cache

from taller.exercises import exercise
from taller.exercises.answers import DECIMAL, INTEGER, TEXT, close

PSEXEC = "empire_psexec_dcerpc_tcp_svcctl"


def _events():
    from taller.loader import load

    return load(PSEXEC)


@cache
def _host_counts() -> tuple[int, int]:
    hostnames = _events()["Hostname"]
    return int(hostnames.str.lower().str.split(".").str[0].nunique()), int(hostnames.nunique())


@exercise(
    "04.1",
    INTEGER,
    hints=(
        "Normalice los nombres en una columna nueva (minúsculas y sin lo que "
        "va tras el primer punto) y cuente sus valores distintos.",
        "Encadene los métodos de texto: str.lower para las minúsculas, "
        "str.split por el punto y str[0] para el primer trozo; el método "
        "nunique cuenta los valores distintos.",
    ),
)
def _(value):
    expected, raw = _host_counts()
    if value == expected:
        return True, "Tres equipos: las dos víctimas de Empire y el controlador de dominio."
    if value == raw:
        return False, (
            "Ese es el número de nombres tal cual; quite el dominio y pase a "
            "minúsculas antes de contar."
        )
    return False, None


@cache
def _server() -> str:
    from taller.patterns import ENCODED_COMMAND

    events = _events()
    command = events.loc[events["EventID"] == 4697, "ServiceFileName"]
    payload = command.str.extract(ENCODED_COMMAND)["payload"].iloc[0]
    script = base64.b64decode(payload).decode("utf-16-le")
    inner = re.search(r"frombase64string\('([^']+)'\)", script, re.IGNORECASE)
    return base64.b64decode(inner.group(1)).decode("utf-16-le")


def _address(text: str) -> str:
    return text.strip().lower().removeprefix("http://").rstrip("/")


@exercise(
    "04.2",
    TEXT,
    hints=(
        "Busque en script lo que va entre las comillas simples de "
        "FromBase64String('...') con una expresión regular que lo capture en "
        "un grupo; ese grupo es el Base64 que hay que decodificar.",
        "En el patrón, escriba el nombre de la función, escape cada paréntesis "
        "con una barra invertida y capture entre paréntesis «uno o más "
        "caracteres que no sean una comilla»; re.IGNORECASE ignora las "
        "mayúsculas y group(1) devuelve lo capturado. Después, decodifique el "
        "Base64 y pase los bytes a texto en UTF-16LE.",
    ),
)
def _(value):
    if _address(value) == _address(_server()):
        return True, "Es el servidor de Empire del que el stager descarga la segunda fase."
    if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value) and len(value) > 16:
        return False, (
            "Eso sigue en Base64: decodifíquelo y pase los bytes a texto con "
            "la codificación UTF-16LE."
        )
    if "frombase64string" in value.lower():
        return False, "Eso es la llamada entera; quédese solo con lo que va entre las comillas."
    return False, None


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


@exercise(
    "04.3",
    DECIMAL,
    hints=(
        "Reste la hora del evento (event_time) del 4697 a la de la conexión; "
        "como el 4697 solo registra segundos enteros, esa resta es el máximo.",
        "Tome el event_time del evento 4697 y el de la conexión de "
        "powershell.exe al servidor (Sysmon 3, en connections); la diferencia "
        "es un Timedelta: páselo a segundos con total_seconds().",
    ),
)
def _(value):
    upper, by_receipt = _seconds()
    if close(value, upper):
        return True, (
            "Como mucho ese tiempo, y como poco un segundo menos: el 4697 "
            "solo dice en qué segundo ocurrió."
        )
    if abs(value - upper) < 0.05:
        return False, (
            "Es ese tiempo, pero redondeado de más: guárdelo sin redondear (o "
            "con dos decimales o más)."
        )
    if upper - 1 <= value < upper:
        return False, (
            "Ese valor cabe dentro del segundo del 4697, pero se pide el máximo: "
            "la resta directa de las dos horas del evento."
        )
    if abs(value - by_receipt) < 0.05:
        return False, "Eso sale de @timestamp, la hora de recepción; use event_time."
    return False, None


WRONG = {
    "04.1": lambda: [_host_counts()[1], 2],
    "04.2": lambda: ["10.10.10.6", "aAB0AHQAcAA6AC8ALwAxADAALgAxADAALgAxADAALgA1AA=="],
    "04.3": lambda: [
        round(_seconds()[1], 1),
        _seconds()[0] + 2,
        0,
        _seconds()[0] - 0.5,  # dentro del segundo, pero no el máximo
        round(_seconds()[0], 1),  # redondeado de más
    ],
}
