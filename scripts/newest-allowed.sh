#!/usr/bin/env bash
# Crea un entorno virtual con la rueda (wheel) del paquete `taller` y lo más
# nuevo que permiten los intervalos de pyproject.toml (dependencias y extra
# `lab`), más las herramientas de prueba de requirements-dev.txt (sin el
# entorno fijado del alumno). Lo usa el trabajo «versiones más nuevas» de
# .github/workflows/pruebas.yml; en local:
#
#   python -m pip wheel --no-deps --wheel-dir dist .
#   bash scripts/newest-allowed.sh /tmp/nuevas dist
#   /tmp/nuevas/bin/pytest -o pythonpath=tests -m "unit or data" tests
#
# Imprime al final las versiones instaladas de las dependencias del paquete.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:?indique la carpeta del entorno nuevo}
dist=${2:?indique la carpeta con la rueda de taller}
python=${PYTHON:-python3}

wheels=("$dist"/taller-*.whl)
if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
  echo "Hace falta exactamente una rueda taller-*.whl en $dist" >&2
  exit 1
fi
wheel=$(cd "$(dirname "${wheels[0]}")" && pwd)/$(basename "${wheels[0]}")

tools=$(mktemp)
trap 'rm -f "$tools"' EXIT
grep -v '^-r ' requirements-dev.txt >"$tools"

rm -rf "$venv"
"$python" -m venv "$venv"
# Sin caché de pip: que ninguna versión vieja guardada decida por el índice.
"$venv/bin/python" -m pip install --quiet --no-cache-dir --upgrade --upgrade-strategy eager \
  "taller[lab] @ file://$wheel" -r "$tools"
"$venv/bin/python" - <<'PY'
from importlib import metadata

requirements = metadata.requires("taller")
names = sorted({r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in requirements})
print("taller", metadata.version("taller"), "con:")
for name in names:
    print(f"  {name}=={metadata.version(name)}")
PY
