"""Incident records: a log the state machine accepts, ordered timestamps, safe coordination,
assignments to real role members."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.checks.protocols import unsafe_channel
from clearance.incidents import state
from clearance.index import parse_time
from clearance.model import Finding, Severity

TIMESTAMP_ORDER = ("started", "detected", "declared", "mitigated", "resolved", "closed")


@register(
    (
        "INC001",
        Severity.ERROR,
        "log entry the incident state machine does not allow (void it with a correction)",
    ),
    ("INC002", Severity.ERROR, "incident.yaml states a status other than the one its log arrives at"),
    ("INC003", Severity.ERROR, "incident timestamps out of order"),
    ("INC004", Severity.ERROR, "incident coordinated on a channel that is not approved and encrypted"),
    ("INC005", Severity.ERROR, "person assigned to an incident role is not a member of that role"),
    ("INC006", Severity.WARNING, "concurrent status or severity changes: the later entry wins"),
    ("INC007", Severity.WARNING, "entry logged after the incident was closed, without a reopen"),
)
def incidents(ctx: Context) -> Iterator[Finding]:
    for incident in ctx.subjects("incident"):
        protocol = ctx.get("protocol", incident.data.get("protocol"))
        levels = [
            str(s.get("level"))
            for s in (protocol.data.get("severities") or () if protocol else ())
            if isinstance(s, dict)
        ]
        derived = state.derive(incident, ctx.index.incident_entries(str(incident.id)), levels)
        for problem in derived.problems:
            yield ctx.finding(
                "INC001",
                problem.entry.where(problem.path),
                problem.message,
                problem.fix.replace("INCIDENT", str(incident.id)),
            )
        for conflict in derived.conflicts:
            related = (conflict.earlier.where(()),) if conflict.earlier is not None else ()
            yield ctx.finding(
                "INC006",
                conflict.entry.where(("to",) if conflict.what == "status" else ("severity",)),
                conflict.message,
                f"if {conflict.value!r} is wrong, append the {conflict.what} change that is right "
                "(the latest entry wins)",
                related,
            )
        for entry, closing in derived.after_close:
            ident = state.entry_id(entry)
            yield ctx.finding(
                "INC007",
                entry.where(("type",)),
                f"{entry.data.get('type')} {ident} is after the close {state.entry_id(closing)}",
                f"reopen: clearance incident log {incident.id} reopen --rationale '...' --at "
                f"<a time before {entry.data.get('at')}>, or void it: clearance incident log {incident.id} "
                f"correction --corrects {ident} --text '...'",
            )
        stated = incident.data.get("status")
        if stated is not None and stated != derived.status:
            last = derived.status_entry
            yield ctx.finding(
                "INC002",
                incident.where(("status",)),
                f"incident.yaml says status {stated!r}, its log arrives at {derived.status!r}"
                + (f" (entry {state.entry_id(last)})" if last is not None else ""),
                "the status is derived from the log: delete the 'status:' line from incident.yaml",
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
            unsafe = unsafe_channel(ctx, incident, "coordination_channel")
            if unsafe:
                yield unsafe
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
