#!/usr/bin/env python3
"""Ejecuta una orden y escribe cuánto tiempo de reloj y de CPU gastó ella con
todos sus descendientes. Para las cifras de .ci/image.

`time` de bash no basta aquí: `buildah run` deja huérfanos a los procesos del
contenedor (pip, los núcleos, la JVM de Spark), que pasan a init y cuyo tiempo
de CPU nadie le suma. Este proceso se declara «subreaper»
(PR_SET_CHILD_SUBREAPER): los huérfanos de sus descendientes pasan a él, los
recoge y su CPU cuenta.

Uso: python3 docker/cpu_time.py SALIDA ORDEN [ARGUMENTOS...]
Termina con el código de la orden. Solo la biblioteca estándar (Linux).
"""

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
# Tras terminar la orden, lo que aún quede de sus descendientes tiene este
# margen para acabar; no se espera más.
GRACE = 60


def main(output: str, command: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    start = time.monotonic()
    status = subprocess.call(command)
    wall = time.monotonic() - start
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.2)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(output, "w", encoding="utf-8") as out:
        out.write(
            f"{wall:.0f} s de reloj, {usage.ru_utime:.0f} s de CPU de usuario y "
            f"{usage.ru_stime:.0f} s de sistema\n"
        )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
