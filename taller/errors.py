"""La única excepción propia del paquete.

Todo fallo que el alumno pueda provocar (un nombre mal escrito, estar sin
conexión, un archivo dañado...) llega como `TallerError` con un mensaje en
español que dice qué pasó, con qué conjunto de datos y qué hacer. Así la línea
de comandos puede mostrar el mensaje tal cual, sin traza de Python, y salir con
un código distinto de cero.
"""


class TallerError(Exception):
    """Error explicado en español, listo para mostrarse al alumno."""
