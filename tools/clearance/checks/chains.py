"""Approval chains that can actually be satisfied, with separation of duties."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.model import Finding, Severity


def members_of(ctx: Context, role_id: object) -> list[str]:
    role = ctx.get("role", role_id)
    if role is None:
        return []
    return [m for m in role.data.get("members") or () if isinstance(m, str)]


@register(
    ("CHN001", Severity.ERROR, "step cannot reach its quorum once the draft's author is excluded"),
    ("CHN002", Severity.ERROR, "duplicate step id in an approval chain"),
    ("CHN003", Severity.WARNING, "emergency override is reviewed by a role that may itself override"),
    ("CHN004", Severity.WARNING, "the same role approves twice in one chain"),
)
def chains(ctx: Context) -> Iterator[Finding]:
    for chain in ctx.subjects("approval-chain"):
        seen_ids: set[str] = set()
        seen_roles: dict[str, int] = {}
        for position, step in enumerate(chain.data.get("steps") or ()):
            if not isinstance(step, dict):
                continue
            step_id, role_id = step.get("id"), step.get("role")
            if step_id in seen_ids:
                yield ctx.finding(
                    "CHN002", chain.where(("steps", position, "id")), f"step id {step_id!r} is used twice"
                )
            seen_ids.add(str(step_id))
            quorum = step.get("quorum", 1)
            if not isinstance(quorum, int) or ctx.get("role", role_id) is None:
                continue  # the schema or REF001 reports it
            members = members_of(ctx, role_id)
            if not members:
                yield ctx.finding(
                    "CHN001",
                    chain.where(("steps", position, "role")),
                    f"step {step_id!r} needs role {role_id!r}, which nobody holds",
                    f"add members to role {role_id!r}",
                )
            elif len(members) < quorum + 1:
                yield ctx.finding(
                    "CHN001",
                    chain.where(("steps", position, "role")),
                    f"step {step_id!r} needs {quorum} approval(s) from {role_id!r}, which has "
                    f"{len(members)} member(s): if one of them wrote the draft, the step can never be met",
                    f"give {role_id!r} at least {quorum + 1} members, or lower the quorum",
                )
            if isinstance(role_id, str) and role_id in seen_roles and not step.get("when"):
                yield ctx.finding(
                    "CHN004",
                    chain.where(("steps", position, "role")),
                    f"role {role_id!r} already approves in step {seen_roles[role_id] + 1}",
                    "merge the steps and raise the quorum instead",
                )
            if isinstance(role_id, str):
                seen_roles.setdefault(role_id, position)
        override = chain.data.get("emergency_override")
        if isinstance(override, dict) and override.get("review_by") in (override.get("roles") or ()):
            yield ctx.finding(
                "CHN003",
                chain.where(("emergency_override", "review_by")),
                f"overrides are reviewed by {override.get('review_by')!r}, which may also override",
                "name an independent reviewer role",
            )
