"""Incident status reporters: text for a crisis lead, JSON for tools. Both render the
one :class:`~clearance.incidents.status.Status` computation, with every time shown in
one time zone (``--tz``; JSON states which in ``timezone``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, TextIO

from clearance.incidents import clocks
from clearance.incidents.status import Status

_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _zone_name(zone: dt.tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone.tzname(None) or "UTC")


def _in_zone(value: Any, zone: dt.tzinfo) -> Any:
    """Every moment in ``value`` (datetimes, and RFC 3339 strings from the clocks and
    metrics) in ``zone``; everything else unchanged."""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, str) and _MOMENT.match(value):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone).isoformat()
    if isinstance(value, Mapping):
        return {str(k): _in_zone(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_in_zone(v, zone) for v in value]
    return value


def as_json(report: Status, zone: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["to_close"] = [{"what": i.what, "fix": i.fix} for i in report.to_close]
    out = _in_zone(data, zone)
    assert isinstance(out, dict)
    return {"timezone": _zone_name(zone), **out}


def emit_json(report: Status, zone: dt.tzinfo, stream: TextIO) -> None:
    json.dump(as_json(report, zone), stream, indent=2)
    stream.write("\n")


def _local(moment: dt.datetime | str | None, zone: dt.tzinfo) -> str:
    if not moment:
        return "-"
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{clocks.humanise(seconds)} left" if seconds >= 0 else f"OVERDUE by {clocks.humanise(seconds)}"


def _span(seconds: float | None) -> str:
    return "n/a" if seconds is None else clocks.humanise(seconds)


def _goal(m: Any, name: str) -> str:
    """' (target PT15M: met)' for a first-hour metric with a protocol target."""
    target, state = m.get(f"{name}_target"), m.get(f"{name}_state")
    return f" (target {target}: {state})" if target and state else ""


def text(report: Status, zone: dt.tzinfo) -> str:
    lines = [
        f"{'EXERCISE ' if report.exercise else ''}{report.incident}: {report.title}",
        f"  status {report.status}, severity {report.severity}, protocol {report.protocol}",
        f"  as of {_local(report.now, zone)}"
        + (f"; closed {_local(report.closed, zone)}, figures stop there" if report.closed else ""),
    ]
    for conflict in report.conflicts:
        lines.append(f"  warning: {conflict.message}")
    lines += ["", "Waiting for approval:"]
    if not report.waiting:
        lines.append("  nothing")
    for row in report.waiting:
        lines.append(f"  draft {row.draft} ({row.channel}, by {row.author})")
        lines.append(f"    sha256 {row.sha256}")
        lines.extend(f"    BLOCKED: data class {name!r} may never be published" for name in row.forbidden)
        lines.extend(f"    problem: {problem}" for problem in row.problems)
        for step in row.steps:
            who = ", ".join(step.may_still_approve) or "nobody eligible"
            state = f"rejected by {step.rejected_by}" if step.rejected_by else f"needs {step.needed} more"
            done = f"; approved by {', '.join(step.approved_by)}" if step.approved_by else ""
            late = f", OVERDUE by {clocks.humanise(step.overdue_seconds)}" if step.overdue_seconds else ""
            lines.append(
                f"    step {step.step} ({step.role}): {state}{done}; may still approve: {who}; "
                f"due {_local(step.due, zone)}{late}"
            )
    if report.rejected:
        lines.append("Rejected (not waiting; write a new draft):")
        for rejected in report.rejected:
            why = "; ".join(f"{r.step} by {r.by}: {r.reason}" for r in rejected.rejections)
            lines.append(f"  draft {rejected.draft} ({rejected.channel}, by {rejected.author}): {why}")
    if report.ready_to_publish:
        lines.append("Approved, not yet published:")
        lines.extend(
            f"  draft {row.draft} ({row.channel}), sha256 {row.sha256}" for row in report.ready_to_publish
        )
    lines += ["", "Regulatory deadlines:"]
    if not report.deadlines:
        lines.append("  none assessed as applying")
    for d in report.deadlines:
        head = f"  {d['obligation']} ({d['title']}; notify {d['notify']}; {d['rule']}): "
        if d["state"] == "waiting":
            lines.append(
                head
                + (f"clock starts when {d['after']} is notified" if d["after"] else "no clock start recorded")
            )
        elif d["state"] == "tolled":
            lines.append(head + f"TOLLED until {_local(d.get('tolled_until'), zone)}")
        elif d["state"] in ("met", "late"):
            lines.append(
                head
                + f"{d['state'].upper()}, notified {_local(d['notified'], zone)} "
                + f"(due {_local(d['due'], zone)})"
            )
        elif d["due"] is None:
            lines.append(
                head
                + f"open, started {_local(d['start'], zone)}, "
                + f"{clocks.humanise(d['seconds_elapsed'] or 0)} elapsed"
            )
        else:
            lines.append(head + f"due {_local(d['due'], zone)}, {_left(d['seconds_left'])}")
    pending = [o for o in report.obligations if o["state"] in ("unassessed", "not-applicable")]
    if pending:
        lines += ["", "Obligations of the listed regulations not applying or not assessed:"]
        for o in pending:
            state = "UNASSESSED" if o["state"] == "unassessed" else "not applicable"
            lines.append(f"  {o['obligation']} ({o['title']}): {state}: {o['reason']}")
    lines += ["", "Next public update:"]
    nxt = report.next_update
    if nxt:
        lines.append(f"  due {_local(nxt.due, zone)} (every {nxt.every}), {_left(nxt.seconds_left)}")
    elif report.status == "closed":
        lines.append("  none: the incident is closed")
    else:
        lines.append("  no public statement yet")
    if report.override_reviews:
        lines += ["", "Emergency overrides awaiting review:"]
        for review in report.override_reviews:
            late = " OVERDUE" if review.overdue else ""
            lines.append(
                f"  {review.override} by {review.by} ({review.role}) on draft {review.draft}: "
                f"review by {review.review_by} before {_local(review.due, zone)}{late}"
            )
    if report.injects:
        lines += ["", "Exercise injects:"]
        for item in report.injects:
            mark = "delivered" if item.delivered else ("DUE" if item.pending else "upcoming")
            lines.append(f"  #{item.inject} at +{item.at} ({_local(item.due, zone)}) [{mark}]: {item.text}")
    if report.enquiries:
        now = report.closed or report.now
        lines += ["", "Media enquiries (by deadline):"]
        for enq in report.enquiries:
            if enq.answer:
                mark = ("late, " if enq.overdue(now) else "") + f"answered: {enq.answer}"
            else:
                mark = "OVERDUE" if enq.overdue(now) else "open"
            who = f" ({enq.journalist})" if enq.journalist else ""
            due = _local(enq.deadline, zone) if enq.deadline else "no deadline"
            lines.append(f"  {enq.entry} {enq.outlet}{who} via {enq.channel}, due {due} [{mark}]")
    if report.to_close:
        lines += ["", "Before it can close:"]
        for entry in report.to_close:
            lines.append(f"  {entry.what}")
            lines.append(f"    -> {entry.fix}")
    m = report.metrics
    lines += [
        "",
        "Metrics:",
        f"  time to detect {_span(m['time_to_detect_seconds'])}, "
        f"to declare {_span(m['time_to_declare_seconds'])}, "
        f"to first public statement {_span(m['time_to_first_public_statement_seconds'])}",
        f"  public statements {m['public_statements']}, "
        f"updates kept {m['updates_kept']}, missed {m['updates_missed']}",
        f"  deadlines met {m['deadlines_met']}, missed {m['deadlines_missed']}, open {m['deadlines_open']}",
        f"  corrections {m['corrections']}, approval steps over target {len(m['approval_sla_missed'])}",
        f"  time to page {_span(m['time_to_page_seconds'])}{_goal(m, 'time_to_page')}, to first statement "
        f"{_span(m['time_to_first_statement_seconds'])}{_goal(m, 'time_to_first_statement')} "
        f"(from the first signal, {m['first_signal_from']})",
    ]
    for name, row in m["approval_latency_per_step"].items():
        lines.append(f"  approval latency {name}: median {_span(row['median_seconds'])} over {row['count']}")
    return "\n".join(lines) + "\n"
