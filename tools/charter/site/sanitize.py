"""The HTML of every generated page is cleaned with an allowlist (nh3/ammonia): what
Markdown, the enabled extensions and mkdocs-material produce stays; script, style,
event-handler attributes, ``javascript:`` and other unknown URL schemes go."""

from __future__ import annotations

import html

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
    "td": {"align", "colspan", "rowspan", "style"},
    "th": {"align", "colspan", "rowspan", "scope", "style"},
    "col": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
    "div": {"data-tabs"},
    "time": {"datetime"},
    # pymdownx.tabbed renders tabs as radio inputs with labels.
    "input": {"type", "name", "checked", "disabled"},
    "label": {"for"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "input" and attribute == "type" and value not in ("radio", "checkbox"):
        return None
    if attribute == "style" and value not in (
        "text-align: left;",
        "text-align: center;",
        "text-align: right;",
    ):
        return None
    return value


def clean(fragment: str) -> str:
    """``fragment`` with everything outside the allowlist removed."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=_URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def title(text: str) -> str:
    """A title safe to hand to theme templates, which print titles without escaping."""
    return html.escape(text.replace("<", "‹").replace(">", "›"), quote=True)
