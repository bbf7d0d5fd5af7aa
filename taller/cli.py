"""Línea de comandos: ``taller`` o ``python -m taller`` con ``listar | descargar | verificar | ruta
| servir | comprobar | sigma``.

Pensada para el alumno y para el instructor que prepara un aula sin conexión:
todo lo que imprime está en español, los errores se explican sin trazas de
Python y el código de salida es distinto de cero si algo falla, para que
``make datasets`` y la integración continua se detengan.
"""

import argparse
import os
import sys

from taller import catalog, serve  # serve no pesa: de él salen los valores de `servir`
from taller.errors import TallerError
from taller.spanish_argparse import Parser, UsageError


def _size(count: int | None) -> str:
    """Tamaño legible con coma decimal: «640,8 KiB»."""
    if count is None:  # archivo que no estaba en el espejo al generar el catálogo
        return "tamaño desconocido"
    for unit in ("B", "KiB", "MiB"):
        if count < 1024 or unit == "MiB":
            text = f"{count:.0f}" if unit == "B" else f"{count:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        count /= 1024


def _list(args) -> int:
    entries = [
        entry
        for entry in catalog.datasets().values()
        if entry.matches(args.tecnica, args.tactica, args.buscar)
    ]
    if not entries:
        print("Ningún conjunto coincide con esos filtros.")
        return 0
    for entry in entries:
        cached = "en caché" if entry.archive_path.exists() else "sin descargar"
        details = [
            entry.id or "sin id",
            entry.kind,
            ", ".join(entry.techniques),
            ", ".join(entry.tactics),
            _size(entry.size),
            cached,
        ]
        print(f"{entry.name}: {entry.title}")
        print("    " + " · ".join(details))
    in_cache = sum(entry.archive_path.exists() for entry in entries)
    # Los de upstream sin huella conocida (sin técnicas ni tácticas: no con esos filtros).
    unverifiable = [] if args.tecnica or args.tactica else catalog.unverifiable(args.buscar)
    if unverifiable:
        print(
            f"\n{_plural(len(unverifiable), 'archivo', 'archivos')} de Security-Datasets sin "
            "huella SHA-256 conocida: no se pueden verificar y el taller no los descarga."
        )
        for item in unverifiable:
            print(f"    {item.path}" + (f" ({item.title})" if item.title else ""))
    print(f"\n{len(entries)} conjuntos, {in_cache} en la caché ({catalog.cache_dir()}).")
    return 0


