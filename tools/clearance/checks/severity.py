"""Severity against the record: the protocol states, per level, criteria the log can be
checked against (``severities[].at_least_when``); once the record meets one, the
incident must be at that level or a more severe one within the hour
(monitoring-and-escalation#4: when unsure, the higher level).

A criterion holds from the first entry that shows it: a data class the incident
involves (named in ``incident.yaml``, in an entry's ``data_classes``, or made evident by
an observation with the class's awareness claim), or an observation whose text matches
one of the criterion's patterns (the claim pattern syntax of ``clearance.scan.claims``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.checks import Context, register
from clearance.checks.awareness import awareness_claims, earliest_evidence
from clearance.incidents import state
from clearance.index import parse_time
from clearance.model import Document, Finding, Location, Severity
from clearance.scan.claims import compile_claim_pattern
from clearance.scan.normalise import normalise


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Shown:
    """Where the record first meets a criterion."""

    at: dt.datetime
    what: str
    where: Location
    entry: Document | None


def _patterns(sources: object) -> list[re.Pattern[str]]:
    found = []
    for source in sources if isinstance(sources, list) else ():
        try:
            pattern = compile_claim_pattern(str(source))
        except re.error:
            continue  # the schema and the protocols family report bad input
        if not pattern.search(""):
            found.append(pattern)
    return found


def _shown(
    ctx: Context,
    incident: Document,
    entries: Sequence[Document],
    void: frozenset[str],
    cond: Mapping[str, object],
) -> Shown | None:
    candidates: list[Shown] = []
    classes = [str(c) for c in _items(cond.get("data_classes")) if isinstance(c, str)]
    if classes:
        stamps = incident.data.get("timestamps") or {}
        opened = parse_time(stamps.get("declared")) or parse_time(stamps.get("detected"))
        named = [c for c in _items(incident.data.get("data_classes")) if c in classes]
        if named and opened is not None:
            candidates.append(
                Shown(
                    opened,
                    f"incident.yaml names data class {named[0]!r}",
                    incident.where(("data_classes",)),
                    None,
                )
            )
        for entry in entries:
            involved = [c for c in _items(entry.data.get("data_classes")) if c in classes]
            at = state.at_of(entry)
            if involved and at is not None and state.entry_id(entry) not in void:
                candidates.append(
                    Shown(
                        at,
                        f"{entry.data.get('type')} {state.entry_id(entry)} touches data class "
                        f"{involved[0]!r}",
                        entry.where(("data_classes",)),
                        entry,
                    )
                )
                break
        known = awareness_claims(ctx.index.of_kind("data-class"))
        for class_id in classes:
            if class_id in known:
                found = earliest_evidence(entries, known[class_id][0], void)
                if found is not None:
                    candidates.append(
                        Shown(
                            found.at,
                            f"{found.entry.data.get('type')} {state.entry_id(found.entry)} says "
                            f"{found.claim.says!r} ({found.quote!r})",
                            found.entry.where(("text",)),
                            found.entry,
                        )
                    )
    patterns = _patterns(cond.get("observations"))
    if patterns:
        for entry in entries:
            if entry.data.get("type") != "observation" or state.entry_id(entry) in void:
                continue
            text, at = entry.data.get("text"), state.at_of(entry)
            if not isinstance(text, str) or at is None:
                continue
            norm = normalise(text).text
            match = next((m for p in patterns if (m := p.search(norm))), None)
            if match is not None:
                candidates.append(
                    Shown(
                        at,
                        f"observation {state.entry_id(entry)} says {match.group(0)!r}",
                        entry.where(("text",)),
                        entry,
                    )
                )
                break
    return min(candidates, key=lambda s: s.at) if candidates else None


def _acknowledged(
    entries: Sequence[Document], void: frozenset[str], shown: Shown, rank: dict[str, int], level: str
) -> bool:
    """A later escalation to the level whose rationale names the entry that showed it."""
    if shown.entry is None:
        return False
    eid = state.entry_id(shown.entry)
    return any(
        e.data.get("type") == "escalation"
        and state.entry_id(e) not in void
        and rank.get(str(e.data.get("severity")), 99) <= rank[level]
        and eid in str(e.data.get("rationale") or "")
        for e in entries
    )


@register(
    ("SEV001", Severity.ERROR, "incident below the severity its protocol's criteria and its log call for"),
    ("SEV003", Severity.ERROR, "severity criterion pattern that cannot be used"),
)
def under_classified(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects("protocol"):
        for position, level in enumerate(_items(doc.data.get("severities"))):
            if not isinstance(level, Mapping):
                continue
            for number, cond in enumerate(_items(level.get("at_least_when"))):
                if not isinstance(cond, Mapping):
                    continue
                for index, source in enumerate(_items(cond.get("observations"))):
                    path = ("severities", position, "at_least_when", number, "observations", index)
                    try:
                        broken = compile_claim_pattern(str(source)).search("") is not None
                        problem = "pattern matches the empty string, so it would hold for every observation"
                    except re.error as exc:
                        broken, problem = True, f"pattern does not compile: {exc}"
                    if broken:
                        yield ctx.finding(
                            "SEV003",
                            doc.where(path),
                            problem,
                            "fix the regular expression; until then the criterion is ignored",
                        )
    for incident in ctx.subjects("incident"):
        protocol = ctx.get("protocol", incident.data.get("protocol"))
        if protocol is None:
            continue
        severities = [s for s in _items(protocol.data.get("severities")) if isinstance(s, Mapping)]
        levels = [str(s.get("level")) for s in severities]
        rank = {level: position for position, level in enumerate(levels)}
        entries = state.ordered(ctx.index.incident_entries(str(incident.id)))
        void = state.voided(entries)
        derived = state.derive(incident, ctx.index.incident_entries(str(incident.id)), levels)
        for level_spec in severities:  # most severe first: report the worst miss only
            level = str(level_spec.get("level"))
            reported = False
            for cond in _items(level_spec.get("at_least_when")):
                if not isinstance(cond, Mapping):
                    continue
                shown = _shown(ctx, incident, entries, void, cond)
                if shown is None:
                    continue
                held = derived.severity_at(shown.at + GRACE)
                if rank.get(held, 99) <= rank[level] or _acknowledged(entries, void, shown, rank, level):
                    continue
                fix = (
                    f"clearance incident log {incident.id} escalation --severity {level} --rationale "
                    f"'... {state.entry_id(shown.entry)} ...'"
                    if shown.entry is not None
                    else f"clearance incident log {incident.id} escalation --severity {level} "
                    "--rationale '...'"
                )
                yield ctx.finding(
                    "SEV001",
                    shown.where,
                    f"{protocol.id} puts this at {level} or above ({cond.get('says')}): {shown.what} at "
                    f"{shown.at.isoformat()}, but the incident was at {held} an hour later",
                    f"escalate, naming the entry that showed it: {fix} (when unsure, the higher level: "
                    "monitoring-and-escalation#4)",
                )
                reported = True
                break
            if reported:
                break


# What staff are told: the activity whose accountable role must approve it.
_STATEMENT_ACTIVITY = re.compile(
    r"\b(?:staff|employees?|internal|all-staff)\b.*\b(?:communications?|notices?|messages?|statements?)\b",
    re.IGNORECASE,
)


@register(
    (
        "SEV002",
        Severity.ERROR,
        "role accountable for what staff are told does not approve it at some severity",
    ),
)
def accountable_approves(ctx: Context) -> Iterator[Finding]:
    """The role the RACI makes accountable for staff communication approves it at every
    severity: an HR lead accountable for what staff are told about an allegation is a
    step of each severity's chain, not a bystander."""
    for protocol in ctx.subjects("protocol"):
        accountable: dict[str, str] = {}
        for row in _items(protocol.data.get("raci")):
            if isinstance(row, Mapping) and _STATEMENT_ACTIVITY.search(str(row.get("activity") or "")):
                role = row.get("accountable")
                if isinstance(role, str):
                    accountable.setdefault(role, str(row.get("activity")))
        if not accountable:
            continue
        for position, level in enumerate(_items(protocol.data.get("severities"))):
            if not isinstance(level, Mapping):
                continue
            chain = ctx.get("approval-chain", level.get("chain"))
            if chain is None:
                continue
            steps = {
                str(s.get("role"))
                for s in _items(chain.data.get("steps"))
                if isinstance(s, Mapping) and not s.get("when")
            }
            for role, activity in accountable.items():
                if role in steps:
                    continue
                yield ctx.finding(
                    "SEV002",
                    protocol.where(("severities", position, "chain")),
                    f"at {level.get('level')} statements go through chain {chain.id!r}, which has no "
                    f"step for {role!r}, the role accountable for {activity!r}",
                    f"use a chain with a step for {role!r} at this level, or make another role accountable",
                )
