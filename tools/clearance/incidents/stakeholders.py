"""Stakeholder notices: who must hear from us in an incident, in what order, by when.

The register (``kind: stakeholder``, policies/stakeholders/) holds each stakeholder's
notices: a trigger, a clock (``within`` a duration ``from`` detection, declaration or
start), a channel and the role that signs the notice off. A protocol orders them
(``stakeholders:`` with ``before: public-statement`` and an optional clock of its own).
An incident's log records each notice as a ``stakeholder-notice`` entry: sent, or with
``applies: false`` and a rationale, not applicable.

Each of the protocol's notices is then ``sent``, ``not-applicable``, ``due`` (with its
time, or before the first public statement), or ``overdue``; rule STK001 names a public
statement that went out before a notice the protocol says must come first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance import durations
from clearance.incidents import metrics
from clearance.index import Index, parse_time
from clearance.model import Document

NOTICE = "stakeholder-notice"
PUBLIC = "public-statement"


@dataclass(frozen=True)
class Step:
    """One notice a protocol asks for, resolved against the register."""

    position: int  # in the protocol's list
    stakeholder: str
    notice: str  # the notice id ('' when the stakeholder has none or is unknown)
    title: str
    category: str
    channel: str
    sign_off: str | None
    within: durations.Duration | None
    start_from: str
    before_public: bool


@dataclass(frozen=True)
class NoticeState:
    step: Step
    state: str  # sent | not-applicable | due | overdue
    due: dt.datetime | None
    sent_at: dt.datetime | None
    entry: str | None
    reason: str | None

    def describe(self) -> str:
        s = self.step
        who = f"{s.stakeholder}#{s.notice}" if s.notice else s.stakeholder
        if self.state == "sent":
            return f"{who}: sent at {_iso(self.sent_at)} ({self.entry})"
        if self.state == "not-applicable":
            return f"{who}: not applicable: {self.reason}"
        when = f"by {_iso(self.due)}" if self.due else ""
        first = "before the first public statement" if s.before_public else ""
        terms = " and ".join(t for t in (when, first) if t) or "no clock"
        return f"{who}: {self.state} {terms}; channel: {s.channel}; signed off by {s.sign_off or '?'}"

    def as_json(self) -> dict[str, Any]:
        s = self.step
        return {
            "stakeholder": s.stakeholder,
            "notice": s.notice,
            "category": s.category,
            "state": self.state,
            "due": _iso(self.due),
            "before_public_statement": s.before_public,
            "channel": s.channel,
            "sign_off": s.sign_off,
            "sent_at": _iso(self.sent_at),
            "entry": self.entry,
            "reason": self.reason,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def notice_of(stakeholder: Document | None, notice: object) -> Mapping[str, Any] | None:
    """The stakeholder's notice ``notice`` (its first when None)."""
    if stakeholder is None:
        return None
    items = [n for n in stakeholder.data.get("notices") or () if isinstance(n, Mapping)]
    if notice is None:
        return items[0] if items else None
    return next((n for n in items if n.get("id") == notice), None)


def steps(index: Index, incident: Document) -> list[Step]:
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    stamps = incident.data.get("timestamps")
    detected = parse_time(stamps.get("detected")) if isinstance(stamps, Mapping) else None
    out = []
    for position, item in enumerate((protocol.data.get("stakeholders") or ()) if protocol else ()):
        if not isinstance(item, Mapping):
            continue
        since = item.get("since")
        if since is not None and (detected is None or detected.date().isoformat() < str(since)):
            continue  # the incident ran under the protocol before this sequence took effect
        key = str(item.get("stakeholder"))
        doc = index.get("stakeholder", key)
        notice = notice_of(doc, item.get("notice")) or {}
        within = item.get("within") or notice.get("within")
        out.append(
            Step(
                position=position,
                stakeholder=key,
                notice=str(notice.get("id") or item.get("notice") or ""),
                title=str(notice.get("title") or (doc.data.get("title") if doc else key)),
                category=str(doc.data.get("category", "")) if doc else "",
                channel=str(notice.get("channel", "")),
                sign_off=str(notice["sign_off"]) if notice.get("sign_off") else None,
                within=durations.parse(str(within)) if within else None,
                start_from=str(item.get("from") or notice.get("from") or "detected"),
                before_public=item.get("before") == PUBLIC,
            )
        )
    return out


def matches(step: Step, entry: Document, index: Index) -> bool:
    data = entry.data
    if data.get("type") != NOTICE or data.get("stakeholder") != step.stakeholder:
        return False
    named = data.get("notice")
    if named is None:  # the stakeholder's first notice
        first = notice_of(index.get("stakeholder", step.stakeholder), None)
        return first is not None and first.get("id") == step.notice
    return named == step.notice


def states(
    index: Index, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> list[NoticeState]:
    stamps = incident.data.get("timestamps") or {}
    first_public = _first_public(index, entries)
    out = []
    for step in steps(index, incident):
        record = None
        for entry in entries:  # the latest record of the notice counts
            if matches(step, entry, index):
                record = entry
        start = parse_time(stamps.get(step.start_from)) if isinstance(stamps, Mapping) else None
        due = step.within.after(start) if step.within and start else None
        due = due if isinstance(due, dt.datetime) else None
        if first_public is not None and step.before_public:
            published = parse_time(first_public.data.get("at"))
            if published and (due is None or published < due):
                due = published
        if record is not None:
            from clearance.incidents.approvals import entry_id

            if record.data.get("applies") is False:
                out.append(
                    NoticeState(
                        step, "not-applicable", due, None, entry_id(record), str(record.data.get("rationale"))
                    )
                )
            else:
                out.append(
                    NoticeState(step, "sent", due, parse_time(record.data.get("at")), entry_id(record), None)
                )
            continue
        late = due is not None and now > due
        out.append(NoticeState(step, "overdue" if late else "due", due, None, None, None))
    return out


def _first_public(index: Index, entries: Sequence[Document]) -> Document | None:
    found = metrics.public_publications(index, entries)
    timed: list[tuple[dt.datetime, Document]] = []
    for entry in found:
        at = parse_time(entry.data.get("at"))
        if at is not None:
            timed.append((at, entry))
    return min(timed, key=lambda pair: pair[0])[1] if timed else None


@dataclass(frozen=True)
class OutOfOrder:
    publication: Document
    step: Step
    record: Document | None  # the notice, sent after the statement; None: never sent


def out_of_order(index: Index, incident: Document, entries: Sequence[Document]) -> list[OutOfOrder]:
    """Public statements published before a notice the protocol says must come first
    (a notice logged as not applicable before the statement counts as heard)."""
    first = _first_public(index, entries)
    if first is None:
        return []
    published = parse_time(first.data.get("at"))
    if published is None:
        return []
    found = []
    for step in steps(index, incident):
        if not step.before_public:
            continue
        records = [e for e in entries if matches(step, e, index)]
        heard = [e for e in records if (parse_time(e.data.get("at")) or published) <= published]
        if not heard:
            found.append(OutOfOrder(first, step, records[0] if records else None))
    return found
