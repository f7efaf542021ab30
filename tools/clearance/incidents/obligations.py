"""Obligation states: what each listed regulation asks of an incident, failing closed.

Every obligation of every regulation the incident's protocol lists is *unassessed*
until the log says otherwise: an assessment entry (of the obligation, or of its whole
regulation) says whether it applies and why, or the facts logged on the incident
settle its threshold. The states are

- ``unassessed``: nobody said whether it applies, or a threshold needs a fact nobody
  recorded;
- ``not-applicable``: with the reason (the assessment's rationale, or the threshold
  the logged facts do not meet, naming the facts entry and its source);
- ``waiting``: it applies, but its clock has not started (a predecessor notice not yet
  given, no clock start recorded);
- ``open`` (due at a time, or no computable deadline), ``overdue``, ``tolled``
  (a logged delay such as a law-enforcement request is running), ``met``, ``late``.

The register's obligations may carry, besides their clock (see :mod:`clocks`):
``threshold`` (a condition over facts), ``deadline.earliest_of`` (further clocks, the
earliest governs), ``after`` (the clock starts at the latest notice of the named
obligations, so each update re-opens the next report), ``relations`` (``not-later-than``,
``with`` or ``before`` another notice), ``deadline.roll_when`` (a condition for weekend
relief) and ``tolling`` (limits on a logged delay).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance import durations
from clearance.incidents import clocks
from clearance.incidents.calendars import CAPITAL_ZONES
from clearance.incidents.clocks import Rule
from clearance.incidents.facts import Facts, condition, describe_condition, entry_id
from clearance.index import Index, parse_time
from clearance.model import Document

OPEN_STATES = ("unassessed", "waiting", "open", "overdue", "tolled")


@dataclass(frozen=True)
class ObligationState:
    key: str  # regulation-id#obligation-id
    regulation: str
    title: str
    notify: str
    cite: str
    status: str  # unassessed | not-applicable | applies
    reason: str
    rule: Rule | None
    start: dt.datetime | None = None
    due: dt.datetime | None = None
    notified: dt.datetime | None = None
    recipient: str | None = None
    reference: str | None = None
    assessed_by: str | None = None
    assessed_at: dt.datetime | None = None
    after: str | None = None
    tolled: tuple[dt.datetime, dt.datetime | None] | None = None
    notes: tuple[str, ...] = ()

    @property
    def applies(self) -> bool:
        return self.status == "applies"

    def deadline(self) -> clocks.Deadline:
        return clocks.Deadline(
            obligation=self.key,
            title=self.title,
            notify=self.notify,
            rule=self.rule or Rule("asap"),
            start=self.start,
            due=self.due,
            assessed_by=self.assessed_by,
            assessed_at=self.assessed_at,
            after=self.after,
            notified=self.notified,
            recipient=self.recipient,
            reference=self.reference,
            notes=list(self.notes),
            tolled=self.tolled,
        )

    def state(self, now: dt.datetime) -> str:
        if self.status != "applies":
            return self.status
        return self.deadline().state(now)

    def describe(self, now: dt.datetime) -> str:
        """One line for people: the state with its time or its reason."""
        state = self.state(now)
        if state in ("unassessed", "not-applicable", "waiting"):
            return f"{state}: {self.reason}" if self.reason else state
        if state == "tolled" and self.tolled is not None:
            end = self.tolled[1]
            return "tolled " + (f"until {end.isoformat()}" if end else "until the logged delay ends")
        if state in ("met", "late"):
            return f"{state} (notified {self.notified.isoformat() if self.notified else '?'})"
        if self.due is None:
            return f"{state}: no computable deadline, notify without undue delay"
        return f"{state}: due at {self.due.isoformat()}"

    def as_json(self, now: dt.datetime) -> dict[str, Any]:
        row = self.deadline().as_json(now)
        row.update(
            {
                "regulation": self.regulation,
                "cite": self.cite,
                "state": self.state(now),
                "applies": {"applies": True, "not-applicable": False}.get(self.status),
                "reason": self.reason,
                "rule": self.rule.describe() if self.rule else None,
                "tolled_until": (
                    self.tolled[1].astimezone(dt.UTC).isoformat() if self.tolled and self.tolled[1] else None
                ),
            }
        )
        return row


def _listify(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _Log:
    """What the incident log says, indexed once."""

    def __init__(self, entries: Sequence[Document]) -> None:
        self.assessed: dict[str, Document] = {}  # obligation key -> latest assessment
        self.regulation_assessed: dict[str, Document] = {}  # regulation id -> latest
        self.notifications: dict[str, list[tuple[dt.datetime, Document]]] = {}
        self.tolling: dict[str, Document] = {}  # obligation key or regulation id -> latest
        for entry in entries:
            data = entry.data
            kind = data.get("type")
            if kind == "assessment":
                if isinstance(data.get("obligation"), str):
                    self.assessed[data["obligation"]] = entry
                elif isinstance(data.get("regulation"), str):
                    self.regulation_assessed[data["regulation"]] = entry
            elif kind == "notification" and isinstance(data.get("obligation"), str):
                at = parse_time(data.get("at"))
                if at is not None:
                    self.notifications.setdefault(data["obligation"], []).append((at, entry))
            elif kind == "tolling":
                for scope in (data.get("obligation"), data.get("regulation")):
                    if isinstance(scope, str):
                        self.tolling[scope] = entry
        for rows in self.notifications.values():
            rows.sort(key=lambda row: row[0])
        self.facts = Facts.from_entries(entries)


def _sibling(key: str, local: str) -> str:
    return local if "#" in local else f"{key.split('#', 1)[0]}#{local}"


class _Evaluator:
    def __init__(self, obligations: Mapping[str, Mapping[str, Any]], log: _Log) -> None:
        self.obligations = obligations
        self.log = log
        self.done: dict[str, ObligationState] = {}
        self.busy: set[str] = set()

    def state(self, key: str) -> ObligationState:
        if key in self.done:
            return self.done[key]
        ob = self.obligations.get(key) or {}
        if key in self.busy:  # a cycle in the register: never loop, report it
            return self._base(key, ob, "unassessed", f"{key} depends on itself through after/relations")
        self.busy.add(key)
        try:
            result = self._evaluate(key, ob)
        finally:
            self.busy.discard(key)
        self.done[key] = result
        return result

    def _base(
        self, key: str, ob: Mapping[str, Any], status: str, reason: str, **more: Any
    ) -> ObligationState:
        deadline = ob.get("deadline")
        return ObligationState(
            key=key,
            regulation=key.split("#", 1)[0],
            title=str(ob.get("title", key)),
            notify=str(ob.get("notify", "")),
            cite=str(ob.get("cite", "")),
            status=status,
            reason=reason,
            rule=Rule.from_deadline(deadline) if isinstance(deadline, dict) else None,
            **more,
        )

    def _applicability(self, key: str, ob: Mapping[str, Any]) -> tuple[str, str, Document | None]:
        log = self.log
        own = log.assessed.get(key)
        if own is not None:
            applies = own.data.get("applies") is True
            return ("applies" if applies else "not-applicable"), str(own.data.get("rationale", "")), own
        regulation = key.split("#", 1)[0]
        whole = log.regulation_assessed.get(regulation)
        if whole is not None and whole.data.get("applies") is not True:
            return "not-applicable", f"regulation assessed: {whole.data.get('rationale', '')}", whole
        verdict: bool | None = True
        why = ""
        if isinstance(ob.get("threshold"), dict):
            verdict, why = condition(ob["threshold"], log.facts)
            if verdict is False:
                return "not-applicable", f"threshold not met: {why}", None
        if whole is not None:
            base: tuple[str, str, Document | None] = ("applies", str(whole.data.get("rationale", "")), whole)
        else:
            predecessors = _listify(ob.get("after")) or [
                r["obligation"]
                for r in ob.get("relations") or ()
                if isinstance(r, dict) and "obligation" in r
            ]
            if not predecessors:
                return "unassessed", "no assessment says whether it applies", None
            first = self.state(_sibling(key, predecessors[0]))
            if first.status == "applies":
                base = ("applies", f"follows {first.key}", None)
            elif first.status == "not-applicable":
                return "not-applicable", f"{first.key} does not apply", None
            else:
                return "unassessed", f"{first.key} is unassessed", None
        if verdict is None:
            return "unassessed", f"threshold needs facts: {why}", None
        if why:
            return base[0], f"{base[1]}; threshold met: {why}".lstrip("; "), base[2]
        return base

    def _evaluate(self, key: str, ob: Mapping[str, Any]) -> ObligationState:
        status, reason, assessment = self._applicability(key, ob)
        more: dict[str, Any] = {}
        if assessment is not None:
            more["assessed_by"] = assessment.data.get("by")
            more["assessed_at"] = parse_time(assessment.data.get("at"))
        if status != "applies":
            return self._base(key, ob, status, reason, **more)
        deadline = ob.get("deadline") if isinstance(ob.get("deadline"), dict) else {}
        assert isinstance(deadline, dict)
        notes: list[str] = []
        rule = self._resolve(Rule.from_deadline(deadline), deadline, notes)
        facts = self.log.facts
        after = [_sibling(key, p) for p in _listify(ob.get("after"))]
        start: dt.datetime | None = None
        if after:
            times = [at for p in after for at, _ in self.log.notifications.get(p, ())]
            start = max(times) if times else None
            if start is None:
                reason = f"starts when {' or '.join(after)} is notified"
        elif rule.trigger:
            start = facts.time(rule.trigger)
            if start is None:
                reason = f"starts at the {rule.trigger!r} time, not recorded yet (log it as a fact)"
        else:
            for source in (self.log.assessed.get(key), self.log.regulation_assessed.get(key.split("#")[0])):
                if source is not None and parse_time(source.data.get("clock_start")):
                    start = parse_time(source.data.get("clock_start"))
                    break
            if start is None:
                reason = "applies, but no clock start is recorded (assessment clock_start)"
        due = clocks.due(rule, start) if start else None
        if start is not None:
            due = self._earliest(deadline, start, due, notes)
            due = self._relations(key, ob, due, notes)
        tolled, due = self._tolling(key, ob, start, due, notes)
        notified = self._notified(key, start)
        if notified is not None:
            more["recipient"] = notified.data.get("recipient")
            more["reference"] = notified.data.get("reference")
        return self._base(
            key,
            ob,
            "applies",
            reason,
            start=start,
            due=due,
            notified=parse_time(notified.data.get("at")) if notified else None,
            after=after[0] if after else None,
            tolled=tolled,
            notes=tuple(notes),
            **more,
        )

    def _resolve(self, rule: Rule, deadline: Mapping[str, Any], notes: list[str]) -> Rule:
        facts = self.log.facts
        if rule.country_fact:
            country = facts.value(rule.country_fact)
            if isinstance(country, str) and len(country) == 2:
                zone = rule.zone or CAPITAL_ZONES.get(country.upper())
                rule = dataclasses.replace(rule, country=country.upper(), zone=zone)
            else:
                notes.append(
                    f"record the {rule.country_fact!r} fact for that country's holidays; weekends only"
                )
        if rule.roll != "none" and isinstance(deadline.get("roll_when"), dict):
            verdict, why = condition(deadline["roll_when"], facts)
            if verdict is not True:
                rule = dataclasses.replace(rule, roll="none")
                notes.append("no weekend relief: " + (why if verdict is False else f"not shown ({why})"))
        return rule

    def _earliest(
        self, deadline: Mapping[str, Any], start: dt.datetime, due: dt.datetime | None, notes: list[str]
    ) -> dt.datetime | None:
        for alt in deadline.get("earliest_of") or ():
            if not isinstance(alt, dict):
                continue
            alt_rule = self._resolve(Rule.from_deadline(alt), alt, notes)
            alt_start = self.log.facts.time(alt_rule.trigger) if alt_rule.trigger else start
            if alt_start is None:
                notes.append(
                    f"the {alt_rule.trigger!r} time is not recorded: {alt_rule.describe()} not computed"
                )
                continue
            alt_due = clocks.due(alt_rule, alt_start)
            if alt_due is None:
                continue
            if alt_rule.lapses_if_passed and alt_due <= start:
                notes.append(
                    f"{alt_rule.describe()} had passed when the clock started; the main clock governs"
                )
                continue
            if due is None or alt_due < due:
                due = alt_due
                notes.append(f"earliest: {alt_rule.describe()}")
        return due

    def _relations(
        self, key: str, ob: Mapping[str, Any], due: dt.datetime | None, notes: list[str]
    ) -> dt.datetime | None:
        for relation in ob.get("relations") or ():
            if not isinstance(relation, dict) or not isinstance(relation.get("obligation"), str):
                continue
            other = self.state(_sibling(key, relation["obligation"]))
            kind = relation.get("type", "not-later-than")
            within = durations.parse(str(relation.get("within") or ("P1D" if kind == "with" else "PT0S")))
            slack = within.fixed if within else dt.timedelta(0)
            anchor = other.notified or other.due
            if anchor is None:
                notes.append(f"{kind} {other.key}, which has no time yet")
                continue
            limit = anchor + slack if kind == "with" else anchor
            if kind == "before":
                limit -= dt.timedelta(microseconds=1)
            notes.append(
                f"{kind} {other.key} ({'notified' if other.notified else 'due'} {anchor.isoformat()})"
            )
            if due is None or limit < due:
                due = limit
        return due

    def _tolling(
        self,
        key: str,
        ob: Mapping[str, Any],
        start: dt.datetime | None,
        due: dt.datetime | None,
        notes: list[str],
    ) -> tuple[tuple[dt.datetime, dt.datetime | None] | None, dt.datetime | None]:
        entry = self.log.tolling.get(key) or self.log.tolling.get(key.split("#", 1)[0])
        if entry is None:
            return None, due
        begin = parse_time(entry.data.get("at"))
        end = parse_time(entry.data.get("until"))
        if begin is None:
            return None, due
        limits = ob.get("tolling") if isinstance(ob.get("tolling"), dict) else {}
        assert isinstance(limits, dict)
        if entry.data.get("basis") == "oral" and limits.get("oral_limit"):
            cap = clocks.add_duration(begin, str(limits["oral_limit"]))
            if end is None or end > cap:
                end = cap
                notes.append(f"an oral delay lasts at most {limits['oral_limit']} unless put in writing")
        notes.append(
            f"tolled from {begin.isoformat()} ({entry_id(entry)}): {entry.data.get('rationale', '')}"
        )
        if due is not None and begin < due:
            due = None if end is None else due + (end - max(begin, start or begin))
        return (begin, end), due

    def _notified(self, key: str, start: dt.datetime | None) -> Document | None:
        rows = self.log.notifications.get(key, ())
        for at, entry in rows:
            if start is None or at >= start:
                return entry
        return None


def evaluate(
    obligations: Mapping[str, Mapping[str, Any]],
    entries: Sequence[Document],
    listed: Iterable[str] = (),
) -> list[ObligationState]:
    """The state of every obligation of the ``listed`` regulations, and of every
    obligation the log assesses, notifies or (by regulation) covers, in register order."""
    log = _Log(entries)
    listed = set(listed) | set(log.regulation_assessed)
    evaluator = _Evaluator(obligations, log)
    position = {key: n for n, key in enumerate(obligations)}
    wanted = {
        key
        for key in obligations
        if key.split("#", 1)[0] in listed or key in log.assessed or key in log.notifications
    }
    # Chained obligations follow what they are chained to (only those that name a link
    # are looked at again), so nothing applying is left out.
    linked = {}
    for key, ob in obligations.items():
        links = _listify(ob.get("after")) + [
            str(r.get("obligation")) for r in ob.get("relations") or () if isinstance(r, dict)
        ]
        if links:
            linked[key] = [_sibling(key, p) for p in links]
    grew = True
    while grew:
        grew = False
        for key, links in linked.items():
            if key not in wanted and any(p in wanted for p in links):
                wanted.add(key)
                grew = True
    ordered = sorted(wanted, key=lambda k: (k.split("#", 1)[0], position[k]))
    return [evaluator.state(key) for key in ordered]


def listed_regulations(index: Any, incident: Document) -> list[str]:
    """The regulations an incident's protocol lists (the ones that must be assessed)."""
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    if protocol is None:
        return []
    return [r for r in protocol.data.get("regulations") or () if isinstance(r, str)]


