"""Training and read acknowledgements as records: who read or was trained on which
version of a policy, when, and how we know (the person's own commit, or an import of
the learning system's export); and coverage by role.

- ACK001: a record of a version the policy never had (after its current one) or dated
  before that version existed, or in the future.
- ACK002: a policy's ``acknowledge`` roles have members without a record of its current
  version once the grace period after the change has passed (coverage by role).
- ACK003: a ``signed-commit`` record not committed by the person it names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clearance import durations
from clearance.checks import Context, register
from clearance.index import Index, parse_time
from clearance.model import Document, Finding, Severity


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Gap:
    """One role's members who have not acknowledged a policy's current version."""

    role: str
    missing: tuple[str, ...]
    total: int


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def acknowledged(index: Index, policy: str, version: dt.date, what: str | None) -> set[str]:
    """The people with a record of ``version`` of ``policy``."""
    people: set[str] = set()
    for doc in index.of_kind("acknowledgement"):
        for record in _items(doc.data.get("records")):
            if not isinstance(record, Mapping) or record.get("policy") != policy:
                continue
            if _date(record.get("version")) != version or (what and record.get("what") != what):
                continue
            people.add(str(record.get("person")))
    return people


def coverage(index: Index, policy: Document) -> tuple[dt.date | None, list[Gap]]:
    """The policy's current version and, per role it names, who has not acknowledged it
    (also shown on the handbook's dashboard)."""
    spec = policy.data.get("acknowledge")
    review = policy.data.get("review")
    version = _date(review.get("last")) if isinstance(review, Mapping) else None
    if not isinstance(spec, Mapping) or version is None:
        return version, []
    done = acknowledged(index, str(policy.id), version, spec.get("what"))
    gaps: list[Gap] = []
    for role_id in _items(spec.get("roles")):
        role = index.get("role", role_id) if isinstance(role_id, str) else None
        if role is None:
            continue
        people = list(
            dict.fromkeys([*(_items(role.data.get("members"))), *(_items(role.data.get("deputies")))])
        )
        missing = tuple(p for p in people if p not in done)
        if missing:
            gaps.append(Gap(str(role_id), missing, len(people)))
    return version, gaps


@register(
    ("ACK001", Severity.ERROR, "acknowledgement of a policy version that did not exist at the time"),
    ("ACK002", Severity.WARNING, "people in a role have not acknowledged the current version of a policy"),
    ("ACK003", Severity.ERROR, "self-recorded acknowledgement not committed by the person it names"),
)
def acknowledgements(ctx: Context) -> Iterator[Finding]:
    yield from _records(ctx)
    for policy in ctx.subjects("policy"):
        spec = policy.data.get("acknowledge")
        if not isinstance(spec, Mapping):
            continue
        within = durations.parse(str(spec.get("within")))
        version, gaps = coverage(ctx.index, policy)
        if version is None or within is None:
            continue
        due = within.after(version)
        assert isinstance(due, dt.date)
        if due >= ctx.today:
            ctx.until_date(due + dt.timedelta(days=1))
            continue
        for gap in gaps:
            shown = ", ".join(gap.missing[:8]) + (
                f" and {len(gap.missing) - 8} more" if len(gap.missing) > 8 else ""
            )
            yield ctx.finding(
                "ACK002",
                policy.where(("acknowledge", "roles")),
                f"{len(gap.missing)} of {gap.total} in role {gap.role!r} have no "
                f"{spec.get('what') or 'read'} record of version {version} of {policy.id!r} "
                f"(due {due}): {shown}",
                "they read it and commit their own record (method: signed-commit), or import the learning "
                "system's export as an acknowledgement batch (method: import)",
            )


def _records(ctx: Context) -> Iterator[Finding]:
    from clearance.incidents import provenance  # history only when there are records

    judge: provenance.Provenance | None = None
    for doc in ctx.subjects("acknowledgement"):
        signed = doc.data.get("method") == "signed-commit"
        for position, record in enumerate(_items(doc.data.get("records"))):
            if not isinstance(record, Mapping):
                continue
            yield from _version(ctx, doc, position, record)
            if not signed:
                continue
            if judge is None:
                judge = provenance.Provenance(ctx.index, ctx.config.root.resolve())
            history = judge.history
            if history is None:
                continue  # outside git nothing can be proved either way; verify reports it
            changes = history.changes(doc.path)
            commit = history.resolve(changes[-1].sha) if changes else None
            if commit is None:
                continue  # not committed yet: judged once it is
            person = ctx.get("person", record.get("person"))
            emails = {str(e).lower() for e in (_items(person.data.get("emails")))} if person else set()
            if commit.author_email.lower() not in emails:
                yield ctx.finding(
                    "ACK003",
                    doc.where(("records", position, "person")),
                    f"record for {record.get('person')!r} was added by commit {commit.sha[:12]} of "
                    f"{commit.author_email!r}, not by that person",
                    "each person commits their own record; a batch from the learning system is "
                    "method: import with its source",
                )


def _version(ctx: Context, doc: Document, position: int, record: Mapping[str, object]) -> Iterator[Finding]:
    policy = ctx.get("policy", record.get("policy"))
    version = _date(record.get("version"))
    at = parse_time(record.get("at"))
    if policy is None or version is None or at is None:
        return  # the schema and the reference check report it
    review = policy.data.get("review")
    current = _date(review.get("last")) if isinstance(review, Mapping) else None
    where = doc.where(("records", position, "version"))
    if current is not None and version > current:
        yield ctx.finding(
            "ACK001",
            where,
            f"version {version} of {policy.id!r} does not exist: its current version is {current}",
            "the version is the policy's review.last on the day it was read",
        )
    elif at.date() < version:
        yield ctx.finding(
            "ACK001",
            doc.where(("records", position, "at")),
            f"read on {at.date()}, before version {version} of {policy.id!r} existed",
        )
    elif at > ctx.now:
        yield ctx.finding("ACK001", doc.where(("records", position, "at")), f"read at {at}, in the future")
