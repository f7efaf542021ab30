"""The navigation: hand-written pages first, then one section per kind of document.

mkdocs-material renders the navigation into every page, so its size multiplies with
the page count. A section holding more documents than ``nav_limit`` therefore lists
only its index pages (paginated); its documents stay reachable from the index, from
links and from search, and every page's navigation stays the same small size.

A section whose index page is not planned (the audience sees nothing in it) has no
place in the navigation, and an entry of the user's own nav pointing at a page that
is not generated for this audience is dropped: its title could name the document."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from clearance.site.pages import DASHBOARD, SECTIONS, PageSpec, Section, index_uri

NavItem = str | dict[str, Any]


def _section_items(section: Section, pages: list[PageSpec], planned: set[str]) -> list[NavItem]:
    members = sorted(
        (p for p in pages if p.section == section.key and p.in_nav and p.source is not None),
        key=lambda p: (p.sort_key, p.src_uri),
    )
    items: list[NavItem] = [index_uri(section)]
    items.extend(p.src_uri for p in members)
    for child in SECTIONS:
        if child.parent == section.key and index_uri(child) in planned:
            items.append({child.title: _section_items(child, pages, planned)})
    return items


def generated(pages: list[PageSpec]) -> list[NavItem]:
    planned = {p.src_uri for p in pages}
    out: list[NavItem] = []
    for section in SECTIONS:
        if section.parent is None and index_uri(section) in planned:
            items = _section_items(section, pages, planned)
            # A section with nothing in it but its index (the incidents of a public
            # site: only how many are withheld) is a link, not an empty-looking group.
            out.append({section.title: items[0] if items == [index_uri(section)] else items})
    if DASHBOARD in planned:
        out.append({"Dashboard": DASHBOARD})
    return out


def handwritten(uris: Iterable[str]) -> list[NavItem]:
    """The docs_dir pages as MkDocs would list them: index first, one level of folders."""
    top: list[str] = []
    folders: dict[str, list[str]] = {}
    for uri in sorted(uris, key=lambda u: (posixpath.basename(u) not in ("index.md", "README.md"), u)):
        folder = uri.split("/", 1)[0] if "/" in uri else ""
        if folder:
            folders.setdefault(folder, []).append(uri)
        else:
            top.append(uri)
    top.sort(key=lambda u: (u != "index.md", u))
    out: list[NavItem] = list(top)
    for folder, items in sorted(folders.items()):
        items.sort(key=lambda u: (posixpath.basename(u) != "index.md", u))
        out.append({folder.replace("-", " ").replace("_", " ").capitalize(): items})
    return out


def _mentions(nav: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(nav, str):
        found.add(nav)
    elif isinstance(nav, dict):
        for value in nav.values():
            found |= _mentions(value)
    elif isinstance(nav, list):
        for value in nav:
            found |= _mentions(value)
    return found


def _without(nav: list[Any], withheld: set[str]) -> list[Any]:
    """``nav`` less the entries that point at a page in ``withheld``, and less the
    sections left empty by that."""
    out: list[Any] = []
    for item in nav:
        if isinstance(item, str):
            if _page_of(item) not in withheld:
                out.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            title, value = next(iter(item.items()))
            if isinstance(value, str):
                if _page_of(value) not in withheld:
                    out.append(item)
            elif isinstance(value, list):
                kept = _without(value, withheld)
                if kept or not value:
                    out.append({title: kept})
            else:
                out.append(item)
        else:
            out.append(item)
    return out


def _page_of(target: str) -> str:
    """A nav target as a docs-relative source path (``policies/x/`` -> ``policies/x/index.md``)."""
    if "://" in target or target.startswith("#"):
        return target
    path = posixpath.normpath(target.split("#", 1)[0].lstrip("/"))
    return path if path.endswith(".md") else posixpath.join(path, "index.md")


def combine(
    user_nav: list[Any] | None,
    written: Iterable[str],
    pages: list[PageSpec],
    withheld: Iterable[str] = (),
) -> list[Any]:
    """The user's own nav (or the hand-written pages) followed by the generated
    sections the user's nav does not already place. User entries pointing at a page in
    ``withheld`` (a hidden document's, an omitted section's index) are dropped."""
    base: list[Any] = (
        _without(list(user_nav), set(withheld)) if user_nav is not None else handwritten(written)
    )
    placed = _mentions(base)
    for item in generated(pages):
        if not (_mentions(item) & placed):
            base.append(item)
    return base
