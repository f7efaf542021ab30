"""The repository index: every document by kind and id, and every reference between
documents, found generically from the schemas' ``x-charter-ref`` annotations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from charter import schemas
from charter.model import Document, Finding, Location, Path, Severity

# Targets that are parts of documents rather than documents: "policy-id#clause-id"
# and "regulation-id#obligation-id".
_PARTS = {"clause": ("policy", "clauses"), "obligation": ("regulation", "obligations")}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


def incident_of(doc: Document) -> str | None:
    """The incident folder a document lives in (incidents/<id>/...), if any."""
    parts = doc.path.split("/")
    for position, part in enumerate(parts[:-2]):
        if part == "incidents":
            return parts[position + 1]
    return None


def identity(doc: Document) -> str | None:
    """The id other documents use for ``doc``: its ``id``, or for a log entry
    ``<incident>/<file stem>``."""
    if doc.kind == "log-entry":
        incident = incident_of(doc)
        stem = doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return f"{incident}/{stem}" if incident else stem
    return doc.id


class Index:
    """Built once per run from the documents that loaded; read by every rule."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents: list[Document] = []
        self.by_kind: dict[str, dict[str, Document]] = {}
        self.parts: dict[str, dict[str, tuple[Document, Path]]] = {kind: {} for kind in _PARTS}
        self.findings: list[Finding] = []
        self._entries: dict[str, list[Document]] = {}
        for doc in documents:
            self._add(doc)
        for entries in self._entries.values():
            entries.sort(key=lambda d: (parse_time(d.data.get("at")) or _EPOCH, d.path))
        self.references: list[Reference] = list(self._references())

    def _add(self, doc: Document) -> None:
        kind, key = doc.kind, identity(doc)
        if kind is None or key is None:
            return
        self.documents.append(doc)
        table = self.by_kind.setdefault(kind, {})
        first = table.get(key)
        if first is not None:
            self.findings.append(
                Finding(
                    "IDX001",
                    Severity.ERROR,
                    f"duplicate {kind} id {key!r}, also used in {first.path}",
                    doc.where(("id",)),
                    "ids must be unique within a kind; rename one of them",
                    (first.where(("id",)),),
                )
            )
            return
        table[key] = doc
        if kind == "log-entry" and "/" in key:
            self._entries.setdefault(key.rsplit("/", 1)[0], []).append(doc)
        for part_kind, (owner_kind, field) in _PARTS.items():
            if kind != owner_kind:
                continue
            items = doc.data.get(field)
            for position, item in enumerate(items if isinstance(items, list) else ()):
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.parts[part_kind].setdefault(f"{key}#{item['id']}", (doc, (field, position)))

    def _references(self) -> Iterator[Reference]:
        for doc in self.documents:
            kind = doc.kind
            if kind not in schemas.KINDS:
                continue
            scope = incident_of(doc) if kind in ("log-entry", "review", "incident") else None
            for pattern, target in schemas.reference_paths(kind):
                for path, value in schemas.iter_pattern(doc.data, pattern):
                    if not isinstance(value, str):
                        continue
                    key = f"{scope}/{value}" if target == "log-entry" and scope else value
                    yield Reference(doc, path, target, value, key)

    def get(self, kind: str, key: str) -> Document | None:
        return self.by_kind.get(kind, {}).get(key)

    def of_kind(self, kind: str) -> list[Document]:
        return list(self.by_kind.get(kind, {}).values())

    def ids(self, kind: str) -> list[str]:
        if kind in _PARTS:
            return list(self.parts[kind])
        return list(self.by_kind.get(kind, {}))

    def resolve(self, ref: Reference) -> Document | None:
        if ref.kind in _PARTS:
            hit = self.parts[ref.kind].get(ref.key)
            return hit[0] if hit else None
        return self.get(ref.kind, ref.key)

    def part(self, kind: str, key: str) -> tuple[Document, Path] | None:
        return self.parts.get(kind, {}).get(key)

    def incident_entries(self, incident: str) -> list[Document]:
        """Log entries of one incident, oldest first (event time, then file name)."""
        return list(self._entries.get(incident, ()))

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
