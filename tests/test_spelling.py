"""Ortografía de todo lo que lee el alumno: las páginas del libro (book/*.md),
README.md, datasets/README.md, LICENSE-CONTENIDO.md, las celdas Markdown de los
cuadernos y los comentarios `#` de sus celdas de código, revisada con el
diccionario español de Hunspell y la lista revisada de palabras del proyecto,
tests/palabras.txt; además, las tildes que faltan y que un diccionario no ve
(«esta pagina», «el numero»)."""

import re
from itertools import zip_longest

import pytest

from spelling import (
    DOCUMENTS,
    WORD_LIST,
    Line,
    code_comments,
    comment_lines,
    markdown_lines,
    misspellings,
    not_spanish,
    project_words,
    prose_lines,
    words,
)

HOW_TO_FIX = (
    "Corrija la palabra o, si es un término técnico o un nombre propio correcto, añádalo a "
    "tests/palabras.txt (una palabra por línea, en orden alfabético). Las palabras extranjeras "
    "que no sean términos técnicos van en cursiva (*...*) o entre comillas («...»)."
)

# Tildes que Hunspell no puede señalar porque la forma sin tilde es otra palabra
# (pagina, numero, calculo son formas verbales): el artículo de delante las delata.
MISSING_ACCENTS = [
    (r"\b(la|una|esta|cada|otra|primera|siguiente|misma|nueva) pagina(s)?\b", "página"),
    (
        r"\b(el|un|este|ese|cada|del|al|otro|mismo|primer) (numero|calculo|publico|ultimo|titulo"
        r"|indice|termino|limite|metodo|practico|critico|analisis|transito|deposito)\b",
        "número, cálculo, público, último, título, índice, término, límite, método...",
    ),
    (
        r"\b(la|una|esta|cada|otra|misma|ultima) "
        r"(practica|critica|publica|ultima|formula|tecnica)\b",
        "práctica, crítica, pública, última, fórmula, técnica",
    ),
    (
        r"¿\s*(que|como|cuando|donde|cuanto|cuantos|cuantas|cuanta|cual|cuales"
        r"|quien|quienes|por que)\b",
        "¿qué?, ¿cómo?, ¿cuándo?, ¿dónde?, ¿cuántos?, ¿cuál?, ¿quién?, ¿por qué?",
    ),
    (
        r"\besta (disponible|instalad[oa]s?|vac[ií][oa]|list[oa]|guardad[oa]|ordenad[oa]"
        r"|definid[oa]|escrit[oa]|en (el|la|los|las|un|una|su))\b",
        "está",
    ),
    (
        r"\bmas (de|que|del|rápido|sencillo|fácil|grande|pequeño|información|datos|eventos"
        r"|adelante)\b",
        "más",
    ),
    (r"\b(podra|podran|tendra|tendran|sera|seran|habra|estara|hara|debera)\b", "futuro con tilde"),
    (
        r"\b(tambien|ademas|despues|aqui|asi|facil|dificil|rapido|codigo|pagina|informacion|funcion"
        r"|sesion|version|seccion|leccion|opcion|ejecucion|conexion|direccion|busqueda|analisis)\b",
        "tilde",
    ),
]


def context(line: Line) -> str:
    """La línea como está escrita: las partes en español y en otro idioma, otra vez juntas."""
    merged = "".join(
        a if a != " " else b for a, b in zip_longest(line.text, line.foreign, fillvalue=" ")
    )
    return " ".join(merged.split())[:100]


def report(found):
    return "\n".join(f"  {line.where}: «{word}» — {context(line)}" for line, word in found)


def test_learner_text_has_no_misspellings():
    lines = list(prose_lines())
    assert len(lines) > 100, "No se encontró el texto del libro ni de los cuadernos"
    sources = {line.where.split(":")[0].split(",")[0] for line in lines}
    missing = [name for name in DOCUMENTS if name not in sources]
    assert missing == [], f"No se revisa el texto de {missing}"
    assert any("comentario" in line.where for line in lines), (
        "No se revisan los comentarios de las celdas de código de los cuadernos"
    )
    found = misspellings(lines)
    assert found == [], f"Palabras mal escritas ({len(found)}):\n{report(found)}\n{HOW_TO_FIX}"


def test_learner_text_has_no_missing_accents():
    found = []
    for line in prose_lines():
        text = f"{line.text} {line.foreign}"
        for pattern, right in MISSING_ACCENTS:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                found.append(f"  {line.where}: «{match.group(0)}» (se escribe con tilde: {right})")
    assert found == [], "Faltan tildes:\n" + "\n".join(found)


def test_word_list_is_sorted_and_clean():
    entries = project_words()
    assert entries, "tests/palabras.txt está vacío"
    assert all(entry and " " not in entry for entry in entries), (
        "tests/palabras.txt: una palabra por línea, sin líneas vacías ni espacios"
    )
    assert len(entries) == len(set(entries)), "tests/palabras.txt tiene palabras repetidas"
    expected = sorted(entries, key=lambda word: (word.casefold(), word))
    assert entries == expected, (
        "tests/palabras.txt no está en orden alfabético (sin distinguir mayúsculas)"
    )
    assert WORD_LIST.read_text(encoding="utf-8").endswith("\n")


