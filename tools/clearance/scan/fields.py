"""Which text of a document is a statement, and where each character of it stands in
the file.

A template's statement is its Markdown body; a log entry's is its ``text`` (and a
talking-points entry's ``points``). The body of a Markdown document maps to the file
line by line. A YAML string value may be plain, quoted (with escapes) or a block
scalar (indented, folded); its characters are aligned with the file's source text so
a hit in the value still points at the right line and column of the file.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clearance.model import Document, Path

Locate = Callable[[int], tuple[int, int]]
# The file's text, or a function that reads it when first needed.
Source = str | Callable[[], str | None] | None


@dataclass(frozen=True)
class Field:
    path: Path  # where the value is in the document; () for a Markdown body
    text: str
    locate: Locate  # offset in ``text`` -> (line, col) in the file


def statement_fields(doc: Document, source: Source, *, every_body: bool = True) -> list[Field]:
    """The statement text of ``doc``. ``source`` is the file's text or a function
    returning it (used to place hits inside YAML values; without it hits point at
    the value's start)."""
    kind = doc.kind
    fields: list[Field] = []
    if kind == "log-entry":
        text = doc.data.get("text")
        if isinstance(text, str):
            fields.append(_yaml_field(doc, ("text",), text, source))
        points = doc.data.get("points")
        for position, point in enumerate(points if isinstance(points, list) else ()):
            if isinstance(point, str):
                fields.append(_yaml_field(doc, ("points", position), point, source))
        return fields
    if doc.body is not None and (kind == "template" or every_body):
        fields.append(Field((), doc.body, _body_locator(doc.body, doc.body_line)))
    return fields


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def text_locator(text: str, first_line: int = 1) -> Locate:
    starts = _line_starts(text)

    def locate(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset) - 1
        return first_line + line, offset - starts[line] + 1

    return locate


def _body_locator(body: str, body_line: int) -> Locate:
    return text_locator(body, body_line)


def _yaml_field(doc: Document, path: Path, value: str, source: Source) -> Field:
    start = doc.positions.get(path)
    if start is None or source is None:
        line, col = start or (1, 1)
        return Field(path, value, lambda _offset: (line, col))
    state: dict[str, Any] = {}

    def prepare() -> None:
        # Read and align the file only when a hit needs placing.
        text = source() if callable(source) else source
        state["ready"] = True
        if text is None:
            return
        starts = _line_starts(text)
        if start[0] - 1 >= len(starts):
            return
        origin = starts[start[0] - 1] + start[1] - 1
        state["starts"] = starts
        state["origin"] = origin
        state["mapped"] = align(value, text, origin)

    def locate(offset: int) -> tuple[int, int]:
        if "ready" not in state:
            prepare()
        if "mapped" not in state:
            return start
        mapped, starts = state["mapped"], state["starts"]
        raw = mapped[offset] if offset < len(mapped) else (mapped[-1] if mapped else state["origin"])
        line = bisect.bisect_right(starts, raw) - 1
        return line + 1, raw - starts[line] + 1

    return Field(path, value, locate)


def align(value: str, source: str, origin: int, *, budget: int = 8) -> list[int]:
    """Map each character of a YAML string ``value`` to an offset in ``source``,
    starting at the scalar's first character ``origin``.

    The value's characters appear in the source in order; between them the source
    may hold quotes, escapes, indentation, line breaks and a block header. A value
    character is matched with the next equal source character (any whitespace for
    whitespace), skipping whitespace freely and at most ``budget`` other characters;
    a character the source spells differently (an escape such as ``\\u00e9``) keeps
    the previous position instead of running away.
    """
    out: list[int] = []
    pointer = origin
    size = len(source)
    for char in value:
        probe = pointer
        skipped = 0
        found = -1
        space = char in " \n"
        while probe < size:
            current = source[probe]
            if current == char or (space and current in " \n\r"):
                found = probe
                break
            if not current.isspace():
                skipped += 1
                if skipped > budget:
                    break
            probe += 1
        if found < 0:
            out.append(min(pointer, size - 1) if size else 0)
            continue
        out.append(found)
        pointer = found + 1
    return out
