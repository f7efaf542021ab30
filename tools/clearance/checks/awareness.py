"""Clocks start from the earliest evidence: an assessment whose clock starts later than
an observation that already met the regulation's awareness definition
(regulatory-notification#2) needs a rationale naming that observation.

What meets the awareness definition is declared in data, as the scanner's claims: a
claim with ``awareness: true`` on a data class (``clearance.scan.claims``). An
observation or decision whose text makes such a claim is awareness of a breach of that
class, for the class's regulations whose clocks start at awareness or discovery.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.checks import Context, register
from clearance.incidents import state
from clearance.index import parse_time
from clearance.model import Document, Finding, Severity
from clearance.scan.claims import Claim, claims_of, find_claims
from clearance.scan.normalise import normalise


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


# An obligation whose clock starts at awareness, discovery or reason to believe (not at a
# later determination, filing or payment).
_AWARENESS_CLOCK = re.compile(
    r"\b(?:aware|awareness|discover(?:y|ed|s)?|notic(?:e|ing)"
    r"|reason to believe|grounds to (?:believe|suspect))\b",
    re.IGNORECASE,
)
_EVIDENCE_TYPES = ("observation", "decision", "correction")


@dataclass(frozen=True)
class Evidence:
    entry: Document
    at: dt.datetime
    claim: Claim
    quote: str


def awareness_claims(docs: Sequence[Document]) -> dict[str, tuple[list[Claim], tuple[str, ...]]]:
    """Per data class: its awareness claims and the regulations it lists."""
    found: dict[str, tuple[list[Claim], tuple[str, ...]]] = {}
    for doc in docs:
        spec = doc.data.get("detectors")
        items = spec.get("claims") if isinstance(spec, Mapping) else None
        flagged = {
            str(i.get("name")) for i in _items(items) if isinstance(i, Mapping) and i.get("awareness") is True
        }
        if not flagged:
            continue
        claims = [c for c in claims_of(doc)[0] if c.name in flagged]
        regulations = tuple(str(r) for r in _items(doc.data.get("regulations")) if isinstance(r, str))
        if claims:
            found[str(doc.id)] = (claims, regulations)
    return found


def earliest_evidence(
    entries: Sequence[Document], claims: list[Claim], void: frozenset[str]
) -> Evidence | None:
    for entry in entries:  # in log order
        if entry.data.get("type") not in _EVIDENCE_TYPES or state.entry_id(entry) in void:
            continue
        text = entry.data.get("text")
        at = state.at_of(entry)
        if not isinstance(text, str) or at is None:
            continue
        norm = normalise(text).text
        for start, end, claim in find_claims(claims, norm):
            return Evidence(entry, at, claim, norm[start:end])
    return None


def _clock_starts(ctx: Context, obligation: str) -> str | None:
    regulation_id, _, local = obligation.partition("#")
    regulation = ctx.get("regulation", regulation_id)
    if regulation is None:
        return None
    for item in _items(regulation.data.get("obligations")):
        if isinstance(item, Mapping) and (not local or item.get("id") == local):
            return str(item.get("clock_starts") or "")
    return None


@register(
    (
        "AWR001",
        Severity.ERROR,
        "regulatory clock starts later than logged evidence of awareness, without a rationale naming it",
    ),
)
def clock_start_evidence(ctx: Context) -> Iterator[Finding]:
    incidents = ctx.subjects("incident")
    if not incidents:
        return
    classes = awareness_claims(ctx.index.of_kind("data-class"))
    if not classes:
        return
    for incident in incidents:
        ident = str(incident.id)
        entries = state.ordered(ctx.index.incident_entries(ident))
        void = state.voided(entries)
        evidence = {
            class_id: found
            for class_id, (claims, _) in classes.items()
            if (found := earliest_evidence(entries, claims, void)) is not None
        }
        if not evidence:
            continue
        # The assessment in force for each obligation is the latest one not voided.
        latest: dict[str, Document] = {}
        for entry in entries:
            if entry.data.get("type") == "assessment" and state.entry_id(entry) not in void:
                key = str(entry.data.get("obligation") or entry.data.get("regulation") or "")
                latest[key] = entry
        for key, assessment in latest.items():
            if assessment.data.get("applies") is not True:
                continue
            start = parse_time(assessment.data.get("clock_start"))
            clock = _clock_starts(ctx, key)
            if start is None or clock is None or not _AWARENESS_CLOCK.search(clock):
                continue
            regulation_id = key.partition("#")[0]
            for class_id, found in evidence.items():
                if regulation_id not in classes[class_id][1] or found.at >= start:
                    continue
                eid = state.entry_id(found.entry)
                if eid in str(assessment.data.get("rationale") or ""):
                    continue  # the rationale says why that entry was not awareness
                yield ctx.finding(
                    "AWR001",
                    assessment.where(("clock_start",)),
                    f"{key}: clock starts {assessment.data.get('clock_start')}, but "
                    f"{found.entry.data.get('type')} {eid} at {found.entry.data.get('at')} already says "
                    f"{found.claim.says!r} ({found.quote!r}, claim {class_id}/{found.claim.name}); "
                    f"the clock starts at {clock.rstrip('.').lower()!r}",
                    f"append an assessment of {key} with --clock-start {found.entry.data.get('at')}, or "
                    f"one whose rationale names {eid} and says why it was not yet awareness",
                    (found.entry.where(("text",)),),
                )
