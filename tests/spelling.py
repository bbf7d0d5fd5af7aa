"""Extracción de la prosa y revisión ortográfica del texto en español que lee el alumno.

La usan tests/test_spelling.py y tests/test_accessibility.py (el texto
alternativo de las imágenes). El corrector es el programa Hunspell real con el
diccionario español de Debian, más la lista revisada de palabras del proyecto,
tests/palabras.txt.

Qué se revisa: las páginas del libro (book/*.md), README.md, datasets/README.md,
LICENSE-CONTENIDO.md, las celdas Markdown de los cuadernos, los comentarios `#`
de sus celdas de código (solo el texto del comentario, nunca el código) y el
texto alternativo de las figuras.

Reglas, por orden:
- el código (bloques delimitados, `fragmentos de código`, roles como {doc}`...`),
  las URL, las etiquetas HTML, LaTeX, las etiquetas de MyST y las opciones de
  las directivas no son prosa y se saltan;
- las palabras pegadas a dígitos o guiones bajos (T1055, x86_64) son
  identificadores, y las palabras en mayúsculas (JSON, ATT&CK, GET) son siglas:
  ambas se saltan;
- una palabra es correcta si la conoce el diccionario español o la lista del
  proyecto (un imperativo con pronombres enclíticos, «instálela», si el
  diccionario conoce la forma verbal simple, «instale»);
- el texto extranjero, que la ortografía española pone en *cursiva* o «entre
  comillas» (títulos, opciones de menú, nombres en inglés), puede estar en
  inglés: ahí una palabra también es correcta si la conoce el diccionario inglés.
"""

import html
import io
import re
import shutil
import subprocess
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

from built_site import REPO
from solutions import parse as parse_solution

WORD_LIST = REPO / "tests" / "palabras.txt"
SPANISH = "es_ES"
ENGLISH = "en_US"

# Directivas cuyo cuerpo es prosa (lo ve el lector); cualquier otro bloque delimitado es código.
PROSE_DIRECTIVES = {
    "admonition",
    "attention",
    "caution",
    "danger",
    "dropdown",
    "epigraph",
    "error",
    "figure",
    "hint",
    "important",
    "margin",
    "note",
    "seealso",
    "sidebar",
    "tip",
    "topic",
    "warning",
}
# Directivas cuyo argumento (tras el nombre) es un título, no una ruta.
TITLED_DIRECTIVES = {"admonition", "dropdown", "sidebar", "topic"}
# Roles cuyo contenido es prosa; en los demás solo lo es un `texto <destino>` explícito.
PROSE_ROLES = {"abbr", "term", "sub", "sup", "strong", "emphasis"}

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})\s*(?:\{([\w:.-]+)\})?\s*(.*)$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
ROLE = re.compile(r"\{([\w:.-]+)\}(`+)(.*?)\2")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^>]*>")
URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\w+")
FOREIGN_TAG = re.compile(r"<(span|cite|i|em)\b[^>]*>(.*?)</\1>", re.S)
TAG = re.compile(r"</?[A-Za-z][^>]*>")
MATH = re.compile(r"\$\$.*?\$\$|(?<![\w$])\$[^$\n]+\$(?![\w$])")
COMMENT = re.compile(r"<!--.*?-->", re.S)
LABEL = re.compile(r"^\s*\(([^)]*)\)=\s*$")
LINK_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*\S+")
UNDERSCORE_ITALIC = re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)_(?!\w)")
CHUNK = re.compile(r"[\w’'@./\\-]+")
# Marcas privadas del principio y el fin del texto extranjero dentro de una línea limpia.
OPEN, CLOSE = "\x01", "\x02"


@dataclass(frozen=True)
class Line:
    where: str  # "book/intro.md:12" o "notebooks/01_numpy.ipynb, celda 3, línea 2"
    text: str  # la prosa en español de esa línea
    foreign: str = ""  # el texto en cursiva o entre comillas de esa línea: en español o en inglés