def _download(args) -> int:
    from taller import cache, download

    if bool(args.nombres) + args.todos + args.corpus + args.windows != 1:
        raise UsageError(
            args.parser,
            "indique uno o varios conjuntos, o bien --todos, --corpus o "
            "--windows (solo una de esas cosas).",
        )
    failures = 0
    entries = catalog.selection() if args.todos else []
    if args.corpus:
        entries = catalog.corpus()
    if args.windows:
        from taller.sigma.events import windows_hosts

        entries = windows_hosts()
    for name in args.nombres:
        found = catalog.matching(name)
        if not found:
            print(f"Error: {catalog.unknown(name)}", file=sys.stderr)
            failures += 1
        entries += [entry for entry in found if entry not in entries]
    ready = 0
    for entry in entries:
        try:
            # Lo borrado con --sin-json no se extrae otra vez: basta su copia Parquet.
            manifest = download.extraction(entry, restore=False)
            if cache.json_member(manifest) is not None:
                from taller import road  # pyarrow: solo para preparar la copia Parquet

                road.prepare(entry, manifest)
                if args.sin_json:
                    download.prune(entry)
        except TallerError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            failures += 1
        else:
            ready += 1
            print(f"listo  {entry.name} ({_size(entry.size)}, SHA-256 verificado)")
    print(f"\n{ready} de {len(entries)} conjuntos listos en {catalog.cache_dir()}.")
    if failures:
        problems = "1 error" if failures == 1 else f"{failures} errores"
        print(f"Hubo {problems}: véanse los mensajes anteriores.", file=sys.stderr)
    return 1 if failures else 0


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _verify(args) -> int:
    from taller import cache, download, files, survey

    entries = list(catalog.datasets().values())
    root = catalog.cache_dir()
    missing, damaged, broken = [], [], []
    for entry in entries:
        path = entry.archive_path
        if not entry.selected and not path.exists():
            continue  # opcional (corpus del cuaderno 09, resto de upstream): no se exige
        try:
            digest = download.archive_digest(entry)
        except TallerError as exc:
            damaged.append(entry.name)
            print(f"{entry.name}: ILEGIBLE: {exc}")
            continue
        if digest is None:
            missing.append(entry.name)
            print(f"{entry.name}: falta")
            continue
        if digest != entry.sha256:
            damaged.append(entry.name)
            print(f"{entry.name}: DAÑADO: su SHA-256 no coincide con el catálogo")
            continue
        if not entry.extract_dir.exists():
            print(f"{entry.name}: correcto (sin extraer)")
            continue
        manifest = cache.read_manifest(entry)
        problem = cache.extraction_problem(entry, manifest, deep=True)
        if problem:
            broken.append(entry.name)
            print(
                f"{entry.name}: archivo correcto, pero la carpeta extraída NO ES FIABLE: {problem}"
            )
            continue
        state = "correcto"
        if cache.json_member(manifest) is not None:
            parquet = cache.parquet_state(entry, manifest)
            if parquet.problem is None:
                state += ", con su copia Parquet verificada"
                if cache.absent_pruned(entry, manifest):
                    state += " (el JSON se extrae al pedirlo)"
            elif parquet.missing:
                state += " (sin copia Parquet)"
            else:
                broken.append(entry.name)
                state += f", pero su copia Parquet NO ES FIABLE: {parquet.problem}"
        print(f"{entry.name}: {state}")

    found = survey.survey(root, entries)
    removed = [path for path in found.stale if files.remove(path)]
    print()
    if damaged:
        print(
            f"{_plural(len(damaged), 'archivo dañado o ilegible', 'archivos dañados o ilegibles')}"
            ": vuelva a descargarlos con `python -m taller descargar NOMBRE` (se sustituyen "
            "solos)."
        )
    if broken:
        print(
            f"{_plural(len(broken), 'conjunto', 'conjuntos')} con archivos derivados (extraídos "
            "o copia Parquet) que no coinciden con el manifiesto: `python -m taller descargar "
            "NOMBRE` (o `taller.load`) los rehace desde el archivo verificado."
        )
    if missing:
        print(
            f"Faltan {_plural(len(missing), 'conjunto', 'conjuntos')}: descárguelos con "
            "`python -m taller descargar --todos` antes de trabajar sin conexión."
        )
    if removed:
        print(
            "Se han borrado "
            f"{_plural(len(removed), 'temporal abandonado', 'temporales abandonados')} "
            "por descargas o extracciones interrumpidas."
        )
    if len(removed) < len(found.stale):
        print(
            f"No se pudieron borrar {len(found.stale) - len(removed)} temporales abandonados "
            "(¿caché de solo lectura?)."
        )
    if found.busy:
        print(
            f"Hay {_plural(len(found.busy), 'temporal', 'temporales')} de una descarga en curso "
            "(de otro proceso)."
        )
    if found.orphans:
        one = len(found.orphans) == 1
        verb, advice = (
            ("no pertenece", "puede borrarlo") if one else ("no pertenecen", "puede borrarlos")
        )
        print(
            f"{_plural(len(found.orphans), 'elemento', 'elementos')} de la caché {verb} a "
            f"ningún conjunto del catálogo ({advice}):"
        )
        for path in found.orphans[:20]:
            print(f"    {path}")
        if len(found.orphans) > 20:
            print(f"    … y {len(found.orphans) - 20} más")
    if not (missing or damaged or broken):
        print("La caché está completa y verificada: se puede trabajar sin conexión.")
    return 1 if missing or damaged or broken else 0


def _path(args) -> int:
    from taller import download

    print(download.json_path(args.nombre))
    return 0


def _check_environment(args) -> int:
    from taller import environment  # sin pandas: la orden arranca enseguida

    return environment.command()


def _serve(args) -> int:
    return serve.serve(args.direccion, args.puerto)


def _corpus_help() -> str:
    """«el corpus de caza del cuaderno 09 (N archivos, X MiB)», contado en el catálogo."""
    corpus = catalog.corpus()
    total = sum(entry.size or 0 for entry in corpus)
    return f"el corpus de caza del cuaderno 09 ({len(corpus)} archivos, {_size(total)})"


