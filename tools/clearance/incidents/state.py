"""The incident state machine: status, severity, roles and withdrawn drafts, derived
from the log entries in ``at:`` order — never read from ``incident.yaml``.

Rules, chosen so that an append-only log can always be repaired by appending:

- Entries are applied in (``at:``, entry id) order; a ``correction`` voids the entry it
  corrects, so any entry can be superseded by appending one.
- A transition to the state the incident is already in is the same transition again
  (two people logging it, on two branches or in two processes): nothing happens.
- A transition that starts from another state than the one the log had reached (made
  concurrently on another branch) still applies — the later ``at:`` wins — and is
  reported as a *conflict* naming both entries: a warning, never an error.
- A transition the state machine does not allow (written by hand) is a *problem*: an
  error whose fix is to append a correction voiding it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from clearance.index import parse_time
from clearance.model import Document

STATUSES = ("triage", "active", "stable", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "triage": frozenset({"active", "stable"}),
    "active": frozenset({"stable"}),
    "stable": frozenset({"active", "closed"}),
    "closed": frozenset({"active"}),
}
SEVERITY_TYPES = ("escalation", "de-escalation")
# Entries that may be logged while an incident is closed: they fix or review the record.
# A legal hold (issue 23) often comes after the close: litigation arrives later.
AFTER_CLOSE = frozenset({"correction", "reopen", "override-review", "legal-hold", "hold-release"})


def allowed_after_close(entry: Mapping[str, Any], published: Set[str]) -> bool:
    """A correction, a reopen, an override review — or a (re-)confirmation of an
    approval of a draft already published, which only adds evidence to the record."""
    kind = entry.get("type")
    if kind in AFTER_CLOSE:
        return True
    return kind == "approval" and str(entry.get("draft")) in published


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def entry_id(doc: Document) -> str:
    name = doc.path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def at_of(doc: Document) -> dt.datetime | None:
    return parse_time(doc.data.get("at"))


@dataclass(frozen=True)
class Conflict:
    """Two entries changed the same thing from the same starting point (concurrent
    work); the later one (``entry``) won."""

    what: str  # "status" or "severity"
    entry: Document
    earlier: Document | None
    value: str

    @property
    def message(self) -> str:
        other = entry_id(self.earlier) if self.earlier is not None else "incident.yaml"
        start = self.entry.data.get("previous" if self.what == "severity" else "from")
        return (
            f"{self.what} change {entry_id(self.entry)} to {self.value!r} starts from {start!r}, "
            f"but {other} had already changed it (concurrent changes); the later entry, "
            f"{entry_id(self.entry)}, wins"
        )


@dataclass(frozen=True)
class Problem:
    """An entry the state machine cannot accept; fixed by appending ``fix``."""

    entry: Document
    path: tuple[str, ...]
    message: str
    fix: str


@dataclass(frozen=True)
class Change:
    at: dt.datetime
    value: str
    entry: Document | None


@dataclass(frozen=True)
class State:
    status: str
    severity: str
    opening_severity: str
    statuses: tuple[Change, ...]
    severities: tuple[Change, ...]
    roles: tuple[tuple[str, str], ...]
    withdrawn: frozenset[str]
    voided: frozenset[str]
    conflicts: tuple[Conflict, ...] = ()
    problems: tuple[Problem, ...] = ()
    after_close: tuple[tuple[Document, Document], ...] = ()  # (entry, the close before it)
    resolution_decision: Document | None = None
    closing: Document | None = None
    status_entry: Document | None = None
    severity_entry: Document | None = None
    order: tuple[Document, ...] = field(default=(), repr=False)

    @property
    def closed_at(self) -> dt.datetime | None:
        return at_of(self.closing) if self.status == "closed" and self.closing is not None else None

    def severity_at(self, when: dt.datetime) -> str:
        value = self.opening_severity
        for change in self.severities:
            if change.at <= when:
                value = change.value
        return value

    def status_at(self, when: dt.datetime) -> str:
        value = "triage"
        for change in self.statuses:
            if change.at <= when:
                value = change.value
        return value

    def severity_changes_after(self, start: dt.datetime) -> list[Change]:
        return [c for c in self.severities if c.at > start]


def ordered(entries: Sequence[Document]) -> list[Document]:
    return sorted(entries, key=lambda e: (at_of(e) or _EPOCH, entry_id(e)))


def voided(entries: Sequence[Document]) -> frozenset[str]:
    return frozenset(
        str(e.data.get("corrects"))
        for e in entries
        if e.data.get("type") == "correction" and e.data.get("corrects")
    )


def derive(incident: Document, entries: Sequence[Document], levels: Sequence[str] = ()) -> State:
    """The state the log arrives at. ``levels`` are the protocol's severities, most
    severe first (used to tell an escalation from a de-escalation)."""
    # The index hands out the same Document objects, in a new list each time: key on them.
    key = (incident.path, id(incident), tuple(map(id, entries)), tuple(levels))
    for cached_key, _held, cached in _CACHE:
        if cached_key == key:
            return cached
    result = _derive(incident, entries, levels)
    _CACHE.insert(0, (key, incident, result))  # holding the incident keeps its id unique
    del _CACHE[8:]
    return result


_CACHE: list[tuple[object, Document, State]] = []


def _derive(incident: Document, entries: Sequence[Document], levels: Sequence[str]) -> State:
    order = ordered(entries)
    void = voided(order)
    opening = str(incident.data.get("severity"))
    status, severity = "triage", opening
    status_entry: Document | None = None
    severity_entry: Document | None = None
    statuses: list[Change] = []
    severities: list[Change] = []
    conflicts: list[Conflict] = []
    problems: list[Problem] = []
    after_close: list[tuple[Document, Document]] = []
    roles = [
        (str(r.get("role")), str(r.get("person")))
        for r in incident.data.get("roles") or ()
        if isinstance(r, dict)
    ]
    withdrawn: set[str] = set()
    resolution: Document | None = None
    closing: Document | None = None
    published: set[str] = set()
    for entry in order:
        ident = entry_id(entry)
        if ident in void:
            continue
        kind = entry.data.get("type")
        moment = at_of(entry) or _EPOCH
        reopening = kind == "status-change" and entry.data.get("to") in ("active", "closed")
        if kind == "publication":
            published.add(str(entry.data.get("draft")))
        may_follow = reopening or allowed_after_close(entry.data, published)
        if status == "closed" and closing is not None and not may_follow:
            after_close.append((entry, closing))
        if kind == "status-change" and isinstance(entry.data.get("to"), str):
            target = str(entry.data["to"])
            source = entry.data.get("from", status)
            if target != status:
                if source != status:
                    conflicts.append(Conflict("status", entry, status_entry, target))
                elif target not in TRANSITIONS.get(status, frozenset()):
                    allowed = ", ".join(sorted(TRANSITIONS.get(status, frozenset())))
                    problems.append(
                        Problem(
                            entry,
                            ("to",),
                            f"status cannot go from {status!r} to {target!r} (from {status!r} it may go "
                            f"to: {allowed})",
                            f"void it: clearance incident log INCIDENT correction --corrects {ident} "
                            "--text '...', then log the transitions the protocol allows",
                        )
                    )
                status, status_entry = target, entry
                statuses.append(Change(moment, target, entry))
                if target == "closed":
                    closing = entry
            level = entry.data.get("severity")
            if isinstance(level, str) and level != severity:
                severity, severity_entry = level, entry
                severities.append(Change(moment, level, entry))
        elif kind == "reopen":
            if status == "closed":
                status, status_entry = "active", entry
                statuses.append(Change(moment, "active", entry))
        elif kind in SEVERITY_TYPES and isinstance(entry.data.get("severity"), str):
            level = str(entry.data["severity"])
            if level == severity:
                continue  # the same escalation logged twice
            previous = entry.data.get("previous", severity)
            if previous != severity:
                conflicts.append(Conflict("severity", entry, severity_entry, level))
            elif levels and level in levels and severity in levels:
                up = levels.index(level) < levels.index(severity)
                if up != (kind == "escalation"):
                    problems.append(
                        Problem(
                            entry,
                            ("type",),
                            f"{kind} from {severity!r} to {level!r} goes the other way",
                            f"void it: clearance incident log INCIDENT correction --corrects {ident} "
                            f"--text '...', then log an {'escalation' if up else 'de-escalation'}",
                        )
                    )
            severity, severity_entry = level, entry
            severities.append(Change(moment, level, entry))
        elif kind == "withdraw" and entry.data.get("draft"):
            withdrawn.add(str(entry.data["draft"]))
        elif kind == "role-change":
            pair = (str(entry.data.get("role")), str(entry.data.get("person")))
            if entry.data.get("action") == "release":
                roles = [r for r in roles if r != pair]
            elif pair not in roles:
                roles.append(pair)
        elif kind == "resolution-decision":
            resolution = entry
    return State(
        status=status,
        severity=severity,
        opening_severity=opening,
        statuses=tuple(statuses),
        severities=tuple(severities),
        roles=tuple(roles),
        withdrawn=frozenset(withdrawn),
        voided=void,
        conflicts=tuple(conflicts),
        problems=tuple(problems),
        after_close=tuple(after_close),
        resolution_decision=resolution,
        closing=closing if status == "closed" else None,
        status_entry=status_entry,
        severity_entry=severity_entry,
        order=tuple(order),
    )
