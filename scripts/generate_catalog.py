"""Genera `taller/catalogo.yaml` a partir de upstream: las fichas de metadatos
(`datasets/*/_metadata/*.yaml`) y `SHA256SUMS` de Security-Datasets.

Uso, desde la raíz del repositorio y con una copia (espejo) de upstream:

    .venv/bin/python scripts/generate_catalog.py [--espejo RUTA] [--comprobar]

Sin `--espejo` usa `TALLER_BASE_URL` si es una carpeta o, si no, la carpeta
`../shared/security-datasets` junto al repositorio. Con `--comprobar` no
escribe nada: termina con código 1 si el catálogo guardado no es el que se
generaría (la prueba `tests/test_catalog.py` hace lo mismo).

Reglas (también resumidas en la cabecera del YAML generado):

- Una entrada por archivo comprimido de `SHA256SUMS` (los 202 que hay en
  upstream en el commit fijado), con su huella SHA-256.
- Su ficha es la que lo enlaza en `files` (la ruta se compara sin distinguir
  mayúsculas: upstream enlaza `log4shell/` y la carpeta es `Log4Shell/`).
  Sin ficha, `id` es null y `nota` lo dice.
- El tamaño (`bytes`) y el contenido (`contenido`) solo se conocen de los
  archivos que están en el espejo; de los demás quedan en null. La huella sí
  se conoce siempre: la da `SHA256SUMS`.
- Los archivos de upstream cuya huella no se conoce (`UNHASHED.txt` del
  espejo: sus bytes no estaban disponibles al hacerlo) no son conjuntos del
  catálogo, porque su descarga no se podría verificar: se listan en
  `sin_huella`, con su ficha si la tienen, y `python -m taller descargar` se
  niega a descargarlos con un mensaje que lo explica.
- Las fichas cuyos enlaces no llevan a ningún archivo de upstream (ni con
  huella ni sin ella) se listan en `fichas_sin_archivo`, para que ninguna ficha
  quede fuera.
- El nombre es el del archivo sin extensión; las capturas de red llevan «_red»
  y, si aun así dos coinciden, se añade la carpeta que los distingue.
- `cuadernos` sale de los propios cuadernos: los que citan el nombre o la ruta
  del conjunto entre comillas en su código.
- `seleccion: true` marca los conjuntos que `python -m taller descargar --todos`
  prepara para las lecciones; el corpus de caza del cuaderno 09 se descarga
  aparte (`descargar --corpus`).
"""

import argparse
import hashlib
import json
import os
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "taller" / "catalogo.yaml"
COMMIT = "d9d40ef123d2c87d5d3df28c96bcab4f0faccc87"
UPSTREAM = "https://github.com/OTRF/Security-Datasets"

# Los conjuntos que las lecciones 01-08 y las pruebas usan desde el principio:
# `descargar --todos` prepara estos (y los que un cuaderno cite).
SELECTION = (
    "covenant_psremoting_command",
    "empire_psexec_dcerpc_tcp_svcctl",
    "empire_psexec_dcerpc_tcp_svcctl_red",
    "empire_dllinjection_LoadLibrary_CreateRemoteThread",
    "covenant_lolbin_wuauclt_createremotethread",
    "empire_mimikatz_logonpasswords",
    "psh_lsass_memory_dump_comsvcs",
    "empire_shell_dcerpc_smb_service_dll_hijack",
    "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod",
    "covenant_persiststartup",
    "AADAuditEvents",
    "Microsoft365DefenderEvents",
    "OfficeActivityEvents",
    "WindowsEvents",
)

# Metadatos que el taller asigna a archivos sin ficha upstream (con su motivo).
OVERRIDES = {
    "datasets/atomic/windows/persistence/host/covenant_persiststartup.tar.gz": {
        "titulo": "Covenant PersistStartup",
        "tecnicas": ["T1547.001"],
        "tacticas": ["TA0003", "TA0004"],
        "nota": (
            "Upstream no publica ficha de metadatos para este archivo. El "
            "título, la técnica y las tácticas los asigna el taller a partir "
            "de su contenido: powershell.exe escribe startup.bat en la "
            "carpeta Startup del usuario (Sysmon 11) en IT001."
        ),
    },
}
NO_CARD = "Upstream no publica ficha de metadatos para este archivo."
KINDS = {"host": "host", "network": "red", "cloud": "nube"}
SUFFIX = re.compile(r"\.(zip|tar\.gz)$", re.IGNORECASE)

