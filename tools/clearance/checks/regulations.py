"""Regulations that hold: worked examples that evaluate to what they say, protocol
time targets within the clocks they serve, and no listed obligation missed by
silence (an obligation nobody assessed is open, not absent)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from clearance import durations
from clearance.checks import Context, register
from clearance.errors import FatalError
from clearance.incidents import examples, obligations, state
from clearance.incidents.clocks import Rule
from clearance.index import parse_time
from clearance.model import Document, Finding, Severity

# How long an open incident may run before unassessed obligations are reported.
DEFAULT_ASSESS_WITHIN = "PT24H"
_NOTIFY_WORDS = re.compile(r"notif|\bfil(e|ing)\b", re.IGNORECASE)


def obligations_of(ctx: Context) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for key in ctx.index.ids("obligation"):
        hit = ctx.index.part("obligation", key)
        if hit is not None:
            value = ctx.index.value(hit[0], *hit[1])
            if isinstance(value, dict):
                out[key] = value
    return out


def shortest_clock(
    table: Mapping[str, Mapping[str, Any]], names: list[str]
) -> tuple[str, dt.timedelta] | None:
    """The obligation with the shortest fixed clock among ``names`` (regulation ids or
    regulation#obligation keys), and that clock."""
    best: tuple[str, dt.timedelta] | None = None
    for key, ob in table.items():
        if not any(key == name or key.startswith(f"{name}#") for name in names):
            continue
        deadline = ob.get("deadline")
        if not isinstance(deadline, dict) or ob.get("after"):
            continue  # a chained clock starts at another notice, later
        clocks = [c for c in deadline.get("earliest_of") or () if isinstance(c, dict)]
        if not deadline.get("from"):  # a clock from a later named time (a payment) starts later
            clocks.append(deadline)
        for clock in clocks:
            try:
                bound = Rule.from_deadline(clock).lower_bound()
            except (TypeError, ValueError):
                bound = None
            if bound is not None and (best is None or bound < best[1]):
                best = (key, bound)
    return best


@register(
    ("REG001", Severity.ERROR, "a regulation's worked example does not evaluate to its expected result"),
    (
        "REG002",
        Severity.WARNING,
        "protocol step giving notice is due later than the shortest clock it serves",
    ),
    ("REG003", Severity.ERROR, "protocol step notifies under a regulation the protocol does not list"),
)
def regulations(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects("regulation"):
        try:
            results = list(examples.run(doc))
        except FatalError as exc:
            yield ctx.finding("REG001", doc.where(("obligations",)), f"worked examples cannot run: {exc}")
            continue
        for result in results:
            for problem in result.problems:
                yield ctx.finding(
                    "REG001",
                    doc.where((*result.path, "expect")),
                    f"{result.obligation}, example {result.name!r}: {problem}",
                    "fix the obligation's clock, or the example if the law says otherwise (ask counsel)",
                )
    protocols = ctx.subjects("protocol")
    if not protocols:
        return
    table = obligations_of(ctx)
    for doc in protocols:
        listed = [r for r in doc.data.get("regulations") or () if isinstance(r, str)]
        for position, step in enumerate(doc.data.get("steps") or ()):
            if not isinstance(step, dict):
                continue
            names = step.get("notifies")
            if isinstance(names, list):
                for number, name in enumerate(names):
                    reg = str(name).split("#", 1)[0]
                    if reg not in listed or ("#" in str(name) and str(name) not in table):
                        yield ctx.finding(
                            "REG003",
                            doc.where(("steps", position, "notifies", number)),
                            f"step {step.get('id')!r} notifies under {name!r}, which "
                            + (
                                "the protocol does not list"
                                if reg not in listed
                                else "names no obligation in the register"
                            ),
                            "name a regulation from the protocol's regulations, or regulation#obligation",
                        )
                targets = [str(n) for n in names]
            elif _NOTIFY_WORDS.search(f"{step.get('id', '')} {step.get('title', '')}"):
                targets = listed
            else:
                continue
            within = durations.parse(str(step.get("within", "")))
            shortest = shortest_clock(table, targets) if targets else None
            if within is None or shortest is None:
                continue
            span = within.fixed + dt.timedelta(days=28 * within.months)
            if span > shortest[1]:
                yield ctx.finding(
                    "REG002",
                    doc.where(("steps", position, "within")),
                    f"step {step.get('id')!r} is due {step.get('within')} after declaration, later than "
                    f"{shortest[0]} ({durations.parse(_iso(shortest[1]))})",
                    "give the short clocks their own earlier step, or say what this step notifies "
                    "under with notifies: [regulation or regulation#obligation]",
                )


def _iso(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"PT{hours}H" if hours % 24 else f"P{hours // 24}D"


def assess_within(ctx: Context) -> tuple[str, dt.timedelta]:
    """clearance.yaml's ``incidents.assess_within`` (an ISO 8601 duration), else PT24H."""
    text = str(getattr(ctx.config, "assess_within", None) or DEFAULT_ASSESS_WITHIN)
    parsed = durations.parse(text)
    if parsed is None or parsed.months:
        return DEFAULT_ASSESS_WITHIN, dt.timedelta(hours=24)
    return text, parsed.fixed


def _started(incident: Document) -> dt.datetime | None:
    stamps = incident.data.get("timestamps") or {}
    for name in ("detected", "declared", "started"):
        found = parse_time(stamps.get(name)) if isinstance(stamps, dict) else None
        if found:
            return found
    return None


@register(
    ("OBL001", Severity.ERROR, "closed incident with an obligation of a listed regulation nobody assessed"),
    ("OBL002", Severity.WARNING, "open incident past its assessment time with obligations nobody assessed"),
)
def unassessed(ctx: Context) -> Iterator[Finding]:
    incidents = ctx.subjects("incident")
    if not incidents:
        return
    table = obligations_of(ctx)
    grace_text, grace = assess_within(ctx)
    for incident in incidents:
        listed = obligations.listed_regulations(ctx.index, incident)
        if not listed:
            continue
        entries = ctx.index.incident_entries(str(incident.id))
        derived = state.derive(incident, entries)
        live = [e for e in derived.order if state.entry_id(e) not in derived.voided]
        try:
            found = obligations.unassessed(obligations.obligation_states(table, live, listed))
        except FatalError as exc:
            yield ctx.finding(
                "OBL001", incident.where(("protocol",)), f"obligations cannot be evaluated: {exc}"
            )
            continue
        if not found:
            continue
        if derived.status == "closed":
            rule = "OBL001"
            when = "closed with"
        else:
            start = _started(incident)
            if start is None:
                continue
            if ctx.now < start + grace:
                ctx.until(start + grace)
                continue
            rule = "OBL002"
            when = f"open more than {grace_text} with"
        for regulation, states in sorted(found.items()):
            keys = ", ".join(s.key.split("#", 1)[1] for s in states)
            reasons = sorted({s.reason for s in states})
            yield ctx.finding(
                rule,
                incident.where(("protocol",)),
                f"{when} regulation {regulation!r} unassessed ({keys}): {'; '.join(reasons)}",
                f"log whether it applies: clearance incident assess {incident.id} {regulation} --applies "
                "yes|no --rationale '...' (the whole regulation), or one obligation with "
                f"{regulation}#<obligation>, or log the facts its thresholds need"
                + (
                    f" (reopen it first: clearance incident log {incident.id} reopen --rationale '...')"
                    if rule == "OBL001"
                    else ""
                ),
            )
