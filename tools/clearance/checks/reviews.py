"""Review cadence: documents reviewed on time, and warned about before they are due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from clearance import durations
from clearance.checks import Context, register
from clearance.model import Finding, Severity

_NEEDS_REVIEW = {"policy", "protocol", "approval-chain", "template", "data-class", "regulation"}


@register(
    ("REV001", Severity.WARNING, "review is overdue"),
    ("REV002", Severity.INFO, "review falls due soon"),
    ("REV003", Severity.WARNING, "active policy or protocol has no review cadence"),
    ("REV004", Severity.WARNING, "last review date is in the future"),
)
def review_cadence(ctx: Context) -> Iterator[Finding]:
    today = ctx.today
    soon = dt.timedelta(days=ctx.config.due_soon_days)
    for doc in ctx.subjects():
        if doc.data.get("status") != "active" or doc.kind not in _NEEDS_REVIEW:
            continue
        review = doc.data.get("review")
        if not isinstance(review, dict):
            if doc.kind in ("policy", "protocol"):
                yield ctx.finding(
                    "REV003",
                    doc,
                    f"active {doc.kind} {doc.id!r} has no review cadence",
                    "add review: {every: P1Y, last: YYYY-MM-DD}",
                )
            continue
        every = durations.parse(review.get("every", ""))
        try:
            last = dt.date.fromisoformat(str(review.get("last")))
        except ValueError:
            continue  # the schema reports it
        if every is None:
            continue
        if last > today:
            ctx.until_date(last)  # from that day on, the finding changes
            yield ctx.finding(
                "REV004",
                doc.where(("review", "last")),
                f"last review {last} is after today ({today})",
            )
            continue
        due = every.after(last)
        assert isinstance(due, dt.date)
        for days in (-soon.days, 1):  # the finding changes when today reaches due - soon, due + 1
            try:
                boundary = due + dt.timedelta(days=days)
            except OverflowError:
                continue
            if boundary > today:
                ctx.until_date(boundary)
        if due < today:
            yield ctx.finding(
                "REV001",
                doc.where(("review", "last")),
                f"review was due on {due} ({(today - due).days} days ago; every {every})",
                "review the document, then update review.last in the same pull request",
            )
        elif due - today <= soon:
            yield ctx.finding(
                "REV002",
                doc.where(("review", "last")),
                f"review falls due on {due} (in {(due - today).days} days)",
            )
