"""Policies: clause ids that stay unique so citations stay meaningful."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.checks.protocols import duplicate_ids
from clearance.model import Finding, Severity


@register(
    ("POL001", Severity.ERROR, "clause id used twice in one policy"),
    ("POL002", Severity.WARNING, "policy has no Markdown body"),
)
def policies(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects("policy"):
        yield from duplicate_ids(ctx, "POL001", doc, "clauses")
        if not (doc.body or "").strip():
            yield ctx.finding(
                "POL002",
                doc,
                f"policy {doc.id!r} has clauses but no explanatory text",
                "write a short body: why the policy exists and who it is for",
            )
