#!/usr/bin/env bash
# Prueba una imagen del taller ya construida, como la usará el alumno: sin
# carpeta trabajo/ previa (el motor la crea como root y el paso
# permisos-trabajo de docker/compose.yaml se la cede a jovyan), con el token,
# en español y con todos los cuadernos ejecutados dentro y sin red.
#
# Un guion, dos motores, un camino para cada uno:
# - docker (por defecto): el flujo .github/workflows/imagen.yml antes de
#   publicar, una vez por plataforma, o cualquier equipo con Docker. Arranca la
#   imagen con docker/compose.yaml.
# - buildah (MOTOR=buildah): .ci/run en nuestras máquinas, sin Docker, tras
#   docker/build_image.sh. Como root: un contenedor de buildah con las mismas
#   órdenes que compose.yaml (paso de permisos, JupyterLab bajo tini con la
#   carpeta trabajo/ montada), en la red del equipo y solo en 127.0.0.1.
#
# Uso, desde la raíz del repositorio:
#   docker/test_image.sh [PLATAFORMA]      (p. ej. linux/arm64; por defecto, la del equipo)
#   MOTOR=buildah docker/test_image.sh
#
# La imagen es la que nombra docker/compose.yaml (la etiqueta latest local).
# Comprueba:
#   1. que el contenedor está sano antes de LIMITE segundos (180 por defecto),
#      con el HEALTHCHECK de la imagen (Docker lo ejecuta; con buildah, este
#      guion);
#   2. la prueba de humo (docker/smoke_test.py): token (403 sin él, 200 con él),
#      carpetas, escritura en trabajo/, interfaz en español y núcleo de Python;
#   3. que trabajo/ es de UID 1000 en el equipo;
#   4. que el Python de la imagen es el de binder/runtime.txt;
#   5. `taller verificar` dentro: los datos de la imagen, íntegros;
#   6. que todos los cuadernos pasan nbval dentro del contenedor y sin red (con
#      Docker, desconectado de sus redes; con buildah, en un espacio de red
#      propio con solo la interfaz de bucle local: unshare -n), con las
#      versiones de pytest y nbval de requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

platform="${1:-}"
engine="${MOTOR:-docker}"
limit="${LIMITE:-180}"
# El puerto que publica docker/compose.yaml; otro solo para probar este guion
# (y con buildah, que escucha en la red del equipo, para no chocar con otro).
port="${PUERTO:-8888}"
image="$(sed -n 's/^ *image: *//p' docker/compose.yaml | head -n 1)"
repo=/home/jovyan/analisis-datos-jupyter
log="test-artifacts/imagen-${engine}${platform:+-${platform//\//-}}.log"
mkdir -p test-artifacts

case "$engine" in
  docker)
    compose=(docker compose -f docker/compose.yaml)
    if [ -n "$platform" ]; then
      export DOCKER_DEFAULT_PLATFORM="$platform"
    fi
    cleanup() {
      "${compose[@]}" logs taller > "$log" 2>&1 || true
      "${compose[@]}" down --volumes --timeout 20 || true
    }
    # Una orden dentro del contenedor: in_container [--user U] [--workdir D] -- ORDEN...
    in_container() {
      local options=()
      while [ "$1" != -- ]; do options+=("$1" "$2"); shift 2; done
      shift
      "${compose[@]}" exec -T "${options[@]}" taller "$@"
    }
    server_log() { "${compose[@]}" logs taller 2>&1; }
    ;;
  buildah)
    container=""
    server=""
    cleanup() {
      # JupyterLab no es hijo de este guion: tini lo pone en su propio grupo de
      # procesos, que sobrevive a `buildah run`. Sin espacio de procesos
      # propio, el PID de jpserver-PID.json es el del equipo: se para su
      # grupo (con los núcleos que haya abierto) y después `buildah run`.
      if [ -n "$container" ]; then
        local root pid
        root="$(buildah mount "$container")"
        for info in "$root"/home/jovyan/.local/share/jupyter/runtime/jpserver-*.json; do
          [ -e "$info" ] || continue
          pid="${info##*/jpserver-}"
          pid="${pid%.json}"
          if [ -n "$pid" ]; then
            kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
          fi
        done
      fi
      if [ -n "$server" ]; then
        wait "$server" 2>/dev/null || true
      fi
      if [ -n "$container" ]; then
        buildah umount "$container" > /dev/null || true
        buildah rm "$container" > /dev/null || true
      fi
    }
    in_container() {
      local options=()
      while [ "$1" != -- ]; do
        case "$1" in
          --workdir) options+=(--workingdir "$2") ;;
          *) options+=("$1" "$2") ;;
        esac
        shift 2
      done
      shift
      buildah run --isolation chroot "${options[@]}" \
        --volume "$PWD/trabajo:/home/jovyan/trabajo" "$container" -- "$@"
    }
    server_log() { cat "$log"; }
    ;;
  *)
    echo "Error: MOTOR debe ser docker o buildah, no «$engine»." >&2
    exit 2
    ;;
