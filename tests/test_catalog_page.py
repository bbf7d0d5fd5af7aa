"""La página del catálogo del sitio construido (book/catalogo.md, que expande
book/_ext/catalogo.py al construir) frente a taller/catalogo.yaml: cada conjunto
aparece, con el enlace a su ficha de upstream si la tiene, bajo cada una de sus
tácticas y técnicas; los archivos de upstream sin huella conocida, aparte."""

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
        # Una vez por táctica y otra por técnica (o bajo «Sin …»).
        listed = html.count(f'<span class="pre">{name}</span>')
        assert listed == max(len(entry["tacticas"]), 1) + max(len(entry["tecnicas"]), 1), name
        if entry["ficha"]:
            assert f'href="{blob}{entry["ficha"]}"' in html, name
    for card in CATALOG["fichas_sin_archivo"]:
        assert f'href="{blob}{card["ficha"]}"' in html, card["id"]
    total = re.search(r"(\d+) conjuntos \((\d+) con ficha de metadatos\)", html)
    assert total and int(total[1]) == len(entries)
    assert int(total[2]) == sum(1 for entry in entries.values() if entry["ficha"])
    # Los que no se pueden verificar, en su sección, cada uno con su ruta.
    unverifiable = CATALOG["sin_huella"]
    assert unverifiable
    section = html.split('id="sin-huella"', 1)[1]
    assert f"{len(unverifiable)} archivos publicados en Security-Datasets" in section
    for item in unverifiable:
        assert f'<span class="pre">{item["ruta"]}</span>' in section, item["ruta"]
        assert f'href="{blob}{item["ruta"]}"' in section
