"""The repository index: every document by kind and id, and every reference between
documents, found generically from the schemas' ``x-clearance-ref`` annotations.

The index is built from a small :class:`Summary` per document (kind, id, clause or
obligation ids, event time), so it can stand over a warm cache without every
document in memory: documents are fetched by path when a rule asks for them.
:class:`Reads` is the view one unit's rules get; it records what they looked up, so
the engine can tell later whether their findings still hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from clearance import schemas
from clearance.model import Document, Finding, Location, Path, Severity

# Targets that are parts of documents rather than documents: "policy-id#clause-id"
# and "regulation-id#obligation-id".
_PARTS = {"clause": ("policy", "clauses"), "obligation": ("regulation", "obligations")}
_SCOPED = ("log-entry", "review", "incident")

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# What a rule looked up: ("doc", kind, key), ("kind", kind), ("ids", kind),
# ("part", kind, key), ("entries", incident) or ("history",) (git history).
Token = tuple[str, ...]
T = TypeVar("T")


def parse_time(value: Any) -> dt.datetime | None:
    """An aware datetime from an RFC 3339 string; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class Reference:
    source: Document
    path: Path
    kind: str
    value: str  # as written
    key: str  # the identity looked up (scoped for log entries)

    @property
    def location(self) -> Location:
        return self.source.where(self.path)


def incident_of_path(path: str) -> str | None:
    """The incident folder a file lives in (incidents/<id>/...), if any."""
    parts = path.split("/")
    for position, part in enumerate(parts[:-2]):
        if part == "incidents":
            return parts[position + 1]
    return None


def incident_of(doc: Document) -> str | None:
    return incident_of_path(doc.path)


def unit_of(path: str) -> str:
    """The unit whose rules report on a file: its incident, or the file itself."""
    incident = incident_of_path(path)
    return f"incident:{incident}" if incident is not None else path


def identity(doc: Document) -> str | None:
    """The id other documents use for ``doc``: its ``id``, or for a log entry
    ``<incident>/<file stem>``."""
    if doc.kind == "log-entry":
        incident = incident_of(doc)
        stem = doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return f"{incident}/{stem}" if incident else stem
    return doc.id


# What the index needs to know about one document without holding it: a plain tuple
# (kind, key, unit, parts, at), so that a warm cache of a hundred thousand loads
# at C speed. ``parts`` are (part kind, part key, position) for clauses and
# obligations; ``at`` is a log entry's event time as written.
Summary = tuple[str, str, str, tuple[tuple[str, str, int], ...], str | None]
KIND: Final = 0
KEY: Final = 1
UNIT: Final = 2
PARTS: Final = 3
AT: Final = 4


def summarize(doc: Document) -> Summary | None:
    kind, key = doc.kind, identity(doc)
    if kind is None or key is None:
        return None
    parts: list[tuple[str, str, int]] = []
    for part_kind, (owner_kind, field) in _PARTS.items():
        if kind != owner_kind:
            continue
        items = doc.data.get(field)
        for position, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                parts.append((part_kind, f"{key}#{item['id']}", position))
    at = doc.data.get("at") if kind == "log-entry" else None
    when = at if isinstance(at, str) else None
    return (kind, key, unit_of(doc.path), tuple(parts), when)


def references_of(doc: Document) -> Iterator[Reference]:
    """Every reference ``doc`` makes, found from its kind's schema annotations."""
    kind = doc.kind
    if kind not in schemas.KINDS:
        return
    scope = incident_of(doc) if kind in _SCOPED else None
    for pattern, target in schemas.reference_paths(kind):
        for path, value in schemas.iter_pattern(doc.data, pattern):
            if not isinstance(value, str):
                continue
            key = f"{scope}/{value}" if target == "log-entry" and scope else value
            yield Reference(doc, path, target, value, key)


