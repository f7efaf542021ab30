"""What a crisis lead acts on, computed once: drafts waiting for whom, regulatory
deadlines, the next public update, open override reviews, exercise injects, what
stands between the incident and its close, and metrics — as frozen records that
:mod:`clearance.report.status` renders as text or JSON (and the handbook reads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance import durations
from clearance.incidents import approvals, clocks, gates, metrics, state
from clearance.incidents import enquiries as enquiry_model
from clearance.incidents import obligations as obligation_model
from clearance.incidents.session import Session, deadlines, obligations_of, state_of
from clearance.index import parse_time
from clearance.model import Document


@dataclass(frozen=True)
class StepWait:
    """One approval step a draft still needs."""

    step: str
    role: str
    chains: tuple[str, ...]
    needed: int
    approved_by: tuple[str, ...]
    may_still_approve: tuple[str, ...]  # members of the role, not the author, not who approved
    rejected_by: str | None
    due: dt.datetime | None
    overdue_seconds: float | None


@dataclass(frozen=True)
class PendingDraft:
    draft: str
    channel: str
    author: str
    at: dt.datetime | None
    sha256: str
    data_classes: tuple[str, ...]
    forbidden: tuple[str, ...]
    problems: tuple[str, ...]
    steps: tuple[StepWait, ...]


@dataclass(frozen=True)
class Rejection:
    step: str
    by: str
    reason: str


@dataclass(frozen=True)
class RejectedDraft:
    draft: str
    channel: str
    author: str
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True)
class NextUpdate:
    last_publication: dt.datetime
    every: str
    due: dt.datetime
    seconds_left: float


@dataclass(frozen=True)
class OverrideReview:
    override: str
    draft: str
    by: str
    role: str
    reason: str
    review_by: str | None
    due: dt.datetime | None
    overdue: bool


@dataclass(frozen=True)
class Inject:
    inject: int
    at: str
    due: dt.datetime | None
    text: str
    delivered: bool
    pending: bool


@dataclass(frozen=True)
class Conflict:
    entry: str
    message: str


@dataclass(frozen=True)
class Status:
    incident: str
    title: str
    exercise: bool
    protocol: str
    status: str
    severity: str
    now: dt.datetime
    closed: dt.datetime | None
    waiting: tuple[PendingDraft, ...]
    ready_to_publish: tuple[PendingDraft, ...]
    rejected: tuple[RejectedDraft, ...]
    withdrawn: tuple[str, ...]
    deadlines: tuple[Mapping[str, Any], ...]  # clocks.Deadline.as_json rows
    next_update: NextUpdate | None
    override_reviews: tuple[OverrideReview, ...]
    injects: tuple[Inject, ...]
    to_close: tuple[gates.Item, ...]
    conflicts: tuple[Conflict, ...]
    metrics: Mapping[str, Any]
    # Every obligation of every regulation the protocol lists, with its state
    # (obligations.ObligationState.as_json rows: unassessed, not-applicable with reason...).
    obligations: tuple[Mapping[str, Any], ...] = ()
    # Media enquiries by deadline (enquiries.Enquiry); unanswered past the deadline = overdue.
    enquiries: tuple[enquiry_model.Enquiry, ...] = ()


def _str(value: object) -> str:
    return "" if value is None else str(value)


def status(session: Session, incident_id: str) -> Status:
    index = session.index
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    derived = state_of(session, incident)
    # Once closed, nothing runs late any more: clocks for waiting items stop at the close.
    now = derived.closed_at or session.now
    membership = approvals.Membership(index, session.root)
    published = {str(e.data.get("draft")) for e in entries if e.data.get("type") == "publication"}
    waiting: list[PendingDraft] = []
    ready: list[PendingDraft] = []
    rejected: list[RejectedDraft] = []
    for entry in entries:
        ident = approvals.entry_id(entry)
        if entry.data.get("type") != "draft" or ident in published or ident in derived.withdrawn:
            continue
        if ident in derived.voided:
            continue
        verdict = approvals.evaluate(index, incident, entries, ident, now, membership=membership)
        author = _str(entry.data.get("by"))
        if metrics.rejected(verdict):
            rejected.append(
                RejectedDraft(
                    ident,
                    _str(entry.data.get("channel")),
                    author,
                    tuple(
                        Rejection(s.requirement.step, s.rejection[0], s.rejection[2])
                        for s in verdict.steps
                        if s.rejection is not None
                    ),
                )
            )
            continue
        steps = []
        for missing in approvals.describe_missing(verdict):
            approved = tuple(str(p) for p in missing.get("approved_by") or ())
            can = sorted(approvals.members(index, missing["role"]) - {author} - set(approved))
            due = parse_time(missing.get("due"))
            steps.append(
                StepWait(
                    step=str(missing["step"]),
                    role=str(missing["role"]),
                    chains=tuple(missing.get("chains") or ()),
                    needed=int(missing["needed"]),
                    approved_by=approved,
                    may_still_approve=tuple(can),
                    rejected_by=missing.get("rejected_by"),
                    due=due,
                    overdue_seconds=(now - due).total_seconds() if due and now > due else None,
                )
            )
        row = PendingDraft(
            draft=ident,
            channel=_str(entry.data.get("channel")),
            author=author,
            at=approvals.at_of(entry),
            sha256=approvals.sha256_text(str(entry.data.get("text", ""))),
            data_classes=tuple(verdict.classes),
            forbidden=tuple(verdict.forbidden),
            problems=tuple(verdict.problems),
            steps=tuple(steps),
        )
        (ready if verdict.ok else waiting).append(row)
    found = deadlines(session, incident_id)
    return Status(
        incident=str(incident.id),
        title=_str(incident.data.get("title")),
        exercise=bool(incident.data.get("exercise")),
        protocol=_str(incident.data.get("protocol")),
        status=derived.status,
        severity=derived.severity_at(now),
        now=session.now,
        closed=derived.closed_at,
        waiting=tuple(waiting),
        ready_to_publish=tuple(ready),
        rejected=tuple(rejected),
        withdrawn=tuple(sorted(derived.withdrawn)),
        deadlines=tuple(d.as_json(now) for d in found),
        next_update=_next_update(session, incident, entries, derived, now),
        override_reviews=_override_reviews(session, incident, entries, now),
        injects=tuple(injects(session, incident, entries, now)),
        to_close=tuple(gates.close_items(session, incident)) if derived.status != "closed" else (),
        conflicts=tuple(Conflict(state.entry_id(c.entry), c.message) for c in derived.conflicts),
        metrics=metrics.compute(index, incident, entries, found, now, membership),
        enquiries=tuple(enquiry_model.enquiries(entries, derived.voided)),
        obligations=tuple(
            o.as_json(now)
            for o in obligation_model.obligation_states(
                obligations_of(index),
                [e for e in derived.order if state.entry_id(e) not in derived.voided],
                obligation_model.listed_regulations(index, incident),
            )
        ),
    )


def _next_update(
    session: Session, incident: Document, entries: Sequence[Document], derived: state.State, now: dt.datetime
) -> NextUpdate | None:
    pubs = metrics.public_publications(session.index, entries)
    if not pubs or derived.status == "closed":
        return None
    last = approvals.at_of(pubs[-1])
    found = metrics.update_due(session.index, incident, entries, last) if last else None
    if last is None or found is None:
        return None
    due, every = found
    return NextUpdate(last, str(every), due, (due - now).total_seconds())


def _override_reviews(
    session: Session, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> tuple[OverrideReview, ...]:
    return tuple(
        OverrideReview(
            override=approvals.entry_id(o.entry),
            draft=_str(o.entry.data.get("draft")),
            by=_str(o.entry.data.get("by")),
            role=_str(o.entry.data.get("role")),
            reason=_str(o.entry.data.get("rationale")),
            review_by=o.review_by,
            due=o.due,
            overdue=bool(o.due and now > o.due),
        )
        for o in approvals.overrides(session.index, incident, entries)
        if o.reviewed is None
    )


def injects(
    session: Session, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> list[Inject]:
    if not incident.data.get("exercise"):
        return []
    protocol = session.index.get("protocol", str(incident.data.get("protocol")))
    start = metrics.declared_at(incident, entries)
    delivered = {e.data.get("exercise_inject") for e in entries if "exercise_inject" in e.data}
    rows = []
    for position, item in enumerate((protocol.data.get("injects") or ()) if protocol else ()):
        if not isinstance(item, dict):
            continue
        offset = durations.parse(str(item.get("at")))
        due = offset.after(start) if offset and start else None
        moment = due if isinstance(due, dt.datetime) else None
        rows.append(
            Inject(
                inject=position,
                at=_str(item.get("at")),
                due=moment,
                text=_str(item.get("text")),
                delivered=position in delivered,
                pending=bool(moment and moment <= now and position not in delivered),
            )
        )
    return rows


def open_items(session: Session, incident_id: str) -> list[str]:
    """What stands between the incident and its close, in words."""
    return [str(item) for item in gates.close_items(session, session.incident(incident_id))]


def _span(seconds: float | None) -> str:
    return "n/a" if seconds is None else clocks.humanise(seconds)


def _target(m: Mapping[str, Any], name: str) -> str:
    """The protocol's first-hour target and whether it was met, for the review."""
    target, state = m.get(f"{name}_target"), m.get(f"{name}_state")
    return f"; target {target}: **{state}**" if target and state else ""


