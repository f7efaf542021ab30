"""Links to withheld pages, in every form a person writes them.

Hand-written pages are Markdown written by people: a link to a document above the
audience may be inline (``[x](policies/id/index.md)``), reference-style
(``[x][id]`` with ``[id]: ../policies/id/``), raw HTML (``<a href="...">``), relative
to the page's source or to its URL, to the page's folder, to its ``.html`` file, to
the document's source file outside ``docs/``, with or without an anchor. Each form is
resolved the same way (:func:`target_state`) and each link to a withheld target
becomes the word "restricted" (its text may name the document); a list item built
around such a link is dropped whole, so a page lists only what its reader can open.
The id of a withheld document left in the prose is replaced too, with a warning.

:func:`govern_html` then checks the converted HTML of every page, generated or
hand-written, with the same resolution: whatever form slipped through, no
``href`` or ``src`` to a withheld page reaches the site.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from clearance.site.history import MARKDOWN
from clearance.site.links import _EXTERNAL, _INLINE_LINK, RESTRICTED

if TYPE_CHECKING:
    from clearance.site.pages import Site

log = logging.getLogger("mkdocs.plugins.clearance")

HIDDEN, OMITTED = "hidden", "omitted"
_MARK = "\x00clearance-restricted\x00"
_KEEP, _KEEP_END = "\x00clearance-omitted\x00", "\x00clearance-omitted-end\x00"
_REF_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+.*)?$\n?", re.MULTILINE)
_REF_USE = re.compile(r"(!?)\[((?:[^\[\]\n]|\[[^\]\n]*\])*)\](?:\[([^\]\n]*)\])?(?!\(|:)")
_ANCHOR_ELEMENT = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*\b(?:href|src|srcset|action|data|poster|cite|formaction)\s*=[^>]*)>",
    re.IGNORECASE,
)
_URL_ATTR = re.compile(
    r"""\b(?:href|src|srcset|action|data|poster|cite|formaction)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I
)
_LIST_ITEM = re.compile(r"^( *)(?:[-*+]|\d{1,9}[.)])(?: +|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def target_state(raw: str, here: str, url: str | None, site: Site) -> str | None:
    """HIDDEN when ``raw`` (as written in the page at source ``here``, served at
    ``url``) leads to a withheld page or document, OMITTED for the index of a
    section left out for this audience, else None."""
    served = (url or "").lstrip("/")
    url_dir = served.rstrip("/") if served.endswith("/") else posixpath.dirname(served)
    return _state(raw.strip(), posixpath.dirname(here), url_dir, site)


def _state(raw: str, src_dir: str, url_dir: str, site: Site) -> str | None:
    cache = site.link_states
    found = cache.get((raw, src_dir, url_dir), "")
    if found != "":
        return found
    state = _resolve(raw, src_dir, url_dir, site)
    cache[(raw, src_dir, url_dir)] = state
    return state


def _resolve(raw: str, src_dir: str, url_dir: str, site: Site) -> str | None:
    if not raw or raw.startswith("#") or _EXTERNAL.match(raw):
        return None
    path = unquote(raw.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return None
    bases = [""] if path.startswith("/") else list(dict.fromkeys((src_dir, url_dir)))
    worst: str | None = None
    for base in bases:
        joined = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
        for candidate in _forms(joined):
            if candidate in site.hidden_uris:
                return HIDDEN
            if candidate in site.omitted_uris:
                worst = OMITTED
        if joined.startswith("..") and site.docs_prefix is not None:
            source = posixpath.normpath(posixpath.join(site.docs_prefix, joined))
            if source in site.hidden_paths or source.rstrip("/") in site.hidden_folders:
                return HIDDEN
    return worst


def _forms(joined: str) -> list[str]:
    """The source URIs a normalised link target may mean."""
    if joined in (".", ""):
        return ["index.md"]
    forms = [joined, f"{joined}/index.md", f"{joined}/README.md"]
    forms.extend(f"{joined}{suffix}" for suffix in MARKDOWN)
    forms.extend(f"{joined}/index{suffix}" for suffix in MARKDOWN[1:])
    if joined.endswith(".html"):
        stem = joined[:-5]
        forms.extend(f"{stem}{suffix}" for suffix in MARKDOWN)
        if stem.endswith("/index") or stem == "index":
            forms.append(f"{stem}.md")
            forms.append(f"{posixpath.dirname(stem)}/README.md".lstrip("/"))
    if joined.endswith("/index"):
        forms.append(f"{joined}.md")
    return forms


def govern_markdown(markdown: str, here: str, url: str | None, site: Site) -> str:
    """A hand-written page's Markdown with every link to a withheld target made
    "restricted" (and its list item dropped), and withheld ids in prose replaced."""

    def state(raw: str) -> str | None:
        return target_state(raw, here, url, site)

    # reference definitions first: their names decide the reference-style uses
    withheld: dict[str, str] = {}

    def definition(match: re.Match[str]) -> str:
        found = state(match.group(2))
        if found is None:
            return match.group(0)
        withheld[" ".join(match.group(1).split()).casefold()] = found
        return ""

    text = _REF_DEF.sub(definition, markdown)

    def inline(match: re.Match[str]) -> str:
        found = state(match.group(3))
        if found == HIDDEN:
            return _MARK
        if found == OMITTED:
            return _MARK if match.group(1) else f"{_KEEP}{match.group(2)}{_KEEP_END}"
        return match.group(0)

    text = _INLINE_LINK.sub(inline, text)
    if withheld:

        def use(match: re.Match[str]) -> str:
            label = match.group(2)
            name = match.group(3) if match.group(3) else label
            found = withheld.get(" ".join(name.split()).casefold())
            if found is None:
                return match.group(0)
            return _MARK if found == HIDDEN or match.group(1) else f"{_KEEP}{label}{_KEEP_END}"

        text = _REF_USE.sub(use, text)
    text = _govern_raw_html(text, state)
    text = _mention_ids(text, here, site)
    return _drop_items(text)


def _govern_raw_html(text: str, judge: Callable[[str], str | None]) -> str:
    def attrs_hidden(attrs: str) -> bool:
        for match in _URL_ATTR.finditer(attrs):
            value = match.group(1).strip("\"'")
            for part in value.split(","):
                if judge(part.strip().split(" ", 1)[0]) is not None:
                    return True
        return False

    def anchor(match: re.Match[str]) -> str:
        return _MARK if attrs_hidden(match.group(1)) else match.group(0)

    def tag(match: re.Match[str]) -> str:
        return "" if attrs_hidden(match.group(2)) else match.group(0)

    if "<" not in text:
        return text
    return _TAG.sub(tag, _ANCHOR_ELEMENT.sub(anchor, text))


def _mention_ids(text: str, here: str, site: Site) -> str:
    pattern = site.hidden_id_pattern()
    if pattern is None:
        return text

    def replace(match: re.Match[str]) -> str:
        line = text.count("\n", 0, match.start()) + 1
        log.warning(
            "clearance: %s:%d: names %r, a document this audience may not see; it is shown as "
            "'restricted'. Link to it instead, or classify the page at the document's level.",
            site.page_path(here),
            line,
            match.group(0),
        )
        return str(RESTRICTED)

    return pattern.sub(replace, text)


def _drop_items(text: str) -> str:
    """Drop each list item that holds a withheld link, or a link to a section left
    out; elsewhere the first reads "restricted" and the second keeps its words."""
    if _MARK not in text and _KEEP not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    item: list[str] = []
    indent = -1
    fence: str | None = None

    def flush() -> None:
        if item and not any(_MARK in line or _KEEP in line for line in item):
            out.extend(item)
        item.clear()

    for line in lines:
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            (item if item else out).append(line)
            continue
        if opened:
            fence = opened.group(1)
        marker = _LIST_ITEM.match(line)
        if marker and (not item or len(marker.group(1)) <= indent):
            flush()
            item.append(line)
            indent = len(marker.group(1))
            continue
        if item and (
            line.strip() == "" or (line.startswith(" ") and len(line) - len(line.lstrip()) > indent)
        ):
            if line.strip() == "":
                flush()
                out.append(line)
            else:
                item.append(line)
            continue
        flush()
        out.append(line)
    flush()
    joined = "\n".join(out).replace(_MARK, str(RESTRICTED))
    return joined.replace(_KEEP, "").replace(_KEEP_END, "")


_ELEMENT_WITH_URL = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)


def govern_html(html: str, here: str, url: str | None, site: Site, source: str | None = None) -> str:
    """The page's HTML with every element pointing at a withheld target removed (an
    ``<a>`` keeps the word "restricted", nothing of its text). ``source`` is the
    repository path of a generated page's document: raw HTML in its body may point at
    a file relative to it (``<a href="plan.md">``)."""
    if "<" not in html:
        return html
    folder = posixpath.dirname(source) if source else None

    def state(raw: str) -> str | None:
        found = target_state(raw, here, url, site)
        if found is None and folder is not None and raw and not _EXTERNAL.match(raw):
            path = unquote(raw.split("#", 1)[0].split("?", 1)[0])
            if path and not path.startswith("/"):
                beside = posixpath.normpath(posixpath.join(folder, path))
                if beside in site.hidden_paths or beside.rstrip("/") in site.hidden_folders:
                    return HIDDEN
        return found if found == HIDDEN else None

    def anchor(match: re.Match[str]) -> str:
        for attr in _URL_ATTR.finditer(match.group(1)):
            if state(attr.group(1).strip("\"'")) is not None:
                return "<em>restricted</em>"
        return match.group(0)

    def tag(match: re.Match[str]) -> str:
        for attr in _URL_ATTR.finditer(match.group(2)):
            value = attr.group(1).strip("\"'")
            if any(state(part.strip().split(" ", 1)[0]) for part in value.split(",")):
                return ""
        return match.group(0)

    return _TAG.sub(tag, _ELEMENT_WITH_URL.sub(anchor, html))
