"""Published statements against the talking points in force when they went out (see
:mod:`clearance.incidents.talkingpoints`)."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.model import Finding, Severity


@register(
    ("TPT001", Severity.ERROR, "published statement contradicts a current talking point on a declared fact")
)
def talking_points(ctx: Context) -> Iterator[Finding]:
    from clearance.incidents import state, talkingpoints
    from clearance.index import parse_time

    for incident in ctx.subjects("incident"):
        entries = ctx.index.incident_entries(str(incident.id))
        if not any(e.data.get("type") == "talking-points" and e.data.get("declares") for e in entries):
            continue
        drafts = {state.entry_id(e): e for e in entries if e.data.get("type") == "draft"}
        for entry in entries:
            at = parse_time(entry.data.get("at"))
            draft = drafts.get(str(entry.data.get("draft")))
            if entry.data.get("type") != "publication" or at is None or draft is None:
                continue
            for found in talkingpoints.contradictions(
                str(draft.data.get("text", "")), talkingpoints.current(entries, at)
            ):
                yield ctx.finding(
                    "TPT001",
                    entry.where(("draft",)),
                    f"published draft {state.entry_id(draft)} says {', '.join(found.stated)} in "
                    f"{found.sentence!r}, but talking points {found.points} declare {found.fact!r} = "
                    f"{found.declared!r}",
                    "publish a correction with the declared value, or supersede the talking points if the "
                    "fact changed (and say so in a correction)",
                )
