#!/usr/bin/env python3
"""Tamaño de la imagen del taller, capa a capa: en disco y comprimida (lo que
descarga `docker pull`). Para .ci/run, con buildah y como root.

En disco: el tamaño de cada capa en el almacén de buildah (la suma es lo que
ocupa la imagen una vez descargada). Comprimida: la imagen se copia al
formato de registro (gzip, como la publica Docker) en una carpeta temporal con
`buildah push dir:` y se leen los tamaños de su manifiesto.

Uso: python3 docker/layer_sizes.py IMAGEN

Solo la biblioteca estándar, para ejecutarse con el Python del sistema.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

MB = 1000 * 1000


def layers_file() -> Path:
    """El registro de capas del almacén de buildah (overlay o vfs, según el equipo)."""
    store = subprocess.run(
        ["buildah", "info", "--format", "{{.store.GraphRoot}} {{.store.GraphDriverName}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return Path(store[0]) / f"{store[1]}-layers" / "layers.json"


def steps(config: dict) -> list[str]:
    """Las instrucciones que crearon cada capa, en orden (sin las que no crean capa)."""
    found = []
    for entry in config.get("history", []):
        if entry.get("empty_layer"):
            continue
        text = entry.get("created_by", "")
        text = text.replace("/bin/bash -o pipefail -c ", "").replace("/bin/sh -c ", "")
        text = " ".join(text.replace("#(nop)", "").split())
        found.append(text[:90])
    return found


def main(image: str) -> int:
    inspected = json.loads(
        subprocess.run(
            ["buildah", "inspect", "--type", "image", image],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    config = inspected["OCIv1"]
    diff_ids = config["rootfs"]["diff_ids"]
    # El almacén guarda también capas de otras imágenes y, tras una construcción
    # cortada, capas a medias sin huella: solo cuentan las que tienen una.
    sizes = {
        layer["diff-digest"]: layer["diff-size"]
        for layer in json.loads(layers_file().read_text())
        if "diff-digest" in layer and "diff-size" in layer
    }
    with tempfile.TemporaryDirectory(prefix="imagen-comprimida-") as folder:
        subprocess.run(
            ["buildah", "push", "--quiet", "--format", "v2s2", "--compression-format", "gzip"]
            + [image, f"dir:{folder}"],
            check=True,
        )
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
    compressed = [layer["size"] for layer in manifest["layers"]]
    names = steps(config)
    if not len(names) == len(diff_ids) == len(compressed):
        names = ["?"] * len(diff_ids)
    print(f"Capas de {image}, de la base a la última:")
    print(f"{'en disco':>10} {'comprimida':>11}  instrucción")
    for diff_id, packed, name in zip(diff_ids, compressed, names, strict=True):
        print(f"{sizes[diff_id] / MB:8.1f} MB {packed / MB:8.1f} MB  {name}")
    disk = sum(sizes[diff_id] for diff_id in diff_ids)
    download = sum(compressed) + manifest["config"]["size"]
    print(f"{disk / MB:8.1f} MB {download / MB:8.1f} MB  total (en disco; descarga)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
