"""Mediciones del taller (`make bench`). No es una prueba: los números dependen
de la máquina, y por eso se imprime primero cuál es.

Imprime tablas en Markdown con:

1. el tiempo de ejecución y la memoria máxima de cada cuaderno (se ejecuta con
   nbclient en un proceso aparte; la memoria es la suma del RSS del núcleo y de
   sus procesos hijos, como la JVM de Spark, muestreada con psutil);
2. el cargador `taller.load` frente a `pandas.read_json(lines=True)`: archivo
   por archivo sobre cada JSON del espejo (primera carga, que construye la
   copia Parquet, y cargas siguientes, con el peor caso) y, con repeticiones,
   sobre el conjunto más grande de las lecciones (con bench/bench_loader.py);
2b. la caza del cuaderno 09 sobre el corpus con DuckDB, Spark local y un bucle
   de pandas (con bench/bench_hunt.py): tiempo, memoria y veces más rápido;
2c. todas las reglas de SigmaHQ para Windows contra todos los conjuntos de
   equipo Windows de la caché, con DuckDB, Spark local y un clúster Spark
   independiente en 127.0.0.1 (bench/bench_sigma.py):
   conversión y consultas por separado, reglas por segundo y memoria;
3. la construcción del sitio en frío (carpeta de salida nueva) y en caliente;
4. `make datasets` en frío (caché vacía) y en caliente, contra un espejo HTTP
   local (127.0.0.1) que sirve ../shared/security-datasets.

Uso, desde la raíz del repositorio:

    .venv/bin/python bench/run.py [--solo cuadernos,cargador,caza,sigma,sitio,datos]
        [--repeticiones N]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
from mirror import MIRROR  # noqa: E402  (tests/mirror.py: el único sitio que dice dónde está)

SECTIONS = ("cuadernos", "cargador", "caza", "sigma", "sitio", "datos")
SAMPLE_EVERY = 0.05  # segundos entre dos muestras de memoria


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f}".replace(",", " ")


# --- La máquina ----------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    memory = psutil.virtual_memory()
    physical = psutil.cpu_count(logical=False)
    return "\n".join(
        [
            "## Máquina",
            "",
            f"- CPU: {cpu_model()}",
            f"- Núcleos: {os.cpu_count()} lógicos" + (f", {physical} físicos" if physical else ""),
            f"- RAM: {memory.total / 2**30:.1f} GiB "
            f"({memory.available / 2**30:.1f} GiB libres al empezar)",
            f"- Python: {platform.python_version()} ({platform.python_implementation()})",
            f"- Sistema: {platform.platform()}",
            f"- Carga media al empezar (1 min): {os.getloadavg()[0]:.2f}",
        ]
    )


# --- Procesos y memoria --------------------------------------------------------


def tree_rss(root: psutil.Process, only=None) -> int:
    """RSS de un proceso y de todos sus descendientes (o solo de los que `only` acepte
    y sus hijos)."""
    try:
        processes = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    if only is not None:
        tops = [process for process in processes if only(process)]
        processes = []
        for top in tops:
            try:
                processes += [top] + top.children(recursive=True)
            except psutil.NoSuchProcess:
                pass
    total = 0
    for process in set(processes):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def is_kernel(process: psutil.Process) -> bool:
    try:
        return any("ipykernel" in part for part in process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def run_measured(command, only=None, env=None, cwd=REPO):
    """Ejecuta una orden; devuelve (segundos, RSS máximo del árbol de procesos, resultado)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    peak = 0
    root = psutil.Process(child.pid)
    output = {}

    def drain(name, stream):
        output[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("stdout", child.stdout), ("stderr", child.stderr))
    ]
    for reader in readers:
        reader.start()
    while child.poll() is None:
        peak = max(peak, tree_rss(root, only))
        time.sleep(SAMPLE_EVERY)
    for reader in readers:
        reader.join()
    elapsed = time.perf_counter() - start
    result = subprocess.CompletedProcess(
        command, child.returncode, output.get("stdout", ""), output.get("stderr", "")
    )
    return elapsed, peak, result


