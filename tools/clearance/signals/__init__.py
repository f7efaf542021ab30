"""Monitoring signals in: read the exports social-listening and support tools write,
normalise them, scan their text, and evaluate every protocol's structured triggers.

Entry point: :func:`evaluate`. Nothing here prints or writes; ``clearance signals``
renders the result and opens or escalates the incident through the incident workflow.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clearance.index import Index
from clearance.signals import rows, triggers
from clearance.signals.mapping import PRESETS, Format, Settings, settings
from clearance.signals.rows import BadRow, Signal
from clearance.signals.triggers import Met, ProtocolResult, Trigger

__all__ = [
    "PRESETS",
    "BadRow",
    "Evaluation",
    "Format",
    "Met",
    "ProtocolResult",
    "Settings",
    "Signal",
    "Trigger",
    "evaluate",
    "settings",
]
BAD_KEPT = 50  # bad rows kept for the report; the count covers all of them
SCAN_CACHE = 1 << 16  # distinct texts whose scan results are remembered


@dataclass(frozen=True)
class Evaluation:
    files: tuple[str, ...]
    rows: int
    bad: tuple[BadRow, ...]  # the first BAD_KEPT
    bad_count: int  # rows skipped
    notes_count: int  # rows kept without a value
    scanned: int  # distinct texts scanned
    met: tuple[Met, ...]
    protocols: tuple[ProtocolResult, ...]
    triggers: int  # structured triggers evaluated


def classifier(index: Index | None) -> functools._lru_cache_wrapper[frozenset[str]]:
    """Data classes the disclosure scanner finds in a text, remembered per distinct text
    (reposts repeat the same words many times)."""
    from clearance import scan

    scanner = scan.scanner_for(index)

    @functools.lru_cache(maxsize=SCAN_CACHE)
    def classes(text: str) -> frozenset[str]:
        found = {c for hit in scanner.scan(text) for c in hit.classes}
        found.discard(scan.UNCLASSIFIED)
        return frozenset(found)

    return classes


def evaluate(
    paths: Sequence[tuple[Path, str]],
    index: Index,
    config: Settings,
    fmt: str | None = None,
    only: Sequence[str] = (),
    until: dt.datetime | None = None,
) -> Evaluation:
    """Stream every file once and evaluate every structured trigger (of the protocols in
    ``only`` when given). ``paths`` pairs each file with the name to report it by. Rows
    dated after ``until`` (now) are skipped as bad rows: an export cannot hold the
    future, so the time zone of the export is wrong or the clock is."""
    wanted = [t for t in triggers.protocol_triggers(index) if not only or t.protocol in only]
    accumulators = [triggers.Accumulator(t) for t in wanted]
    classes = classifier(index)
    keywords = triggers.KeywordCache(accumulators)
    pairs = list(zip(accumulators, keywords.slots, strict=True))
    count = bad_count = notes = 0
    limit = int(until.timestamp()) if until is not None else None
    bad: list[BadRow] = []
    for path, shown in paths:
        for item in rows.read(path, shown, config, fmt):
            if isinstance(item, BadRow):
                if item.skipped:
                    bad_count += 1
                else:
                    notes += 1
                if len(bad) < BAD_KEPT:
                    bad.append(item)
                continue
            if limit is not None and item.at > limit:
                item = BadRow(item.path, item.line, f"dated {item.moment.isoformat()}, after now")
                bad_count += 1
                if len(bad) < BAD_KEPT:
                    bad.append(item)
                continue
            count += 1
            hits = keywords.matches(item.text)
            for acc, slot in pairs:
                acc.add(item, classes, hits[slot] if slot >= 0 else None)
    met = tuple(m for m in (acc.result() for acc in accumulators) if m is not None)
    return Evaluation(
        tuple(shown for _, shown in paths),
        count,
        tuple(bad),
        bad_count,
        notes,
        classes.cache_info().misses,
        met,
        tuple(triggers.by_protocol(met)),
        len(wanted),
    )
