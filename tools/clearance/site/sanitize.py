"""The HTML of every generated page is cleaned with an allowlist (nh3/ammonia): what
Markdown, the enabled extensions and mkdocs-material produce stays; script, style,
event-handler attributes, ``javascript:`` and other unknown URL schemes go."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import nh3

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
}
_COMMON = {"class", "id", "title", "lang", "dir"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON,
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "col": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
    "div": {"data-tabs"},
    "time": {"datetime"},
    # pymdownx.tabbed renders tabs as radio inputs with labels.
    "input": {"name", "checked", "disabled"},
    "label": {"for"},
}
# Attributes allowed with these exact values only (the tables extension's alignment;
# tabs and task lists). ammonia checks them itself, without calling back into Python
# for every attribute of every page.
_ALIGN = {"text-align: left;", "text-align: center;", "text-align: right;"}
_ATTRIBUTE_VALUES: dict[str, dict[str, set[str]]] = {
    "td": {"style": _ALIGN},
    "th": {"style": _ALIGN},
    "input": {"type": {"radio", "checkbox"}},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}


@functools.cache
def _cleaner() -> Callable[[str], str]:
    """One sanitiser for the build: the allowlists are handed to ammonia once, not
    converted again for every page (nh3.Cleaner; older nh3 releases lack it)."""
    options: dict[str, Any] = {
        "tags": _TAGS,
        "attributes": _ATTRIBUTES,
        "tag_attribute_values": _ATTRIBUTE_VALUES,
        "url_schemes": _URL_SCHEMES,
        "link_rel": None,
        "strip_comments": True,
    }
    if hasattr(nh3, "Cleaner"):
        cleaner: Callable[[str], str] = nh3.Cleaner(**options).clean
        return cleaner
    return functools.partial(nh3.clean, **options)


def clean(fragment: str) -> str:
    """``fragment`` with everything outside the allowlist removed."""
    return _cleaner()(fragment)


def title(text: str) -> str:
    """A title safe to hand to theme templates, which print titles without escaping."""
    return html.escape(text.replace("<", "‹").replace(">", "›"), quote=True)
