"""Instala la configuración de JupyterLab del taller: la interfaz en español.

Lo ejecutan la imagen Docker (docker/Dockerfile), Binder (binder/postBuild) y
`make lab`, con el Python del entorno donde está instalado JupyterLab:

    python jupyterlab/install_settings.py [--prefix P] [--user-settings DIR]

Hace tres cosas:

1. Copia ``overrides.d/taller.json`` en ``<prefix>/share/jupyter/lab/settings/
   overrides.d/``: cambia los valores por defecto de JupyterLab (idioma
   ``es_ES``, sin consultar noticias ni actualizaciones en internet). Son solo
   valores por defecto: cada persona puede cambiarlos en Configuración.
2. Completa el paquete de idioma es_ES instalado
   (``jupyterlab-language-pack-es-ES``) con las traducciones del taller,
   ``traducciones/<dominio>.json``: las cadenas que al paquete le faltan en los
   menús, el menú contextual de una celda, la barra de herramientas del
   cuaderno y la barra de estado, y las que traduce con otra palabra
   («intérprete» o «Kernel» por «núcleo»). Las escribe en los dos archivos que
   lee JupyterLab: ``<dominio>.json``, el que pide el navegador, y
   ``<dominio>.mo``, con el que el servidor traduce los títulos de los menús de
   los ajustes. Volver a ejecutarlo no cambia nada; si se reinstala el paquete
   de idioma, basta con ejecutarlo otra vez (``make lab`` lo hace siempre).
3. Instala ``custom.css``, la hoja de estilo que JupyterLab carga si
   ``LabApp.custom_css`` está activo: en la carpeta ``static/custom/`` de
   ``jupyter_server`` y activa la opción en
   ``<prefix>/etc/jupyter/jupyter_lab_config.json`` (conserva lo demás que
   haya). Cambia el texto que JupyterLab no deja traducir (véase el archivo).
4. Copia ``ipython_kernel_config.json`` en ``<prefix>/etc/ipython/`` (lo
   combina con lo que haya): los enlaces que el núcleo de Python pone en el
   menú Ayuda, que ipykernel escribe en inglés («Python Reference»), en
   español y con las bibliotecas del taller.
5. Copia ``user-settings/`` (si hay algo) en la carpeta de ajustes del usuario
   (``JUPYTERLAB_SETTINGS_DIR`` o ``~/.jupyter/lab/user-settings``) sin
   sobrescribir nada que ya exista.
"""

import argparse
import importlib.util
import json
import os
import shutil
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "traducciones"
CUSTOM_CSS = HERE / "custom.css"
KERNEL_CONFIG = HERE / "ipython_kernel_config.json"
LOCALE = "es_ES"
LANGUAGE_PACK = f"jupyterlab_language_pack_{LOCALE}"
MO_MAGIC = 0x950412DE


def default_user_settings() -> Path:
    folder = os.environ.get("JUPYTERLAB_SETTINGS_DIR")
    return Path(folder) if folder else Path.home() / ".jupyter" / "lab" / "user-settings"


def language_pack_messages() -> Path:
    """La carpeta LC_MESSAGES del paquete de idioma es_ES de este Python."""
    spec = importlib.util.find_spec(LANGUAGE_PACK)
    if spec is None or spec.origin is None:
        raise SystemExit(
            f"No está instalado el paquete de idioma de JupyterLab ({LANGUAGE_PACK}) en "
            f"{sys.executable}: instale el entorno del taller (pip install -r requirements.txt)."
        )
    return Path(spec.origin).parent / "locale" / LOCALE / "LC_MESSAGES"


def read_mo(data: bytes) -> dict[bytes, bytes]:
    """Las entradas de un catálogo .mo de gettext, tal cual (claves con contexto y plural)."""
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == MO_MAGIC else ">"
    _, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    entries = {}
    for index in range(count):
        key_length, key_offset = struct.unpack_from(order + "2I", data, originals + 8 * index)
        value_length, value_offset = struct.unpack_from(
            order + "2I", data, translations + 8 * index
        )
        key = data[key_offset : key_offset + key_length]
        entries[key] = data[value_offset : value_offset + value_length]
    return entries


