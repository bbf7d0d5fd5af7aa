"""El catálogo (taller/catalogo.yaml) frente a los bytes reales del espejo y a
las fichas de metadatos de upstream; resolución de nombres y filtros de `listar`."""

import functools
import hashlib
import importlib.util
import json
import subprocess
import tarfile
import zipfile

import pytest
import yaml

from conftest import UPSTREAM_TREE
from mirror import REPO
from taller import catalog, cli
from taller.errors import TallerError

RAW = yaml.safe_load(catalog.CATALOG_PATH.read_text(encoding="utf-8"))
DATASETS = catalog.datasets()
KINDS = {"Host": "host", "Network": "red", "Cloud": "nube"}
SELECTION = [name for name, entry in DATASETS.items() if entry.selected]
CORPUS_FOLDERS = (
    "datasets/atomic/windows/defense_evasion/host/",
    "datasets/atomic/windows/credential_access/host/",
)


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_catalog", REPO / "scripts" / "generate_catalog.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upstream_tree(mirror_root):
    """Las rutas de upstream en el commit fijado, si la copia es la descargada (conftest)."""
    path = mirror_root / UPSTREAM_TREE
    return path.read_text(encoding="utf-8").split() if path.is_file() else None


def upstream_sums(mirror_root):
    """{ruta: sha256} de SHA256SUMS, que solo tiene el espejo local. Sin él, la copia
    descargada trae el árbol de upstream: solo la generación byte a byte del catálogo
    necesita las huellas y se salta; las demás pruebas usan el árbol."""
    if not (mirror_root / "SHA256SUMS").is_file():
        if upstream_tree(mirror_root) is None:
            pytest.fail(
                f"{mirror_root} no tiene ni SHA256SUMS (espejo local) ni {UPSTREAM_TREE} "
                "(copia descargada de upstream): no hay con qué comparar el catálogo."
            )
        pytest.skip("sin el SHA256SUMS del espejo local no se puede generar el catálogo")
    lines = (mirror_root / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {line.split()[1]: line.split()[0] for line in lines if line.strip()}


@functools.cache
def upstream_metadata(mirror_root):
    """{ruta de upstream en minúsculas: (ficha, tipo)} según los _metadata/*.yaml del espejo."""
    found = {}
    for path in sorted((mirror_root / "datasets").glob("*/_metadata/*.yaml")):
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in card.get("files") or []:
            key = item["link"].strip().split("/master/", 1)[1].lower()
            found.setdefault(key, (card, item["type"]))
    return found


def archive_members(path):
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as bundle:
            return tuple(member.name for member in bundle if member.isfile())
    with zipfile.ZipFile(path) as bundle:
        return tuple(bundle.namelist())


def test_catalogue_is_what_the_script_generates_from_upstream(mirror_root):
    upstream_sums(mirror_root)  # sin SHA256SUMS no se puede generar
    text = load_generator().generate(mirror_root)
    assert text == catalog.CATALOG_PATH.read_text(encoding="utf-8"), (
        "taller/catalogo.yaml no está al día: .venv/bin/python scripts/generate_catalog.py"
    )


def test_every_upstream_archive_is_catalogued_once_with_its_sha256(mirror_root):
    tree = upstream_tree(mirror_root)
    if tree is not None:  # copia descargada: el árbol de git de upstream
        archives = {path for path in tree if path.lower().endswith((".zip", ".tar.gz"))}
        archives = {path for path in archives if path.startswith("datasets/")}
        unverifiable = {item.path for item in catalog.unverifiable()}
        assert {entry.path for entry in DATASETS.values()} | unverifiable == archives
        sums = {entry.path: entry.sha256 for entry in DATASETS.values()}
    else:
        sums = upstream_sums(mirror_root)
        assert {entry.path: entry.sha256 for entry in DATASETS.values()} == sums
    assert len(DATASETS) == len(sums)
    in_mirror = sorted(
        str(path.relative_to(mirror_root))
        for path in (mirror_root / "datasets").rglob("*")
        if path.name.lower().endswith((".zip", ".tar.gz"))
    )
    assert set(in_mirror) <= set(sums)
    # Solo los archivos del espejo tienen tamaño y contenido conocidos.
    assert sorted(e.path for e in DATASETS.values() if e.size is not None) == in_mirror


def test_every_upstream_card_is_in_the_catalogue(mirror_root):
    if upstream_tree(mirror_root) is None:
        upstream_sums(mirror_root)  # el espejo local, completo; si no, falla
    orphans = {card["id"] for card in RAW["fichas_sin_archivo"]}
    orphans |= {item.id for item in catalog.unverifiable()}
    for path in sorted((mirror_root / "datasets").glob("*/_metadata/*.yaml")):
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
        ids = {entry.id for entry in DATASETS.values()}
        assert card["id"] in ids | orphans, path.name


@pytest.mark.parametrize("name", [n for n, e in DATASETS.items() if e.size is not None])
def test_entry_matches_the_real_bytes_of_the_mirror(mirror_root, name):
    entry = DATASETS[name]
    path = mirror_root / entry.path
    assert path.stat().st_size == entry.size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert archive_members(path) == entry.members


def test_entries_absent_from_the_mirror_have_unknown_size_and_contents():
    absent = [e for e in DATASETS.values() if e.size is None]
    assert absent, "el catálogo abarca todo upstream, no solo el espejo"
    for entry in absent:
        assert RAW["conjuntos"][entry.name]["contenido"] is None
        assert entry.members == ()
        assert not entry.selected


@pytest.mark.parametrize("name", DATASETS)
def test_entry_matches_the_upstream_metadata_card(mirror_root, name):
    entry = DATASETS[name]
    cards = upstream_metadata(mirror_root)
    if entry.id is None:  # sin ficha upstream: el catálogo lo dice y explica el origen
        assert entry.path.lower() not in cards
        assert "ficha" in RAW["conjuntos"][name]["nota"]
        return
    card, kind = cards[entry.path.lower()]
    assert entry.id == card["id"]
    assert entry.title == card["title"].strip()
    assert entry.kind == KINDS[kind.capitalize()]
    techniques = {
        mapping["technique"] + (f".{mapping['sub-technique']}" if mapping["sub-technique"] else "")
        for mapping in card["attack_mappings"]
    }
    assert set(entry.techniques) == techniques
    assert set(entry.tactics) == {
        tactic for m in card["attack_mappings"] for tactic in m["tactics"]
    }


def test_names_are_archive_stems_and_network_captures_are_told_apart():
    for name, entry in DATASETS.items():
        stem = catalog.strip_archive_suffix(entry.path.rsplit("/", 1)[1])
        expected = stem + "_red" if entry.kind == "red" else stem
        assert name == expected or name.startswith(expected + "_"), name
    assert DATASETS["empire_psexec_dcerpc_tcp_svcctl_red"].is_capture
    assert not DATASETS["empire_psexec_dcerpc_tcp_svcctl"].is_capture


def test_the_lessons_selection_keeps_its_fourteen_names():
    assert len(SELECTION) == 14
    assert {
        "covenant_psremoting_command",
        "empire_psexec_dcerpc_tcp_svcctl",
        "empire_dllinjection_LoadLibrary_CreateRemoteThread",
    } <= set(SELECTION)
    assert [e.name for e in catalog.selection()] == SELECTION


def test_the_hunting_corpus_is_every_host_archive_of_two_tactics(mirror_root):
    corpus = catalog.corpus()
    assert [e.name for e in corpus] == [
        e.name for e in DATASETS.values() if e.path.startswith(CORPUS_FOLDERS)
    ]
    in_mirror = sorted(
        str(path.relative_to(mirror_root))
        for folder in CORPUS_FOLDERS
        for path in (mirror_root / folder).iterdir()
    )
    assert sorted(e.path for e in corpus) == in_mirror  # todo el corpus está en el espejo
    assert all(e.kind == "host" and e.size for e in corpus)


def notebook_code(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def test_each_entry_lists_the_notebooks_that_really_use_it_with_the_same_hash():
    """Los cuadernos autónomos llevan su propia ruta y su SHA-256: deben coincidir con
    el catálogo."""
    used = {}
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = notebook_code(path)
        for name, entry in DATASETS.items():
            if f'"{entry.path}"' in code:
                assert f'"{entry.sha256}"' in code, (
                    f"{path.name}: la huella de {name} no es la del catálogo"
                )
            if f'"{entry.path}"' in code or f'"{name}"' in code:
                used.setdefault(name, []).append(path.stem)
    listed = {name: list(entry.notebooks) for name, entry in DATASETS.items() if entry.notebooks}
    assert listed == used
    assert set(used) >= {
        "covenant_psremoting_command",
        "empire_psexec_dcerpc_tcp_svcctl",
        "empire_dllinjection_LoadLibrary_CreateRemoteThread",
    }


def test_urls_are_pinned_to_the_upstream_commit(monkeypatch):
    origin = RAW["origen"]
    assert len(origin["commit"]) == 40
    assert origin["url_base"] == (
        f"https://raw.githubusercontent.com/OTRF/Security-Datasets/{origin['commit']}/"
    )
    monkeypatch.delenv("TALLER_BASE_URL", raising=False)
    assert catalog.base_url() == origin["url_base"]
    monkeypatch.setenv("TALLER_BASE_URL", "http://127.0.0.1:8000/")
    assert catalog.base_url() == "http://127.0.0.1:8000/"


def test_cache_lives_in_datasets_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("TALLER_CACHE_DIR", raising=False)
    monkeypatch.setattr(catalog, "in_clone", lambda: True)  # el paquete de la copia
    entry = DATASETS["empire_psexec_dcerpc_tcp_svcctl"]
    assert entry.archive_path == (
        catalog.REPO_ROOT
        / "datasets/atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip"
    )
    monkeypatch.setenv("TALLER_CACHE_DIR", str(tmp_path))
    assert (
        entry.extract_dir
        == tmp_path / "atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl"
    )


def test_git_ignores_the_cache_but_not_the_catalogue_and_its_readme():
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0

    assert ignored(
        "datasets/atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip"
    )
    assert ignored(
        "datasets/atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl/x.json"
    )
    assert not ignored("taller/catalogo.yaml")
    assert not ignored("datasets/README.md")


@pytest.mark.parametrize(
    "source",
    [
        "empire_psexec_dcerpc_tcp_svcctl",
        "SDWIN-190518210652",  # también es el id de la captura de red: se entienden los eventos
        "datasets/atomic/windows/lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip",
        "https://raw.githubusercontent.com/OTRF/Security-Datasets/master/datasets/atomic/windows/"
        "lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip",
    ],
)
def test_resolve_by_name_id_upstream_path_or_url(source):
    assert catalog.resolve(source).name == "empire_psexec_dcerpc_tcp_svcctl"


def test_an_id_shared_by_several_event_sets_is_ambiguous():
    with pytest.raises(TallerError) as error:
        catalog.resolve("377d9af5-5009-48d9-ae97-1756a01d7ef8")
    for name in (
        "AADAuditEvents",
        "Microsoft365DefenderEvents",
        "OfficeActivityEvents",
        "WindowsEvents",
    ):
        assert name in str(error.value)


def test_unknown_name_is_explained_with_a_suggestion():
    with pytest.raises(TallerError) as error:
        catalog.resolve("empire_psexec_dcerpc_tcp_svcct")
    message = str(error.value)
    assert "No hay ningún conjunto llamado «empire_psexec_dcerpc_tcp_svcct»" in message
    assert "¿Quería decir «empire_psexec_dcerpc_tcp_svcctl»?" in message
    assert "python -m taller listar" in message


def listed(capsys, *options):
    """Los nombres que lista `listar`: hasta la primera línea vacía."""
    assert cli.main(["listar", *options]) == 0
    lines = capsys.readouterr().out.split("\n\n")[0].splitlines()
    return [line.split(":")[0] for line in lines if line and not line.startswith((" ", "\t"))]


def test_list_shows_every_dataset_with_its_details(capsys, cache):
    assert cli.main(["listar"]) == 0
    out = capsys.readouterr().out
    assert "empire_psexec_dcerpc_tcp_svcctl: Empire Invoke PsExec\n" in out
    assert (
        "    SDWIN-190518210652 · host · T1021 · TA0002, TA0008 · 640,8 KiB · sin descargar\n"
        in out
    )
    assert out.rstrip().endswith(f"{len(DATASETS)} conjuntos, 0 en la caché ({cache}).")
    assert "tamaño desconocido" in out  # los que no estaban en el espejo
    # Y los de upstream que no se pueden verificar, aparte y diciéndolo.
    unverifiable = catalog.unverifiable()
    assert (
        f"\n{len(unverifiable)} archivos de Security-Datasets sin huella SHA-256 conocida: "
        "no se pueden verificar y el taller no los descarga.\n" in out
    )
    for item in unverifiable:
        assert f"\n    {item.path}" in out


def test_the_catalogue_names_the_upstream_archives_it_cannot_verify(mirror_root):
    """Los de UNHASHED.txt del espejo (existen en upstream, pero sin huella conocida) no
    son conjuntos: van en `sin_huella`, con su ficha si la tienen, y ninguna ficha que
    los enlaza pasa por rota."""
    upstream_sums(mirror_root)
    lines = (mirror_root / "UNHASHED.txt").read_text(encoding="utf-8").splitlines()
    unhashed = sorted(line for line in lines if line.strip() and not line.startswith("#"))
    assert [item.path for item in catalog.unverifiable()] == unhashed
    assert len(unhashed) == 16
    assert not set(unhashed) & {entry.path for entry in DATASETS.values()}
    cards = upstream_metadata(mirror_root)
    for item in catalog.unverifiable():
        card = cards.get(item.path.lower())
        assert item.id == (card[0]["id"] if card else None)
    broken = {link for card in RAW["fichas_sin_archivo"] for link in card["enlaces_rotos"]}
    assert not {link.split("/master/", 1)[1] for link in broken} & set(unhashed)


@pytest.mark.parametrize(
    "source",
    [
        "apt29_evals_day1_manual",
        "datasets/compound/apt29/day1/apt29_evals_day1_manual.zip",
        "SDWIN-200921175806",  # Empire Elevated Scheduled Tasks: tiene ficha, no huella
    ],
)
def test_downloading_an_archive_without_known_hash_is_refused_with_the_reason(capsys, source):
    assert cli.main(["descargar", source]) == 1
    err = capsys.readouterr().err
    assert f"Error: «{source}» es un archivo de Security-Datasets (" in err
    assert "cuya huella SHA-256 no se conoce" in err and "no lo descarga" in err
    assert "¿Quería decir" not in err


def raw_names(keep):
    """Nombres del YAML (leído aparte, sin `Dataset.matches`) que cumplen `keep`."""
    return [name for name, entry in RAW["conjuntos"].items() if keep(entry)]


@pytest.mark.parametrize(
    "options, keep, must",
    [
        (
            ["--tecnica", "T1003"],
            lambda e: any(t.split(".")[0] == "T1003" for t in e["tecnicas"]),
            ["empire_mimikatz_logonpasswords", "psh_lsass_memory_dump_comsvcs"],
        ),
        (
            ["--tecnica", "t1055.001"],
            lambda e: "T1055.001" in e["tecnicas"],
            ["empire_dllinjection_LoadLibrary_CreateRemoteThread"],
        ),
        (
            ["--tecnica", "T1055"],
            lambda e: any(t.split(".")[0] == "T1055" for t in e["tecnicas"]),
            ["empire_psinject_PEinjection", "purplesharp_pe_injection_createremotethread"],
        ),
        (
            ["--tactica", "TA0008", "--buscar", "psexec"],
            lambda e: "TA0008" in e["tacticas"] and "psexec" in (e["ruta"] + e["titulo"]).lower(),
            ["empire_psexec_dcerpc_tcp_svcctl", "empire_psexec_dcerpc_tcp_svcctl_red"],
        ),
        (
            ["--buscar", "golden saml"],
            lambda e: "golden saml" in e["titulo"].lower(),
            [
                "AADAuditEvents",
                "Microsoft365DefenderEvents",
                "OfficeActivityEvents",
                "WindowsEvents",
            ],
        ),
    ],
)
def test_list_filters_by_technique_tactic_and_text(capsys, options, keep, must):
    found = listed(capsys, *options)
    assert found == raw_names(keep)
    assert set(must) <= set(found)


def test_list_without_matches_says_so(capsys):
    assert cli.main(["listar", "--tecnica", "T9999"]) == 0
    assert capsys.readouterr().out == "Ningún conjunto coincide con esos filtros.\n"