def clean_inline(text: str) -> str:
    """Quita de una línea de MyST Markdown lo que no es prosa; marca el texto extranjero."""

    def role(match):
        name, body = match.group(1).split(":")[-1], match.group(3)
        explicit = re.match(r"^(.*?)\s*<[^>]*>$", body, re.S)
        if explicit:
            return explicit.group(1)
        return body if name in PROSE_ROLES else " "

    text = ROLE.sub(role, text)
    text = CODE_SPAN.sub(" ", text)
    text = MATH.sub(" ", text)
    text = IMAGE.sub(r"\1", text)
    text = LINK.sub(r"\1", text)
    text = AUTOLINK.sub(" ", text)
    text = URL.sub(" ", text)
    text = FOREIGN_TAG.sub(
        lambda m: (
            OPEN + m.group(2) + CLOSE
            if m.group(1) != "span" or "lang=" in m.group(0)
            else m.group(2)
        ),
        text,
    )
    text = TAG.sub(" ", text)
    text = html.unescape(text)
    text = re.sub(r"\\(.)", r"\1", text)
    text = text.replace("***", "*").replace("**", "").replace("__", "")
    return UNDERSCORE_ITALIC.sub(OPEN + r"\1" + CLOSE, text)


def markdown_prose(source: str):
    """Da (número de línea, prosa limpia) por cada línea de una fuente MyST Markdown."""
    source = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    lines = source.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # metadatos iniciales (front matter)
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        start = end + 1
    stack = []  # bloques abiertos: [marcador, el cuerpo es prosa, aún se leen opciones]
    in_math = False
    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        if in_math:
            in_math = not stripped.endswith("$$")
            continue
        if stripped.startswith("$$") and not (len(stripped) > 2 and stripped.endswith("$$")):
            in_math = True
            continue
        fence = FENCE.match(line)
        if fence:
            marker, name, argument = fence.group(2), fence.group(3), fence.group(4)
            closes = (
                stack
                and marker[0] == stack[-1][0][0]
                and len(marker) >= len(stack[-1][0])
                and name is None
                and not argument
            )
            if closes:
                stack.pop()
                yield number, ""
                continue
            if not stack or stack[-1][1]:
                is_prose = name in PROSE_DIRECTIVES
                stack.append([marker, is_prose, True])
                if is_prose and name in TITLED_DIRECTIVES and argument:
                    yield number, clean_inline(argument)
                continue
        if stack and not stack[-1][1]:
            continue  # código, fórmulas, mermaid...: no es prosa
        if stack and stack[-1][2]:
            option = OPTION.match(line)
            if option:
                if option.group(1) == "alt":
                    yield number, clean_inline(option.group(2))
                continue
            stack[-1][2] = False
        if LABEL.match(line) or LINK_DEFINITION.match(line) or stripped.startswith(("%", "+++")):
            continue
        yield number, clean_inline(line)


def split_foreign(numbered_lines):
    """Separa el texto extranjero (cursiva, «comillas», etiquetas lang/cite) del español.

    La cursiva y las comillas pueden abarcar varias líneas; una línea vacía (fin de
    párrafo) las cierra."""
    italic = quoted = False
    for number, text in numbered_lines:
        if not text.strip():
            italic = quoted = False
        spanish, foreign = [], []
        tagged = 0
        for position, char in enumerate(text):
            before = text[position - 1] if position else " "
            after = text[position + 1] if position + 1 < len(text) else " "
            if char == "*" and not italic and not after.isspace():
                italic = True
                char = " "
            elif char == "*" and italic and not before.isspace():
                italic = False
                char = " "
            elif char in "«“":
                quoted = True
                char = " "
            elif char in "»”":
                quoted = False
                char = " "
            elif char == OPEN:
                tagged += 1
                char = " "
            elif char == CLOSE:
                tagged = max(0, tagged - 1)
                char = " "
            if italic or quoted or tagged:
                foreign.append(char)
                spanish.append(" ")
            else:
                spanish.append(char)
                foreign.append(" ")
        yield number, "".join(spanish), "".join(foreign)


