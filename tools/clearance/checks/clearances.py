"""Pre-cleared templates: approvals that verify, text still the one approved, slots that
match the body, and clearances that have expired or are about to (see
:mod:`clearance.incidents.preclearance`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.incidents import preclearance, provenance
from clearance.model import Finding, Severity


@register(
    ("CLR001", Severity.ERROR, "template clearance approval does not verify (signature, role or signer)"),
    ("CLR002", Severity.WARNING, "template clearance has expired or expires soon"),
    ("CLR003", Severity.WARNING, "template text changed since its clearance approved it"),
    ("CLR004", Severity.ERROR, "template clearance slots do not match the template's placeholders"),
)
def clearances(ctx: Context) -> Iterator[Finding]:
    judge: provenance.Provenance | None = None
    for doc in ctx.subjects("template"):
        found = preclearance.clearance_of(doc)
        if found is None or doc.data.get("status") == "retired":
            continue
        if judge is None:
            judge = provenance.Provenance(ctx.index, ctx.config.root.resolve())
        for rule, path, message in preclearance.problems(found, ctx.index, judge):
            hint = {
                "CLR001": "the approver signs again: clearance signals preclear "
                f"{doc.id} --step STEP (then commits the template)",
                "CLR003": "review the new text, pin its sha256 in 'clearance:', remove the approvals and "
                "have each approver preclear it again",
                "CLR004": "list allowed 'values' or a 'pattern' for each placeholder of the body",
            }.get(rule)
            yield ctx.finding(rule, doc.where(path), message, hint)
        soon = dt.timedelta(days=ctx.config.due_soon_days)
        if found.expires is None:
            continue
        if found.expired(ctx.now):
            yield ctx.finding(
                "CLR002",
                doc.where(("clearance", "expires")),
                f"clearance {found.id!r} of template {doc.id!r} expired on {found.expires.isoformat()}; "
                "drafts from it need the full chain again",
                "renew it: a new expiry, and every approver preclears it again",
            )
        elif found.expires <= ctx.now + soon:
            ctx.until(found.expires)
            yield ctx.finding(
                "CLR002",
                doc.where(("clearance", "expires")),
                f"clearance {found.id!r} of template {doc.id!r} expires on {found.expires.isoformat()}",
                "renew it before then: a new expiry, and every approver preclears it again",
            )
        else:
            ctx.until(found.expires - soon)
