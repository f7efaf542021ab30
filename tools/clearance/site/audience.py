"""Who may read what. A reader's audience is one of the classification levels; a
document is visible when its effective classification is at or below it.

A log entry carries no classification of its own: it has its incident's. A review is
at least as classified as its incident. A document whose classification cannot be
read is treated as the most restricted, so a mistake hides rather than leaks.
"""

from __future__ import annotations

from collections.abc import Iterable

from clearance.index import Index, incident_of
from clearance.model import Document

LEVELS = ("public", "internal", "confidential", "restricted")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_TOP = len(LEVELS) - 1
# The legal audience: the restricted one plus privileged log entries, which no other
# audience holds (clearance.incidents.privilege). A handbook build may choose it.
LEGAL = "legal"
AUDIENCES = (*LEVELS, LEGAL)
_PRIVILEGED = _TOP + 1


def rank(level: object) -> int:
    return _RANK.get(level, _TOP) if isinstance(level, str) else _TOP


class Audience:
    """The documents one audience may see, decided once per build."""

    def __init__(self, level: str, index: Index, published: Iterable[Document]) -> None:
        if level not in _RANK and level != LEGAL:
            raise ValueError(f"unknown audience {level!r}; expected one of {', '.join(AUDIENCES)}")
        self.level = level
        self.index = index
        self._rank = _PRIVILEGED if level == LEGAL else _RANK[level]
        self._visible: set[int] = set()
        self.visible_paths: set[str] = set()
        for doc in published:
            if self.effective_rank(doc) <= self._rank:
                self._visible.add(id(doc))
                self.visible_paths.add(doc.path)

    def effective_rank(self, doc: Document) -> int:
        own = doc.data.get("classification")
        level = rank(own) if own is not None or doc.kind != "log-entry" else 0
        if doc.kind in ("log-entry", "review"):
            incident_id = incident_of(doc)
            incident = self.index.get("incident", incident_id) if incident_id else None
            # An entry outside a known incident has nothing to inherit from: hide it.
            level = max(level, rank(incident.data.get("classification")) if incident else _TOP)
            if doc.kind == "log-entry" and "privileged" in doc.data:
                level = _PRIVILEGED  # privilege: only the legal audience holds it
        return level

    @property
    def limit(self) -> int:
        """The highest rank this audience reads (above restricted for the legal one)."""
        return self._rank

    def sees(self, doc: Document | None) -> bool:
        return doc is not None and id(doc) in self._visible
