"""Text normalisation for the disclosure scanner, with a map back to the original.

People paste statements from chat tools, word processors and Markdown editors. The
same customer id can arrive as fullwidth digits, with a zero-width space in the
middle, with ``**bold**`` around half of it, or with a Cyrillic letter standing in
for a Latin one. Detectors run on one canonical form instead:

- Unicode NFKC (fullwidth and mathematical letters, ligatures, odd spaces);
- format characters (zero-width spaces and joiners, soft hyphens, BOMs) removed;
- accents and other combining marks dropped;
- confusable letters folded to a Latin skeleton (Cyrillic and Greek look-alikes);
- dash variants folded to ``-``;
- an HTML comment inside a word (``Night<!-- -->jar``) removed;
- Markdown emphasis, code ticks, backslash escapes, simple inline HTML tags and
  character entities reduced to their text; links to ``text url``;
- optionally, template placeholders ``{{ name }}`` blanked out.

Every character of the normalised text remembers the offset of the original
character it came from, so a finding always points at the original text.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

# Look-alike letters folded to their Latin skeleton. Compact on purpose: the letters
# that are visually identical to Latin ones in common fonts, which is what an
# evasion (deliberate or accidental) uses.
_CONFUSABLES = {
    # Cyrillic lower case
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
    "к": "k",
    "м": "m",
    "н": "h",
    "т": "t",
    "п": "n",
    "г": "r",
    # Cyrillic upper case
    "А": "A",
    "В": "B",
    "Е": "E",
    "Ё": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "У": "Y",
    "І": "I",
    "Ї": "I",
    "Ј": "J",
    "Ѕ": "S",
    "Һ": "H",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Ӏ": "I",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "ϲ": "c",
    "ϳ": "j",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "Ϲ": "C",
    # Latin letters that pass for others
    "ı": "i",
    "ȷ": "j",
    "ɑ": "a",
    "ɡ": "g",
    "ɩ": "i",
    "ʏ": "y",
    "ℓ": "l",
    # Armenian
    "օ": "o",
    "ս": "u",
    "հ": "h",
    "ո": "n",
}
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d\u2e3a\u2e3b"
_SEPARATORS = "\u2028\u2029\x85"

# Characters that may start Markdown/HTML markup or entities: their absence lets pure
# ASCII text skip every pass.
_MARKUP_CHARS = frozenset("*_`[~<\\&{")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@functools.cache
def fold_char(char: str) -> str:
    """The canonical form of one character (possibly empty, possibly several)."""
    if char in _SEPARATORS:
        return " "
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    out = []
    for piece in unicodedata.normalize("NFKC", char):
        if piece in _DASHES:
            out.append("-")
            continue
        if piece in _CONFUSABLES:
            out.append(_CONFUSABLES[piece])
            continue
        if piece.isascii():
            out.append(piece)
            continue
        for part in unicodedata.normalize("NFKD", piece):
            if unicodedata.combining(part) or unicodedata.category(part) in ("Mn", "Me", "Cf"):
                continue
            out.append(_CONFUSABLES.get(part, part))
    return "".join(out)


@dataclass(frozen=True)
class Normalised:
    """Normalised text and, per character, the original offset it came from.

    ``offsets`` is None when the text needed no change (the identity map).
    """

    text: str
    offsets: list[int] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised ``text[start:end]``."""
        if self.offsets is None:
            return start, end
        if end <= start:
            at = self.offsets[start] if start < len(self.offsets) else self.original_length
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1