esac
trap cleanup EXIT

echo "== Sin trabajo/ previa: la crea el motor ($engine)"
if [ -e trabajo ]; then
  echo "Error: ya existe trabajo/; la prueba necesita que la cree el motor." >&2
  exit 1
fi

echo "== Arranque (sano en menos de ${limit} s)"
if [ "$engine" = docker ]; then
  "${compose[@]}" up --detach --no-build --pull never --wait --wait-timeout "$limit"
  container="$("${compose[@]}" ps --quiet taller)"
else
  # Con buildah, JupyterLab escucha en la red del equipo: si el puerto ya está
  # ocupado, la prueba hablaría con otro servidor.
  if ! python3 -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1])))' \
    "$port" 2> /dev/null; then
    echo "Error: el puerto $port de 127.0.0.1 ya está ocupado; elija otro con PUERTO=N." >&2
    exit 1
  fi
  container="$(buildah from --pull-never "$image")"
  # Lo que hace Docker con un volumen cuya carpeta no existe: crearla como root.
  mkdir trabajo
  chown 0:0 trabajo
  # El paso permisos-trabajo de compose.yaml, su misma orden, como root y sin red.
  step="$(sed -n '/permisos-trabajo:/,/volumes:/p' docker/compose.yaml \
    | sed -n '/command:/,/volumes:/p' | sed '1d;$d' | sed 's/^ *- >-//; s/^ *//' \
    | tr '\n' ' ' | sed 's/\$\$/$/g')"
  unshare -n -- buildah run --isolation chroot --user 0:0 \
    --volume "$PWD/trabajo:/home/jovyan/trabajo" "$container" -- /bin/sh -c "$step"
  # La orden de la imagen (ENTRYPOINT y CMD), en el puerto de la prueba y solo
  # en 127.0.0.1 (en lugar de --ip y --port): con buildah el contenedor
  # comparte la red del equipo. tini no es aquí el proceso 1: recoge los
  # huérfanos como subreaper.
  mapfile -t command < <(buildah inspect --type image --format \
    '{{range .Docker.Config.Entrypoint}}{{println .}}{{end}}{{range .Docker.Config.Cmd}}{{println .}}{{end}}' \
    "$image" | sed '/^$/d; /^--ip=/d; /^--port=/d')
  setsid buildah run --isolation chroot --env TINI_SUBREAPER=1 \
    --volume "$PWD/trabajo:/home/jovyan/trabajo" "$container" -- "${command[@]}" \
    --ip=127.0.0.1 "--port=$port" --ServerApp.port_retries=0 > "$log" 2>&1 &
  server=$!
  # El HEALTHCHECK de la imagen, la misma orden que ejecuta Docker.
  mapfile -t health < <(buildah inspect --type image --format \
    '{{range .Docker.Config.Healthcheck.Test}}{{println .}}{{end}}' "$image" | sed '/^$/d')
  if [ "${health[0]:-}" != CMD ]; then
    echo "Error: la imagen no declara un HEALTHCHECK con CMD (¿se construyó con --format docker?)." >&2
    exit 1
  fi
  check=("${health[@]:1}")
  check=("${check[@]//8888/$port}")
  deadline=$((SECONDS + limit))
  until in_container -- "${check[@]}" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
      echo "Error: el contenedor no está sano (su HEALTHCHECK falla) al agotar ${limit} s." >&2
      server_log >&2
      exit 1
    fi
    sleep 2
  done
  echo "correcto: el HEALTHCHECK de la imagen responde"
fi

