"""One page per published document, one index per section, and a dashboard.

:func:`plan` decides which pages exist (only documents the audience may see), their
stable URLs and their template contexts; :func:`markdown` renders one. Every mention of
another document goes through :class:`Linker`, which prints a link when the reader may
see the target and the plain word "restricted" (no title, no id) when not.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from markupsafe import Markup

from charter import durations
from charter.index import Index, Reference, identity, incident_of, parse_time
from charter.model import Document
from charter.site import render, sanitize
from charter.site.audience import Audience
from charter.site.history import PageHistory

RESTRICTED = Markup("*restricted*")
# Lists that could grow with the whole repository (what a role owns, what refers to a
# channel, the dashboard) show this many entries and a count of the rest, so no page
# grows with the total number of pages.
LIST_LIMIT = 50


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    kinds: tuple[str, ...]
    base: str  # URL folder of the section's documents
    parent: str | None = None


SECTIONS = (
    Section("protocols", "Protocols", ("protocol",), "protocols"),
    Section("chains", "Approval chains", ("approval-chain",), "chains", "protocols"),
    Section("templates", "Response templates", ("template",), "templates", "protocols"),
    Section("policies", "Policies", ("policy",), "policies"),
    Section("registers", "Registers", (), "registers"),
    Section("roles", "Roles", ("role",), "registers/roles", "registers"),
    Section("people", "People", ("person",), "registers/people", "registers"),
    Section("data-classes", "Data classes", ("data-class",), "registers/data-classes", "registers"),
    Section("regulations", "Regulations", ("regulation",), "registers/regulations", "registers"),
    Section("channels", "Channels", ("channel",), "registers/channels", "registers"),
    Section("incidents", "Incidents", ("incident",), "incidents"),
)
SECTION_OF_KIND = {kind: section for section in SECTIONS for kind in section.kinds}
DASHBOARD = "dashboard/index.md"
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def document_uri(doc: Document) -> str | None:
    """The generated page of a document (``policies/<id>/index.md`` and so on)."""
    kind, ident = doc.kind, doc.id
    if kind == "review":
        incident = incident_of(doc)
        return f"incidents/{incident}/review/index.md" if incident else None
    section = SECTION_OF_KIND.get(kind or "")
    if section is None or ident is None:
        return None
    return f"{section.base}/{ident}/index.md"


def index_uri(section: Section, number: int = 1) -> str:
    # Page numbers use an underscore, which no document id may contain.
    return f"{section.base}/index.md" if number == 1 else f"{section.base}/page_{number}/index.md"


def anchor(prefix: str, local: str) -> str:
    return f"{prefix}-{_ANCHOR_UNSAFE.sub('-', local)}"


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


def relative(target: str, here: str) -> str:
    """``target`` relative to the folder of ``here`` (both docs-relative POSIX paths);
    posixpath.relpath would consult the working directory on every call."""
    origin = here.split("/")[:-1]
    parts = target.split("/")
    common = 0
    while common < len(origin) and common < len(parts) - 1 and origin[common] == parts[common]:
        common += 1
    return "/".join([".."] * (len(origin) - common) + parts[common:])


class Linker:
    """Links from one page to others, relative to that page's source file so MkDocs
    checks them and writes the right URL whatever ``use_directory_urls`` says."""

    def __init__(self, site: Site, here: str) -> None:
        self.site = site
        self.here = here

    def href(self, target: str, fragment: str = "") -> str:
        rel = relative(target, self.here)
        return rel + (f"#{fragment}" if fragment else "")

    def to(self, target: str, label: object, fragment: str = "") -> Markup:
        return Markup(f"[{render.text(label)}]({self.href(target, fragment)})")

    def doc(self, doc: Document | None, label: object = None) -> Markup:
        if doc is None or not self.site.audience.sees(doc):
            return RESTRICTED
        target = self.site.uri_of.get(id(doc))
        if target is None:  # a log entry: it lives on its incident's page
            return RESTRICTED
        return self.to(target, label if label is not None else title_of(doc))

    def ref(self, kind: str, key: object, label: object = None) -> Markup:
        """A link to the document ``key`` of ``kind``, or "restricted"."""
        if not isinstance(key, str):
            return RESTRICTED
        index = self.site.index
        if kind in ("clause", "obligation"):
            hit = index.part(kind, key)
            if hit is None or not self.site.audience.sees(hit[0]):
                return RESTRICTED
            owner, _ = hit
            local = key.split("#", 1)[1]
            target = self.site.uri_of.get(id(owner))
            if target is None:
                return RESTRICTED
            prefix = "clause" if kind == "clause" else "obligation"
            shown = label if label is not None else f"{title_of(owner)} § {local}"
            return self.to(target, shown, anchor(prefix, local))
        if kind == "log-entry":
            entry = index.get("log-entry", key)
            if entry is None or not self.site.audience.sees(entry):
                return RESTRICTED
            incident = index.get("incident", incident_of(entry) or "")
            target = self.site.uri_of.get(id(incident)) if incident else None
            if target is None:
                return RESTRICTED
            stem = PurePosixPath(entry.path).stem
            return self.to(target, label if label is not None else stem, anchor("entry", stem))
        return self.doc(index.get(kind, key), label)

    def refs(self, kind: str, keys: object) -> Markup:
        if not isinstance(keys, list) or not keys:
            return Markup("–")
        return Markup(", ").join(self.ref(kind, key) for key in keys)

    def body(self, doc: Document) -> Markup:
        # A snippet or include marker in a document body is shown, never expanded.
        text = _SNIPPET.sub(lambda m: m.group(0).replace("<", "&lt;"), doc.body or "")
        return Markup(rewrite_links(text, doc, self))


def title_of(doc: Document) -> str:
    title = doc.data.get("title")
    if isinstance(title, str) and title:
        return title
    return identity(doc) or doc.path


# Markdown links and images: [text](target "title") and reference definitions.
_INLINE_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_REF_DEFINITION = re.compile(r"^( {0,3})\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_SNIPPET = re.compile(r"-{1,}8<-{1,}")
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|#)")


def rewrite_links(body: str, doc: Document, linker: Linker) -> str:
    """Point relative links in a document's body at the generated pages. A link to a
    document the reader may not see becomes "restricted" (its text may hold the
    title); a link to any other repository file keeps only its text, because files in
    the content folders are never copied to the site."""
    folder = posixpath.dirname(doc.path)

    def target_of(raw: str) -> tuple[Document | None, str, bool]:
        path, _, fragment = raw.partition("#")
        resolved = posixpath.normpath(posixpath.join(folder, path)) if path else doc.path
        found = linker.site.by_path.get(resolved)
        return found, fragment, resolved in linker.site.by_path or resolved in linker.site.hidden_paths

    def inline(match: re.Match[str]) -> str:
        bang, label, raw = match.group(1), match.group(2), match.group(3)
        if _EXTERNAL.match(raw):
            return match.group(0)
        found, fragment, is_doc = target_of(raw)
        if is_doc and (found is None or not linker.site.audience.sees(found)):
            return str(RESTRICTED)
        if found is not None:
            target = linker.site.uri_of.get(id(found))
            if target is None:
                return str(RESTRICTED)
            return f"{bang}[{label}]({linker.href(target, fragment)})"
        return label if not bang else ""

    def definition(match: re.Match[str]) -> str:
        indent, name, raw = match.groups()
        if _EXTERNAL.match(raw):
            return match.group(0)
        found, fragment, _ = target_of(raw)
        if found is not None and linker.site.audience.sees(found):
            target = linker.site.uri_of.get(id(found))
            if target is not None:
                return f"{indent}[{name}]: {linker.href(target, fragment)}"
        return f"{indent}[{name}]: #"

    return _REF_DEFINITION.sub(definition, _INLINE_LINK.sub(inline, body))


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
    fixed_today: bool = False
    _references_to: dict[tuple[str, str], list[Reference]] | None = None
    _owned: dict[str, list[Document]] | None = None
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
            uri = document_uri(doc)
            if uri is not None:
                site.hidden_uris.add(uri)
    return site


def hide_links(markdown: str, here: str, site: Site) -> str:
    """In a hand-written page, a link to the page of a document the audience may not
    see becomes "restricted" (its text may name the document)."""
    if not site.hidden_uris:
        return markdown
    folder = posixpath.dirname(here)

    def inline(match: re.Match[str]) -> str:
        raw = match.group(3)
        if _EXTERNAL.match(raw):
            return match.group(0)
        path = raw.split("#", 1)[0]
        target = posixpath.normpath(posixpath.join(folder, path)) if path else here
        if not target.endswith(".md"):
            target = posixpath.join(target, "index.md")
        return str(RESTRICTED) if target in site.hidden_uris else match.group(0)

    return _INLINE_LINK.sub(inline, markdown)


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
        entries = sorted(members.get(section.key, []), key=lambda p: (p.sort_key, p.src_uri))
        children = [s for s in SECTIONS if s.parent == section.key]
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
                },
                section.key,
                in_nav=number == 1,
                sort_key="",
            )


# --------------------------------------------------------------------------- rendering


def markdown(site: Site, page: PageSpec) -> str:
    linker = Linker(site, page.src_uri)
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
        helpers=Helpers(site, linker),
        history=site.history.for_page(page.source, site.audience) if page.source is not None else None,
        section_uri=index_uri,
        anchor=anchor,
        timeline=lambda doc: timeline(site, doc),
    )
    front = {"title": sanitize.title(page.title)}
    description = page.source.data.get("description") if page.source is not None else None
    if isinstance(description, str):
        front["description"] = sanitize.title(description)
    header = "---\n" + "".join(f"{key}: {json.dumps(value)}\n" for key, value in front.items()) + "---\n\n"
    return header + render.render(page.template, context)


class Helpers:
    """Derived views the templates use: reverse references, review status, clocks."""

    def __init__(self, site: Site, linker: Linker) -> None:
        self.site = site
        self.link = linker

    def cited_by(self, kind: str, key: str) -> list[tuple[Document, str]]:
        """Visible documents referring to document ``key`` of ``kind`` (for 'clause'
        and 'obligation', to any part of document ``key``)."""
        seen: list[tuple[Document, str]] = []
        marks: set[tuple[int, str]] = set()
        for ref in self.site.references_to().get((kind, key), ()):
            source = ref.source
            if not self.site.audience.sees(source) or source.kind == "log-entry":
                continue
            if ref.path == ("owner",) or source.id == key:
                continue  # ownership is listed on the role's page; self-citations are noise
            mark = (id(source), ref.key)
            if mark not in marks:
                marks.add(mark)
                seen.append((source, ref.key))
        seen.sort(key=lambda item: (title_of(item[0]).casefold(), item[1]))
        return seen

    def review_due(self, doc: Document) -> tuple[dt.date | None, str]:
        """(next review date, 'overdue' | 'due soon' | 'ok' | '')."""
        review = doc.data.get("review")
        if not isinstance(review, dict):
            return None, ""
        every = durations.parse(review.get("every", ""))
        try:
            last = dt.date.fromisoformat(str(review.get("last")))
        except ValueError:
            return None, ""
        if every is None:
            return None, ""
        due = every.after(last)
        due_date = due.date() if isinstance(due, dt.datetime) else due
        if due_date < self.site.today:
            return due_date, "overdue"
        if (due_date - self.site.today).days <= self.site.due_soon_days:
            return due_date, "due soon"
        return due_date, "ok"

    def kind_of(self, doc: Document) -> str:
        return (doc.kind or "").replace("-", " ")

    def entries(self, incident: Document) -> list[Document]:
        return [e for e in self.site.index.incident_entries(incident.id or "") if self.site.audience.sees(e)]

    def entry_anchor(self, entry: Document) -> str:
        return anchor("entry", PurePosixPath(entry.path).stem)

    def entry_summary(self, entry: Document) -> Markup:
        data = entry.data
        kind = data.get("type")
        link = self.link
        if kind in ("observation", "decision", "correction"):
            return render.text(data.get("text"))
        if kind == "draft":
            return Markup("draft for {}").format(link.ref("channel", data.get("channel")))
        if kind in ("approval", "rejection", "override"):
            what = {"approval": "approved", "rejection": "rejected", "override": "override of"}[kind]
            return Markup("{} {} as {}").format(
                what,
                link.ref("log-entry", self._scoped(entry, data.get("draft"))),
                link.ref("role", data.get("role")),
            )
        if kind == "publication":
            return Markup("published {} on {}").format(
                link.ref("log-entry", self._scoped(entry, data.get("draft"))),
                link.ref("channel", data.get("channel")),
            )
        if kind == "assessment":
            verdict = "applies" if data.get("applies") else "does not apply"
            return Markup("{} {}").format(link.ref("obligation", data.get("obligation")), verdict)
        if kind == "notification":
            return Markup("notified {} ({})").format(
                render.text(data.get("recipient")), link.ref("obligation", data.get("obligation"))
            )
        if kind == "talking-points":
            return Markup("talking points updated ({} lines)").format(len(data.get("points") or ()))
        if kind == "role-change":
            return Markup("{} {} as {}").format(
                render.text(data.get("action")),
                link.ref("person", data.get("person")),
                link.ref("role", data.get("role")),
            )
        if kind == "status-change":
            return Markup("status {} → {}").format(
                render.text(data.get("from") or "?"), render.text(data.get("to"))
            )
        if kind == "override-review":
            return Markup("override reviewed: {}").format(render.text(data.get("rationale")))
        return render.text(data.get("text") or kind)

    def _scoped(self, entry: Document, stem: object) -> str | None:
        incident = incident_of(entry)
        return f"{incident}/{stem}" if isinstance(stem, str) and incident else None

    def statements(self, incident: Document) -> list[dict[str, Any]]:
        """Each draft with its approvals, rejections and publications."""
        entries = self.entries(incident)
        drafts: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if entry.data.get("type") == "draft":
                drafts[PurePosixPath(entry.path).stem] = {"draft": entry, "decisions": [], "publications": []}
        for entry in entries:
            kind = entry.data.get("type")
            target = drafts.get(str(entry.data.get("draft")))
            if target is None:
                continue
            if kind in ("approval", "rejection", "override"):
                target["decisions"].append(entry)
            elif kind == "publication":
                target["publications"].append(entry)
        return list(drafts.values())

    def assessments(self, incident: Document) -> list[Document]:
        return [e for e in self.entries(incident) if e.data.get("type") in ("assessment", "notification")]

    def now(self) -> dt.datetime:
        """The build's 'now': charter.yaml's ``today`` (at 00:00 UTC) keeps builds
        reproducible; otherwise the wall clock."""
        if self.site.fixed_today:
            return dt.datetime.combine(self.site.today, dt.time(), dt.UTC)
        return dt.datetime.now(dt.UTC)

    def _deadlines(self, incident: Document) -> list[Any]:
        from charter.incidents import clocks

        obligations: dict[str, Any] = {}
        for key, (owner, path) in self.site.index.parts.get("obligation", {}).items():
            if self.site.audience.sees(owner):
                obligations[key] = self.site.index.value(owner, *path)
        return clocks.deadlines(obligations, self.entries(incident))

    def deadlines(self, incident: Document) -> list[dict[str, Any]]:
        """Regulatory deadlines computed by the incidents package's clocks."""
        now = self.now()
        rows = []
        for deadline in self._deadlines(incident):
            rows.append(
                {
                    "obligation": deadline.obligation,
                    "rule": deadline.rule.describe(),
                    "start": deadline.start,
                    "due": deadline.due,
                    "state": deadline.state(now),
                    "notified": deadline.notified,
                }
            )
        return rows

    def metrics(self, incident: Document | None) -> list[tuple[str, Markup]]:
        """Response metrics computed from the log (never typed into the review)."""
        if incident is None or not self.site.audience.sees(incident):
            return []
        from charter.incidents import clocks
        from charter.incidents import metrics as metrics_mod

        entries = self.entries(incident)
        now = self.now()
        values = metrics_mod.compute(self.site.index, incident, entries, self._deadlines(incident), now)

        def span(key: str) -> Markup:
            seconds = values.get(key)
            return render.text(clocks.humanise(seconds) if isinstance(seconds, (int, float)) else "–")

        out = [
            ("Time to detect", span("time_to_detect_seconds")),
            ("Time to declare", span("time_to_declare_seconds")),
            ("Time to first public statement", span("time_to_first_public_statement_seconds")),
            ("Public statements", render.text(values.get("public_statements", 0))),
            (
                "Updates on time / missed",
                render.text(f"{values.get('updates_kept', 0)} / {values.get('updates_missed', 0)}"),
            ),
            (
                "Regulatory deadlines met / missed / open",
                render.text(
                    " / ".join(str(values.get(f"deadlines_{key}", 0)) for key in ("met", "missed", "open"))
                ),
            ),
            ("Corrections", render.text(values.get("corrections", 0))),
            ("Log entries", render.text(values.get("entries", 0))),
        ]
        for role, summary in sorted((values.get("approval_latency_per_role") or {}).items()):
            if isinstance(summary, dict) and isinstance(summary.get("median_seconds"), (int, float)):
                label = Markup("Approval time, {} (median)").format(self.link.ref("role", role))
                out.append((label, render.text(clocks.humanise(summary["median_seconds"]))))
        return out

    def incident_of_review(self, review: Document) -> Document | None:
        return self.site.index.get("incident", str(review.data.get("incident")))

    def review_of(self, incident: Document) -> Document | None:
        for doc in self.site.index.of_kind("review"):
            if doc.data.get("incident") == incident.id and self.site.audience.sees(doc):
                return doc
        return None

    def owned_by(self, role: Document) -> list[Document]:
        out = [doc for doc in self.site.owned().get(role.id or "", ()) if doc is not role]
        out.sort(key=lambda d: (d.kind or "", title_of(d).casefold()))
        return out

    def roles_of(self, person: Document) -> list[tuple[Document, str]]:
        out = []
        for role in self.site.visible("role"):
            if person.id in (role.data.get("members") or ()):
                out.append((role, "member"))
            if person.id in (role.data.get("deputies") or ()):
                out.append((role, "deputy"))
        return out

    def overdue_reviews(self) -> list[tuple[Document, dt.date, str]]:
        out = []
        for doc in self.site.published:
            due, state = self.review_due(doc)
            if due is not None and state in ("overdue", "due soon"):
                out.append((doc, due, state))
        out.sort(key=lambda item: (item[1], title_of(item[0]).casefold()))
        return out

    def open_actions(self) -> list[tuple[Document, dict[str, Any]]]:
        out = []
        for review in self.site.visible("review"):
            for item in review.data.get("action_items") or ():
                if isinstance(item, dict) and item.get("status") == "open":
                    out.append((review, item))
        out.sort(key=lambda pair: (str(pair[1].get("due")), title_of(pair[0])))
        return out

    def overdue(self, date_text: object) -> bool:
        try:
            return dt.date.fromisoformat(str(date_text)) < self.site.today
        except ValueError:
            return False

    def open_incidents(self) -> list[Document]:
        return [doc for doc in self.site.visible("incident") if doc.data.get("status") != "closed"]

    def chain_steps(self, chain_id: object) -> list[dict[str, Any]] | None:
        chain = self.site.index.get("approval-chain", chain_id) if isinstance(chain_id, str) else None
        if chain is None or not self.site.audience.sees(chain):
            return None
        return [step for step in chain.data.get("steps") or () if isinstance(step, dict)]

    def mermaid_chain(self, chain_id: object) -> Markup | None:
        steps = self.chain_steps(chain_id)
        if steps is None:
            return None
        return mermaid_for_steps(self.site, self.link, steps)

    def channel_limits(self, template: Document) -> list[tuple[Document | None, str, int | None]]:
        out = []
        for key in template.data.get("channels") or ():
            channel = self.site.index.get("channel", key) if isinstance(key, str) else None
            limit = (
                channel.data.get("max_length")
                if channel is not None and self.site.audience.sees(channel)
                else None
            )
            out.append((channel, str(key), limit if isinstance(limit, int) else None))
        return out

    def deadline_text(self, deadline: object) -> str:
        if not isinstance(deadline, dict):
            return ""
        unit = deadline.get("unit")
        if unit == "asap":
            text = "without undue delay"
            if deadline.get("cap"):
                text += f" (at most {render.duration(deadline.get('cap'))})"
            return text
        amount = deadline.get("amount")
        text = f"{amount} {str(unit).replace('-', ' ')}"
        calendar = deadline.get("calendar")
        if isinstance(calendar, dict):
            place = calendar.get("country", "")
            if calendar.get("subdivision"):
                place += f"-{calendar['subdivision']}"
            text += f", {place} holidays"
        if deadline.get("start") == "next-business-day":
            text += ", counted from the next business day"
        roll = deadline.get("roll")
        if roll and roll != "none":
            text += f", rolls to the {str(roll).replace('-', ' ')}"
        return text