def write_mo(entries: dict[bytes, bytes]) -> bytes:
    """Un catálogo .mo con las claves ordenadas, como lo escribe msgfmt (sin tabla hash)."""
    keys = sorted(entries)
    header = 7 * 4
    originals = header
    translations = originals + 8 * len(keys)
    offset = translations + 8 * len(keys)
    tables, blobs = [], []
    for column in (keys, [entries[key] for key in keys]):
        table = []
        for text in column:
            table.append(struct.pack("<2I", len(text), offset))
            blobs.append(text + b"\0")
            offset += len(text) + 1
        tables.append(b"".join(table))
    head = struct.pack("<7I", MO_MAGIC, 0, len(keys), originals, translations, 0, offset)
    return head + b"".join(tables) + b"".join(blobs)


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and path.read_bytes() == content:
        return False
    path.write_bytes(content)
    return True


def install_translations(messages: Path | None = None) -> list[Path]:
    """Añade las traducciones del taller al paquete de idioma; devuelve los archivos cambiados.

    Cada ``traducciones/<dominio>.json`` tiene el formato de los JSON del paquete
    (``{"msgid": ["traducción"]}``, o las dos formas de un plural; el contexto
    va delante del msgid separado por ``\\x04``). Una entrada del taller sustituye
    a la del paquete. Al .mo solo van las entradas sin plural: el servidor solo
    lo usa para los ajustes (títulos de menús), que no tienen plurales."""
    messages = messages or language_pack_messages()
    changed = []
    for source in sorted(TRANSLATIONS.glob("*.json")):
        ours = json.loads(source.read_text(encoding="utf-8"))
        ours.pop("", None)
        target = messages / source.name
        pack = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
        pack.update(ours)
        text = json.dumps(pack, ensure_ascii=False, indent=2) + "\n"
        if _write_if_changed(target, text.encode("utf-8")):
            changed.append(target)
        catalog = messages / f"{source.stem}.mo"
        if catalog.is_file():
            entries = read_mo(catalog.read_bytes())
            for msgid, forms in ours.items():
                if len(forms) == 1:
                    entries[msgid.encode("utf-8")] = forms[0].encode("utf-8")
            if _write_if_changed(catalog, write_mo(entries)):
                changed.append(catalog)
    return changed


def install_custom_css(prefix: Path, static: Path | None = None) -> list[Path]:
    """Instala custom.css y activa LabApp.custom_css; devuelve los archivos cambiados."""
    changed = []
    if static is None:
        spec = importlib.util.find_spec("jupyter_server")
        if spec is None or spec.origin is None:
            raise SystemExit(f"No está instalado jupyter_server en {sys.executable}.")
        static = Path(spec.origin).parent / "static"
    css = static / "custom" / "custom.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    if _write_if_changed(css, CUSTOM_CSS.read_bytes()):
        changed.append(css)
    config = prefix / "etc" / "jupyter" / "jupyter_lab_config.json"
    if _merge_json(config, {"LabApp": {"custom_css": True}}):
        changed.append(config)
    return changed


def _merge_json(target: Path, ours: dict) -> bool:
    """Combina `ours` (por secciones) con el JSON de `target`; True si cambió el archivo."""
    settings = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    for section, values in ours.items():
        settings.setdefault(section, {}).update(values)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings, ensure_ascii=False, indent=2) + "\n"
    return _write_if_changed(target, text.encode("utf-8"))


def install_kernel_config(prefix: Path) -> list[Path]:
    """Los enlaces de ayuda del núcleo en español; devuelve los archivos cambiados."""
    target = prefix / "etc" / "ipython" / KERNEL_CONFIG.name
    ours = json.loads(KERNEL_CONFIG.read_text(encoding="utf-8"))
    return [target] if _merge_json(target, ours) else []


def install(prefix: Path, user_settings: Path, messages: Path | None = None) -> list[Path]:
    """Instala los ajustes y las traducciones; devuelve los archivos escritos."""
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
    written += install_translations(messages)
    written += install_custom_css(prefix)
    written += install_kernel_config(prefix)
    return written


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: ")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        add_help=False,
        formatter_class=_Formatter,
        usage=(
            "python jupyterlab/install_settings.py [--prefix P] [--user-settings DIR] "
            "[--paquete-idioma DIR]"
        ),
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
    parser.add_argument(
        "--paquete-idioma",
        type=Path,
        default=None,
        metavar="DIR",
        help="carpeta LC_MESSAGES del paquete de idioma es_ES que se completa (por defecto, "
        "la del paquete instalado en este Python)",
    )
    parser._optionals.title = "opciones"
    args = parser.parse_args(argv)
    for path in install(args.prefix, args.user_settings, args.paquete_idioma):
        print(f"JupyterLab en español: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
