"""Incident metrics, computed from the log and never typed in: time to detect, to
declare and to the first public statement; approval latency per step and per role;
public update cadence kept or missed; deadlines met or missed; corrections."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from clearance import durations
from clearance.incidents import approvals, firsthour, state
from clearance.incidents.clocks import Deadline
from clearance.index import Index, parse_time
from clearance.model import Document


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "median_seconds": statistics.median(values) if values else None,
        "max_seconds": max(values) if values else None,
    }


# Channel kinds whose publications are public updates (a statement anyone can read);
# an email to customers or a regulator portal filing is not a public update.
PUBLIC_KINDS = frozenset({"social", "press", "website"})


def is_public_update(channel: Document | None) -> bool:
    return (
        channel is not None
        and channel.data.get("audience") == "public"
        and channel.data.get("type") in PUBLIC_KINDS
    )


def public_publications(index: Index, entries: Sequence[Document]) -> list[Document]:
    return [
        entry
        for entry in entries
        if entry.data.get("type") == "publication"
        and is_public_update(index.get("channel", str(entry.data.get("channel"))))
    ]


def declared_at(incident: Document, entries: Sequence[Document]) -> dt.datetime | None:
    stamps = incident.data.get("timestamps") or {}
    declared = parse_time(stamps.get("declared"))
    if declared:
        return declared
    for entry in entries:
        if entry.data.get("type") == "status-change":
            return approvals.at_of(entry)
    return None


def update_every(index: Index, incident: Document, severity: str) -> durations.Duration | None:
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    for level in (protocol.data.get("severities") or ()) if protocol else ():
        if isinstance(level, dict) and level.get("level") == severity and level.get("update_every"):
            return durations.parse(str(level["update_every"]))
    return None


def end_of(incident: Document, entries: Sequence[Document], now: dt.datetime) -> dt.datetime:
    """When the incident's clock stops for metrics: its close (as the state machine
    derives it: a reopen restarts the clock), else ``now``."""
    closed = state.derive(incident, entries).closed_at
    return closed if closed is not None else now


def update_due(
    index: Index, incident: Document, entries: Sequence[Document], start: dt.datetime
) -> tuple[dt.datetime, durations.Duration] | None:
    """When the public update after a statement at ``start`` is due: the cadence of the
    severity at ``start``; a severity change before then restarts the count from its
    moment with the new cadence when that comes sooner. The one computation behind
    ``next_update`` and the cadence metrics."""
    derived = state.derive(incident, entries)
    every = update_every(index, incident, derived.severity_at(start))
    if every is None:
        return None
    due = every.after(start)
    assert isinstance(due, dt.datetime)
    for change in derived.severity_changes_after(start):
        if change.at >= due:
            break
        sooner = update_every(index, incident, change.value)
        candidate = sooner.after(change.at) if sooner else None
        if sooner is not None and isinstance(candidate, dt.datetime) and candidate < due:
            due, every = candidate, sooner
    return due, every


def cadence(
    index: Index, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> list[dict[str, Any]]:
    """Each gap after a public statement: the update due and whether it came in time."""
    pubs = public_publications(index, entries)
    end = end_of(incident, entries, now)
    rows = []
    for position, pub in enumerate(pubs):
        start = approvals.at_of(pub)
        if start is None:
            continue
        found = update_due(index, incident, entries, start)
        if found is None:
            continue
        due = found[0]
        following = approvals.at_of(pubs[position + 1]) if position + 1 < len(pubs) else None
        if following is not None:
            state = "kept" if following <= due else "missed"
        elif end > due:
            state = "missed"
        else:
            state = "pending" if end is now else "not-needed"  # closed before it was due
        rows.append(
            {
                "after": approvals.entry_id(pub),
                "due": due.isoformat(),
                "next": following.isoformat() if following else None,
                "state": state,
            }
        )
    return rows


def rejected(verdict: approvals.Verdict) -> bool:
    """True when a step's rejection stands with no approval since: the draft has its
    answer and is not waiting for anyone."""
    return any(step.rejection is not None and not step.approvers for step in verdict.steps)


def compute(
    index: Index,
    incident: Document,
    entries: Sequence[Document],
    deadlines: Sequence[Deadline],
    now: dt.datetime,
    membership: approvals.Membership | None = None,
) -> dict[str, Any]:
    stamps = incident.data.get("timestamps") or {}
    started, detected = parse_time(stamps.get("started")), parse_time(stamps.get("detected"))
    declared = declared_at(incident, entries)
    pubs = public_publications(index, entries)
    first_public = approvals.at_of(pubs[0]) if pubs else None
    per_step: dict[str, list[float]] = defaultdict(list)
    per_role: dict[str, list[float]] = defaultdict(list)
    sla_missed: list[dict[str, Any]] = []
    published = {
        str(e.data.get("draft")): approvals.at_of(e) for e in entries if e.data.get("type") == "publication"
    }
    for draft in (e for e in entries if e.data.get("type") == "draft"):
        draft_id = approvals.entry_id(draft)
        drafted = approvals.at_of(draft)
        when = published.get(draft_id) or end_of(incident, entries, now)
        verdict = approvals.evaluate(index, incident, entries, draft_id, when, membership=membership)
        for step in verdict.steps:
            req = step.requirement
            for _who, moment, _ref in step.approvers:
                value = _seconds(drafted, moment)
                if value is not None:
                    per_role[req.role].append(value)
            if step.completed_at is not None:
                value = _seconds(drafted, step.completed_at)
                if value is not None:
                    per_step[req.step].append(value)
            # A rejected, unpublished draft has had its answer: its open steps are not late.
            abandoned = draft_id not in published and rejected(verdict)
            finished = step.completed_at or (None if step.overridden or abandoned else when)
            if step.due is not None and finished is not None and finished > step.due:
                sla_missed.append(
                    {
                        "draft": draft_id,
                        "chain": req.chain,
                        "step": req.step,
                        "role": req.role,
                        "due": step.due.isoformat(),
                        "completed": step.completed_at.isoformat() if step.completed_at else None,
                        "delay_seconds": (finished - step.due).total_seconds(),
                    }
                )
    updates = cadence(index, incident, entries, now)
    states = [d.state(now) for d in deadlines]
    return {
        "time_to_detect_seconds": _seconds(started, detected),
        "time_to_declare_seconds": _seconds(detected, declared),
        "time_to_first_public_statement_seconds": _seconds(declared or detected, first_public),
        "first_public_statement": first_public.isoformat() if first_public else None,
        "public_statements": len(pubs),
        "approval_latency_per_step": {k: _summary(v) for k, v in sorted(per_step.items())},
        "approval_latency_per_role": {k: _summary(v) for k, v in sorted(per_role.items())},
        "approval_sla_missed": sla_missed,
        "updates_kept": sum(1 for u in updates if u["state"] == "kept"),
        "updates_missed": sum(1 for u in updates if u["state"] == "missed"),
        "updates": updates,
        "deadlines_met": states.count("met"),
        "deadlines_missed": states.count("late") + states.count("overdue"),
        "deadlines_open": states.count("open") + states.count("waiting"),
        "corrections": sum(1 for e in entries if e.data.get("type") == "correction"),
        **firsthour.metrics(index, incident, entries, declared, first_public, end_of(incident, entries, now)),
        "entries": len(entries),
    }