def mermaid_for_steps(site: Site, linker: Linker, steps: list[dict[str, Any]]) -> Markup:
    """An approval chain as a left-to-right flowchart; a conditional step is drawn
    with a dashed edge and its condition."""
    lines = ["flowchart LR", '  draft(["Draft"])']
    previous = "draft"
    for position, step in enumerate(steps, start=1):
        role_id = step.get("role")
        role_doc = site.index.get("role", role_id) if isinstance(role_id, str) else None
        role = title_of(role_doc) if role_doc is not None and site.audience.sees(role_doc) else "restricted"
        label = f"{role}"
        quorum = step.get("quorum")
        if isinstance(quorum, int) and quorum > 1:
            label += f" x{quorum}"
        if step.get("sla"):
            label += f" within {render.duration(step.get('sla'))}"
        node = f"s{position}"
        lines.append(f'  {node}["{render.mermaid_label(label)}"]')
        when = step.get("when")
        if isinstance(when, dict) and when:
            parts = []
            if when.get("severity_at_least"):
                parts.append(f"{when['severity_at_least']} or worse")
            classes = when.get("data_classes") or []
            if classes:
                names = []
                for key in classes:
                    dc = site.index.get("data-class", key) if isinstance(key, str) else None
                    names.append(title_of(dc) if dc is not None and site.audience.sees(dc) else "restricted")
                parts.append("touches " + ", ".join(names))
            lines.append(f'  {previous} -. "{render.mermaid_label(" / ".join(parts))}" .-> {node}')
        else:
            lines.append(f"  {previous} --> {node}")
        previous = node
    lines.append('  publish(["Publish"])')
    lines.append(f"  {previous} --> publish")
    return render.fence("\n".join(lines), "mermaid")


