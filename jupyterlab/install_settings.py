"""Instala la configuración de JupyterLab del taller: la interfaz en español.

Lo ejecutan la imagen Docker (docker/Dockerfile), Binder (binder/postBuild) y
`make lab`, con el Python del entorno donde está instalado JupyterLab:

    python jupyterlab/install_settings.py [--prefix P] [--user-settings DIR]

Hace dos cosas:

1. Copia ``overrides.d/taller.json`` en ``<prefix>/share/jupyter/lab/settings/
   overrides.d/``: cambia los valores por defecto de JupyterLab (idioma
   ``es_ES``, sin consultar noticias ni actualizaciones en internet). Son solo
   valores por defecto: cada persona puede cambiarlos en Configuración.
2. Copia ``user-settings/`` en la carpeta de ajustes del usuario
   (``JUPYTERLAB_SETTINGS_DIR`` o ``~/.jupyter/lab/user-settings``) sin
   sobrescribir nada que ya exista: los títulos de los menús «Ejecutar»,
   «Núcleo» y «Pestañas», que el paquete de idioma aún no traduce y que
   JupyterLab solo admite como ajuste del usuario.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def default_user_settings() -> Path:
    folder = os.environ.get("JUPYTERLAB_SETTINGS_DIR")
    return Path(folder) if folder else Path.home() / ".jupyter" / "lab" / "user-settings"


def install(prefix: Path, user_settings: Path) -> list[Path]:
    """Instala los dos grupos de ajustes; devuelve los archivos escritos."""
    written = []
    overrides = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    overrides.mkdir(parents=True, exist_ok=True)
    for source in sorted((HERE / "overrides.d").glob("*.json")):
        written.append(Path(shutil.copyfile(source, overrides / source.name)))
    seeds = HERE / "user-settings"
    for source in sorted(seeds.rglob("*.jupyterlab-settings")):
        target = user_settings / source.relative_to(seeds)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(source, target)))
    return written


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: ")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        add_help=False,
        formatter_class=_Formatter,
        usage="python jupyterlab/install_settings.py [--prefix P] [--user-settings DIR]",
    )
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument(
        "--prefix",
        type=Path,
        default=Path(sys.prefix),
        metavar="P",
        help="entorno de Python donde está JupyterLab (por defecto, el de este Python)",
    )
    parser.add_argument(
        "--user-settings",
        type=Path,
        default=default_user_settings(),
        metavar="DIR",
        help="carpeta de ajustes del usuario (por defecto, JUPYTERLAB_SETTINGS_DIR "
        "o ~/.jupyter/lab/user-settings)",
    )
    parser._optionals.title = "opciones"
    args = parser.parse_args(argv)
    for path in install(args.prefix, args.user_settings):
        print(f"JupyterLab en español: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
