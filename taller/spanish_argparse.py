"""argparse en español: la ayuda, los títulos y cada mensaje de error.

argparse solo habla inglés; la línea de comandos del taller (`taller.cli`) se
escribe en el aula y tiene que responder en español.
"""

import argparse
import re
import sys

# argparse solo habla inglés: cada mensaje de error suyo se traduce entero.
_ARGPARSE_MESSAGES = (
    (r"the following arguments are required: (.*)", r"faltan argumentos obligatorios: \1"),
    (r"unrecognized arguments: (.*)", r"argumentos no reconocidos: \1"),
    (r"ambiguous option: (\S+) could match (.*)", r"opción ambigua: \1 puede ser \2"),
    (r"ignored explicit argument (.*)", r"sobra el valor \1: esta opción no lleva ninguno"),
    (r"expected one argument", "necesita un valor"),
    (r"expected at most one argument", "admite como mucho un valor"),
    (r"expected at least one argument", "necesita al menos un valor"),
    (r"not allowed with argument (.*)", r"no se puede usar junto con \1"),
    (r"one of the arguments (.*) is required", r"hace falta uno de estos argumentos: \1"),
    (r"invalid int value: (.*)", r"valor no válido: \1 (debe ser un número entero)"),
    (r"invalid float value: (.*)", r"valor no válido: \1 (debe ser un número)"),
    (r"invalid \S+ value: (.*)", r"valor no válido: \1"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"opción no válida: \1 (elija entre \2)"),
    (r"unexpected option string: (.*)", r"opción inesperada: \1"),
)


def translate_argparse(message: str) -> str:
    """Un mensaje de error de argparse, en español (o tal cual si no se conoce)."""
    argument = re.fullmatch(r"argument (.+?): (.*)", message, flags=re.DOTALL)
    if argument:
        return f"argumento {argument[1]}: {translate_argparse(argument[2])}"
    for english, spanish in _ARGPARSE_MESSAGES:
        if re.fullmatch(english, message, flags=re.DOTALL):
            return re.sub(english, spanish, message, count=1, flags=re.DOTALL)
    return message


class UsageError(Exception):
    """Una orden mal escrita: se muestra su uso y se sale con el código 2."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


class Formatter(argparse.HelpFormatter):
    """La ayuda en español: «uso:» y las opciones alineadas."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """Un analizador de argumentos que habla español (ayuda, títulos y errores)."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=Formatter, add_help=False, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"Error: {translate_argparse(message)}\n")