HEADER = """\
# Catálogo de los conjuntos de datos del taller: todo Security-Datasets cuya
# huella SHA-256 se conoce; los archivos de upstream sin huella conocida se
# listan aparte, en `sin_huella`, porque su descarga no se puede verificar.
#
# ARCHIVO GENERADO por scripts/generate_catalog.py a partir de las fichas
# _metadata/*.yaml y de SHA256SUMS de upstream; no lo edite a mano (la prueba
# tests/test_catalog.py comprueba que coincide con lo que genera el script).
#
# Lo leen el paquete `taller` (python -m taller ...), las pruebas y la imagen
# Docker/Binder. Cada conjunto es un archivo comprimido de Security-Datasets
# (OTRF, licencia MIT) fijado a un commit concreto: sus bytes no cambian nunca,
# así que la huella SHA-256 permite comprobar cada descarga.
#
# Campos de cada conjunto (la clave es el nombre del archivo sin extensión;
# las capturas de red llevan «_red»):
#   id         identificador de Security-Datasets (SDWIN-... o el UUID de los
#              conjuntos compuestos); null si upstream no publica ficha.
#   ficha      ruta de la ficha de metadatos en upstream; null si no hay.
#   titulo     título de la ficha de metadatos de upstream.
#   tipo       host (eventos de un equipo), red (capturas de tráfico) o nube.
#   tecnicas   técnicas de MITRE ATT&CK (Txxxx o Txxxx.yyy).
#   tacticas   tácticas de MITRE ATT&CK (TAxxxx).
#   ruta       ruta del archivo dentro del repositorio de upstream.
#   sha256     huella SHA-256 del archivo comprimido (de SHA256SUMS).
#   bytes      tamaño del archivo comprimido; null si no está en el espejo
#              con el que se generó el catálogo (se conoce al descargarlo).
#   contenido  archivos que contiene el archivo; null si no está en el espejo.
#   cuadernos  cuadernos del taller (notebooks/*.ipynb) que lo citan.
#   seleccion  true si `python -m taller descargar --todos` lo prepara.
#   nota       (opcional) aclaración sobre el origen de los metadatos.
#
# sin_huella: archivos publicados en upstream en el commit fijado cuya huella
# SHA-256 no se conoce (UNHASHED.txt del espejo): el taller no puede verificar
# su descarga y no los descarga. Cada uno con su ficha (id, titulo, ficha) si
# upstream la publica.
#
# fichas_sin_archivo: fichas de upstream cuyos enlaces no llevan a ningún
# archivo publicado en el commit fijado.
"""


def default_mirror() -> Path:
    base = os.environ.get("TALLER_BASE_URL", "")
    if base and "://" not in base:
        return Path(base)
    sys.path.insert(0, str(REPO / "tests"))
    from mirror import MIRROR  # tests/mirror.py: el único sitio que dice dónde está

    return MIRROR


def read_sums(mirror: Path) -> dict[str, str]:
    """{ruta de upstream: sha256} según SHA256SUMS (formato de sha256sum)."""
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            sums[path.lstrip("*").strip()] = digest
    return sums


