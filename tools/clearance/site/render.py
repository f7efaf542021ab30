"""Jinja templates that produce Markdown for mkdocs-material.

Every value printed with ``{{ }}`` is escaped for Markdown and HTML unless it is
``Markup`` built by the renderer itself (links, document bodies, mermaid sources):
a title like ``<img onerror=...>`` or ``[x](javascript:...)`` prints as text.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from markupsafe import Markup

from clearance import durations

# Characters that mean something to Markdown, its extensions (attr_list braces,
# tables' pipes) or HTML; printed as numeric character references they are just text.
# '#', '-', '+', '=', ':' and '!' only matter at the start of a line, so only the first
# character gets the full treatment (escaping them everywhere would bloat pages).
_HEAD = str.maketrans({char: f"&#{ord(char)};" for char in "&<>\"'\\`*_{}[]|#~^$!:=+-"})
_LIST_NUMBER = re.compile(r"^([0-9]+)([.)])")
_INSIDE = str.maketrans({char: f"&#{ord(char)};" for char in "&<>\"'\\`*_{}[]|~^$"})


def text(value: object) -> Markup:
    """``value`` as inline Markdown text: one line, nothing interpreted."""
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    if type(value) is str:
        # Titles, statuses and role names print on many pages: escape each once.
        return _text_of_str(value)
    return _escape_text(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _text_of_str(value: str) -> Markup:
    return _escape_text(value)


def _escape_text(value: str) -> Markup:
    raw = " ".join(value.split())
    if not raw:
        return Markup("")
    escaped = raw[0].translate(_HEAD) + raw[1:].translate(_INSIDE)
    if raw[0].isdigit():  # "1. text" or "1) text" would start an ordered list
        escaped = _LIST_NUMBER.sub(lambda m: m.group(1) + f"&#{ord(m.group(2))};", escaped, count=1)
    return Markup(escaped)


def paragraphs(value: object) -> Markup:
    """A multi-paragraph text value: blank lines separate paragraphs, each escaped."""
    if value is None:
        return Markup("")
    parts = [text(part) for part in re.split(r"\n\s*\n", str(value)) if part.strip()]
    return Markup("\n\n".join(parts))


def quote(value: object) -> Markup:
    """A statement's text as a block quote: each line escaped, line breaks kept."""
    lines = [text(line) for line in str(value or "").strip().splitlines()]
    return Markup("\n".join(f"> {line}  " if line else ">" for line in lines))


def mermaid_label(value: object) -> Markup:
    """Text for a quoted mermaid label: letters, digits and plain punctuation stay,
    anything else becomes a mermaid entity code."""
    raw = " ".join(("" if value is None else str(value)).split())
    out = []
    for char in raw:
        if char.isalnum() or char in " .,;:/()-_+?'":
            out.append(char)
        else:
            out.append(f"#{ord(char)};")
    return Markup("".join(out))


def duration(value: object) -> str:
    parsed = durations.parse(value) if isinstance(value, str) else None
    return str(parsed) if parsed else ("" if value is None else str(value))


def when(value: object) -> str:
    """An RFC 3339 timestamp as 'YYYY-MM-DD HH:MM UTC±hh:mm'."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return "" if value is None else str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.strftime("%z")
    zone = "UTC" if offset in ("+0000", "-0000") else f"UTC{offset[:3]}:{offset[3:]}"
    return moment.strftime("%Y-%m-%d %H:%M ") + zone


def fence(value: object, lang: str = "text") -> Markup:
    """A fenced code block that no backtick run inside ``value`` can close early."""
    body = "" if value is None else str(value).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return Markup(f"{ticks}{lang}\n{body}\n{ticks}")


def join(items: Iterable[object], separator: str = ", ") -> Markup:
    return Markup(separator).join(text(item) for item in items)


def safe_url(value: object) -> str:
    """``value`` when it is an http(s) address, else '#'."""
    raw = str(value or "")
    if re.match(r"https?://[^\s<>\"'`]+\Z", raw):
        return html.escape(raw, quote=True)
    return "#"


def url_link(value: object) -> Markup:
    """An http(s) address as a link; anything else as plain text."""
    href = safe_url(value)
    if href == "#":
        return text(value)
    return Markup(f'<a href="{href}">{href}</a>')


def yes_no(value: object) -> str:
    return "yes" if value is True else "no" if value is False else "–"


def _finalize(value: Any) -> Markup:
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return text(value)


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("clearance.site", "templates"),
        # Autoescape makes macro output Markup; _finalize turns every other value into
        # Markdown-escaped Markup before the HTML escaper would see it.
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # The templates ship inside the package: no need to stat them on every page.
        auto_reload=False,
    )
    filters: dict[str, Callable[..., Any]] = {
        "text": text,
        "paragraphs": paragraphs,
        "mermaid": mermaid_label,
        "duration": duration,
        "when": when,
        "fence": fence,
        "quote": quote,
        "join_text": join,
        "yes_no": yes_no,
        "safe_url": lambda value: Markup(safe_url(value)),
        "url_link": url_link,
    }
    env.filters.update(filters)
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)
