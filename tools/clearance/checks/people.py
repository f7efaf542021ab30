"""Roles and people: every role held, every person placed, directories unambiguous."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.index import Index
from clearance.model import Finding, Severity


@register(
    ("PPL001", Severity.ERROR, "role has no members"),
    ("PPL002", Severity.WARNING, "person belongs to no role"),
    ("PPL003", Severity.ERROR, "email address used by more than one person"),
    ("PPL004", Severity.WARNING, "person entry is still a placeholder"),
)
def people(ctx: Context) -> Iterator[Finding]:
    for role in ctx.subjects("role"):
        members = [m for m in role.data.get("members") or () if isinstance(m, str)]
        if not members and role.data.get("status") != "retired":
            yield ctx.finding(
                "PPL001",
                role.where(("members",), key=True),
                f"role {role.id!r} has no members",
                "add the people who hold it under members:",
            )
    for person in ctx.subjects("person"):
        if person.data.get("status") == "retired":
            continue
        placed = ctx.index.derived("people.placed", _placed)
        owners = ctx.index.derived("people.emails", _email_owners)
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
            first = owners[email.lower()]
            if first != person.id:
                yield ctx.finding(
                    "PPL003",
                    person.where(("emails", position)),
                    f"email {email!r} is also used by person {first!r}",
                    "commits and approvals must map to exactly one person",
                )


def _placed(index: Index) -> set[str]:
    """Everyone who is a member or deputy of some role."""
    placed: set[str] = set()
    for role in index.of_kind("role"):
        placed.update(m for m in role.data.get("members") or () if isinstance(m, str))
        placed.update(d for d in role.data.get("deputies") or () if isinstance(d, str))
    return placed


def _email_owners(index: Index) -> dict[str, str]:
    """Each address (lower case) and the first person, in file order, listing it."""
    owners: dict[str, str] = {}
    for person in index.of_kind("person"):
        if person.data.get("status") == "retired":
            continue
        for email in person.data.get("emails") or ():
            if isinstance(email, str):
                owners.setdefault(email.lower(), str(person.id))
    return owners
