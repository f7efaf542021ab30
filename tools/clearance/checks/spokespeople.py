"""Spokespeople (see :mod:`clearance.incidents.spokespeople`): SPK001, a publication on a
channel that requires spokespeople by someone who is not a current one for it."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.incidents import spokespeople
from clearance.index import parse_time
from clearance.model import Finding, Severity


@register(
    ("SPK001", Severity.ERROR, "publication by someone who is not a current spokesperson for the channel"),
)
def speakers(ctx: Context) -> Iterator[Finding]:
    for entry in ctx.subjects("log-entry"):
        if entry.data.get("type") != "publication":
            continue
        why = spokespeople.problem(
            ctx.index, entry.data.get("by"), entry.data.get("channel"), parse_time(entry.data.get("at"))
        )
        if why is not None:
            yield ctx.finding(
                "SPK001",
                entry.where(("by",)),
                f"publication on a channel that requires spokespeople: {why}",
                "a current spokesperson for the channel publishes; renew media training in the person record",
            )
