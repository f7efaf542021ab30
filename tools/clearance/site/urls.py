"""Stable addresses: the sections of the handbook, where each document's page lives
(``policies/<id>/``, ``registers/roles/<id>/`` ...), and heading anchors."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clearance.index import identity, incident_of
from clearance.model import Document


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
    Section("stakeholders", "Stakeholders", ("stakeholder",), "registers/stakeholders", "registers"),
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


def title_of(doc: Document) -> str:
    title = doc.data.get("title")
    if isinstance(title, str) and title:
        return title
    return identity(doc) or doc.path
