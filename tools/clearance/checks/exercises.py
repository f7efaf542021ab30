"""Exercises that exercise, and reviews that review.

- Participation is shown by what people did (drafts, approvals, decisions,
  observations), not by a burst of role assignments nobody acted on (EXR001).
- Every exercise puts at least one draft through its whole approval chain
  (training-and-exercises#5, EXR002).
- A review has the sections post-incident-review#3 and #4 require (EXR003); the list
  is the policy's ``review_sections``.
- An open action item is picked up by the next review of the document it names: once
  that document is reviewed after the incident review, the item is done, dropped, or
  named in the document's review (``review.actions``) (EXR004).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from clearance.checks import Context, register
from clearance.incidents import state
from clearance.model import Document, Finding, Severity


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


BURST = dt.timedelta(seconds=60)
BURST_SIZE = 5
# Entry types that show a person took part (as author, or as the person deciding).
_ACTS = frozenset(
    {
        "observation",
        "decision",
        "draft",
        "approval",
        "rejection",
        "publication",
        "assessment",
        "facts",
        "notification",
        "talking-points",
        "escalation",
        "de-escalation",
        "withdraw",
        "override",
    }
)
_REVIEW_POLICY = "post-incident-review"
_DEFAULT_SECTIONS = (
    "overview",
    "what happened",
    "contributing factors",
    "resolution",
    "impact",
    "responders",
    "timeline",
    "how we did",
    "messaging",
    "stakeholder feedback",
    "action items",
)
_HEADING = re.compile(r"^#{2,3}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# '- Who (source): what they said'
_ITEM = re.compile(r"^\s*[-*]\s+\S", re.MULTILINE)
_SOURCED = re.compile(r"^\s*[-*]\s+[^\n:]*\([^)\n]+\)\s*:", re.MULTILINE)


def _section(body: str, name: str) -> str | None:
    """The text under the '## ' heading starting with ``name``, up to the next heading."""
    headings = list(_HEADING.finditer(body))
    for number, heading in enumerate(headings):
        if heading.group(1).lower().startswith(name):
            end = headings[number + 1].start() if number + 1 < len(headings) else len(body)
            return body[heading.end() : end]
    return None


def _actors(entries: Sequence[Document], void: frozenset[str]) -> set[str]:
    people: set[str] = set()
    for entry in entries:
        if entry.data.get("type") in _ACTS and state.entry_id(entry) not in void:
            people.add(str(entry.data.get("by")))
            if entry.data.get("person"):
                people.add(str(entry.data.get("person")))
    return people


def _bursts(entries: Sequence[Document]) -> list[list[Document]]:
    """Runs of at least BURST_SIZE role changes by one person, each within BURST of the last."""
    runs: list[list[Document]] = []
    current: list[Document] = []
    for entry in (e for e in entries if e.data.get("type") == "role-change"):
        at = state.at_of(entry)
        if (
            current
            and at is not None
            and entry.data.get("by") == current[-1].data.get("by")
            and (previous := state.at_of(current[-1])) is not None
            and at - previous <= BURST
        ):
            current.append(entry)
            continue
        if len(current) >= BURST_SIZE:
            runs.append(current)
        current = [entry]
    if len(current) >= BURST_SIZE:
        runs.append(current)
    return runs


@register(
    (
        "EXR001",
        Severity.ERROR,
        "exercise participation shown only by a burst of role assignments nobody acted on",
    ),
    ("EXR002", Severity.ERROR, "closed exercise without a draft that went through its whole approval chain"),
)
def exercises(ctx: Context) -> Iterator[Finding]:
    from clearance.incidents import approvals  # imported only for incidents

    for incident in ctx.subjects("incident"):
        if incident.data.get("exercise") is not True:
            continue
        ident = str(incident.id)
        raw = ctx.index.incident_entries(ident)
        entries = state.ordered(raw)
        void = state.voided(entries)
        acted = _actors(entries, void)
        for run in _bursts(entries):
            idle = [
                e for e in run if state.entry_id(e) not in void and str(e.data.get("person")) not in acted
            ]
            if not idle:
                continue
            first = idle[0]
            span = (state.at_of(run[-1]) or dt.datetime.min) - (state.at_of(run[0]) or dt.datetime.min)
            names = ", ".join(sorted({f"{e.data.get('person')} ({e.data.get('role')})" for e in idle}))
            yield ctx.finding(
                "EXR001",
                first.where(("person",)),
                f"{len(run)} role changes by {first.data.get('by')} within "
                f"{int(span.total_seconds())} seconds; {len(idle)} assign people who never drafted, "
                f"approved, decided or observed anything: {names}",
                "participation is what people did: have them draft, approve and decide in the exercise, or "
                f"void the assignments nobody acted on: clearance incident log {ident} correction --corrects "
                f"{state.entry_id(first)} --text '...'",
                tuple(e.where(("person",)) for e in idle[1:4]),
            )
        protocol = ctx.get("protocol", incident.data.get("protocol"))
        if protocol is None or not protocol.data.get("training_policy"):
            continue  # no exercise policy asks for real tools (training-and-exercises#5)
        if state.derive(incident, raw).status != "closed":
            continue  # a running exercise may still draft; judged once it closes
        # A correction naming a draft (a published statement corrected later) does not undo
        # that its chain was exercised: every draft counts, and the verdict decides.
        drafts = [e for e in entries if e.data.get("type") == "draft"]
        complete = False
        for draft in drafts:
            verdict = approvals.evaluate(ctx.index, incident, raw, state.entry_id(draft), ctx.now)
            if verdict.ok:
                complete = True
                break
        if not complete:
            yield ctx.finding(
                "EXR002",
                incident.where(("exercise",)),
                f"exercise {ident} has {len(drafts)} draft(s) and none went through its whole approval chain",
                "exercises use the real tools (training-and-exercises#5): draft a statement from one of the "
                f"protocol's templates and have each step approve it: clearance incident draft {ident} ...",
            )


def required_sections(ctx: Context) -> tuple[tuple[str, ...], Document | None]:
    policy = ctx.get("policy", _REVIEW_POLICY)
    listed = policy.data.get("review_sections") if policy is not None else None
    if isinstance(listed, list) and listed:
        return tuple(str(s).lower() for s in listed), policy
    return _DEFAULT_SECTIONS, policy


@register(
    ("EXR003", Severity.ERROR, "post-incident review lacks a section the review policy requires"),
    ("EXR004", Severity.ERROR, "open action item not picked up by the next review of the document it names"),
    ("EXR005", Severity.ERROR, "stakeholder feedback in a review without a source"),
)
def reviews(ctx: Context) -> Iterator[Finding]:
    subjects = ctx.subjects("review")
    if not subjects:
        return  # the review policy is read only by the units holding a review
    sections, _ = required_sections(ctx)
    for review in subjects:
        headings = [h.lower() for h in _HEADING.findall(review.body or "")]
        missing = [s for s in sections if not any(h.startswith(s) for h in headings)]
        if missing:
            yield ctx.finding(
                "EXR003",
                review,
                f"review lacks the section(s) {', '.join(repr(s) for s in missing)} "
                "(post-incident-review#3, #4)",
                "add a '## <Section>' heading for each, in the review's body",
            )
        feedback = _section(review.body or "", "stakeholder feedback")
        # Items that name no source, or an empty section; 'None collected.' is an answer.
        if feedback is not None and (
            not feedback.strip() or (_ITEM.search(feedback) and not _SOURCED.search(feedback))
        ):
            yield ctx.finding(
                "EXR005",
                review,
                "the 'Stakeholder feedback' section names no source: say who said it and where it came from "
                "(post-incident-review#4)",
                "one item per stakeholder: '- Customers (support tickets, 14-16 October): what they said'",
            )
        yield from _picked_up(ctx, review)


def _named_documents(ctx: Context, item: Mapping[str, object]) -> list[Document]:
    named = item.get("documents")
    found: list[Document] = []
    if isinstance(named, list):
        for ref in named:
            kind, _, key = str(ref).partition("/")
            doc = ctx.get(kind, key)
            if doc is not None:
                found.append(doc)
        return found
    text = str(item.get("text") or "").lower()
    for kind in ("protocol", "policy", "template", "approval-chain"):
        noun = {"approval-chain": "chain"}.get(kind, kind)
        for doc in ctx.index.of_kind(kind):
            ident = str(doc.id)
            # 'the confirmed-breach protocol' names confirmed-breach-public
            if ident in text or any(
                ident.startswith(m) for m in re.findall(rf"\b([a-z0-9]+(?:-[a-z0-9]+)+) {noun}\b", text)
            ):
                found.append(doc)
    return found


def _picked_up(ctx: Context, review: Document) -> Iterator[Finding]:
    try:
        held = dt.date.fromisoformat(str(review.data.get("held_on")))
    except ValueError:
        return
    for position, item in enumerate(_items(review.data.get("action_items"))):
        if not isinstance(item, Mapping) or item.get("status") != "open":
            continue
        label = f"{review.id}#{item.get('id')}"
        for doc in _named_documents(ctx, item):
            cadence = doc.data.get("review")
            if not isinstance(cadence, Mapping):
                continue
            try:
                last = dt.date.fromisoformat(str(cadence.get("last")))
            except ValueError:
                continue
            if last <= held or label in [str(a) for a in _items(cadence.get("actions"))]:
                continue
            yield ctx.finding(
                "EXR004",
                review.where(("action_items", position, "status")),
                f"action item {item.get('id')} names {doc.kind} {doc.id!r}, reviewed on {last} after this "
                f"review ({held}), and is still open",
                f"do it and set status: done with the link, drop it (status: dropped) with a reason, or list "
                f"{label!r} under review.actions of {doc.path} to say the review carried it forward",
            )


REVIEW_WITHIN_WORKING_DAYS = 5  # post-incident-review#1


def _working_days_after(start: dt.date, days: int) -> dt.date:
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


@register(
    (
        "EXR006",
        Severity.ERROR,
        "closed sev1 or sev2 incident or exercise without a review held within five working days",
    ),
)
def review_timing(ctx: Context) -> Iterator[Finding]:
    """post-incident-review#1: every sev1 and sev2 incident and every exercise gets a
    review within five working days of closing (the first close: a follow-up that
    reopens the record later does not move the review)."""
    incidents = ctx.subjects("incident")
    if not incidents or required_sections(ctx)[1] is None:
        return  # no review policy in this repository asks for reviews
    reviews: dict[str, Document] = {}
    for doc in ctx.index.of_kind("review"):
        reviews.setdefault(str(doc.data.get("incident")), doc)
    for incident in incidents:
        derived = state.derive(incident, ctx.index.incident_entries(str(incident.id)))
        first = next((c for c in derived.statuses if c.value == "closed"), None)
        if first is None:
            continue
        levels = {derived.opening_severity, *(c.value for c in derived.severities)}
        if incident.data.get("exercise") is not True and not levels & {"sev1", "sev2"}:
            continue
        due = _working_days_after(first.at.date(), REVIEW_WITHIN_WORKING_DAYS)
        review = reviews.get(str(incident.id))
        if review is None:
            if due < ctx.today:
                yield ctx.finding(
                    "EXR006",
                    incident.where(("id",)),
                    f"closed on {first.at.date()} and no post-incident review (due by {due}, "
                    "post-incident-review#1)",
                    f"clearance incident review {incident.id}",
                )
            else:
                ctx.until_date(due + dt.timedelta(days=1))
            continue
        held = _date(review.data.get("held_on"))
        if held is not None and held > due:
            yield ctx.finding(
                "EXR006",
                review.where(("held_on",)),
                f"review held on {held}, more than {REVIEW_WITHIN_WORKING_DAYS} working days after the "
                f"incident first closed ({first.at.date()}; due by {due}, post-incident-review#1)",
                "hold reviews within the week; say in the review why this one was late",
            )


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None
