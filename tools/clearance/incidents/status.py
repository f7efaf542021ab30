"""What a crisis lead acts on: drafts waiting for whom, regulatory deadlines, the
next public update, open override reviews, exercise injects and metrics — as plain
data that the command renders as text or JSON, and the review's Markdown body."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from clearance import durations
from clearance.incidents import approvals, clocks, metrics
from clearance.incidents.session import Session, current_status, deadlines
from clearance.index import parse_time
from clearance.model import Document


def status(session: Session, incident_id: str) -> dict[str, Any]:
    """Everything a crisis lead acts on, as plain data (rendered as text or JSON)."""
    index = session.index
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    state = current_status(session, incident)
    # Once closed, nothing runs late any more: clocks for waiting items stop at the close.
    now = metrics.end_of(incident, entries, session.now)
    current = approvals.severity_at(index, incident, entries, now)
    membership = approvals.Membership(index, session.root)
    published = {str(e.data.get("draft")) for e in entries if e.data.get("type") == "publication"}
    waiting: list[dict[str, Any]] = []
    ready: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for entry in entries:
        if entry.data.get("type") != "draft" or approvals.entry_id(entry) in published:
            continue
        verdict = approvals.evaluate(
            index, incident, entries, approvals.entry_id(entry), now, membership=membership
        )
        if metrics.rejected(verdict):
            rejected.append(
                {
                    "draft": approvals.entry_id(entry),
                    "channel": entry.data.get("channel"),
                    "author": entry.data.get("by"),
                    "rejections": [
                        {"step": s.requirement.step, "by": s.rejection[0], "reason": s.rejection[2]}
                        for s in verdict.steps
                        if s.rejection is not None
                    ],
                }
            )
            continue
        steps: list[dict[str, Any]] = []
        row = {
            "draft": approvals.entry_id(entry),
            "channel": entry.data.get("channel"),
            "author": entry.data.get("by"),
            "at": entry.data.get("at"),
            "sha256": approvals.sha256_text(str(entry.data.get("text", ""))),
            "data_classes": verdict.classes,
            "forbidden": verdict.forbidden,
            "problems": verdict.problems,
            "steps": steps,
        }
        for missing in approvals.describe_missing(verdict):
            can = sorted(approvals.members(index, missing["role"]) - {entry.data.get("by")})
            due = parse_time(missing["due"])
            missing["who_can_approve"] = can
            missing["overdue_seconds"] = (now - due).total_seconds() if due and now > due else None
            steps.append(missing)
        if verdict.ok:
            ready.append(row)
        else:
            waiting.append(row)
    found = deadlines(session, incident_id)
    pubs = metrics.public_publications(index, entries)
    next_update = None
    if pubs and state != "closed":
        last = approvals.at_of(pubs[-1])
        every = metrics.update_every(index, incident, current)
        if last and every:
            due_at = every.after(last)
            assert isinstance(due_at, dt.datetime)
            next_update = {
                "last_publication": last.isoformat(),
                "every": str(every),
                "due": due_at.isoformat(),
                "seconds_left": (due_at - now).total_seconds(),
            }
    follow_ups = [
        {
            "override": approvals.entry_id(o.entry),
            "draft": o.entry.data.get("draft"),
            "by": o.entry.data.get("by"),
            "role": o.entry.data.get("role"),
            "reason": o.entry.data.get("rationale"),
            "review_by": o.review_by,
            "due": o.due.isoformat() if o.due else None,
            "overdue": bool(o.due and now > o.due),
        }
        for o in approvals.overrides(index, incident, entries)
        if o.reviewed is None
    ]
    return {
        "incident": incident.id,
        "title": incident.data.get("title"),
        "exercise": bool(incident.data.get("exercise")),
        "protocol": incident.data.get("protocol"),
        "status": state,
        "severity": current,
        "now": session.now.isoformat(),
        "closed": now.isoformat() if state == "closed" else None,
        "waiting": waiting,
        "ready_to_publish": ready,
        "rejected": rejected,
        "deadlines": [d.as_json(now) for d in found],
        "next_update": next_update,
        "override_reviews": follow_ups,
        "injects": injects(session, incident, entries, now),
        "metrics": metrics.compute(index, incident, entries, found, now, membership),
    }


def injects(
    session: Session, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> list[dict[str, Any]]:
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
        rows.append(
            {
                "inject": position,
                "at": item.get("at"),
                "due": due.isoformat() if isinstance(due, dt.datetime) else None,
                "text": item.get("text"),
                "delivered": position in delivered,
                "pending": bool(isinstance(due, dt.datetime) and due <= now and position not in delivered),
            }
        )
    return rows


def open_items(session: Session, incident_id: str) -> list[str]:
    report = status(session, incident_id)
    items = []
    for row in report["waiting"]:
        steps = ", ".join(f"{s['step']} ({s['role']})" for s in row["steps"])
        items.append(f"draft {row['draft']} awaits approval: {steps}")
    for deadline in report["deadlines"]:
        if deadline["state"] in ("open", "overdue", "waiting"):
            items.append(f"obligation {deadline['obligation']} ({deadline['title']}) is {deadline['state']}")
    for follow in report["override_reviews"]:
        items.append(f"override {follow['override']} awaits review by {follow['review_by']}")
    return items


def _span(seconds: float | None) -> str:
    return "n/a" if seconds is None else clocks.humanise(seconds)


def render_review_body(report: Mapping[str, Any], actor: str) -> str:
    m = report["metrics"]
    lines = [
        f"# Review: {report['title']}",
        "",
        f"Computed from the incident log by `clearance incident review` on {report['now']} for {actor}. "
        "Do not edit the figures; run `clearance incident status --format json` to recompute them.",
        "",
        "## Metrics",
        "",
        "| Metric | Value |",
        "|---|---|",
        f"| Time to detect | {_span(m['time_to_detect_seconds'])} |",
        f"| Time to declare | {_span(m['time_to_declare_seconds'])} |",
        f"| Time to first public statement | {_span(m['time_to_first_public_statement_seconds'])} |",
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
    for d in report["deadlines"]:
        lines.append(
            f"| {d['obligation']} | {d['rule']} | {d['due'] or 'no fixed deadline'} | {d['state']} |"
        )
    lines += ["", "## Findings", "", "_To be written by the review meeting._", ""]
    return "\n".join(lines)
