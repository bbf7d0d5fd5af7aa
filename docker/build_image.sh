#!/usr/bin/env bash
# Construye docker/Dockerfile con buildah, sin Docker ni demonio, en una máquina
# como las nuestras (Debian, root, sin más acceso a internet que los registros
# de paquetes). Lo llama .ci/run; después, `MOTOR=buildah docker/test_image.sh`
# prueba la imagen. En GitHub la construye Docker (imagen.yml) con la misma
# receta y la misma base, la oficial.
#
#   1. La base (debian:bookworm-slim) se produce aquí con debootstrap
#      (docker/base_image.sh) si aún no está en el almacén de buildah.
#   2. Los datos no salen de ninguna carpeta del equipo: el espejo del aula
#      (`python -m taller servir`) los sirve solo en 127.0.0.1 y su dirección
#      entra en la construcción como TALLER_BASE_URL, igual que en un aula. Sirve
#      la copia local de Security-Datasets (tests/mirror.py), que tiene la forma
#      de una caché del taller; si no la hay, la caché del clon (datasets/,
#      que llena `make datasets` desde upstream).
#   3. pip necesita las autoridades de certificación del proxy de la máquina
#      ($PIP_CERT): se montan solo durante la construcción (--volume) y la
#      imagen no las guarda.
#
# Uso, como root y desde cualquier carpeta: docker/build_image.sh
# Variables: PYTHON (con el entorno del taller; por defecto .venv/bin/python),
# PUERTO_ESPEJO (por defecto, 38017).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-.venv/bin/python}"
image="$(sed -n 's/^ *image: *//p' docker/compose.yaml | head -n 1)"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"

docker/base_image.sh

# Un puerto fijo: TALLER_BASE_URL es parte de la clave de la capa de datos, que
# así se reutiliza de una construcción a otra.
port="${PUERTO_ESPEJO:-38017}"
mkdir -p test-artifacts
mirror_dir="$("$python" tests/mirror.py)"
if [ -n "$mirror_dir" ]; then
  served="$mirror_dir/datasets"
else
  make datasets
  served="$PWD/datasets"
fi
echo "== Espejo del aula en http://127.0.0.1:$port/ (sirve $served)"
TALLER_CACHE_DIR="$served" "$python" -m taller servir --direccion 127.0.0.1 \
  --puerto "$port" > test-artifacts/espejo.log 2>&1 &
mirror=$!
trap 'kill "$mirror" 2>/dev/null || true' EXIT
# Responde (con 404 en la raíz) cuando ha comprobado la caché.
until "$python" - "$port" <<'FIN' 2>/dev/null; do
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/", timeout=2)
except urllib.error.HTTPError:
    pass
FIN
  if ! kill -0 "$mirror" 2>/dev/null; then
    cat test-artifacts/espejo.log >&2
    exit 1
  fi
  sleep 1
done

# Las reglas Sigma (cuaderno 10): la copia local de SigmaHQ, empaquetada con la
# forma del archivo de upstream y servida también en 127.0.0.1; sin copia
# local, la construcción las toma de upstream.
sigma_arg=()
sigma_dir="$("$python" tests/mirror.py sigma)"
if [ -n "$sigma_dir" ]; then
  sigma_port=$((port + 1))
  sigma_served="$(mktemp -d)"
  tar -czf "$sigma_served/sigma.tar.gz" -C "$(dirname "$sigma_dir")" \
    --transform "s|^$(basename "$sigma_dir")|sigma|" \
    "$(basename "$sigma_dir")/LICENSE" "$(basename "$sigma_dir")/rules/windows"
  "$python" -m http.server --bind 127.0.0.1 --directory "$sigma_served" "$sigma_port" \
    > test-artifacts/reglas-sigma.log 2>&1 &
  sigma_server=$!
  trap 'kill "$mirror" "$sigma_server" 2>/dev/null || true; rm -rf "$sigma_served"' EXIT
  sigma_arg=(--build-arg "TALLER_SIGMA_URL=http://127.0.0.1:$sigma_port/sigma.tar.gz")
  until "$python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "http://127.0.0.1:$sigma_port/sigma.tar.gz" 2>/dev/null; do
    sleep 1
  done
fi

# `buildah bud --volume` monta en todos los pasos RUN y crea el punto de montaje
# si no existe, que quedaría en la imagen (un archivo vacío en la primera capa).
# Por eso se monta una carpeta con solo las autoridades sobre /mnt, que la base
# ya trae vacía: ningún paso la escribe y la imagen la conserva vacía.
ca=()
if [ -n "${PIP_CERT:-}" ]; then
  ca_dir="$(mktemp -d)"
  trap 'kill "$mirror" ${sigma_server:-} 2>/dev/null || true; rm -rf "$ca_dir" ${sigma_served:-}' EXIT
  cp "$PIP_CERT" "$ca_dir/pip-ca.pem"
  chmod 755 "$ca_dir"
  chmod 644 "$ca_dir/pip-ca.pem"
  ca=(--volume "$ca_dir:/mnt:ro" --build-arg PIP_CA_BUNDLE=/mnt/pip-ca.pem)
fi

echo "== buildah bud → $image"
buildah bud --isolation chroot --format docker --layers --pull-never \
  "${ca[@]}" "${sigma_arg[@]}" \
  --build-arg "TALLER_BASE_URL=http://127.0.0.1:$port/" \
  --build-arg "VERSION=$version" \
  -f docker/Dockerfile -t "$image" .
