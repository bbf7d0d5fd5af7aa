#!/usr/bin/env bash
# Prueba una imagen del taller ya construida, como la usará el alumno: con
# docker/compose.yaml, sin carpeta trabajo/ previa (Docker la crea como root y
# el paso permisos-trabajo se la cede a jovyan). La llama el flujo
# .github/workflows/imagen.yml antes de publicar, una vez por plataforma; sirve
# igual en cualquier equipo con Docker y la imagen cargada.
#
# Uso, desde la raíz del repositorio:
#   docker/test_image.sh [PLATAFORMA]      (p. ej. linux/arm64; por defecto, la del equipo)
#
# La imagen es la que nombra docker/compose.yaml (la etiqueta latest local).
# Comprueba:
#   1. que el contenedor está sano antes de LIMITE segundos (180 por defecto);
#   2. la prueba de humo (docker/smoke_test.py): token, carpetas, escritura en
#      trabajo/, interfaz en español y núcleo de Python;
#   3. que trabajo/ es de UID 1000 en el equipo;
#   4. que el Python de la imagen es el de binder/runtime.txt;
#   5. que todos los cuadernos pasan nbval dentro del contenedor y sin red, con
#      las versiones de pytest y nbval de requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

platform="${1:-}"
limit="${LIMITE:-180}"
# El puerto que publica docker/compose.yaml; otro solo para probar este guion.
port="${PUERTO:-8888}"
compose=(docker compose -f docker/compose.yaml)
if [ -n "$platform" ]; then
  export DOCKER_DEFAULT_PLATFORM="$platform"
fi

cleanup() {
  "${compose[@]}" logs taller > "test-artifacts/imagen-${platform//\//-}.log" 2>&1 || true
  "${compose[@]}" down --volumes --timeout 20 || true
}
mkdir -p test-artifacts
trap cleanup EXIT

echo "== Sin trabajo/ previa: la crea Docker"
if [ -e trabajo ]; then
  echo "Error: ya existe trabajo/; la prueba necesita que Docker la cree." >&2
  exit 1
fi

echo "== Arranque (sano en menos de ${limit} s)"
"${compose[@]}" up --detach --no-build --pull never --wait --wait-timeout "$limit"
container="$("${compose[@]}" ps --quiet taller)"

# El token lo genera JupyterLab al arrancar y lo escribe en sus registros.
token=""
for _ in $(seq 1 30); do
  token="$("${compose[@]}" logs taller 2>&1 | grep -o 'token=[0-9a-f]*' | head -n 1 | cut -d= -f2 || true)"
  [ -n "$token" ] && break
  sleep 2
done
if [ -z "$token" ]; then
  echo "Error: no aparece el token en los registros del contenedor." >&2
  exit 1
fi

echo "== Prueba de humo"
python3 docker/smoke_test.py --url "http://127.0.0.1:$port/" --token "$token" \
  --contenedor "$container" --limite "$limit" \
  --esperado analisis-datos-jupyter trabajo --escribible trabajo

echo "== trabajo/ es de jovyan (UID 1000)"
owner="$(stat -c %u trabajo)"
if [ "$owner" != 1000 ]; then
  echo "Error: trabajo/ es de UID $owner, no de 1000: el contenedor no podría escribir." >&2
  exit 1
fi

echo "== El Python de la imagen es el de los cuadernos (binder/runtime.txt)"
expected="$(sed -n 's/^python-//p' binder/runtime.txt)"
actual="$("${compose[@]}" exec -T taller python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$actual" != "$expected" ]; then
  echo "Error: la imagen trae Python $actual y los cuadernos se ejecutan con $expected." >&2
  exit 1
fi

echo "== Cuadernos con nbval dentro del contenedor, sin conexión"
pins="$(grep -E '^(pytest|nbval)==' requirements-dev.txt | tr '\n' ' ')"
repo=/home/jovyan/analisis-datos-jupyter
"${compose[@]}" exec -T taller mkdir -p "$repo/tests"
docker cp tests/nbval_sanitize.cfg "$container:$repo/tests/nbval_sanitize.cfg"
# shellcheck disable=SC2086  # $pins son varias palabras a propósito
"${compose[@]}" exec -T taller python -m pip install --user --quiet $pins
# Instaladas las herramientas de prueba, el contenedor se queda sin red: los
# cuadernos deben funcionar solo con lo que trae la imagen.
for network in $(docker inspect --format '{{range $name, $value := .NetworkSettings.Networks}}{{$name}} {{end}}' "$container"); do
  docker network disconnect "$network" "$container"
done
"${compose[@]}" exec -T --workdir "$repo" taller python -m pytest -p no:cacheprovider \
  --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900 notebooks

echo "Imagen correcta${platform:+ para $platform}."