def read_unhashed(mirror: Path) -> list[str]:
    """Rutas de upstream sin huella conocida (UNHASHED.txt; sin comentarios)."""
    path = mirror / "UNHASHED.txt"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def read_cards(mirror: Path) -> list[tuple[Path, dict]]:
    return [
        (path, yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted((mirror / "datasets").glob("*/_metadata/*.yaml"))
    ]


def attack(card: dict) -> tuple[list[str], list[str]]:
    """Técnicas (con subtécnica) y tácticas de una ficha, sin repetir."""
    techniques, tactics = [], []
    for mapping in card.get("attack_mappings") or []:
        technique = str(mapping["technique"]).strip()
        sub = mapping.get("sub-technique")
        if sub:
            technique += f".{str(sub).strip().zfill(3)}"
        if technique not in techniques:
            techniques.append(technique)
        for tactic in mapping.get("tactics") or []:
            if tactic not in tactics:
                tactics.append(tactic)
    return techniques, sorted(tactics)


def members(path: Path) -> list[str]:
    if path.name.lower().endswith(".tar.gz"):
        with tarfile.open(path) as bundle:
            return [member.name for member in bundle if member.isfile()]
    with zipfile.ZipFile(path) as bundle:
        return bundle.namelist()


def guess_kind(path: str) -> str:
    parts = path.lower().split("/")
    if {"network", "pcaps", "zeek"} & set(parts):
        return "red"
    if {"aws", "azure"} & set(parts):
        return "nube"
    return "host"


def notebook_code() -> dict[str, str]:
    code = {}
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code[path.stem] = "\n".join(
            "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"
        )
    return code


def names_for(paths: list[str], kinds: dict[str, str]) -> dict[str, str]:
    """Nombre de cada ruta: el archivo sin extensión, «_red» si es captura."""
    first = {}
    for path in paths:
        stem = SUFFIX.sub("", path.rsplit("/", 1)[1])
        first[path] = stem + ("_red" if kinds[path] == "red" else "")
    names = {}
    for path in paths:
        name = first[path]
        twins = [other for other in paths if first[other] == name]
        if len(twins) > 1:  # p. ej. apt29/day1/zeek y apt29/day2/zeek
            parts = [twin.split("/") for twin in twins]
            own = path.split("/")
            differing = next(
                index
                for index in range(len(own))
                if len({tuple(p[: index + 1]) for p in parts}) == len(parts)
            )
            name = f"{name}_{own[differing]}"
        names[path] = name
    assert len(set(names.values())) == len(names), "nombres repetidos"
    return names


def generate(mirror: Path) -> str:
    sums = read_sums(mirror)
    unhashed = read_unhashed(mirror)
    lower = {path.lower(): path for path in sums}
    lower_unhashed = {path.lower(): path for path in unhashed}
    linked: dict[str, tuple[dict, str]] = {}
    unhashed_cards: dict[str, tuple[dict, str]] = {}
    orphans = []
    for card_path, card in read_cards(mirror):
        broken = []
        for item in card.get("files") or []:
            link = str(item["link"]).strip()
            relative = link.split("/master/", 1)[-1]
            path = lower.get(relative.lower())
            if path is None and relative.lower() in lower_unhashed:
                folder = card_path.parent.relative_to(mirror).as_posix()
                unhashed_cards.setdefault(
                    lower_unhashed[relative.lower()], (card, f"{folder}/{card_path.name}")
                )
            elif path is None:
                broken.append(link)
            elif path not in linked:  # la primera ficha que lo enlaza
                folder = card_path.parent.relative_to(mirror).as_posix()
                linked[path] = (
                    card,
                    str(item.get("type", "")).lower(),
                    f"{folder}/{card_path.name}",
                )
        if broken:
            techniques, tactics = attack(card)
            folder = card_path.parent.relative_to(mirror).as_posix()
            orphans.append(
                {
                    "id": card["id"],
                    "titulo": str(card["title"]).strip(),
                    "tecnicas": techniques,
                    "tacticas": tactics,
                    "ficha": f"{folder}/{card_path.name}",
                    "enlaces_rotos": broken,
                }
            )

    paths = sorted(sums)
    kinds = {
        path: KINDS.get(linked[path][1], guess_kind(path)) if path in linked else guess_kind(path)
        for path in paths
    }
    names = names_for(paths, kinds)
    code = notebook_code()
    entries = {}
    for path in paths:
        name = names[path]
        archive = mirror / path
        present = archive.is_file()
        if present:
            digest = hashlib.sha256(archive.read_bytes()).hexdigest()
            if digest != sums[path]:
                raise SystemExit(f"{path}: la huella no coincide con SHA256SUMS")
        entry = {
            "id": None,
            "ficha": None,
            "titulo": name,
            "tipo": kinds[path],
            "tecnicas": [],
            "tacticas": [],
        }
        if path in linked:
            card, _, card_path = linked[path]
            techniques, tactics = attack(card)
            entry.update(
                id=card["id"],
                ficha=card_path,
                titulo=str(card["title"]).strip(),
                tecnicas=techniques,
                tacticas=tactics,
            )
        entry.update(
            ruta=path,
            sha256=sums[path],
            bytes=archive.stat().st_size if present else None,
            contenido=members(archive) if present else None,
            cuadernos=[
                stem for stem, text in code.items() if f'"{name}"' in text or f'"{path}"' in text
            ],
            seleccion=name in SELECTION,
        )
        if path in OVERRIDES:
            entry.update(OVERRIDES[path])
        elif path not in linked:
            entry["nota"] = NO_CARD
        entries[name] = entry
    missing = set(SELECTION) - set(entries)
    if missing:
        raise SystemExit(f"Faltan conjuntos de la selección: {sorted(missing)}")
    document = {
        "origen": {
            "repositorio": UPSTREAM,
            "commit": COMMIT,
            "url_base": f"https://raw.githubusercontent.com/OTRF/Security-Datasets/{COMMIT}/",
            "licencia": "MIT (Open Threat Research Forge)",
        },
        "conjuntos": entries,
        "sin_huella": [
            {
                "ruta": path,
                "id": unhashed_cards[path][0]["id"] if path in unhashed_cards else None,
                "titulo": str(unhashed_cards[path][0]["title"]).strip()
                if path in unhashed_cards
                else None,
                "ficha": unhashed_cards[path][1] if path in unhashed_cards else None,
            }
            for path in unhashed
        ],
        "fichas_sin_archivo": orphans,
    }
    body = yaml.safe_dump(
        document, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    return HEADER + "\n" + body


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--espejo", type=Path, default=None, help="copia local de Security-Datasets"
    )
    parser.add_argument(
        "--comprobar", action="store_true", help="no escribe: falla si el catálogo no está al día"
    )
    args = parser.parse_args(argv)
    text = generate(args.espejo or default_mirror())
    if args.comprobar:
        if CATALOG.read_text(encoding="utf-8") != text:
            print(
                "taller/catalogo.yaml no está al día: ejecute scripts/generate_catalog.py",
                file=sys.stderr,
            )
            return 1
        print("taller/catalogo.yaml está al día.")
        return 0
    CATALOG.write_text(text, encoding="utf-8")
    document = yaml.safe_load(text)
    print(
        f"Escrito {CATALOG.relative_to(REPO)}: {len(document['conjuntos'])} conjuntos y "
        f"{len(document['sin_huella'])} archivos de upstream sin huella conocida."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