class Index:
    """Built once per run, from documents or from their summaries and a way to fetch
    a document by path; read by every rule."""

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        summaries: Iterable[tuple[str, Summary]] | None = None,
        fetch: Callable[[str], Document] | None = None,
    ) -> None:
        self._docs: dict[str, Document] = {}
        self._fetch = fetch
        self._summaries: dict[str, Summary] = {}
        self._order: list[str] = []
        self._kinds: dict[str, dict[str, str]] = {}
        self._parts: dict[str, dict[str, tuple[str, Path]]] = {kind: {} for kind in _PARTS}
        self._entries: dict[str, list[str]] = {}
        self._sorted: set[str] = set()
        self._duplicates: list[tuple[str, str, str]] = []  # (path, kind, first path)
        self.units: dict[str, list[str]] = {}  # unit -> paths, in discovery order
        self._memo: dict[Any, Any] = {}
        if summaries is None:
            for doc in documents:
                summary = summarize(doc)
                if summary is not None:
                    self._docs[doc.path] = doc
                    self._add(doc.path, summary)
        else:
            for path, summary in summaries:
                self._add(path, summary)

    def _add(self, path: str, summary: Summary) -> None:
        kind, key, unit, parts, _ = summary
        self._summaries[path] = summary
        self._order.append(path)
        members = self.units.get(unit)
        if members is None:
            self.units[unit] = [path]
        else:
            members.append(path)
        table = self._kinds.get(kind)
        if table is None:
            table = self._kinds[kind] = {}
        elif key in table:
            self._duplicates.append((path, kind, table[key]))
            return
        table[key] = path
        if kind == "log-entry" and "/" in key:
            scope = key.rpartition("/")[0]
            entries = self._entries.get(scope)
            if entries is None:
                self._entries[scope] = [path]
            else:
                entries.append(path)
        for part_kind, part_key, position in parts:
            self._parts[part_kind].setdefault(part_key, (path, (_PARTS[part_kind][1], position)))

    # -- documents -----------------------------------------------------------------

    def doc(self, path: str) -> Document:
        found = self._docs.get(path)
        if found is None:
            if self._fetch is None:
                raise KeyError(path)
            found = self._docs[path] = self._fetch(path)
        return found

    def summary(self, path: str) -> Summary | None:
        return self._summaries.get(path)

    @property
    def documents(self) -> list[Document]:
        return [self.doc(path) for path in self._order]

    @property
    def by_kind(self) -> dict[str, dict[str, Document]]:
        return {kind: {key: self.doc(p) for key, p in table.items()} for kind, table in self._kinds.items()}

    @property
    def parts(self) -> dict[str, dict[str, tuple[Document, Path]]]:
        return {
            kind: {key: (self.doc(p), where) for key, (p, where) in table.items()}
            for kind, table in self._parts.items()
        }

    @property
    def references(self) -> list[Reference]:
        if "references" not in self._memo:
            self._memo["references"] = [ref for doc in self.documents for ref in references_of(doc)]
        found: list[Reference] = self._memo["references"]
        return found

    @property
    def findings(self) -> list[Finding]:
        """Duplicate ids (IDX001)."""
        out = []
        for path, kind, first_path in self._duplicates:
            doc, first = self.doc(path), self.doc(first_path)
            out.append(
                Finding(
                    "IDX001",
                    Severity.ERROR,
                    f"duplicate {kind} id {self._summaries[path][KEY]!r}, also used in {first.path}",
                    doc.where(("id",)),
                    "ids must be unique within a kind; rename one of them",
                    (first.where(("id",)),),
                )
            )
        return out

    def canonical(self, doc: Document) -> bool:
        """Whether ``doc`` is the one its kind and id resolve to (not a duplicate)."""
        summary = self._summaries.get(doc.path)
        return summary is not None and self._kinds[summary[KIND]].get(summary[KEY]) == doc.path

    # -- lookups rules use -----------------------------------------------------------

    def get(self, kind: str, key: str) -> Document | None:
        path = self._kinds.get(kind, {}).get(key)
        return self.doc(path) if path is not None else None

    def of_kind(self, kind: str) -> list[Document]:
        return [self.doc(p) for p in self._kinds.get(kind, {}).values()]

    def ids(self, kind: str) -> list[str]:
        if kind in _PARTS:
            return list(self._parts[kind])
        return list(self._kinds.get(kind, {}))

    def resolve(self, ref: Reference) -> Document | None:
        if ref.kind in _PARTS:
            hit = self._parts[ref.kind].get(ref.key)
            return self.doc(hit[0]) if hit else None
        return self.get(ref.kind, ref.key)

    def part(self, kind: str, key: str) -> tuple[Document, Path] | None:
        hit = self._parts.get(kind, {}).get(key)
        return (self.doc(hit[0]), hit[1]) if hit else None

    def incident_entries(self, incident: str) -> list[Document]:
        """Log entries of one incident, oldest first (event time, then file name)."""
        paths = self._entries.get(incident, [])
        if incident not in self._sorted:
            summaries = self._summaries
            paths.sort(key=lambda p: (parse_time(summaries[p][AT]) or _EPOCH, p))
            self._sorted.add(incident)
        return [self.doc(p) for p in paths]

    def value(self, doc: Document, *path: Any) -> Any:
        node: Any = doc.data
        for part in path:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def depends(self, token: Token) -> None:
        """Note that the caller's result depends on ``token`` (recorded by :class:`Reads`)."""

    def derived(self, name: str, build: Callable[[Index], T], *_old: Any) -> T:
        """``build(view)``, computed once per index: a table several units share. The
        build reads through a recording view, so what the table depends on is known
        without anyone declaring it; a unit that uses the table depends on the same.
        (A third argument, from the time rules declared those tokens, is ignored.)"""
        if _old:  # derived(name, tokens, build): the tokens are not needed any more
            build = _old[0]
        if name not in self._memo:
            view = Reads(self)
            value = build(view)
            self._memo[name] = (value, frozenset(view.tokens), view.expires)
        result: T = self._memo[name][0]
        return result

    def derived_reads(self, name: str) -> tuple[frozenset[Token], dt.datetime | None]:
        """What the derived table ``name`` read, and until when it holds."""
        _, tokens, expires = self._memo[name]
        return tokens, expires


