"""Protocol triggers as data, and evaluating them over a stream of signals.

A protocol trigger's ``signal`` block says how to measure it (see the protocol schema):

- ``volume``: rows in any ``window`` at least ``threshold``;
- ``velocity``: rows in a window at least ``threshold`` times the rows in the window
  before it (and at least ``min_rows``);
- ``reach``: one author with at least ``threshold`` followers;
- ``sentiment``: the share of negative rows in a window at least ``threshold`` (of at
  least ``min_rows`` rows);
- ``data-classes``: rows whose text the disclosure scanner finds a data class in;
- ``authors``: rows by authors of the listed kinds (a journalist, a regulator).

``keywords`` and ``channels`` narrow the rows first. A trigger met at ``threshold`` gives
its ``severity``; at ``escalate.factor`` times the threshold, ``escalate.severity``.
Counts go into one-minute buckets, so memory follows the time span, not the row count.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from clearance import durations
from clearance.index import Index
from clearance.signals.rows import Signal

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
MEASURES = ("volume", "velocity", "reach", "sentiment", "data-classes", "authors")
BUCKET = 60  # seconds
SAMPLES = 3  # evidence rows kept per bucket
EVIDENCE = 12  # evidence rows reported per trigger


@dataclass(frozen=True)
class Trigger:
    protocol: str
    id: str
    measure: str
    threshold: float
    window: int  # seconds
    severity: str
    escalate_factor: float | None = None
    escalate_severity: str | None = None
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    data_classes: tuple[str, ...] = ()
    author_kinds: tuple[str, ...] = ()
    min_rows: int = 1
    metric: str = ""

    def describe(self) -> str:
        return f"{self.protocol}/{self.id}"


def _seconds(text: object) -> int | None:
    parsed = durations.parse(str(text)) if text else None
    if parsed is None:
        return None
    return int(parsed.fixed.total_seconds() + parsed.months * 30 * 86400)


def protocol_triggers(index: Index) -> list[Trigger]:
    """Every structured trigger of every active protocol."""
    out = []
    for doc in index.of_kind("protocol"):
        if doc.data.get("status") == "retired":
            continue
        for raw in doc.data.get("triggers") or ():
            spec = raw.get("signal") if isinstance(raw, dict) else None
            if not isinstance(spec, dict):
                continue
            window = _seconds(raw.get("window")) or 3600
            escalate = spec.get("escalate") or {}
            out.append(
                Trigger(
                    str(doc.id),
                    str(raw.get("id")),
                    str(spec.get("measure")),
                    float(raw.get("threshold") or 0),
                    window,
                    str(spec.get("severity")),
                    float(escalate["factor"]) if escalate.get("factor") else None,
                    str(escalate["severity"]) if escalate.get("severity") else None,
                    tuple(str(k).lower() for k in spec.get("keywords") or ()),
                    tuple(str(c).lower() for c in spec.get("channels") or ()),
                    tuple(str(c) for c in spec.get("data_classes") or ()),
                    tuple(str(k).lower() for k in spec.get("author_kinds") or ()),
                    int(spec.get("min_rows") or 1),
                    str(raw.get("metric") or ""),
                )
            )
    return out


def keyword_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Met:
    """A trigger the signals met: when first, how much, and the rows that show it."""

    trigger: Trigger
    severity: str
    value: float
    peak: float
    met_at: dt.datetime  # the first moment the condition held (to the minute)
    window_start: dt.datetime
    rows: tuple[Signal, ...]

    def summary(self) -> str:
        t = self.trigger
        unit = {
            "volume": "rows",
            "velocity": "times the previous window",
            "reach": "followers",
            "sentiment": "negative share",
            "data-classes": "rows with sensitive data",
            "authors": "rows by " + "/".join(t.author_kinds or ("listed authors",)),
        }[t.measure]
        shown = f"{self.value:.2f}" if t.measure in ("velocity", "sentiment") else f"{int(self.value):,}"
        return f"{shown} {unit} (threshold {t.threshold:g}; window {dt.timedelta(seconds=t.window)})"


@dataclass
class _Buckets:
    counts: dict[int, int] = field(default_factory=dict)
    negatives: dict[int, int] = field(default_factory=dict)
    samples: dict[int, list[Signal]] = field(default_factory=dict)
    best: Signal | None = None  # reach: the widest-reaching row


class Accumulator:
    """One trigger's running counts."""

    def __init__(self, trigger: Trigger) -> None:
        self.trigger = trigger
        self.keywords = keyword_pattern(trigger.keywords)
        self.channels = set(trigger.channels)
        self.kinds = set(trigger.author_kinds)
        self.classes = set(trigger.data_classes)
        self.data = _Buckets()

    def wants(self, signal: Signal, keyword: bool | None = None) -> bool:
        """Whether the row passes the trigger's filters; ``keyword`` is the keyword match
        when the caller already knows it (see :class:`KeywordCache`)."""
        if self.channels and signal.channel not in self.channels:
            return False
        if self.kinds and signal.author_kind not in self.kinds:
            return False
        if self.keywords is None:
            return True
        return keyword if keyword is not None else self.keywords.search(signal.text) is not None

    def add(
        self, signal: Signal, classes: Callable[[str], frozenset[str]], keyword: bool | None = None
    ) -> None:
        t = self.trigger
        if not self.wants(signal, keyword):
            return
        if t.measure == "data-classes":
            found = classes(signal.text)
            if not found or (self.classes and not found & self.classes):
                return
        data = self.data
        if t.measure == "reach":
            if signal.reach is not None and (data.best is None or signal.reach > (data.best.reach or 0)):
                data.best = signal
            if signal.reach is None or signal.reach < t.threshold:
                return
        bucket = signal.at - signal.at % BUCKET
        data.counts[bucket] = data.counts.get(bucket, 0) + 1
        if signal.sentiment == "negative":
            data.negatives[bucket] = data.negatives.get(bucket, 0) + 1
        kept = data.samples.setdefault(bucket, [])
        if t.measure == "sentiment" and signal.sentiment != "negative":
            return  # the negative rows are the evidence
        if len(kept) < SAMPLES:
            kept.append(replace(signal, text=""))  # evidence links the row; its text stays in the export
        elif t.measure == "reach" and signal.reach and signal.reach > min(s.reach or 0 for s in kept):
            kept[min(range(SAMPLES), key=lambda i: kept[i].reach or 0)] = replace(signal, text="")

    def result(self) -> Met | None:
        t = self.trigger
        keys = sorted(self.data.counts)
        if not keys:
            return None
        counts = self.data.counts
        prefix = [0]
        negative = [0]
        for key in keys:
            prefix.append(prefix[-1] + counts[key])
            negative.append(negative[-1] + self.data.negatives.get(key, 0))

        def total(start: int, end: int, sums: list[int] = prefix) -> int:
            """Rows in buckets with start <= key < end."""
            return sums[bisect.bisect_left(keys, end)] - sums[bisect.bisect_left(keys, start)]

        first: tuple[int, float] | None = None
        peak = (0.0, 0)
        for key in keys:
            end = key + BUCKET
            start = end - t.window
            if t.measure == "reach":
                value = max(float(s.reach or 0) for s in self.data.samples[key])
            elif t.measure == "velocity":
                now, before = total(start, end), total(start - t.window, start)
                value = now / before if before else float(now) if now >= t.min_rows else 0.0
                if now < t.min_rows:
                    value = 0.0
            elif t.measure == "sentiment":
                rows = total(start, end)
                value = total(start, end, negative) / rows if rows >= t.min_rows else 0.0
            else:
                value = float(total(start, end))
            if value > peak[0]:
                peak = (value, key)
            if first is None and value >= t.threshold and value > 0:
                first = (key, value)
        if first is None:
            return None
        key, value = first
        severity = t.severity
        if t.escalate_factor and t.escalate_severity and peak[0] >= t.threshold * t.escalate_factor:
            severity = more_severe(severity, t.escalate_severity)
        start = key + BUCKET - t.window
        evidence = [s for k in keys if start <= k <= key for s in self.data.samples[k]]
        if t.measure == "reach":
            evidence.sort(key=lambda s: -(s.reach or 0))
        in_window = [s for s in evidence if s.at <= key + BUCKET]
        met_at = max((s.at for s in self.data.samples[key]), default=key + BUCKET - 1)
        return Met(
            t,
            severity,
            value,
            peak[0],
            dt.datetime.fromtimestamp(met_at, dt.UTC),
            dt.datetime.fromtimestamp(max(start, keys[0]), dt.UTC),
            tuple(in_window[:EVIDENCE]),
        )


