"""El recorrido de toda la caché que hace ``verificar``: lo que sobra y lo que quedó a medias.

Todo lo que hay en la caché debe ser de un conjunto del catálogo (su archivo
comprimido, su carpeta extraída con lo que anota su manifiesto) o de una de
las carpetas del taller (`taller.cache`: otros, corpus, propios, sigma). Lo
demás es huérfano, y los temporales son de una descarga en curso o quedaron
abandonados (`taller.files`).
"""

from dataclasses import dataclass, field
from pathlib import Path

from taller import files
from taller.cache import HUNT, MANIFEST, OTHERS, OWN, SIGMA, read_manifest


@dataclass
class Survey:
    """Lo que hay en la caché que no pertenece a ningún conjunto del catálogo."""

    orphans: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # temporales abandonados
    busy: list[Path] = field(default_factory=list)  # temporales de un proceso vivo


def survey(root: Path, entries) -> Survey:
    """Recorre la caché: huérfanos (lo que no es de ningún conjunto) y temporales."""
    found = Survey()
    archives = {entry.archive_path for entry in entries}
    extracted = {entry.extract_dir: entry for entry in entries}
    ancestors = {parent for path in archives | set(extracted) for parent in path.parents}

    def temporary(path: Path) -> bool:
        if not files.is_temporary(path.name):
            return False
        (found.stale if files.is_stale(path, grace=False) else found.busy).append(path)
        return True

    def inside(folder: Path, entry) -> None:
        manifest = read_manifest(entry)
        expected = {MANIFEST}
        if manifest:
            names = list(manifest["members"])
            if manifest.get("parquet"):
                names.append(manifest["parquet"]["file"])
            expected.update(name.split("/")[0] for name in names)
        else:
            expected.update(member.split("/")[0] for member in entry.members)
        for child in sorted(folder.iterdir()):
            if not temporary(child) and child.name not in expected:
                found.orphans.append(child)

    def walk(folder: Path) -> None:
        try:
            children = sorted(folder.iterdir())
        except OSError:
            return
        for child in children:
            if temporary(child) or child in archives:
                continue
            if child in extracted and child.is_dir():
                inside(child, extracted[child])
            elif child in ancestors and child.is_dir() and not child.is_symlink():
                walk(child)
            elif folder == root and child.name in ("README.md", OTHERS, HUNT, OWN, SIGMA):
                continue
            else:
                found.orphans.append(child)

    if root.is_dir():
        walk(root)
    return found
