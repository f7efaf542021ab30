"""Disclosure scanning: find sensitive data in statements before they are published.

The entry points other workflows call:

- :func:`scan_text` — every hit in a text, located and classified;
- :func:`classes_in` — the data classes a text touches (what the approval rule uses);
- :func:`scan_document` — the statement text of a template or log entry, with hits
  placed in the file and allowances applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearance.index import Index, incident_of
from clearance.model import Document
from clearance.scan.fields import Field, Source, statement_fields
from clearance.scan.scanner import (
    UNCLASSIFIED,
    Allowance,
    Hit,
    Requirement,
    Scanner,
    allowances_of,
    mask,
    scanner_for,
)

__all__ = [
    "UNCLASSIFIED",
    "Allowance",
    "DocumentScan",
    "Hit",
    "Requirement",
    "Scanner",
    "allowances_for",
    "classes_in",
    "mask",
    "scan_document",
    "scan_text",
    "scanner_for",
]


def scan_text(text: str, index: Index | None = None, *, placeholders: bool = True) -> list[Hit]:
    """Every hit in ``text`` (line/col relative to ``text``), with the data classes
    of ``index``. Allowances are not applied."""
    return scanner_for(index).scan(text, placeholders=placeholders)


def classes_in(text: str, index: Index | None = None, allowances: Sequence[Allowance] = ()) -> set[str]:
    """The data classes ``text`` touches once allowances are applied."""
    return scanner_for(index).classes_in(text, allowances)


def allowances_for(doc: Document, index: Index | None) -> list[Allowance]:
    """A document's own allowances, plus its incident's for a log entry. (Allowances
    declared on data classes are applied by the scanner itself.)"""
    found = allowances_of(doc)
    if doc.kind == "log-entry" and index is not None:
        incident_id = incident_of(doc)
        incident = index.get("incident", incident_id) if incident_id else None
        if incident is not None:
            found.extend(allowances_of(incident))
    return found


@dataclass(frozen=True)
class DocumentScan:
    document: Document
    fields: list[Field]
    hits: list[Hit]  # counted, placed in the file
    allowed: list[tuple[Hit, Allowance]]
    allowances: list[Allowance]


def scan_document(
    doc: Document, index: Index | None, source: Source, *, every_body: bool = True
) -> DocumentScan:
    """Scan the statement text of ``doc``; ``source`` is the file's text (or a
    function that reads it), used to place hits inside YAML values."""
    scanner = scanner_for(index)
    fields = statement_fields(doc, source, every_body=every_body)
    placed: list[Hit] = []
    for item in fields:
        for hit in scanner.scan(item.text, placeholders=True):
            line, col = item.locate(hit.start)
            placed.append(hit.moved(line, col))
    allowances = allowances_for(doc, index)
    counted, allowed = scanner.split(placed, allowances)
    return DocumentScan(doc, fields, counted, allowed, allowances)