def book_pages():
    return sorted((REPO / "book").glob("*.md"))


# Archivos Markdown fuera del libro que lee el alumno: cómo seguir el taller, el
# catálogo de datos y la licencia del contenido.
DOCUMENTS = ("README.md", "datasets/README.md", "LICENSE-CONTENIDO.md")


def documents():
    return [REPO / name for name in DOCUMENTS]


def notebooks():
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def markdown_lines(source: str, where):
    """Objetos Line de una fuente Markdown; `where(number)` nombra cada línea."""
    for number, text, foreign in split_foreign(markdown_prose(source)):
        if text.strip() or foreign.strip():
            yield Line(where(number), text, foreign)


def code_comments(source: str):
    """Da (número de línea, texto) por cada comentario `#` de una celda de código: solo
    el comentario, nunca el código. Un `#` dentro de una cadena no es un comentario
    (lo sabe el tokenizador); las órdenes mágicas de IPython y las de la consola
    (%, !) no son Python, así que antes se dejan en blanco."""
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(python).readline))
    except (
        tokenize.TokenError,
        SyntaxError,
    ):  # una celda que no se puede analizar: solo los comentarios de línea entera
        for number, line in enumerate(python.split("\n"), start=1):
            if line.lstrip().startswith("#"):
                yield number, line.lstrip().lstrip("#").strip()
        return
    for token in tokens:
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string.lstrip("#").strip()


def comment_lines(source: str, where):
    """Objetos Line de los comentarios de una celda de código; cada comentario se lee
    por separado, para que un `*` o un `«` suelto en uno no se extienda al siguiente."""
    for number, comment in code_comments(source):
        for _, text, foreign in split_foreign([(number, clean_inline(comment))]):
            if text.strip() or foreign.strip():
                yield Line(where(number), text, foreign)


def prose_lines():
    """Cada línea de prosa que lee el alumno: las páginas del libro, los README y la
    licencia del contenido, las celdas Markdown de los cuadernos, los comentarios de
    sus celdas de código y el texto alternativo de las figuras."""
    for page in book_pages() + documents():
        relative = page.relative_to(REPO).as_posix()
        yield from markdown_lines(
            page.read_text(encoding="utf-8"), lambda n, relative=relative: f"{relative}:{n}"
        )
    for path in notebooks():
        relative = path.relative_to(REPO).as_posix()
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells, start=1):
            if cell.cell_type == "markdown":
                yield from markdown_lines(
                    cell.source,
                    lambda n, i=index, relative=relative: f"{relative}, celda {i}, línea {n}",
                )
                # Una solución (tests/solutions.py) es Python dentro de una celda Markdown:
                # sus comentarios son prosa que lee quien aprende, como los de una celda de código.
                solution = parse_solution(cell.source)
                if solution:
                    yield from comment_lines(
                        solution[0],
                        lambda n, i=index, relative=relative: (
                            f"{relative}, celda {i} (solución), comentario de la línea {n}"
                        ),
                    )
            elif cell.cell_type == "code":
                yield from comment_lines(
                    cell.source,
                    lambda n, i=index, relative=relative: (
                        f"{relative}, celda {i}, comentario de la línea {n}"
                    ),
                )
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            if alt:  # texto alternativo de una figura (lo leen los lectores de pantalla)
                yield Line(f"{relative}, celda {index}, texto alternativo", alt)


