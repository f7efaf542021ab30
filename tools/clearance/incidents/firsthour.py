"""The first hour, measured from the log: time to page (the first monitoring signal that
met a trigger to the incident's declaration) and time to first statement (that signal
to the first public publication), each against the protocol's ``first_hour`` target.

Where no observation names a met trigger (an incident opened by hand), the first signal
is the detection time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from clearance import durations
from clearance.index import Index, parse_time
from clearance.model import Document


def first_signal(incident: Document, entries: Sequence[Document]) -> tuple[dt.datetime | None, str]:
    """The first moment a signal met a trigger, and where that moment comes from."""
    met = [
        moment
        for entry in entries
        if entry.data.get("type") == "observation" and isinstance(entry.data.get("trigger"), dict)
        for moment in [parse_time(entry.data["trigger"].get("met_at"))]
        if moment is not None
    ]
    if met:
        return min(met), "trigger"
    stamps = incident.data.get("timestamps") or {}
    return parse_time(stamps.get("detected")), "detected"


def _target(index: Index, incident: Document, name: str) -> str | None:
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    block = (protocol.data.get("first_hour") or {}) if protocol else {}
    value = block.get(name) if isinstance(block, dict) else None
    return str(value) if value else None


def _check(
    seconds: float | None, target: str | None, start: dt.datetime | None, now: dt.datetime
) -> str | None:
    """met | missed | open (not yet, target still ahead) | None (no target)."""
    limit = durations.parse(target) if target else None
    if limit is None or start is None:
        return None
    allowed = limit.fixed.total_seconds()
    if seconds is not None:
        return "met" if seconds <= allowed else "missed"
    return "missed" if (now - start).total_seconds() > allowed else "open"


def metrics(
    index: Index,
    incident: Document,
    entries: Sequence[Document],
    declared: dt.datetime | None,
    first_public: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, Any]:
    start, source = first_signal(incident, entries)

    def span(end: dt.datetime | None) -> float | None:
        return (end - start).total_seconds() if start and end else None

    page, statement = span(declared), span(first_public)
    page_target = _target(index, incident, "page_within")
    statement_target = _target(index, incident, "first_statement_within")
    return {
        "first_signal": start.isoformat() if start else None,
        "first_signal_from": source,
        "time_to_page_seconds": page,
        "time_to_page_target": page_target,
        "time_to_page_state": _check(page, page_target, start, now),
        "time_to_first_statement_seconds": statement,
        "time_to_first_statement_target": statement_target,
        "time_to_first_statement_state": _check(statement, statement_target, start, now),
    }