def test_word_list_has_only_needed_words():
    """Cada entrada es desconocida para el diccionario y se usa en algún lugar del texto."""
    entries = project_words()
    parts = {entry: entry.split("-") for entry in entries}
    rejected = not_spanish(part for split in parts.values() for part in split)
    known = {entry for entry, split in parts.items() if not rejected.intersection(split)}
    assert known == set(), (
        f"El diccionario ya conoce estas palabras; quítelas de tests/palabras.txt: {sorted(known)}"
    )
    used = set()
    for line in prose_lines():
        for text in (line.text, line.foreign):
            used.update(words(text))
            used.update(re.findall(r"[\w-]+", text))
    unused = [
        entry
        for entry in entries
        if entry not in used and entry[:1].upper() + entry[1:] not in used
    ]
    assert unused == [], f"Palabras de tests/palabras.txt que ya no aparecen en el texto: {unused}"


# --- El corrector mismo -------------------------------------------------------


SAMPLE = """\
---
titulo: esto no se revisa
---
# Un ejemplo

(etiqueta-de-prueba)=
El código `pd.read_json(lienas=True)` y {doc}`../notebooks/01_numpy` no son prosa, ni
https://example.org/pagna ni <span class="x">texto</span> $\\alpha + betta$.

```python
varible = "no es prosa"
```

```{note}
:class: dropdown
Esta nota sí es prosa y podra tener errores.
```

Un título en inglés va en cursiva: *Python for Data Analysis*; y la técnica T1055.001.
"""


def sample_lines():
    return list(markdown_lines(SAMPLE, lambda number: f"ejemplo.md:{number}"))


def test_checker_skips_code_urls_roles_and_math():
    text = " ".join(line.text + line.foreign for line in sample_lines())
    for hidden in (
        "lienas",
        "numpy",
        "pagna",
        "betta",
        "varible",
        "titulo",
        "etiqueta",
        "dropdown",
    ):
        assert hidden not in text
    assert "Esta nota sí es prosa" in text


def test_checker_catches_a_misspelling_with_its_line():
    found = misspellings(sample_lines(), allowed=set())
    assert [(line.where, word) for line, word in found] == [("ejemplo.md:16", "podra")]


def test_checker_accepts_english_only_in_italics_or_quotes():
    lines = [
        Line("a.md:1", "Lea el libro Python for Data Analysis"),
        Line("a.md:2", "Lea el libro", "Python for Data Analysis"),
    ]
    flagged = {(line.where, word) for line, word in misspellings(lines, allowed={"Python"})}
    assert flagged == {("a.md:1", "for"), ("a.md:1", "Analysis")}


def test_checker_knows_imperatives_with_enclitic_pronouns():
    lines = [Line("a.md:1", "Instálela, pruébela y dibújelos; no dibujelos sin tilde.")]
    assert [word for _, word in misspellings(lines, allowed=set())] == ["dibujelos"]


CELL = """\
%matplotlib inline
# Cargamos los datos  (sin «errores»)
url = "https://example.org/#anclaa"  # el «#» de una cadena no es un comentario
valor = 3 * 4  # 2 * 3 no abre una cursiva
print("#no es un comentario")
"""


def test_comments_are_the_only_text_taken_from_code_cells():
    comments = [text for _, text in code_comments(CELL)]
    assert comments == [
        "Cargamos los datos  (sin «errores»)",
        "el «#» de una cadena no es un comentario",
        "2 * 3 no abre una cursiva",
    ]
    lines = list(comment_lines(CELL, lambda number: f"celda 1, comentario de la línea {number}"))
    assert [line.where for line in lines] == [
        f"celda 1, comentario de la línea {n}" for n in (2, 3, 4)
    ]
    text = " ".join(line.text + line.foreign for line in lines)
    for code in ("matplotlib", "url", "example", "anclaa", "valor", "print"):
        assert code not in text


def test_checker_catches_a_misspelling_in_a_code_comment():
    cell = (
        "df = pd.read_json(path, lines=True)  # leemos el archivo con una sola orden\n"
        "# un evento por línea, sin vezes repetidas\n"
    )
    lines = list(comment_lines(cell, lambda number: f"celda 1, comentario de la línea {number}"))
    found = misspellings(lines, allowed=set())
    assert [(line.where, word) for line, word in found] == [
        ("celda 1, comentario de la línea 2", "vezes")
    ]


def test_a_cell_that_does_not_parse_still_has_its_comments_checked():
    assert list(code_comments("# un comentario\nif (\n")) == [(1, "un comentario")]


@pytest.mark.parametrize("text", ["Ver esta pagina.", "¿Como se hace?", "Se podra ver."])
def test_accent_patterns_catch_common_mistakes(text):
    assert any(re.search(pattern, text, re.IGNORECASE) for pattern, _ in MISSING_ACCENTS)