# El token lo genera JupyterLab al arrancar y lo escribe en sus registros.
token=""
for _ in $(seq 1 30); do
  token="$(server_log | grep -o 'token=[0-9a-f]*' | head -n 1 | cut -d= -f2 || true)"
  [ -n "$token" ] && break
  sleep 2
done
if [ -z "$token" ]; then
  echo "Error: no aparece el token en los registros del contenedor." >&2
  exit 1
fi

echo "== Prueba de humo"
health_option=()
if [ "$engine" = docker ]; then
  health_option=(--contenedor "$container")
fi
python3 docker/smoke_test.py --url "http://127.0.0.1:$port/" --token "$token" \
  "${health_option[@]}" --limite "$limit" \
  --esperado analisis-datos-jupyter trabajo --escribible trabajo

echo "== trabajo/ es de jovyan (UID 1000)"
owner="$(stat -c %u trabajo)"
if [ "$owner" != 1000 ]; then
  echo "Error: trabajo/ es de UID $owner, no de 1000: el contenedor no podría escribir." >&2
  exit 1
fi

echo "== El Python de la imagen es el de los cuadernos (binder/runtime.txt)"
expected="$(sed -n 's/^python-//p' binder/runtime.txt)"
actual="$(in_container -- python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$actual" != "$expected" ]; then
  echo "Error: la imagen trae Python $actual y los cuadernos se ejecutan con $expected." >&2
  exit 1
fi

echo "== Los datos de la imagen, verificados (taller verificar)"
in_container --workdir "$repo" -- python -m taller verificar > "test-artifacts/verificar-$engine.txt"
echo "$(grep -c ': correcto' "test-artifacts/verificar-$engine.txt") conjuntos correctos." \
  "$(tail -n 1 "test-artifacts/verificar-$engine.txt")"

echo "== Cuadernos con nbval dentro del contenedor, sin conexión"
pins="$(grep -E '^(pytest|nbval)==' requirements-dev.txt | tr '\n' ' ')"
in_container -- mkdir -p "$repo/tests"
if [ "$engine" = docker ]; then
  docker cp tests/nbval_sanitize.cfg "$container:$repo/tests/nbval_sanitize.cfg"
  # shellcheck disable=SC2086  # $pins son varias palabras a propósito
  in_container -- python -m pip install --quiet $pins
  # Instaladas las herramientas de prueba, el contenedor se queda sin red: los
  # cuadernos deben funcionar solo con lo que trae la imagen.
  for network in $(docker inspect --format '{{range $name, $value := .NetworkSettings.Networks}}{{$name}} {{end}}' "$container"); do
    docker network disconnect "$network" "$container"
  done
  offline_run() { in_container --workdir "$repo" -- "$@"; }
else
  buildah copy --chown 1000:100 "$container" tests/nbval_sanitize.cfg "$repo/tests/nbval_sanitize.cfg" > /dev/null
  # pip, detrás del proxy de estas máquinas, con sus autoridades de
  # certificación montadas solo para esta orden.
  ca=()
  if [ -n "${PIP_CERT:-}" ]; then
    ca=(--volume "$PIP_CERT:/run/pip-ca.pem:ro" --env PIP_CERT=/run/pip-ca.pem)
  fi
  # shellcheck disable=SC2086  # $pins son varias palabras a propósito
  in_container "${ca[@]}" -- python -m pip install --quiet $pins
  # Sin red: `buildah run` dentro de un espacio de red nuevo (unshare -n), con
  # solo la interfaz de bucle local (el núcleo de Jupyter habla con nbval por
  # ella). Ni el espejo ni internet.
  offline_run() {
    # shellcheck disable=SC2016  # $@ lo expande el sh de dentro
    unshare -n -- sh -c 'ip link set lo up && exec "$@"' sin-red \
      buildah run --isolation chroot --workingdir "$repo" \
      --volume "$PWD/trabajo:/home/jovyan/trabajo" "$container" -- "$@"
  }
fi
if offline_run python -c 'import socket; socket.create_connection(("pypi.org", 443), timeout=10)' \
  2> /dev/null; then
  echo "Error: el contenedor aún llega a internet; la prueba sin conexión no valdría." >&2
  exit 1
fi
echo "correcto: sin red (no se llega a pypi.org)"
offline_run python -m pytest -p no:cacheprovider --nbval \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900 notebooks

echo "Imagen correcta${platform:+ para $platform} (motor: $engine)."
