"""Spokespeople: who may speak on which channel, with media training in date.

A person record's ``spokesperson:`` names channels, topics and the date of the last media
training (current for ``valid_for``, default one year). A channel with
``spokespeople_from: DATE`` takes publications from that date only from a current
spokesperson for it: ``incident publish`` refuses anyone else and rule SPK001 reports a
publication written by hand. Training that has lapsed (or lapses within the review
window) shows on the handbook's dashboard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance import durations
from clearance.index import Index, parse_time
from clearance.model import Document

DEFAULT_VALID = "P1Y"


@dataclass(frozen=True)
class Training:
    person: Document
    trained: dt.date
    until: dt.date
    channels: tuple[str, ...]


def training(person: Document) -> Training | None:
    spec = person.data.get("spokesperson")
    if not isinstance(spec, Mapping):
        return None
    try:
        trained = dt.date.fromisoformat(str(spec.get("media_training")))
    except ValueError:
        return None
    valid = durations.parse(str(spec.get("valid_for") or DEFAULT_VALID)) or durations.parse(DEFAULT_VALID)
    assert valid is not None
    until = valid.after(trained)
    until = until.date() if isinstance(until, dt.datetime) else until
    channels = tuple(str(c) for c in spec.get("channels") or () if isinstance(c, str))
    return Training(person, trained, until, channels)


def problem(index: Index, person: object, channel: object, at: dt.datetime | None) -> str | None:
    """Why ``person`` may not publish on ``channel`` at ``at``; None when they may (or the
    channel takes anyone at that time)."""
    doc = index.get("channel", channel) if isinstance(channel, str) else None
    start = doc.data.get("spokespeople_from") if doc is not None else None
    if start is None or at is None:
        return None
    try:
        since = dt.date.fromisoformat(str(start))
    except ValueError:
        return None
    day = at.astimezone(dt.UTC).date()
    if day < since:
        return None
    who = index.get("person", person) if isinstance(person, str) else None
    found = training(who) if who is not None else None
    if found is None or channel not in found.channels:
        return f"{person!r} is not a spokesperson for channel {channel!r} (required since {since})"
    if not found.trained <= day < found.until:
        return f"{person!r}'s media training ({found.trained}) lapsed on {found.until}"
    return None


def refuse_publication(session: Any, entry: Mapping[str, Any]) -> None:
    """Called before a publication entry is written: refuse a non-spokesperson."""
    from clearance.incidents.session import Refused

    if entry.get("type") != "publication":
        return
    why = problem(session.index, entry.get("by"), entry.get("channel"), parse_time(entry.get("at")))
    if why is not None:
        raise Refused(f"publication refused: {why}; a current spokesperson for the channel publishes it")


def lapsed(index: Index, today: dt.date, soon_days: int = 30) -> list[tuple[Training, bool]]:
    """Spokespeople whose media training has lapsed (True) or lapses within ``soon_days``."""
    out = []
    for person in index.of_kind("person"):
        found = training(person)
        if found is None:
            continue
        if found.until <= today:
            out.append((found, True))
        elif found.until <= today + dt.timedelta(days=soon_days):
            out.append((found, False))
    return sorted(out, key=lambda pair: pair[0].until)
