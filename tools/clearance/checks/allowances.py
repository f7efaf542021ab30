"""Standing allowances: effective only once the disclosure chain of the class they let
through approved them (see :mod:`clearance.incidents.allowances`); a ``never`` class
takes none at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from clearance.checks import Context, register
from clearance.model import Document, Finding, Severity


@register(
    (
        "ALW001",
        Severity.WARNING,
        "allowance not (yet) approved by its class's disclosure chain: it lets nothing through",
    ),
    ("ALW002", Severity.ERROR, "allowance for a data class whose disclosure rule is 'never'"),
    ("ALW003", Severity.WARNING, "allowance approval naming no allowance of its incident"),
)
def allowances(ctx: Context) -> Iterator[Finding]:
    yield from _never_class_allowances(ctx)
    incidents = ctx.subjects("incident")
    if not incidents:
        return
    from clearance.incidents import allowances as standing_mod
    from clearance.incidents import approvals, state

    judge = approvals.Membership(ctx.index, ctx.config.root, required=ctx.config.signing_decisions)
    for incident in incidents:
        entries = ctx.index.incident_entries(str(incident.id))
        drafts = [e for e in entries if e.data.get("type") == "draft" and e.data.get("allow")]
        if not incident.data.get("allow") and not drafts and not _any_approval(entries):
            continue
        known: set[str] = set()
        seen: set[object] = set()
        # a closed incident publishes nothing until reopened: a pending allowance there is
        # no gap (a never-class allowance still is)
        pending = state.derive(incident, entries).status != "closed"
        for draft in [None, *drafts]:
            author = draft.data.get("by") if draft is not None else None
            for item in standing_mod.standing(
                ctx.index, incident, entries, judge, author=author, draft=draft
            ):
                known.add(item.sha256)
                if item.location in seen or (draft is not None and item.location.path != draft.path):
                    continue
                seen.add(item.location)
                yield from _judged(ctx, item, pending)
        for entry in entries:
            if entry.data.get("type") == standing_mod.KIND and str(entry.data.get("allowance")) not in known:
                yield ctx.finding(
                    "ALW003",
                    entry.where(("allowance",)),
                    f"approval by {entry.data.get('by')!r} names allowance "
                    f"{str(entry.data.get('allowance'))[:12]}..., "
                    f"which incident {incident.id!r} does not hold (changed after it was approved?)",
                    "an allowance changed in any of match, detector, by or reason needs new approvals: "
                    "clearance allowance list " + str(incident.id),
                )


def _any_approval(entries: list[Document]) -> bool:
    from clearance.incidents.allowances import KIND

    return any(e.data.get("type") == KIND for e in entries)


def _judged(ctx: Context, item: object, pending: bool) -> Iterator[Finding]:
    from clearance.incidents.allowances import Standing

    assert isinstance(item, Standing)
    masked = _mask(item.item)
    if item.never:
        yield ctx.finding(
            "ALW002",
            item.location,
            f"allowance for {masked!r} lets through {', '.join(repr(c) for c in item.never)}, whose "
            "disclosure rule is 'never': it takes no allowance, whoever approves it",
            "remove the allowance; a statement must not contain it",
        )
        return
    if not item.classes or item.effective or not pending:
        return
    yield ctx.finding(
        "ALW001",
        item.location,
        f"allowance for {masked!r} ({', '.join(item.classes)}; sha256 {item.sha256[:12]}...) lets nothing "
        f"through yet: " + "; ".join(item.reasons()),
        f"each step's approvers run: clearance allowance approve {item.incident} {item.sha256} --role ROLE",
    )


def _mask(item: Mapping[str, object]) -> str:
    from clearance.scan import mask

    match = item.get("match")
    return mask(str(item.get("detector") or ""), match) if isinstance(match, str) else "?"


def _never_class_allowances(ctx: Context) -> Iterator[Finding]:
    """A data class whose rule is 'never' may not carry allowances of its own either."""
    for doc in ctx.subjects("data-class"):
        disclosure = doc.data.get("disclosure")
        items = doc.data.get("allow")
        if (
            not isinstance(disclosure, Mapping)
            or disclosure.get("rule") != "never"
            or not isinstance(items, list)
        ):
            continue
        for position, raw in enumerate(items):
            if isinstance(raw, Mapping):
                yield ctx.finding(
                    "ALW002",
                    doc.where(("allow", position)),
                    f"data class {doc.id!r} has the disclosure rule 'never' and an allowance for "
                    f"{_mask(raw)!r}: it takes no allowance",
                    "remove the allowance",
                )