def render_review_body(report: Status, actor: str, sections: Sequence[str] = ()) -> str:
    """The review's Markdown: computed figures, then a heading for each section the
    review policy requires (``sections``) for the meeting to write."""
    m = report.metrics
    lines = [
        f"# Review: {report.title}",
        "",
        f"Computed from the incident log by `clearance incident review` on {report.now.isoformat()} for "
        f"{actor}. Do not edit the figures; run `clearance incident status --format json` to recompute them.",
        "",
        "## Metrics",
        "",
        "| Metric | Value |",
        "|---|---|",
        f"| Time to detect | {_span(m['time_to_detect_seconds'])} |",
        f"| Time to declare | {_span(m['time_to_declare_seconds'])} |",
        f"| Time to first public statement | {_span(m['time_to_first_public_statement_seconds'])} |",
        f"| Time to page (first signal to declaration) | {_span(m['time_to_page_seconds'])}"
        f"{_target(m, 'time_to_page')} |",
        f"| Time to first statement (first signal to publication) | "
        f"{_span(m['time_to_first_statement_seconds'])}{_target(m, 'time_to_first_statement')} |",
        f"| Public statements | {m['public_statements']} |",
        f"| Updates kept / missed | {m['updates_kept']} / {m['updates_missed']} |",
        f"| Deadlines met / missed / open | {m['deadlines_met']} / {m['deadlines_missed']} "
        f"/ {m['deadlines_open']} |",
        f"| Corrections | {m['corrections']} |",
        f"| Approval steps over their time target | {len(m['approval_sla_missed'])} |",
        "",
        "## Approval latency",
        "",
        "| Step or role | Approvals | Median | Longest |",
        "|---|---|---|---|",
    ]
    for label, table in (("step", m["approval_latency_per_step"]), ("role", m["approval_latency_per_role"])):
        for name, row in table.items():
            lines.append(
                f"| {label} {name} | {row['count']} | {_span(row['median_seconds'])} "
                f"| {_span(row['max_seconds'])} |"
            )
    lines += ["", "## Regulatory deadlines", "", "| Obligation | Rule | Due | State |", "|---|---|---|---|"]
    for d in report.deadlines:
        lines.append(
            f"| {d['obligation']} | {d['rule']} | {d['due'] or 'no fixed deadline'} | {d['state']} |"
        )
    written = {"metrics", "approval latency", "regulatory deadlines"}
    for name in [*(s for s in sections if s.lower() not in written), *([] if sections else ["findings"])]:
        lines += ["", f"## {name[:1].upper()}{name[1:]}", "", "_To be written by the review meeting._"]
    lines.append("")
    return "\n".join(lines)
