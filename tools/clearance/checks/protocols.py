"""Protocols that can run: triggers, severities with chains, ordered steps, safe channels."""

from __future__ import annotations

from collections.abc import Iterator

from clearance import durations
from clearance.checks import Context, register
from clearance.model import Document, Finding, Severity


def unsafe_channel(ctx: Context, doc: Document, field: str) -> Finding | None:
    """A finding when ``doc[field]`` names a channel not approved and end-to-end encrypted."""
    channel = ctx.get("channel", doc.data.get(field))
    if channel is None:
        return None
    missing = [
        what
        for what, flag in (("approved", "approved"), ("end-to-end encrypted", "end_to_end_encrypted"))
        if channel.data.get(flag) is not True
    ]
    if channel.data.get("audience") == "public":
        missing.insert(0, "internal")
    if not missing:
        return None
    rule = "PRO004" if doc.kind == "protocol" else "INC004"
    return ctx.finding(
        rule,
        doc.where((field,)),
        f"coordination channel {channel.id!r} is not {' and '.join(missing)}",
        "coordinate incidents only on an approved, end-to-end encrypted internal channel",
    )


def duplicate_ids(ctx: Context, rule: str, doc: Document, field: str, key: str = "id") -> Iterator[Finding]:
    seen: set[object] = set()
    for position, item in enumerate(doc.data.get(field) or ()):
        if isinstance(item, dict) and key in item:
            if item[key] in seen:
                yield ctx.finding(
                    rule,
                    doc.where((field, position, key)),
                    f"{field} {key} {item[key]!r} is used twice",
                )
            seen.add(item[key])


@register(
    ("PRO001", Severity.ERROR, "severity level defined twice, or step/trigger id used twice"),
    ("PRO002", Severity.WARNING, "step time targets are out of order"),
    ("PRO003", Severity.INFO, "protocol has no fast (wildfire) trigger"),
    ("PRO004", Severity.ERROR, "protocol's coordination channel is not approved and encrypted"),
    ("PRO005", Severity.WARNING, "top severity level has no public update cadence"),
)
def protocols(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects("protocol"):
        yield from duplicate_ids(ctx, "PRO001", doc, "severities", "level")
        yield from duplicate_ids(ctx, "PRO001", doc, "steps")
        yield from duplicate_ids(ctx, "PRO001", doc, "triggers")
        previous = None
        for position, step in enumerate(doc.data.get("steps") or ()):
            if not isinstance(step, dict):
                continue
            within = durations.parse(step.get("within", ""))
            if within is None or within.months:
                continue
            if previous is not None and within.fixed < previous[1]:
                yield ctx.finding(
                    "PRO002",
                    doc.where(("steps", position, "within")),
                    f"step {step.get('id')!r} is due ({step.get('within')}) before the step above it "
                    f"({previous[0]})",
                    "order steps by their time target",
                )
            previous = (step.get("within"), within.fixed)
        triggers = [t for t in doc.data.get("triggers") or () if isinstance(t, dict)]
        if triggers and not any(t.get("speed") == "fast" for t in triggers):
            yield ctx.finding(
                "PRO003",
                doc.where(("triggers",), key=True),
                "no fast trigger: a post going viral within the hour would not escalate",
                "add a trigger with speed: fast (e.g. mentions per hour)",
            )
        levels = [s for s in doc.data.get("severities") or () if isinstance(s, dict)]
        top = min(levels, key=lambda s: str(s.get("level")), default=None)
        if top is not None and "update_every" not in top:
            position = levels.index(top)
            yield ctx.finding(
                "PRO005",
                doc.where(("severities", position, "level")),
                f"severity {top.get('level')!r} does not say how often public updates go out",
                "add update_every, e.g. PT30M",
            )
        if "coordination_channel" in doc.data:
            problem = unsafe_channel(ctx, doc, "coordination_channel")
            if problem:
                yield problem
