"""La tabla del barrido de `datasets/README.md` es la que genera scripts/sweep_archives.py.

La capa unit comprueba que el bloque entre las marcas tiene la forma que
escribe el script (y que el resumen cuenta sus filas); la capa data vuelve a
cargar una parte del espejo (una exportación de Log Analytics, una tabla de la
nube, una captura de red y los dos archivos de eventos de Windows más
pequeños) y exige las mismas filas × columnas, forma o mensaje que la tabla,
y que cubra todos los archivos del espejo.
"""

import importlib.util
import re

import pytest

from mirror import REPO  # el repositorio (el paquete puede venir de una rueda instalada)

README = REPO / "datasets" / "README.md"


def load_script():
    spec = importlib.util.spec_from_file_location(
        "sweep_archives", REPO / "scripts" / "sweep_archives.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep = load_script()


def table_rows() -> dict[str, str]:
    """{ruta sin «datasets/»: fila de la tabla} entre las marcas del README."""
    text = README.read_text(encoding="utf-8")
    assert sweep.BEGIN in text and sweep.END in text, "faltan las marcas del barrido"
    block = text.split(sweep.BEGIN, 1)[1].split(sweep.END, 1)[0]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\| `([^`]+)` \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def without_seconds(row: str) -> str:
    return re.sub(r"\| [\d,]+ \|$", "| s |", row)


def test_the_summary_counts_the_rows_of_the_table():
    rows = table_rows()
    text = README.read_text(encoding="utf-8").split(sweep.BEGIN, 1)[1]
    pattern = r"(\d+) archivos comprimidos .*?: (\d+) cargados? y (\d+) rechazados?"
    total, loaded, refused = map(int, re.search(pattern, text).groups())
    assert total == len(rows) == loaded + refused
    assert sum("| rechazado: " in row for row in rows.values()) == refused


def test_render_writes_rows_in_the_table_format(tmp_path):
    results = [
        {"ruta": "datasets/a/x.zip", "tipo": "host", "resultado": "cargado", "filas": 12200,
         "columnas": 7, "segundos": 1.5, "forma": "eventos de Windows"},
        {"ruta": "datasets/a/y.zip", "tipo": "red", "resultado": "rechazado",
         "mensaje": "no | es"},
    ]  # fmt: skip
    readme = tmp_path / "README.md"
    readme.write_text(f"antes\n\n{sweep.BEGIN}\nviejo\n{sweep.END}\ndespués\n", encoding="utf-8")
    sweep.write_table(results, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("antes\n\n" + sweep.BEGIN) and text.endswith(sweep.END + "\ndespués\n")
    assert "| `a/x.zip` | `host` | eventos de Windows | 12 200 × 7 | 1,50 |" in text
    assert "| `a/y.zip` | `red` | rechazado: no \\| es | — | — |" in text
    assert "viejo" not in text


@pytest.mark.data
def test_the_table_covers_every_archive_of_the_mirror(mirror_root):
    expected = {path.removeprefix("datasets/") for path in sweep.mirror_archives(mirror_root)}
    assert set(table_rows()) == expected


@pytest.mark.data
def test_a_subset_reloaded_gives_the_rows_of_the_table(mirror_root, tmp_path, monkeypatch):
    archives = sweep.mirror_archives(mirror_root)
    windows = [a for a in archives if "/windows/" in a and "/host/" in a]
    smallest = sorted(windows, key=lambda a: (mirror_root / a).stat().st_size)[:2]
    subset = [
        "datasets/compound/GoldenSAMLADFSMailAccess/WindowsEvents.Zip",
        "datasets/compound/GoldenSAMLADFSMailAccess/AADAuditEvents.Zip",
        "datasets/atomic/windows/lateral_movement/network/empire_psexec_dcerpc_tcp_svcctl.zip",
        *smallest,
    ]
    rows = table_rows()
    results = sweep.sweep(mirror_root, subset)
    rendered = sweep.render(results)
    for record in results:
        name = record["ruta"].removeprefix("datasets/")
        line = next(line for line in rendered.splitlines() if line.startswith(f"| `{name}` |"))
        assert without_seconds(line) == without_seconds(rows[name])
        assert not record.get("problemas"), record


@pytest.mark.data
def test_every_log_analytics_export_is_flattened(mirror_root):
    """Con Hostname, Channel (o su ausencia en el JSON, dicha) y EventID llenos."""
    exports = {name: row for name, row in table_rows().items() if "Log Analytics" in row}
    assert exports, "el espejo trae al menos la exportación de Golden SAML"
    results = sweep.sweep(mirror_root, [f"datasets/{name}" for name in exports])
    for record in results:
        assert record["resultado"] == "cargado" and record["problemas"] == [], record
