"""What a pack is made of: frozen records, gathered once and rendered as PDF, JSON or
a zip. The manifest says what the pack was built from, so it can be checked later."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

MANIFEST_NAME = "clearance-evidence-manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Source:
    """One file (or commit) a pack draws on, and the sha256 of its bytes."""

    path: str  # repository-relative path, or "commit:<sha>" for a commit object
    sha256: str
    role: str  # incident | log-entry | review | document | commit


@dataclass(frozen=True)
class Manifest:
    kind: str  # incident | changes
    subject: str  # the incident id, or the period
    organisation: str
    repository: str  # the origin remote's URL, else the folder name
    commit: str | None  # HEAD when the pack was built
    dirty: tuple[str, ...]  # sources that differed from that commit when built
    built_at: str
    audience: str
    generator: str
    sources: tuple[Source, ...]
    withheld: tuple[tuple[str, int], ...] = ()
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """The manifest in ``text``; ValueError when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a Clearance evidence manifest (format 1)")
        try:
            sources = tuple(Source(str(s["path"]), str(s["sha256"]), str(s["role"])) for s in data["sources"])
            return cls(
                kind=str(data["kind"]),
                subject=str(data["subject"]),
                organisation=str(data["organisation"]),
                repository=str(data["repository"]),
                commit=str(data["commit"]) if data.get("commit") else None,
                dirty=tuple(str(p) for p in data.get("dirty") or ()),
                built_at=str(data["built_at"]),
                audience=str(data["audience"]),
                generator=str(data["generator"]),
                sources=sources,
                withheld=tuple((str(k), int(v)) for k, v in data.get("withheld") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"manifest is incomplete: {exc}") from None


@dataclass(frozen=True)
class Event:
    """One line of the chronology: a log entry in words."""

    at: str
    entry: str  # entry id (file stem)
    type: str
    by: str
    text: str
    detail: str = ""  # rationale, source, link


@dataclass(frozen=True)
class Decision:
    """An approval or rejection of a statement."""

    entry: str
    decision: str  # approved | rejected
    person: str
    role: str
    step: str
    at: str
    sha256: str
    signature: str  # verified ... | not signed | signed, not verified | invalid: ...
    counted: bool  # whether the approval evaluator counted it
    note: str = ""


@dataclass(frozen=True)
class Statement:
    draft: str
    channel: str
    author: str
    drafted_at: str
    text: str | None  # full text when published; None for an unpublished draft
    sha256: str
    published_at: str | None
    link: str | None
    decisions: tuple[Decision, ...]
    approved: bool  # every required step approved (or overridden) before publication
    problems: tuple[str, ...]
    data_classes: tuple[str, ...]


@dataclass(frozen=True)
class Obligation:
    obligation: str  # regulation#obligation
    title: str
    applies: str  # yes | no | unassessed
    assessed_by: str
    assessed_at: str
    rationale: str  # the assessment's rationale, or why the state is what it is
    clock_start: str | None
    due: str | None
    state: str  # unassessed | not-applicable | waiting | open | overdue | tolled | met | late
    notified: str | None
    recipient: str | None
    reference: str | None
    cite: str = ""
    tolled: str | None = None  # from ... until ...


@dataclass(frozen=True)
class Notification:
    entry: str
    at: str
    obligation: str
    recipient: str
    reference: str
    by: str
    signature: str


@dataclass(frozen=True)
class Change:
    """A severity or status change."""

    entry: str
    at: str
    by: str
    change: str


@dataclass(frozen=True)
class Review:
    held_on: str
    findings: tuple[tuple[str, str, str], ...]  # id, type, text
    actions: tuple[tuple[str, str, str, str], ...]  # text, owner, due, status
    metrics: tuple[tuple[str, str], ...]  # label, value


@dataclass(frozen=True)
class Withheld:
    """What the audience may not read, counted by what it is (never named)."""

    counts: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True)
class IncidentPack:
    organisation: str
    incident: str
    title: str
    classification: str
    audience: str
    exercise: bool
    severity: str
    status: str
    summary: str
    timestamps: tuple[tuple[str, str], ...]
    events: tuple[Event, ...]
    statements: tuple[Statement, ...]
    obligations: tuple[Obligation, ...]
    notifications: tuple[Notification, ...]
    changes: tuple[Change, ...]
    review: Review | None
    withheld: Withheld
    manifest: Manifest
    deadlines: tuple[tuple[str, str], ...] = field(default=())  # (label, due) for the chart


@dataclass(frozen=True)
class ChangeRow:
    commit: str
    date: str
    author: str
    subject: str
    files: tuple[str, ...]
    via: str
    approvers: tuple[str, ...]
    tickets: tuple[str, ...]
    signature: str
    findings: tuple[tuple[str, str], ...]  # rule, message


@dataclass(frozen=True)
class ChangesPack:
    organisation: str
    since: str
    until: str
    audience: str
    signatures_checked: bool
    rows: tuple[ChangeRow, ...]
    figures: tuple[tuple[str, str], ...]
    withheld: Withheld
    manifest: Manifest

    @property
    def exceptions(self) -> tuple[ChangeRow, ...]:
        return tuple(r for r in self.rows if r.findings)


def as_data(pack: IncidentPack | ChangesPack) -> dict[str, Any]:
    """The pack as plain data, for JSON."""
    data = dataclasses.asdict(pack)
    data["pack"] = "incident" if isinstance(pack, IncidentPack) else "changes"
    return data