def tokens_of(summary: Summary) -> set[Token]:
    """Every lookup whose answer may differ when a document with ``summary`` is added,
    removed or changed."""
    kind, key, _, parts, _ = summary
    found: set[Token] = {("doc", kind, key), ("kind", kind), ("ids", kind)}
    for part_kind, part_key, _ in parts:
        found.add(("part", part_kind, part_key))
        found.add(("ids", part_kind))
    if kind == "log-entry":
        found.add(("entries", key.rpartition("/")[0]))
    return found


class Reads(Index):
    """The index as one unit's rules see it. Every lookup is recorded, and so is how
    long the findings hold when a rule compares against the clock; bulk views
    (``documents``, ``references``, ``by_kind``) are refused, since a rule reading
    everything would make every change invalidate it."""

    def __init__(self, base: Index) -> None:  # deliberately no super().__init__: all reads go to base
        self.base = base
        self.tokens: set[Token] = set()
        self.expires: dt.datetime | None = None

    def _refuse(self) -> Any:
        raise RuntimeError("a rule must read the index through get/of_kind/ids/resolve/part/incident_entries")

    documents = property(_refuse)
    by_kind = property(_refuse)
    parts = property(_refuse)
    references = property(_refuse)
    findings = property(_refuse)

    def doc(self, path: str) -> Document:
        return self.base.doc(path)

    def summary(self, path: str) -> Summary | None:
        return self.base.summary(path)

    def canonical(self, doc: Document) -> bool:
        summary = self.base.summary(doc.path)
        # A log entry's id is scoped to its incident folder, which is the unit itself;
        # any other id may be taken by a file elsewhere.
        if summary is not None and summary[KIND] != "log-entry":
            self.tokens.add(("doc", summary[KIND], summary[KEY]))
        return self.base.canonical(doc)

    def get(self, kind: str, key: str) -> Document | None:
        self.tokens.add(("doc", kind, key))
        return self.base.get(kind, key)

    def of_kind(self, kind: str) -> list[Document]:
        self.tokens.add(("kind", kind))
        return self.base.of_kind(kind)

    def ids(self, kind: str) -> list[str]:
        self.tokens.add(("ids", kind))
        return self.base.ids(kind)

    def resolve(self, ref: Reference) -> Document | None:
        self.tokens.add(("part", ref.kind, ref.key) if ref.kind in _PARTS else ("doc", ref.kind, ref.key))
        return self.base.resolve(ref)

    def part(self, kind: str, key: str) -> tuple[Document, Path] | None:
        self.tokens.add(("part", kind, key))
        return self.base.part(kind, key)

    def incident_entries(self, incident: str) -> list[Document]:
        self.tokens.add(("entries", incident))
        return self.base.incident_entries(incident)

    def depends(self, token: Token) -> None:
        self.tokens.add(token)

    def derived(self, name: str, build: Callable[[Index], T], *_old: Any) -> T:
        value = self.base.derived(name, build, *_old)
        tokens, expires = self.base.derived_reads(name)
        self.tokens |= tokens
        if expires is not None:
            self.until(expires)
        return value

    def until(self, when: dt.datetime) -> None:
        """The findings hold only while the clock is before ``when``."""
        if self.expires is None or when < self.expires:
            self.expires = when