_MILESTONES = ("started", "detected", "declared", "mitigated", "resolved", "closed")


def timeline(site: Site, incident: Document) -> Markup:
    """The incident's milestones, status changes and publications as a flowchart."""
    events: list[tuple[dt.datetime, str]] = []
    stamps = incident.data.get("timestamps") or {}
    for name in _MILESTONES:
        moment = parse_time(stamps.get(name))
        if moment is not None:
            events.append((moment, name))
    for entry in site.index.incident_entries(incident.id or ""):
        if not site.audience.sees(entry):
            continue
        kind = entry.data.get("type")
        moment = parse_time(entry.data.get("at"))
        if moment is None:
            continue
        if kind == "status-change":
            events.append((moment, f"status: {entry.data.get('to')}"))
        elif kind == "publication":
            channel = site.index.get("channel", str(entry.data.get("channel")))
            where = title_of(channel) if channel is not None and site.audience.sees(channel) else "restricted"
            events.append((moment, f"published on {where}"))
        elif kind == "notification":
            events.append((moment, "regulator notified"))
    if not events:
        return Markup("")
    events.sort(key=lambda item: item[0])
    lines = ["flowchart TB"]
    for position, (moment, label) in enumerate(events):
        lines.append(f'  e{position}["{render.mermaid_label(render.when(moment) + " " + label)}"]')
        if position:
            lines.append(f"  e{position - 1} --> e{position}")
    return render.fence("\n".join(lines), "mermaid")
