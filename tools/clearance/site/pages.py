"""One page per published document, one index per section, and a dashboard.

:func:`build_site` decides once per build what the audience sees; :func:`plan` decides
which pages exist, their stable URLs and template contexts; :func:`markdown` renders
one through the Jinja templates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clearance.index import Index, Reference
from clearance.model import Document
from clearance.site import render, sanitize
from clearance.site.audience import Audience
from clearance.site.history import PageHistory
from clearance.site.links import RESTRICTED, Linker
from clearance.site.urls import (
    DASHBOARD,
    SECTION_OF_KIND,
    SECTIONS,
    Section,
    anchor,
    document_uri,
    index_uri,
    title_of,
)
from clearance.site.views import LIST_LIMIT, Helpers

__all__ = ["DASHBOARD", "SECTIONS", "PageSpec", "Section", "Site", "build_site", "index_uri"]


@dataclass
class PageSpec:
    src_uri: str
    title: str
    template: str
    context: dict[str, Any]
    section: str | None  # nav section the page belongs to (None: dashboard)
    source: Document | None = None
    in_nav: bool = True
    sort_key: str = ""


@dataclass
class Site:
    """Everything the renderers need, decided once per build."""

    index: Index
    audience: Audience
    history: PageHistory
    today: dt.date
    due_soon_days: int
    organisation: str
    nav_limit: int = 40
    index_page_size: int = 100
    published: list[Document] = field(default_factory=list)
    uri_of: dict[int, str] = field(default_factory=dict)
    by_path: dict[str, Document] = field(default_factory=dict)
    hidden_paths: set[str] = field(default_factory=set)
    hidden_uris: set[str] = field(default_factory=set)
    # Keys of the sections that get an index page and a place in the navigation: those
    # holding a document the audience sees, and Incidents while some are withheld (its
    # index says how many). The index pages of the others are never generated.
    sections: set[str] = field(default_factory=set)
    omitted_uris: set[str] = field(default_factory=set)
    hidden_incidents: int = 0
    fixed_today: bool = False
    # Hand-written pages: docs_dir relative to the repository root (None when it lies
    # outside), the pages withheld from this audience (root-relative), and the folders
    # of withheld incidents, which links may name.
    docs_prefix: str | None = "docs"
    hidden_folders: set[str] = field(default_factory=set)
    link_states: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    _hidden_ids: re.Pattern[str] | bool | None = False
    _references_to: dict[tuple[str, str], list[Reference]] | None = None
    _owned: dict[str, list[Document]] | None = None
    _roles_held: dict[str, list[tuple[Document, str]]] | None = None
    _visible: dict[str, list[Document]] = field(default_factory=dict)

    def references_to(self) -> dict[tuple[str, str], list[Reference]]:
        """Every reference by (target kind, target document id), built once."""
        if self._references_to is None:
            table: dict[tuple[str, str], list[Reference]] = defaultdict(list)
            for ref in self.index.references:
                table[(ref.kind, ref.key.split("#", 1)[0])].append(ref)
            self._references_to = dict(table)
        return self._references_to

    def owned(self) -> dict[str, list[Document]]:
        """Published documents by owning role, built once."""
        if self._owned is None:
            table: dict[str, list[Document]] = defaultdict(list)
            for doc in self.published:
                owner = doc.data.get("owner")
                if isinstance(owner, str) and doc.kind != "log-entry":
                    table[owner].append(doc)
            self._owned = dict(table)
        return self._owned

    def roles_held(self) -> dict[str, list[tuple[Document, str]]]:
        """(role, "member" | "deputy") by person id over the visible roles in title
        order, built once: asking every role for every person would be quadratic."""
        if self._roles_held is None:
            table: dict[str, list[tuple[Document, str]]] = defaultdict(list)
            for role in self.visible("role"):
                for key, relation in (("members", "member"), ("deputies", "deputy")):
                    people = role.data.get(key)
                    if isinstance(people, (list, tuple)):
                        for person in dict.fromkeys(p for p in people if isinstance(p, str)):
                            table[person].append((role, relation))
            self._roles_held = dict(table)
        return self._roles_held

    def page_path(self, src_uri: str) -> str:
        return f"{self.docs_prefix}/{src_uri}" if self.docs_prefix else src_uri

    def hidden_id_pattern(self) -> re.Pattern[str] | None:
        """Ids of withheld documents distinctive enough to spot in prose (eight
        characters or more, with a hyphen or a digit), as one pattern."""
        if self._hidden_ids is False:
            ids = set()
            for doc in self.index.documents:
                if doc.path in self.hidden_paths and doc.kind != "log-entry":
                    ident = doc.id
                    if isinstance(ident, str) and len(ident) >= 8 and re.search(r"[-0-9]", ident):
                        ids.add(ident)
            self._hidden_ids = (
                re.compile(
                    r"(?<![\w-])(?:"
                    + "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
                    + r")(?![\w-])"
                )
                if ids
                else None
            )
        return self._hidden_ids or None  # type: ignore[return-value]

    def visible(self, kind: str) -> list[Document]:
        """The documents of ``kind`` the audience sees, by title (computed once)."""
        docs = self._visible.get(kind)
        if docs is None:
            docs = [doc for doc in self.index.of_kind(kind) if self.audience.sees(doc)]
            docs.sort(key=lambda d: (title_of(d).casefold(), d.id or ""))
            self._visible[kind] = docs
        return docs


def build_site(
    index: Index,
    valid: set[str],
    audience_level: str,
    history: PageHistory,
    *,
    today: dt.date,
    due_soon_days: int = 30,
    organisation: str = "",
    nav_limit: int = 40,
    index_page_size: int = 100,
    fixed_today: bool = False,
) -> Site:
    published = [doc for doc in index.documents if doc.path in valid]
    audience = Audience(audience_level, index, published)
    site = Site(index, audience, history, today, due_soon_days, organisation, nav_limit, index_page_size)
    site.fixed_today = fixed_today
    for doc in index.documents:
        if audience.sees(doc):
            site.published.append(doc)
            site.by_path[doc.path] = doc
            uri = document_uri(doc)
            if uri is not None:
                site.uri_of[id(doc)] = uri
        else:
            site.hidden_paths.add(doc.path)
            if doc.kind == "incident":
                site.hidden_folders.add(doc.path.rsplit("/", 1)[0])
            uri = document_uri(doc)
            if uri is not None:
                site.hidden_uris.add(uri)
            if doc.kind == "incident":
                site.hidden_incidents += 1
    _decide_sections(site)
    return site


def _decide_sections(site: Site) -> None:
    # A review has no section of its own: it is visible only with its incident.
    held = {
        SECTION_OF_KIND[doc.kind or ""].key
        for doc in site.published
        if doc.kind in SECTION_OF_KIND and id(doc) in site.uri_of
    }
    if site.hidden_incidents:
        held.add("incidents")
    for section in reversed(SECTIONS):  # a parent comes first: its children decide before it
        if section.key in held:
            site.sections.add(section.key)
            if section.parent is not None:
                held.add(section.parent)
        else:
            site.omitted_uris.add(index_uri(section))


def withheld_incidents(count: int) -> str:
    """How many incidents this audience cannot see, and nothing else about them."""
    if count == 1:
        return "1 incident is classified above this audience."
    return f"{count} incidents are classified above this audience."


# ---------------------------------------------------------------------------- planning

_TEMPLATES = {
    "policy": "policy.md.j2",
    "protocol": "protocol.md.j2",
    "approval-chain": "chain.md.j2",
    "template": "template.md.j2",
    "role": "role.md.j2",
    "person": "person.md.j2",
    "data-class": "data-class.md.j2",
    "regulation": "regulation.md.j2",
    "channel": "channel.md.j2",
    "stakeholder": "stakeholder.md.j2",
    "incident": "incident.md.j2",
    "review": "review.md.j2",
}


def plan(site: Site) -> list[PageSpec]:
    pages: list[PageSpec] = []
    for doc in site.published:
        uri = site.uri_of.get(id(doc))
        kind = doc.kind or ""
        if uri is None or kind not in _TEMPLATES:
            continue
        section = SECTION_OF_KIND.get(kind)
        pages.append(
            PageSpec(
                uri,
                title_of(doc),
                _TEMPLATES[kind],
                {"doc": doc, "data": doc.data},
                section.key if section else "incidents",
                doc,
                in_nav=kind != "review",
                sort_key=title_of(doc).casefold(),
            )
        )
    counts: dict[str, int] = defaultdict(int)
    for page in pages:
        if page.in_nav and page.section:
            counts[page.section] += 1
    for page in pages:
        if page.section and counts[page.section] > site.nav_limit:
            page.in_nav = False
    pages.extend(_index_pages(site, pages))
    pages.append(PageSpec(DASHBOARD, "Dashboard", "dashboard.md.j2", {}, None, sort_key="dashboard"))
    return pages


def _index_pages(site: Site, pages: list[PageSpec]) -> Iterator[PageSpec]:
    members: dict[str, list[PageSpec]] = defaultdict(list)
    for page in pages:
        if page.section and page.source is not None and page.source.kind != "review":
            members[page.section].append(page)
    for section in SECTIONS:
        if section.key not in site.sections:
            continue
        entries = sorted(members.get(section.key, []), key=lambda p: (p.sort_key, p.src_uri))
        children = [s for s in SECTIONS if s.parent == section.key and s.key in site.sections]
        withheld = site.hidden_incidents if section.key == "incidents" else 0
        size = max(1, site.index_page_size)
        chunks = [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            yield PageSpec(
                index_uri(section, number),
                section.title if number == 1 else f"{section.title} (page {number})",
                "index.md.j2",
                {
                    "section": section,
                    "entries": [page.source for page in chunk],
                    "children": children,
                    "number": number,
                    "pages": len(chunks),
                    "total": len(entries),
                    "withheld": withheld_incidents(withheld) if withheld and number == 1 else "",
                },
                section.key,
                in_nav=number == 1,
                sort_key="",
            )


# --------------------------------------------------------------------------- rendering


def markdown(site: Site, page: PageSpec) -> str:
    linker = Linker(site, page.src_uri)
    helpers = Helpers(site, linker)
    context: dict[str, Any] = dict(page.context)
    context.update(
        site=site,
        page=page,
        link=linker,
        ref=linker.ref,
        refs=linker.refs,
        to=linker.to,
        doc_link=linker.doc,
        RESTRICTED=RESTRICTED,
        LIST_LIMIT=LIST_LIMIT,
        helpers=helpers,
        history=site.history.for_page(page.source, site.audience) if page.source is not None else None,
        section_uri=index_uri,
        anchor=anchor,
        timeline=helpers.timeline_diagram,
    )
    front: dict[str, Any] = {"title": sanitize.title(page.title)}
    data = page.source.data if page.source is not None else {}
    if isinstance(data.get("description"), str):
        front["description"] = sanitize.title(data["description"])
    tags = data.get("tags")
    if isinstance(tags, list) and tags:
        # For mkdocs-material's tags plugin, if enabled: hidden documents have no page,
        # so their tags never reach a tag index.
        front["tags"] = [sanitize.title(str(tag)) for tag in tags]
    header = "---\n" + "".join(f"{key}: {json.dumps(value)}\n" for key, value in front.items()) + "---\n\n"
    return header + render.render(page.template, context)