def obligation_states(
    obligations: Mapping[str, Mapping[str, Any]],
    entries: Sequence[Document],
    listed: Iterable[str],
) -> list[ObligationState]:
    """Every obligation of the listed regulations with its state: the list ``status``,
    the handbook and ``close`` show as open items (see :data:`OPEN_STATES`)."""
    return evaluate(obligations, entries, listed)


def unassessed(states: Iterable[ObligationState]) -> dict[str, list[ObligationState]]:
    """Unassessed obligations grouped by regulation."""
    out: dict[str, list[ObligationState]] = {}
    for state in states:
        if state.status == "unassessed":
            out.setdefault(state.regulation, []).append(state)
    return out


def describe_threshold(ob: Mapping[str, Any]) -> str | None:
    value = ob.get("threshold")
    return describe_condition(value) if isinstance(value, dict) else None


def deadlines(
    obligations: Mapping[str, Mapping[str, Any]], entries: Sequence[Document]
) -> list[clocks.Deadline]:
    """Deadlines of the obligations that apply to an incident. ``obligations`` maps
    ``regulation#obligation`` to the obligation's data; ``entries`` is the incident log
    in event-time order. Obligations nobody assessed are not here: see
    :func:`obligation_states` for every listed one."""
    return [state.deadline() for state in evaluate(obligations, entries) if state.applies]


def regulation_role(index: Index, obligation_key: str, obligation: Mapping[str, Any]) -> str | None:
    """The role a regulation names for its decisions: the obligation's ``role``, else
    the regulation's ``role``, else the regulation's owner."""
    regulation = index.get("regulation", obligation_key.partition("#")[0])
    for value in (obligation.get("role"), regulation.data.get("role") if regulation else None):
        if isinstance(value, str) and value:
            return value
    owner = regulation.data.get("owner") if regulation else None
    return str(owner) if owner else None


def regulation_chain(index: Index, obligation_key: str, obligation: Mapping[str, Any]) -> str | None:
    """The approval chain a regulation names for the text of its notifications."""
    regulation = index.get("regulation", obligation_key.partition("#")[0])
    for value in (obligation.get("chain"), regulation.data.get("chain") if regulation else None):
        if isinstance(value, str) and value:
            return value
    return None