# Markdown and HTML reductions, each addressing different characters so they can be
# computed independently over the same string.
_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_TAG = re.compile(
    r"</?(?:b|i|u|s|em|strong|code|span|del|ins|mark|sub|sup|kbd|small|big|tt)\b[^<>\n]{0,80}>",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.{0,500}?-->", re.DOTALL)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINK = re.compile(r"(!?\[)[^\]\n]*(\])(\()[^()\s]*(?:\s+\"[^\"\n]*\")?(\))")
_STARS = re.compile(r"\*+|~~+|`+")
_UNDERSCORES = re.compile(r"_+")
# A placeholder is a name (with optional dotted parts and filters), nothing else:
# "{{ 4111 1111 1111 1111 }}" is text in braces, not a placeholder, and is scanned.
_PLACEHOLDER = re.compile(
    r"\{\{\s*[A-Za-z_][A-Za-z0-9_.]{0,80}(?:\s*\|\s*[A-Za-z_][A-Za-z0-9_]{0,40})*\s*\}\}"
)


def _markup_edits(text: str, placeholders: bool) -> dict[int, str]:
    """Offsets in ``text`` to drop (mapped to '') or replace (mapped to a string)."""
    edits: dict[int, str] = {}
    if "\\" in text:
        for match in _ESCAPE.finditer(text):
            edits[match.start()] = ""
    if "<!--" in text:
        for match in _COMMENT.finditer(text):
            # Only a comment inside a word is dropped ("Night<!-- -->jar" hides a
            # term); one standing between words keeps its text, which is scanned
            # like the rest: a key in a comment is still published in the source.
            start, end = match.span()
            if start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum():
                for offset in range(start, end):
                    edits[offset] = ""
    if "<" in text:
        for match in _TAG.finditer(text):
            for offset in range(match.start(), match.end()):
                edits[offset] = ""
            edits[match.start()] = " " if match.group().lower().startswith(("<br", "<p")) else ""
    if "&" in text:
        for match in _ENTITY.finditer(text):
            decoded = html.unescape(match.group())
            if decoded == match.group():
                continue
            edits[match.start()] = "".join(fold_char(c) if not c.isascii() else c for c in decoded)
            for offset in range(match.start() + 1, match.end()):
                edits[offset] = ""
    if "[" in text:
        for match in _LINK.finditer(text):
            for offset in range(match.start(1), match.end(1)):
                edits[offset] = ""
            edits[match.start(2)] = " "
            edits[match.start(3)] = ""
            edits[match.start(4)] = ""
    if "*" in text or "~" in text or "`" in text:
        for match in _STARS.finditer(text):
            start, end = match.span()
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if match.group()[0] == "*" and before.isspace() and after.isspace():
                continue  # "5 * 3" is arithmetic, not emphasis
            for offset in range(start, end):
                edits[offset] = ""
    if "_" in text:
        for match in _UNDERSCORES.finditer(text):
            start, end = match.span()
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if before.isalnum() and after.isalnum():
                continue  # intraword: api_key, ghp_..., snake_case
            if not before.isalnum() and not after.isalnum():
                continue  # a lone underscore run, e.g. a blank to fill in
            for offset in range(start, end):
                edits[offset] = ""
    if placeholders and "{" in text:
        for match in _PLACEHOLDER.finditer(text):
            edits[match.start()] = " "
            for offset in range(match.start() + 1, match.end()):
                edits[offset] = ""
    return edits


def normalise(text: str, *, placeholders: bool = False) -> Normalised:
    """Normalise ``text`` for matching; see the module documentation."""
    if text.isascii() and _MARKUP_CHARS.isdisjoint(text):
        return Normalised(text, None, len(text))
    # Pass 1: Unicode folding of the non-ASCII runs; ASCII stretches are copied as
    # slices (C speed), so the cost is linear with a small constant.
    if text.isascii():
        folded, offsets = text, list(range(len(text)))
    else:
        pieces: list[str] = []
        offsets = []
        position = 0
        for run in _NON_ASCII.finditer(text):
            start = run.start()
            if start > position:
                pieces.append(text[position:start])
                offsets.extend(range(position, start))
            for index, char in enumerate(run.group(), start):
                out = fold_char(char)
                pieces.append(out)
                offsets.extend([index] * len(out))
            position = run.end()
        if position < len(text):
            pieces.append(text[position:])
            offsets.extend(range(position, len(text)))
        folded = "".join(pieces)
    # Pass 2: markup reduction over the folded text.
    edits = _markup_edits(folded, placeholders) if not _MARKUP_CHARS.isdisjoint(folded) else {}
    if not edits:
        if folded == text:
            return Normalised(text, None, len(text))
        return Normalised(folded, offsets, len(text))
    pieces = []
    final: list[int] = []
    position = 0
    for at in sorted(edits):
        if at > position:
            pieces.append(folded[position:at])
            final.extend(offsets[position:at])
        replacement = edits[at]
        if replacement:
            pieces.append(replacement)
            final.extend([offsets[at]] * len(replacement))
        position = at + 1
    if position < len(folded):
        pieces.append(folded[position:])
        final.extend(offsets[position:])
    return Normalised("".join(pieces), final, len(text))


def skeleton(text: str) -> str:
    """The normalised form of a short string (a term, an allowance), without offsets."""
    return normalise(text).text
