"""Opening an incident: its id, incident.yaml and the declaration entry, written so
that a retry after a crash finishes the opening exactly once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from clearance.errors import UsageError
from clearance.incidents import guard, logbook, store
from clearance.incidents.session import (
    Refused,
    Session,
    reload,
)
from clearance.model import Document

# Fields of incident.yaml that a retried 'new' must find unchanged to finish the opening.
_FIXED = (
    "title",
    "protocol",
    "severity",
    "exercise",
    "coordination_channel",
    "summary",
    "roles",
    "data_classes",
)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


def incident_id(detected: dt.datetime, name: str) -> str:
    """``<UTC date of detection>-<slug>``: the date is when the incident was detected, not
    when someone typed the command, so everyone who knows ``--detected`` knows the id."""
    return f"{detected.astimezone(dt.UTC):%Y-%m-%d}-{slugify(name)}"


def new_incident(
    session: Session,
    actor: str,
    *,
    protocol: str,
    title: str,
    severity: str,
    slug: str | None = None,
    exercise: bool = False,
    channel: str | None = None,
    detected: dt.datetime | None = None,
    started: dt.datetime | None = None,
    summary: str | None = None,
    roles: Sequence[tuple[str, str]] = (),
    data_classes: Sequence[str] = (),
    classification: str = "confidential",
) -> str:
    proto = session.need("protocol", protocol)
    levels = [s.get("level") for s in proto.data.get("severities") or () if isinstance(s, dict)]
    if severity not in levels:
        raise UsageError(
            f"protocol {protocol!r} has no severity {severity!r}; it defines {', '.join(map(str, levels))}"
        )
    channel_id = channel or proto.data.get("coordination_channel")
    if not channel_id:
        raise UsageError(f"protocol {protocol!r} names no coordination channel; pass --channel")
    chan = session.need("channel", str(channel_id))
    missing = [
        what
        for what, ok in (
            ("internal", chan.data.get("audience") == "internal"),
            ("approved", chan.data.get("approved") is True),
            ("end-to-end encrypted", chan.data.get("end_to_end_encrypted") is True),
        )
        if not ok
    ]
    if missing:
        raise Refused(
            f"coordination channel {channel_id!r} is not {' and '.join(missing)}; "
            "incidents are coordinated only on approved, end-to-end encrypted internal channels"
        )
    for role, person in roles:
        role_doc = session.need("role", role)
        session.need("person", person)
        if person not in (role_doc.data.get("members") or ()) and person not in (
            role_doc.data.get("deputies") or ()
        ):
            raise Refused(f"{person!r} is neither a member nor a deputy of role {role!r}")
    for name in data_classes:
        session.need("data-class", name, "data class")
    declared = session.now
    given_detected = detected is not None
    detected = detected or declared
    if detected > declared:
        raise UsageError("the detection time is after now (the declaration)")
    if started and started > detected:
        raise UsageError("the start time is after the detection time")
    name = slug or title
    if not slugify(name):
        flag = "--slug" if slug else "--title"
        raise UsageError(f"{flag} {name!r} has no letters or digits to name the incident by")
    ident = incident_id(detected, name)
    stamps: dict[str, str] = {}
    if started:
        stamps["started"] = store.format_time(started)
    stamps["detected"] = store.format_time(detected)
    stamps["declared"] = store.format_time(declared)
    data: dict[str, Any] = {
        "kind": "incident",
        "id": ident,
        "title": title,
        "owner": proto.data.get("owner"),
        "classification": classification,
        "protocol": protocol,
        "severity": severity,
    }
    if exercise:
        data["exercise"] = True
    data["coordination_channel"] = channel_id
    if summary:
        data["summary"] = summary
    data["timestamps"] = stamps
    if roles:
        data["roles"] = [{"role": r, "person": p} for r, p in roles]
    if data_classes:
        data["data_classes"] = list(data_classes)
    rel = f"incidents/{ident}/incident.yaml"
    existing = session.index.get("incident", ident)
    folder = session.root / "incidents" / ident
    # An empty folder is what a 'new' killed before its first write leaves: not an incident.
    if existing is not None or (folder.exists() and any(p.is_file() for p in folder.rglob("*"))):
        if existing is None or not _same_opening(existing, data, given_detected):
            what = f" ({existing.data.get('title')!r})" if existing else ""
            raise Refused(
                f"incident {ident!r} already exists{what}: log to it, or if this is another incident "
                f"detected that day, name it with --slug, e.g. --slug {ident[11:]}-2"
            )
        if session.entries(ident):
            return ident  # the same command again: it is open
        # A retry after a crash between incident.yaml and the first entry: finish the opening.
        declared = dt.datetime.fromisoformat(
            str(
                (existing.data.get("timestamps") or {}).get("declared") or store.format_time(declared)
            ).replace("Z", "+00:00")
        )
    else:
        # incident.yaml first: until the declaration entry lands the incident reads as
        # 'triage', a consistent state that a retry of the same command completes.
        guard.refuse_never_in(session, Document(rel, data, {}, {}), data, "the incident")
        text = store.checked(session.root, rel, data)
        try:
            store.create_exclusive(session.root / rel, text, root=session.root)
        except FileExistsError:
            raise Refused(f"{rel} already exists") from None
        session = reload(session)
    logbook.append_to(
        session,
        ident,
        {
            "type": "status-change",
            "at": store.format_time(declared),
            "by": actor,
            "from": "triage",
            "to": "active",
            "severity": severity,
            "text": ("Exercise declared: " if exercise else "Incident declared: ") + title,
        },
    )
    return ident


def _same_opening(existing: Document, data: Mapping[str, Any], given_detected: bool) -> bool:
    """Whether ``existing`` is what this 'new' would write (a retry of the same command);
    times the command took from the clock are not compared."""
    stamps = dict(existing.data.get("timestamps") or {})
    wanted = dict(data.get("timestamps") or {})
    for name in ("declared",) if given_detected else ("declared", "detected"):
        stamps.pop(name, None)
        wanted.pop(name, None)
    return stamps == wanted and all(existing.data.get(k) == data.get(k) for k in _FIXED)
