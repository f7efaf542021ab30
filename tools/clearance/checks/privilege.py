"""Privileged log entries (see :mod:`clearance.incidents.privilege`).

- PRV001: a privileged entry whose counsel is not a member of a legal role (a role with
  ``legal: true``), or a repository with no legal role at all.
- PRV002: a privileged draft published: publishing waives privilege, so a statement to
  the public is drafted as an ordinary entry.
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.incidents import privilege
from clearance.index import incident_of
from clearance.model import Finding, Severity


@register(
    ("PRV001", Severity.ERROR, "privileged entry whose counsel is not a member of a legal role"),
    ("PRV002", Severity.ERROR, "privileged draft published (publication waives privilege)"),
)
def privileged(ctx: Context) -> Iterator[Finding]:
    lawyers: set[str] | None = None
    entries = ctx.subjects("log-entry")
    for entry in entries:
        mark = privilege.marking(entry)
        if mark is None:
            continue
        if lawyers is None:
            lawyers = privilege.counsel(ctx.index)
        if mark.counsel in lawyers:
            continue
        roles = [str(r.id) for r in privilege.legal_roles(ctx.index)]
        if not roles:
            why = "no role is marked 'legal: true', so nobody can direct privileged work"
            hint = "mark the legal counsel role with 'legal: true' in its register entry"
        else:
            who = repr(mark.counsel) if mark.counsel else "nobody"
            why = f"counsel {who} is not a member of {', '.join(repr(r) for r in roles)}"
            hint = "name a member of a legal role as counsel; a correction entry can re-mark the work"
        yield ctx.finding(
            "PRV001",
            entry.where(("privileged", "counsel")),
            f"privileged entry: {why}",
            hint,
        )
    for entry in entries:
        draft = entry.data.get("draft")
        if entry.data.get("type") != "publication" or not isinstance(draft, str):
            continue
        if privilege.is_privileged(ctx.get("log-entry", f"{incident_of(entry)}/{draft}")):
            yield ctx.finding(
                "PRV002",
                entry.where(("draft",)),
                f"publication of privileged draft {draft!r}: publishing waives privilege",
                "draft the public statement as an ordinary entry and have it approved on its own",
            )