def build_parser(prog: str = "python -m taller") -> argparse.ArgumentParser:
    """Las opciones y subórdenes; `prog` es el nombre con que se llamó al programa."""
    from taller import __version__
    from taller.sigma import command as sigma_command  # pySigma se importa al usarla

    parser = Parser(
        prog=prog,
        description="Catálogo, descarga verificada y ubicación de los conjuntos de datos "
        "del taller (Security-Datasets, OTRF).",
        epilog="Variables de entorno: TALLER_BASE_URL (espejo: URL o carpeta), "
        "TALLER_CACHE_DIR, TALLER_TIMEOUT, TALLER_RETRIES. Se explican en la ayuda del "
        "paquete: python -m pydoc taller.catalog y python -m pydoc taller.download.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help="muestra la versión del paquete y termina",
    )
    orders = parser.add_subparsers(
        title="órdenes", metavar="ORDEN", required=True, parser_class=Parser
    )

    listing = orders.add_parser("listar", help="muestra el catálogo (y qué hay en la caché)")
    listing.add_argument(
        "--tecnica", metavar="T1055", help="solo esta técnica de ATT&CK (T1003 incluye T1003.001)"
    )
    listing.add_argument("--tactica", metavar="TA0008", help="solo esta táctica de ATT&CK")
    listing.add_argument(
        "--buscar", metavar="TEXTO", help="texto en el nombre, el id, el título o la ruta"
    )
    listing.set_defaults(run=_list)

    fetching = orders.add_parser(
        "descargar", help="descarga, verifica y extrae uno, varios o todos"
    )
    fetching.add_argument(
        "nombres",
        nargs="*",
        metavar="NOMBRE",
        help="nombre o id del catálogo (un id puede abarcar varios)",
    )
    fetching.add_argument("--todos", action="store_true", help="todos los que usan las lecciones")
    fetching.add_argument(
        "--corpus",
        action="store_true",
        help=_corpus_help(),
    )
    fetching.add_argument(
        "--windows",
        action="store_true",
        help="todos los de equipo Windows (la página de reglas Sigma los evalúa)",
    )
    fetching.add_argument(
        "--sin-json",
        action="store_true",
        help="borra el JSON extraído una vez verificada su copia Parquet, que basta para "
        "las lecciones (así lo guarda la imagen Docker); se vuelve a extraer del archivo "
        "verificado si algo lo pide",
    )
    fetching.set_defaults(run=_download, parser=fetching)

    checking = orders.add_parser(
        "verificar",
        help="comprueba archivos, extracciones, copias Parquet, "
        "huérfanos y temporales de la caché",
    )
    checking.set_defaults(run=_verify)

    locating = orders.add_parser("ruta", help="imprime dónde está el JSON de un conjunto")
    locating.add_argument("nombre", metavar="NOMBRE", help="nombre o id del catálogo")
    locating.set_defaults(run=_path)

    serving = orders.add_parser("servir", help="sirve la caché verificada como espejo del aula")
    serving.add_argument(
        "--direccion",
        default=serve.DEFAULT_ADDRESS,
        metavar="IP",
        help="dirección en la que escucha (por defecto, todas: %(default)s)",
    )
    serving.add_argument(
        "--puerto",
        type=int,
        default=serve.DEFAULT_PORT,
        metavar="N",
        help="puerto (por defecto, %(default)s; 0 elige uno libre)",
    )
    serving.set_defaults(run=_serve)

    sigma_command.add_parser(orders)

    environment = orders.add_parser(
        "comprobar", help="comprueba el entorno: Python, paquetes, datos, Java y memoria"
    )
    environment.set_defaults(run=_check_environment)
    return parser


def main(argv=None, prog: str = "python -m taller") -> int:
    """Ejecuta una orden y devuelve el código de salida (0 si todo fue bien).

    ``python -m taller`` llega aquí por ``taller/__main__.py``; el ejecutable
    ``taller`` que instala pip, por `command`, que se presenta con ese nombre.
    """
    args = build_parser(prog).parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except TallerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrumpido.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # p. ej. `python -m taller listar | head`: el lector ya terminó
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def command() -> int:
    """El ejecutable ``taller`` (``[project.scripts]`` de pyproject.toml)."""
    return main(prog="taller")
