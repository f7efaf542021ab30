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
    "locale_for",
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


def locale_for(doc: Document, index: Index | None, default: str | None = None) -> str | None:
    """The locale a document's statements are written for: its incident's
    ``locale`` (for a log entry or an incident), else ``default`` (the
    configuration's ``organisation.locale``)."""
    incident: Document | None = doc if doc.kind == "incident" else None
    if doc.kind == "log-entry" and index is not None:
        incident_id = incident_of(doc)
        incident = index.get("incident", incident_id) if incident_id else None
    locale = incident.data.get("locale") if incident is not None else None
    return locale if isinstance(locale, str) and locale else default


def scan_document(
    doc: Document,
    index: Index | None,
    source: Source,
    *,
    every_body: bool = True,
    locale: str | None = None,
) -> DocumentScan:
    """Scan the statement text of ``doc``; ``source`` is the file's text (or a
    function that reads it), used to place hits inside YAML values. ``locale`` is
    the default region for phone numbers when the document's incident names none."""
    scanner = scanner_for(index)
    fields = statement_fields(doc, source, every_body=every_body)
    region = locale_for(doc, index, locale)
    placed: list[Hit] = []
    for item in fields:
        for hit in scanner.scan(item.text, placeholders=True, region=region):
            line, col = item.locate(hit.start)
            placed.append(hit.moved(line, col))
    allowances = allowances_for(doc, index)
    counted, allowed = scanner.split(placed, allowances)
    return DocumentScan(doc, fields, counted, allowed, allowances)