class KeywordCache:
    """Which of the triggers' keyword patterns each distinct text matches, remembered for
    the next rows with the same text (reposts repeat words many times); bounded, so memory
    stays flat whatever the export's size."""

    LIMIT = 1 << 16

    def __init__(self, accumulators: Sequence[Accumulator]) -> None:
        patterns: dict[str, re.Pattern[str]] = {}
        self.slots: list[int] = []
        for acc in accumulators:
            if acc.keywords is None:
                self.slots.append(-1)
                continue
            key = acc.keywords.pattern
            patterns.setdefault(key, acc.keywords)
            self.slots.append(list(patterns).index(key))
        self.patterns = list(patterns.values())
        self.seen: dict[str, tuple[bool, ...]] = {}

    def matches(self, text: str) -> tuple[bool, ...]:
        found = self.seen.get(text)
        if found is None:
            found = tuple(p.search(text) is not None for p in self.patterns)
            if len(self.seen) >= self.LIMIT:
                self.seen.clear()
            self.seen[text] = found
        return found


def more_severe(a: str, b: str) -> str:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return a if rank.get(a, 99) <= rank.get(b, 99) else b


@dataclass(frozen=True)
class ProtocolResult:
    protocol: str
    severity: str
    met: tuple[Met, ...]

    @property
    def first(self) -> Met:
        return min(self.met, key=lambda m: m.met_at)


def by_protocol(met: Iterable[Met]) -> list[ProtocolResult]:
    """Per protocol, the most severe level its met triggers give, most severe first."""
    grouped: dict[str, list[Met]] = {}
    for item in met:
        grouped.setdefault(item.trigger.protocol, []).append(item)
    out = []
    for protocol, items in grouped.items():
        severity = items[0].severity
        for item in items[1:]:
            severity = more_severe(severity, item.severity)
        out.append(ProtocolResult(protocol, severity, tuple(sorted(items, key=lambda m: m.met_at))))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(out, key=lambda r: (rank.get(r.severity, 99), -len(r.met), r.protocol))


def as_data(met: Met) -> Mapping[str, Any]:
    return {
        "protocol": met.trigger.protocol,
        "trigger": met.trigger.id,
        "measure": met.trigger.measure,
        "severity": met.severity,
        "value": round(met.value, 4),
        "peak": round(met.peak, 4),
        "threshold": met.trigger.threshold,
        "met_at": met.met_at.isoformat().replace("+00:00", "Z"),
    }
