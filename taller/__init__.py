"""Acceso a los conjuntos de datos del taller: catálogo, descarga verificada y carga rápida.

Uso desde Python (desde la raíz del repositorio)::

    import taller
    df = taller.load("empire_psexec_dcerpc_tcp_svcctl")   # DataFrame de pandas
    taller.fetch("empire_psexec_dcerpc_tcp_svcctl")       # ruta del .zip verificado
    taller.json_path("empire_psexec_dcerpc_tcp_svcctl")   # ruta del JSON extraído
    taller.parquet_path("empire_psexec_dcerpc_tcp_svcctl")  # su copia Parquet verificada
    taller.load("/ruta/a/eventos.json")  # también un archivo propio, file:// o http(s)

y desde la terminal: ``taller --help`` (o ``python -m taller --help``). Los detalles
(variables de entorno, tipos de las columnas) están en los módulos `taller.road`
(el camino de los datos, de principio a fin), `taller.catalog`, `taller.download`,
`taller.cache`, `taller.columnar` y `taller.loader` (``python -m pydoc
taller.road``...). La versión instalada: ``taller.__version__``.

Cada función se importa al usarla por primera vez: pandas y pyarrow tardan en
cargarse cerca de un segundo y requests una décima, y la línea de comandos no
los necesita para listar. Importar `taller` no cambia nada del proceso, salvo
dentro de Jupyter o IPython: ahí empieza a anotar qué celdas se ejecutan y si
terminaron con error, para que `taller.check` no juzgue una respuesta vieja
(`taller.exercises.history`).
"""

from taller.errors import TallerError

__all__ = [
    "TallerError",
    "__version__",
    "check",
    "clock_offsets",
    "event_time",
    "fetch",
    "json_path",
    "load",
    "parquet_path",
]


def _listen_to_ipython() -> None:
    import sys

    if "IPython" in sys.modules:  # solo si ya hay un intérprete de IPython
        from taller.exercises import history

        history.install()


_listen_to_ipython()


def __getattr__(name):
    if name == "__version__":
        return _version()
    if name in ("fetch", "json_path"):
        from taller import download

        return getattr(download, name)
    if name == "parquet_path":
        from taller.road import parquet_path

        return parquet_path
    if name == "load":
        from taller.loader import load

        return load
    if name == "check":
        from taller.exercises import check

        return check
    if name in ("event_time", "clock_offsets"):  # la hora de cada evento: taller.clocks
        from taller import clocks

        return getattr(clocks, name)
    raise AttributeError(f"module 'taller' has no attribute {name!r}")


def _version() -> str:
    """La versión de los metadatos del paquete instalado; sin instalar (una copia del
    repositorio en PYTHONPATH), la de su pyproject.toml."""
    from importlib import metadata

    try:
        return metadata.version("taller")
    except metadata.PackageNotFoundError:
        import re
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            found = re.search(r'(?m)^version = "([^"]+)"', pyproject.read_text(encoding="utf-8"))
        except OSError:  # una copia del paquete sin el repositorio alrededor
            found = None
        return found[1] if found else "desconocida"
