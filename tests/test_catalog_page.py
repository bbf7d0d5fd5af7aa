"""The catalogue page of the built site (book/catalogo.md, expanded at build
time by book/_ext/catalogo.py) against taller/catalogo.yaml: every dataset is
listed, with a link to its upstream metadata card when it has one, under each
of its tactics and techniques."""

import re

import yaml

from built_site import REPO

CATALOG = yaml.safe_load((REPO / "taller" / "catalogo.yaml").read_text(encoding="utf-8"))


def test_catalogue_page_lists_every_dataset_with_its_upstream_card(site):
    html = (site / "book" / "catalogo.html").read_text(encoding="utf-8")
    origin = CATALOG["origen"]
    blob = f"{origin['repositorio']}/blob/{origin['commit']}/"
    entries = CATALOG["conjuntos"]
    for name, entry in entries.items():
        # Once per tactic and once per technique (or under «sin …»).
        listed = html.count(f'<span class="pre">{name}</span>')
        assert listed == max(len(entry["tacticas"]), 1) + max(len(entry["tecnicas"]), 1), name
        if entry["ficha"]:
            assert f'href="{blob}{entry["ficha"]}"' in html, name
    for card in CATALOG["fichas_sin_archivo"]:
        assert f'href="{blob}{card["ficha"]}"' in html, card["id"]
    total = re.search(r"(\d+) conjuntos \((\d+) con ficha de metadatos\)", html)
    assert total and int(total[1]) == len(entries)
    assert int(total[2]) == sum(1 for entry in entries.values() if entry["ficha"])
