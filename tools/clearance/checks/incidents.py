"""Incident records: valid status transitions, ordered timestamps, safe coordination,
assignments to real role members."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.checks.protocols import unsafe_channel
from clearance.index import parse_time
from clearance.model import Finding, Severity

TRANSITIONS = {
    "triage": {"active", "stable"},
    "active": {"stable"},
    "stable": {"active", "closed"},
    "closed": {"active"},
}
TIMESTAMP_ORDER = ("started", "detected", "declared", "mitigated", "resolved", "closed")


@register(
    ("INC001", Severity.ERROR, "status change that skips a stage or does not start from the current status"),
    ("INC002", Severity.ERROR, "incident status differs from the status its log arrives at"),
    ("INC003", Severity.ERROR, "incident timestamps out of order"),
    ("INC004", Severity.ERROR, "incident coordinated on a channel that is not approved and encrypted"),
    ("INC005", Severity.ERROR, "person assigned to an incident role is not a member of that role"),
)
def incidents(ctx: Context) -> Iterator[Finding]:
    for incident in ctx.subjects("incident"):
        status = "triage"
        for entry in ctx.index.incident_entries(str(incident.id)):
            if entry.data.get("type") != "status-change":
                continue
            target = entry.data.get("to")
            source = entry.data.get("from", status)
            if source != status:
                yield ctx.finding(
                    "INC001",
                    entry.where(("from",)),
                    f"status change from {source!r}, but the incident was {status!r}",
                )
            elif target not in TRANSITIONS.get(status, set()):
                allowed = ", ".join(sorted(TRANSITIONS.get(status, set())))
                yield ctx.finding(
                    "INC001",
                    entry.where(("to",)),
                    f"status cannot go from {status!r} to {target!r}",
                    f"from {status!r} it may go to: {allowed}",
                )
            if isinstance(target, str):
                status = target
        if incident.data.get("status") != status:
            yield ctx.finding(
                "INC002",
                incident.where(("status",)),
                f"incident says status {incident.data.get('status')!r}, its log arrives at {status!r}",
                "record status changes with 'clearance incident log status-change'",
            )
        stamps = incident.data.get("timestamps")
        if isinstance(stamps, dict):
            previous: tuple[str, object] | None = None
            for name in TIMESTAMP_ORDER:
                when = parse_time(stamps.get(name))
                if when is None:
                    continue
                if previous is not None and when < previous[1]:  # type: ignore[operator]
                    yield ctx.finding(
                        "INC003",
                        incident.where(("timestamps", name)),
                        f"{name} ({stamps.get(name)}) is before {previous[0]}",
                        "order: started <= detected <= declared <= mitigated <= resolved <= closed",
                    )
                previous = (name, when)
        if "coordination_channel" in incident.data:
            problem = unsafe_channel(ctx, incident, "coordination_channel")
            if problem:
                yield problem
        for position, item in enumerate(incident.data.get("roles") or ()):
            if not isinstance(item, dict):
                continue
            role = ctx.get("role", item.get("role"))
            if role is None:
                continue
            if item.get("person") not in (role.data.get("members") or ()) and item.get("person") not in (
                role.data.get("deputies") or ()
            ):
                yield ctx.finding(
                    "INC005",
                    incident.where(("roles", position, "person")),
                    f"{item.get('person')!r} is neither a member nor a deputy of role {item.get('role')!r}",
                )