def check(result, what):
    if result.returncode != 0:
        raise SystemExit(
            f"Falló {what} (código {result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


# --- 1. Cuadernos --------------------------------------------------------------


def toc_notebooks():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = [chapter["file"] for part in toc.get("parts", []) for chapter in part["chapters"]]
    return [REPO / f"{name}.ipynb" for name in files if name.startswith("notebooks/")]


def execute_notebook(path: str) -> None:
    """Subproceso: ejecuta un cuaderno en memoria (no lo modifica) e imprime el tiempo en JSON."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    start = time.perf_counter()
    client.execute()
    print(json.dumps({"segundos": time.perf_counter() - start}))


def bench_notebooks() -> str:
    rows = [
        "| Cuaderno | Tiempo de ejecución (s) | Memoria máxima del núcleo (MiB) |",
        "|---|---:|---:|",
    ]
    for path in toc_notebooks():
        progress(f"Ejecutando {path.name}…")
        _, peak, result = run_measured(
            [sys.executable, __file__, "--ejecutar-cuaderno", str(path)], only=is_kernel
        )
        check(result, f"la ejecución de {path.name}")
        seconds = json.loads(result.stdout.strip().splitlines()[-1])["segundos"]
        rows.append(f"| `{path.name}` | {seconds:.1f} | {mib(peak)} |")
    return "\n".join(
        [
            "## Cuadernos",
            "",
            "Cada cuaderno se ejecuta entero con nbclient en un proceso aparte, con la caché de "
            "datos llena. El tiempo incluye arrancar y parar el núcleo; la memoria es el máximo "
            "de la suma del RSS del núcleo y sus procesos hijos (la JVM de Spark en el "
            "cuaderno 08).",
            "",
            *rows,
        ]
    )


# --- 2. Cargador ----------------------------------------------------------------


def largest_dataset() -> str:
    """El conjunto de eventos más grande de las lecciones (lo descarga y extrae si falta).

    Solo la selección de las lecciones: del resto del catálogo no siempre se
    conoce el tamaño (null si el archivo no estaba en el espejo).
    """
    sys.path.insert(0, str(REPO))
    import taller
    from taller import catalog

    events = [entry for entry in catalog.selection() if not entry.is_capture]
    name = max(events, key=lambda entry: entry.size).name
    taller.json_path(name)
    return name


def bench_loader(repetitions: int) -> str:
    from bench_loader import compare, speedups  # bench/ va en sys.path al ejecutar este script

    name = largest_dataset()
    progress(f"Comparando lectores sobre {name}…")
    dataset, times = compare(name, repetitions)
    rows = [
        "| Lector | Mejor (s) | Mediana (s) "
        "| Veces más rápido que `pandas.read_json` (mejor / mediana) |",
        "|---|---:|---:|---:|",
    ]
    for reader, (best, median) in speedups(times).items():
        values = times[reader]
        rows.append(
            f"| `{reader}` | {min(values):.3f} | {statistics.median(values):.3f} "
            f"| {best:.1f} / {median:.1f} |"
        )
    from bench_loader import per_file, per_file_table

    progress("Midiendo el cargador con cada JSON del espejo…")
    each = per_file(MIRROR.resolve(), 3, progress)
    return "\n".join(
        [
            "## Cargador de datos",
            "",
            "Cada JSON del espejo (bench/bench_loader.py --todos), en una caché temporal: "
            "`pandas.read_json(lines=True)`, la primera carga de `taller.load` (lee el JSON y "
            "construye la copia Parquet) y la mejor de tres cargas siguientes (desde la copia). "
            "✗ marca lo que no cumple el objetivo.",
            "",
            per_file_table(each),
            "",
            "### El conjunto más grande de las lecciones",
            "",
            "`taller.load` frente a `pandas.read_json(lines=True)` sobre el conjunto de eventos "
            f"más grande del catálogo: {name} ({dataset['megabytes']:.1f} MB de JSON, "
            f"{dataset['rows']} eventos, {dataset['columns']} columnas; mismas filas y columnas "
            "en los tres). Los lectores se alternan en la misma ejecución "
            f"({repetitions} repeticiones, con bench/bench_loader.py).",
            "",
            *rows,
        ]
    )


# --- 3. Sitio -----------------------------------------------------------------------


def bench_site() -> str:
    rows = ["| Construcción | Tiempo (s) | Memoria máxima (MiB) |", "|---|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="taller-sitio-") as output:
        # Las opciones del libro están solo en el Makefile.
        command = [
            "make",
            "--no-print-directory",
            "book-only",
            f"BIN={BIN}",
            f"BOOK_OUTPUT={output}",
        ]
        for label in ("en frío (carpeta de salida nueva)", "en caliente (sin cambios)"):
            progress(f"Construyendo el sitio {label}…")
            seconds, peak, result = run_measured(command)
            check(result, "la construcción del sitio")
            rows.append(f"| {label} | {seconds:.1f} | {mib(peak)} |")
    return "\n".join(
        [
            "## Sitio",
            "",
            "`make book-only` (el `jupyter-book build` de `make book`), en una carpeta de salida "
            "temporal: en frío no hay nada construido; en caliente se repite sin cambiar nada. "
            "Los cuadernos no se ejecutan: el sitio usa sus salidas guardadas.",
            "",
            *rows,
        ]
    )


# --- 4. Datos ---------------------------------------------------------------------


class CountingHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        served = Path(self.translate_path(self.path))
        with self.server.lock:
            self.server.requests += 1
            self.server.bytes += served.stat().st_size if served.is_file() else 0
        super().do_GET()


def bench_datasets() -> str:
    if not (MIRROR / "datasets").is_dir():
        raise SystemExit(
            f"No está la copia de Security-Datasets en {MIRROR}; indíquela con TALLER_MIRROR."
        )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CountingHandler, directory=str(MIRROR)))
    server.requests = server.bytes = 0
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    catalog = yaml.safe_load((REPO / "taller" / "catalogo.yaml").read_text(encoding="utf-8"))
    # Lo que descarga `--todos`: la selección de las lecciones, de tamaño conocido.
    selected = [entry for entry in catalog["conjuntos"].values() if entry.get("seleccion")]
    total = sum(entry["bytes"] for entry in selected)
    rows = [
        "| `make datasets` | Tiempo (s) | Peticiones al espejo | Descargado (MB) |",
        "|---|---:|---:|---:|",
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="taller-cache-") as cache:
            env = dict(
                os.environ,
                TALLER_CACHE_DIR=cache,
                TALLER_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}/",
            )
            for label in ("en frío (caché vacía)", "en caliente (caché llena)"):
                progress(f"Descargando los datos {label}…")
                before, bytes_before = server.requests, server.bytes
                seconds, _, result = run_measured(
                    [sys.executable, "-m", "taller", "descargar", "--todos"], env=env
                )
                check(result, "python -m taller descargar --todos")
                requests = server.requests - before
                downloaded = (server.bytes - bytes_before) / 1e6
                rows.append(f"| {label} | {seconds:.1f} | {requests} | {downloaded:.1f} |")
    finally:
        server.shutdown()
        server.server_close()
    return "\n".join(
        [
            "## Datos",
            "",
            "`python -m taller descargar --todos` (los datos de las lecciones de "
            "`make datasets`) contra un "
            "espejo HTTP en 127.0.0.1 que sirve la copia local de Security-Datasets: "
            f"{len(selected)} archivos, {total / 1e6:.1f} MB comprimidos, con su "
            "SHA-256 comprobado. En caliente no se descarga nada.",
            "",
            *rows,
        ]
    )


# --- La caza del cuaderno 09 con tres motores -----------------------------------


def bench_hunt() -> str:
    """DuckDB, Spark local y un bucle de pandas sobre el corpus, cada uno en su proceso.

    El tiempo es el de la caza (abrir los datos y las cinco consultas; en Spark,
    también arrancar la sesión); la memoria, el máximo del RSS del proceso y sus
    hijos (la JVM de Spark incluida). Los tres deben encontrar las mismas filas.
    """
    progress("Caza del cuaderno 09: preparando el corpus…")
    check(
        subprocess.run(
            [str(BIN / "python"), "-m", "taller", "descargar", "--corpus"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ),
        "descargar --corpus",
    )
    results = {}
    for engine in ("duckdb", "spark", "pandas"):
        progress(f"Caza del cuaderno 09 con {engine}…")
        _, peak, result = run_measured([str(BIN / "python"), "bench/bench_hunt.py", engine])
        check(result, f"la caza con {engine}")
        found = json.loads(result.stdout.strip().splitlines()[-1])
        results[engine] = (found["seconds"], peak, found["rows"], found["datasets"], found["cpu"])
    reference = results["duckdb"][2]
    for engine, (_, _, rows, *_) in results.items():
        if rows != reference:
            raise SystemExit(f"La caza con {engine} no encuentra lo mismo que DuckDB.")
    baseline = results["pandas"][0]
    names = {
        "duckdb": "DuckDB (copias Parquet, sin servidor)",
        "spark": "Spark local[*] (incluidos el arranque y la JVM)",
        "pandas": "bucle de pandas (`pandas.read_json` de cada JSON)",
    }
    datasets = results["duckdb"][3]
    cpu_baseline = results["pandas"][4]
    lines = [
        f"## La caza del cuaderno 09 ({datasets} conjuntos, cinco consultas)",
        "",
        "| Motor | Tiempo (s) | Memoria máxima (MiB) | Veces más rápido que pandas "
        "| CPU del proceso Python (s) | Veces menos CPU que pandas |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, (seconds, peak, _, _, cpu) in results.items():
        figures = f"{seconds:.2f} | {mib(peak)} | {baseline / seconds:.1f}"
        if engine == "spark":  # el trabajo lo hace la JVM: su CPU no se ve desde Python
            figures += " | — | —"
        else:
            figures += f" | {cpu:.2f} | {cpu_baseline / cpu:.1f}"
        lines.append(f"| {names[engine]} | {figures.replace('.', ',')} |")
    lines += [
        "",
        "Los tres motores encuentran las mismas filas en las cinco consultas. "
        "Con la máquina cargada, el tiempo de CPU compara mejor que el de reloj.",
    ]
    return "\n".join(lines)


def bench_sigma() -> str:
    """Reglas de SigmaHQ × conjuntos de Windows de la caché: DuckDB, Spark local y clúster.

    Cada motor en su proceso (memoria máxima con la JVM). La tabla de eventos se
    prepara una vez y se guarda en la caché: su tiempo se da aparte. Objetivo
    con DuckDB: 60 s y 1 GiB como mucho (conversión y consultas).
    """
    env = dict(os.environ)
    sigma_rules = REPO.parent / "shared" / "sigma"
    if "TALLER_SIGMA_URL" not in env and (sigma_rules / "rules").is_dir():
        env["TALLER_SIGMA_URL"] = str(sigma_rules)
    lines = [
        "## Reglas de SigmaHQ en los conjuntos de Windows",
        "",
        "| Motor | Reglas (convertidas) | Conjuntos | Conversión (s) | Consultas (s) "
        "| Reglas/s | Tabla de eventos (s) | Memoria máxima (MiB) | Saltan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine in ("duckdb", "spark", "spark-cluster"):
        progress(f"Reglas Sigma con {engine}…")
        _, peak, result = run_measured(
            [str(BIN / "python"), "bench/bench_sigma.py", engine], env=env
        )
        check(result, f"las reglas Sigma con {engine}")
        found = json.loads(result.stdout.strip().splitlines()[-1])
        total = found["conversion"] + found["query"]
        figures = (
            f"{found['rules']} ({found['converted']}) | {found['datasets']} "
            f"| {found['conversion']:.1f} | {found['query']:.1f} "
            f"| {found['converted'] / total:.0f} | {found['table']:.1f} | {mib(peak)} "
            f"| {found['fired']}"
        )
        lines.append(f"| {engine} | {figures.replace('.', ',')} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Mide tiempos y memoria del taller (no es una prueba)."
    )
    parser.add_argument(
        "--solo",
        default=",".join(SECTIONS),
        help="secciones separadas por comas: " + ", ".join(SECTIONS),
    )
    parser.add_argument(
        "--repeticiones", type=int, default=5, help="repeticiones del cargador (5)"
    )
    parser.add_argument("--ejecutar-cuaderno", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ejecutar_cuaderno:
        execute_notebook(args.ejecutar_cuaderno)
        return 0
    chosen = [section.strip() for section in args.solo.split(",") if section.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"secciones desconocidas: {', '.join(unknown)} (use {', '.join(SECTIONS)})")

    print("# Rendimiento del taller\n")
    print(machine(), end="\n\n", flush=True)
    runners = {
        "cuadernos": bench_notebooks,
        "cargador": lambda: bench_loader(args.repeticiones),
        "caza": bench_hunt,
        "sigma": bench_sigma,
        "sitio": bench_site,
        "datos": bench_datasets,
    }
    for section in SECTIONS:
        if section in chosen:
            print(runners[section](), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
