"""Response templates: placeholders declared and used, bodies that fit their channels."""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.model import Document, Finding, Location, Severity

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def body_location(doc: Document, offset: int) -> Location:
    body = doc.body or ""
    line = doc.body_line + body.count("\n", 0, offset)
    col = offset - (body.rfind("\n", 0, offset) + 1) + 1
    return Location(doc.path, line, col)


def statement_text(doc: Document) -> str:
    """A template's statement: its Markdown body without surrounding blank lines."""
    return (doc.body or "").strip()


def longest_length(text: str, limits: dict[str, int]) -> int:
    """Length of ``text`` once every placeholder holds its longest allowed value."""
    total = len(text)
    for match in PLACEHOLDER.finditer(text):
        total += limits.get(match.group(1), len(match.group(0))) - len(match.group(0))
    return total


@register(
    ("TPL001", Severity.ERROR, "placeholder used in the body is not declared"),
    ("TPL002", Severity.WARNING, "declared placeholder is never used"),
    ("TPL003", Severity.ERROR, "body can exceed a channel's length limit"),
    ("TPL004", Severity.ERROR, "placeholder declared twice"),
    ("TPL005", Severity.ERROR, "template has an empty body"),
)
def templates(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects("template"):
        declared: dict[str, int] = {}
        limits: dict[str, int] = {}
        for position, item in enumerate(doc.data.get("placeholders") or ()):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name = item["name"]
            if name in declared:
                yield ctx.finding(
                    "TPL004",
                    doc.where(("placeholders", position, "name")),
                    f"placeholder {name!r} is declared twice",
                )
                continue
            declared[name] = position
            if isinstance(item.get("max_length"), int):
                limits[name] = item["max_length"]
        body = doc.body or ""
        text = statement_text(doc)
        if not text:
            yield ctx.finding(
                "TPL005",
                doc,
                f"template {doc.id!r} has no body",
                "write the statement below the front matter",
            )
            continue
        used: set[str] = set()
        for match in PLACEHOLDER.finditer(body):
            name = match.group(1)
            used.add(name)
            if name not in declared:
                yield ctx.finding(
                    "TPL001",
                    body_location(doc, match.start()),
                    f"placeholder {name!r} is not declared",
                    "declare it under placeholders: with a type and max_length",
                )
        for name, position in declared.items():
            if name not in used:
                yield ctx.finding(
                    "TPL002",
                    doc.where(("placeholders", position, "name")),
                    f"placeholder {name!r} is declared but the body never uses it",
                    "use it as {{ " + name + " }} or remove the declaration",
                )
        longest = longest_length(text, limits)
        for position, channel_id in enumerate(doc.data.get("channels") or ()):
            channel = ctx.get("channel", channel_id)
            limit = channel.data.get("max_length") if channel else None
            if isinstance(limit, int) and longest > limit:
                yield ctx.finding(
                    "TPL003",
                    doc.where(("channels", position)),
                    f"body can reach {longest} characters with placeholders at their maximum; "
                    f"{channel_id} allows {limit}",
                    "shorten the text or lower the placeholders' max_length",
                )
