#!/usr/bin/env python3
"""Prueba de humo de un JupyterLab del taller: la imagen Docker antes de
publicarla, o cualquier servidor arrancado con el entorno del taller.

Solo usa la biblioteca estándar de Python, para poder ejecutarse en la máquina
que arranca el contenedor (el flujo .github/workflows/imagen.yml) sin instalar
nada. Comprueba, por este orden:

1. (con --contenedor) que Docker declara el contenedor «healthy» antes del límite;
2. que el servidor responde antes del límite;
3. que la API exige el token: 403 sin él o con uno falso, 200 con él;
4. que se ven las carpetas esperadas (--esperado) y se puede escribir en la de
   trabajo (--escribible), con lo que los permisos del volumen son correctos;
5. que la interfaz está en español: el paquete de idioma es_ES instalado y
   es_ES como idioma por defecto;
6. que arranca un núcleo de Python 3 y se puede parar (que ejecuta los
   cuadernos lo comprueba nbval dentro del contenedor).

Uso:
    python docker/smoke_test.py --url http://127.0.0.1:8888/ --token TOKEN \
        [--contenedor NOMBRE] [--limite 180] [--esperado notebooks ...] [--escribible trabajo]

Termina con 0 si todo es correcto y con 1 en el primer fallo, que explica.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid


class SmokeFailure(Exception):
    pass


def request(url, method="GET", token=None, body=None, timeout=10):
    """(estado HTTP, cuerpo decodificado como JSON si se puede)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"token {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def ok(message):
    print(f"correcto: {message}", flush=True)


def wait_healthy(container, deadline):
    while True:
        result = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Health.Status}}", container],
            capture_output=True,
            text=True,
            check=False,
        )
        state = result.stdout.strip()
        if state == "healthy":
            return state
        if state == "unhealthy" or result.returncode != 0:
            raise SmokeFailure(
                f"el contenedor {container} está «{state or result.stderr.strip()}»"
            )
        if time.monotonic() > deadline:
            raise SmokeFailure(f"el contenedor {container} sigue «{state}» al agotar el límite")
        time.sleep(2)


def wait_up(base, deadline):
    while True:
        try:
            status, _ = request(base + "api", timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SmokeFailure(f"el servidor {base} no respondió antes del límite")
        time.sleep(1)


def check(args):
    base = args.url.rstrip("/") + "/"
    start = time.monotonic()
    deadline = start + args.limite
    if args.contenedor:
        wait_healthy(args.contenedor, deadline)
        ok(f"Docker declara el contenedor sano en {time.monotonic() - start:.0f} s")
    wait_up(base, deadline)
    ok(f"el servidor responde en {time.monotonic() - start:.0f} s")

    status, _ = request(base + "api/contents")
    if status != 403:
        raise SmokeFailure(f"la API responde {status} sin token: debería ser 403")
    status, _ = request(base + "api/contents", token="token-falso-" + uuid.uuid4().hex)
    if status != 403:
        raise SmokeFailure(f"la API responde {status} con un token falso: debería ser 403")
    status, listing = request(base + "api/contents", token=args.token)
    if status != 200:
        raise SmokeFailure(f"la API responde {status} con el token: debería ser 200")
    ok("la API responde 403 sin token o con uno falso y 200 con el token")

    names = {item["name"] for item in listing["content"]}
    missing = [name for name in args.esperado if name not in names]
    if missing:
        raise SmokeFailure(f"faltan {', '.join(missing)} en la carpeta inicial: {sorted(names)}")
    if args.esperado:
        ok(f"la carpeta inicial contiene {', '.join(args.esperado)}")

    if args.escribible:
        path = f"api/contents/{args.escribible}/prueba-de-humo-{uuid.uuid4().hex[:8]}.txt"
        content = {"type": "file", "format": "text", "content": "prueba de humo\n"}
        status, _ = request(base + path, method="PUT", token=args.token, body=content)
        if status not in (200, 201):
            raise SmokeFailure(f"no se puede escribir en {args.escribible}/ (HTTP {status})")
        status, _ = request(base + path, method="DELETE", token=args.token)
        if status != 204:
            raise SmokeFailure(f"no se puede borrar en {args.escribible}/ (HTTP {status})")
        ok(f"se puede escribir y borrar en {args.escribible}/")

    status, packs = request(base + "lab/api/translations/", token=args.token)
    if status != 200 or "es_ES" not in (packs or {}).get("data", {}):
        raise SmokeFailure(f"no está instalado el paquete de idioma es_ES (HTTP {status})")
    plugin = "@jupyterlab/translation-extension:plugin"
    status, settings = request(base + f"lab/api/settings/{plugin}", token=args.token)
    if status != 200:
        raise SmokeFailure(f"no se pueden leer los ajustes de idioma (HTTP {status})")
    locale = (settings.get("settings") or {}).get("locale") or settings["schema"]["properties"][
        "locale"
    ]["default"]
    if locale != "es_ES":
        raise SmokeFailure(f"el idioma de la interfaz es «{locale}», no es_ES")
    ok("la interfaz está en español (es_ES instalado y por defecto)")

    status, kernel = request(
        base + "api/kernels", method="POST", token=args.token, body={"name": "python3"}
    )
    if status not in (200, 201):
        raise SmokeFailure(f"no arranca un núcleo de Python 3 (HTTP {status}): {kernel}")
    try:
        # Sin un cliente conectado por WebSocket el servidor no pide el estado
        # al núcleo; basta con que el proceso siga vivo unos segundos. Que
        # ejecuta código lo prueban después los cuadernos con nbval.
        time.sleep(3)
        status, state = request(base + f"api/kernels/{kernel['id']}", token=args.token)
        if status != 200 or state.get("execution_state") == "dead":
            raise SmokeFailure(f"el núcleo de Python 3 no sigue vivo: {state}")
    finally:
        status, _ = request(
            base + f"api/kernels/{kernel['id']}", method="DELETE", token=args.token
        )
    if status != 204:
        raise SmokeFailure(f"el núcleo de Python 3 no se para (HTTP {status})")
    ok("arranca un núcleo de Python 3 y se para")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Prueba de humo de un JupyterLab del taller.", add_help=True
    )
    parser.add_argument("--url", required=True, help="URL base, p. ej. http://127.0.0.1:8888/")
    parser.add_argument("--token", required=True, help="token de acceso del servidor")
    parser.add_argument("--contenedor", help="nombre del contenedor Docker cuyo estado se espera")
    parser.add_argument(
        "--limite", type=float, default=180, help="segundos para estar listo (180)"
    )
    parser.add_argument("--esperado", nargs="*", default=[], help="carpetas de la raíz")
    parser.add_argument("--escribible", help="carpeta en la que se debe poder escribir")
    args = parser.parse_args(argv)
    try:
        check(args)
    except SmokeFailure as failure:
        print(f"FALLO: {failure}", file=sys.stderr, flush=True)
        return 1
    print("Prueba de humo superada.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
