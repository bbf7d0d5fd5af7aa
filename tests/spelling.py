"""Prose extraction and spell checking for the Spanish text a learner reads.

Used by tests/test_spelling.py and tests/test_accessibility.py (image alt
text). The checker is the real Hunspell binary with Debian's Spanish
dictionary, plus the reviewed project word list tests/palabras.txt.

What is checked: the book pages (book/*.md), README.md, datasets/README.md,
LICENSE-CONTENIDO.md, the notebooks' markdown cells, the `#` comments of their
code cells (the comment text only, never the code) and figure alt texts.

Rules, in order:
- code (fenced blocks, `code spans`, roles such as {doc}`...`), URLs, HTML tags,
  LaTeX, MyST labels and directive options are not prose and are skipped;
- words glued to digits or underscores (T1055, x86_64) are identifiers, and words
  in capitals (JSON, ATT&CK, GET) are acronyms: both are skipped;
- a word is right if the Spanish dictionary or the project word list knows it
  (an imperative with enclitic pronouns, «instálela», if the dictionary knows
  the plain verb form, «instale»);
- foreign text, which Spanish orthography sets in *italics* or «between
  quotes» (titles, menu items, English names), may also be English: there a
  word is also right if the English dictionary knows it.
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

# Directives whose body is prose (a reader sees it); every other fenced block is code.
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
# Directives whose argument (after the name) is a title, not a path.
TITLED_DIRECTIVES = {"admonition", "dropdown", "sidebar", "topic"}
# Roles whose content is prose; for the others only an explicit `text <target>` is.
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
# Private markers for the start and end of foreign text inside a cleaned line.
OPEN, CLOSE = "\x01", "\x02"


@dataclass(frozen=True)
class Line:
    where: str  # "book/intro.md:12" or "notebooks/01_numpy.ipynb, celda 3, línea 2"
    text: str  # Spanish prose on that line
    foreign: str = ""  # text in italics or quotes on that line: Spanish or English


def clean_inline(text: str) -> str:
    """Remove what is not prose from one line of MyST Markdown; mark foreign text."""

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
    """Yield (line number, cleaned prose) for each line of a MyST Markdown source."""
    source = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    lines = source.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        start = end + 1
    stack = []  # open fences: [marker, body is prose, still reading options]
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
            continue  # code, math, mermaid...: not prose
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
    """Separate foreign text (italics, «quotes», lang/cite tags) from the Spanish text.

    Italics and quotes may span lines; a blank line (end of paragraph) closes them."""
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


# Markdown files outside the book that a learner reads: how to follow the workshop,
# the data catalogue and the licence of the content.
DOCUMENTS = ("README.md", "datasets/README.md", "LICENSE-CONTENIDO.md")


def documents():
    return [REPO / name for name in DOCUMENTS]


def notebooks():
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def markdown_lines(source: str, where):
    """Line objects for a Markdown source; `where(number)` names each line."""
    for number, text, foreign in split_foreign(markdown_prose(source)):
        if text.strip() or foreign.strip():
            yield Line(where(number), text, foreign)


def code_comments(source: str):
    """Yield (line number, text) for each `#` comment of a code cell: only the comment,
    never the code. A `#` inside a string is not a comment (the tokenizer knows);
    IPython magics and shell escapes (%, !) are not Python, so they are blanked first."""
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(python).readline))
    except (
        tokenize.TokenError,
        SyntaxError,
    ):  # a cell that does not parse: whole-line comments only
        for number, line in enumerate(python.split("\n"), start=1):
            if line.lstrip().startswith("#"):
                yield number, line.lstrip().lstrip("#").strip()
        return
    for token in tokens:
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string.lstrip("#").strip()


def comment_lines(source: str, where):
    """Line objects for the comments of a code cell; each comment is read on its own,
    so a stray `*` or `«` in one comment cannot spill into the next."""
    for number, comment in code_comments(source):
        for _, text, foreign in split_foreign([(number, clean_inline(comment))]):
            if text.strip() or foreign.strip():
                yield Line(where(number), text, foreign)


def prose_lines():
    """Every line of prose a learner reads: book pages, the README files and the content
    licence, notebook markdown cells, the comments of notebook code cells and figure alt texts."""
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
                # A solution (tests/solutions.py) is Python inside a Markdown cell:
                # its comments are prose the learner reads, like a code cell's.
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
            if alt:  # a figure's alternative text, read aloud by screen readers
                yield Line(f"{relative}, celda {index}, texto alternativo", alt)


def words(text: str, allowed=frozenset()):
    """The words of a line of prose, leaving out identifiers, acronyms and single letters.

    A hyphenated term in the word list (scikit-learn) counts as one word."""
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
    """A listed word also counts with a capital initial (at the start of a sentence)."""
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
    """The words a Hunspell dictionary does not know (one call, one word a line)."""
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
    """Words the Spanish dictionary rejects, once verb forms with enclitic pronouns are
    understood: Hunspell's es_ES lacks many (dibújelos, instálela), so «dibújelos» counts
    as right when «dibuje» is; without its written accent («dibujelos») it stays wrong."""
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
    """[(line, word)] for every word that neither the dictionaries nor the word list accept."""
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
