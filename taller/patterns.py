"""Expresiones regulares del taller que conviene probar aparte.

`ENCODED_COMMAND` reconoce el parámetro ``-EncodedCommand`` de PowerShell
escrito como lo acepta ``powershell.exe``: cualquier abreviatura sin
ambigüedad (``-e``, ``-en``, ``-enc``, ``-enco`` … ``-encodedcommand``), el
alias ``-ec``, con ``/`` o con los guiones tipográficos (–, —, ―) en lugar de
``-``, en mayúsculas o minúsculas, y el argumento Base64 entre comillas o sin
ellas. El grupo ``payload`` es el texto en Base64 (UTF-16LE una vez
decodificado). Lo usa ``notebooks/04_transformar.ipynb``; las variantes están
en ``tests/test_patterns.py``.
"""

PARAMETER = "encodedcommand"
# Todas las abreviaturas, de la más larga a la más corta, y el alias «ec».
ENCODED_COMMAND_NAMES = [PARAMETER[:n] for n in range(len(PARAMETER), 0, -1)] + ["ec"]
ENCODED_COMMAND = (
    r"(?i)(?:^|\s)[-/\u2013\u2014\u2015]"
    rf"(?:{'|'.join(ENCODED_COMMAND_NAMES)})"
    r"\s+[\"']?(?P<payload>[A-Za-z0-9+/]+={0,2})"
)
