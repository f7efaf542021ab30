"""Roles and people: every role held, every person placed, directories unambiguous."""

from __future__ import annotations

from collections.abc import Iterator

from charter.checks import Context, register
from charter.model import Finding, Severity


@register(
    ("PPL001", Severity.ERROR, "role has no members"),
    ("PPL002", Severity.WARNING, "person belongs to no role"),
    ("PPL003", Severity.ERROR, "email address used by more than one person"),
    ("PPL004", Severity.WARNING, "person entry is still a placeholder"),
)
def people(ctx: Context) -> Iterator[Finding]:
    placed: set[str] = set()
    for role in ctx.index.of_kind("role"):
        members = [m for m in role.data.get("members") or () if isinstance(m, str)]
        placed.update(members)
        placed.update(d for d in role.data.get("deputies") or () if isinstance(d, str))
        if not members and role.data.get("status") != "retired":
            yield ctx.finding(
                "PPL001",
                role.where(("members",), key=True),
                f"role {role.id!r} has no members",
                "add the people who hold it under members:",
            )
    owners: dict[str, str] = {}
    for person in ctx.index.of_kind("person"):
        if person.data.get("status") == "retired":
            continue
        if person.id not in placed:
            yield ctx.finding(
                "PPL002",
                person,
                f"person {person.id!r} is not a member or deputy of any role",
                "add them to a role, or retire the entry",
            )
        if person.data.get("placeholder"):
            yield ctx.finding(
                "PPL004",
                person.where(("placeholder",), key=True),
                f"person {person.id!r} is a placeholder",
                "fill in the real name, emails and code_host, then delete 'placeholder: true'",
            )
        for position, email in enumerate(person.data.get("emails") or ()):
            if not isinstance(email, str):
                continue
            first = owners.setdefault(email.lower(), str(person.id))
            if first != person.id:
                yield ctx.finding(
                    "PPL003",
                    person.where(("emails", position)),
                    f"email {email!r} is also used by person {first!r}",
                    "commits and approvals must map to exactly one person",
                )