def words(text: str, allowed=frozenset()):
    """Las palabras de una línea de prosa, sin identificadores, siglas ni letras sueltas.

    Un término con guion que está en la lista (scikit-learn) cuenta como una palabra."""
    for match in CHUNK.finditer(text):
        chunk = match.group(0).strip(".-’'")
        extension = re.match(r"\.[^\W\d_]", match.group(0))  # .ipynb, .NET
        code_like = extension or text[match.end() : match.end() + 1] in ("[", "(")
        if not chunk or code_like or re.search(r"[\d_@/\\]|\w\.\w", chunk):
            continue  # T1055, x86_64, archivo.zip, ruta/a/algo, pd.merge, df["Image"]
        if "-" in chunk and accepted_by_word_list(chunk, allowed):
            continue
        for word in re.split(r"[-’']", chunk):
            if len(word) > 1 and not word.isupper():
                yield word


def project_words():
    return [line.strip() for line in WORD_LIST.read_text(encoding="utf-8").splitlines()]


def accepted_by_word_list(word: str, allowed) -> bool:
    """Una palabra de la lista vale también con mayúscula inicial (al principio de frase)."""
    return word in allowed or (word[:1].lower() + word[1:]) in allowed


def hunspell_binary(dictionary=SPANISH) -> str:
    binary = shutil.which("hunspell")
    assert binary, (
        "Falta Hunspell: instálelo con «sudo apt-get install hunspell hunspell-es hunspell-en-us»"
    )
    package = "hunspell-es" if dictionary == SPANISH else "hunspell-en-us"
    assert Path(f"/usr/share/hunspell/{dictionary}.dic").is_file(), (
        f"Falta el diccionario {dictionary} de Hunspell: «sudo apt-get install {package}»"
    )
    return binary


def hunspell_rejects(candidates, dictionary=SPANISH) -> set:
    """Las palabras que no conoce un diccionario de Hunspell (una llamada, una por línea)."""
    candidates = sorted(set(candidates))
    if not candidates:
        return set()
    result = subprocess.run(
        [hunspell_binary(dictionary), "-d", dictionary, "-i", "utf-8", "-l"],
        input="\n".join(candidates) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    return set(result.stdout.split())


ENCLITIC = re.compile(
    r"^(?P<verb>\w+?)(?P<pronouns>(?:se|me|te|nos|os)?(?:lo|la|los|las|le|les|me|te|se|nos))$"
)
STRESS = str.maketrans("áéíóú", "aeiou")


def not_spanish(candidates) -> set:
    """Las palabras que rechaza el diccionario español, una vez entendidas las formas
    verbales con pronombres enclíticos: al es_ES de Hunspell le faltan muchas
    (dibújelos, instálela), así que «dibújelos» es correcta si lo es «dibuje»; sin su
    tilde («dibujelos») sigue siendo incorrecta."""
    rejected = hunspell_rejects(candidates)
    stems = {}
    for word in rejected:
        match = ENCLITIC.match(word)
        if match and sum(char in "áéíóú" for char in word.lower()) == 1:
            stem = match.group("verb").translate(STRESS)
            if stem != match.group("verb") and len(stem) > 2:
                stems[word] = stem
    known_stems = set(stems.values()) - hunspell_rejects(stems.values())
    return {word for word in rejected if stems.get(word) not in known_stems}


def misspellings(lines, allowed=None):
    """[(línea, palabra)] de cada palabra que no aceptan ni los diccionarios ni la lista."""
    lines = list(lines)
    allowed = set(project_words() if allowed is None else allowed)
    spanish_words = {word for line in lines for word in words(line.text, allowed)}
    foreign_words = {word for line in lines for word in words(line.foreign, allowed)}
    unknown = not_spanish(spanish_words | foreign_words)
    not_english = hunspell_rejects(foreign_words & unknown, ENGLISH)
    found = []
    for line in lines:
        wrong = [word for word in words(line.text, allowed) if word in unknown]
        wrong += [
            word
            for word in words(line.foreign, allowed)
            if word in unknown and word in not_english
        ]
        found += [(line, word) for word in wrong if not accepted_by_word_list(word, allowed)]
    return found
