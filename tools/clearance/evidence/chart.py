"""The incident timeline as SVG, drawn here: one lane per kind of entry, a mark per
entry, publications and status changes labelled, regulatory deadlines as dashed lines.
Plain SVG 1.1 that WeasyPrint and browsers both draw, with no script."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from html import escape

from clearance.evidence.model import Event

LANES = (
    ("Record", ("observation", "decision", "correction", "talking-points", "role-change")),
    ("Statements", ("draft", "approval", "rejection", "publication", "override", "override-review")),
    ("Regulatory", ("assessment", "notification")),
    ("Status", ("status-change",)),
)
COLOURS = {"Record": "#5b6b7f", "Statements": "#1f6feb", "Regulatory": "#8250df", "Status": "#bf8700"}
WIDTH, LEFT, RIGHT, TOP, LANE, GAP = 1000, 110, 20, 16, 46, 40


def _parse(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _lane(kind: str) -> int:
    for number, (_, kinds) in enumerate(LANES):
        if kind in kinds:
            return number
    return 0


def _tick_label(moment: dt.datetime, span: dt.timedelta) -> str:
    if span <= dt.timedelta(days=10):
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%d %b %Y")


class _Scale:
    """Time to x. A quiet stretch longer than all the rest of the record (an incident
    reopened weeks later, a deadline days ahead) is drawn as a fixed-width break, so the busy
    hours keep their width instead of shrinking to a dot. Each stretch of activity gets
    a small margin on both sides, so even a single moment stands clear of a break."""

    PAD = 14.0

    def __init__(self, times: Sequence[dt.datetime], width: float) -> None:
        first, last = times[0], times[-1]
        total = max((last - first).total_seconds(), 60.0)
        gaps = sorted(itertools.pairwise(times), key=lambda pair: pair[1] - pair[0], reverse=True)
        breaks: list[tuple[dt.datetime, dt.datetime]] = []
        active = total
        for a, b in gaps:  # widest first, each judged against what activity is left
            seconds = (b - a).total_seconds()
            if seconds <= active - seconds:  # longer than all the rest, or it stays drawn to scale
                break
            breaks.append((a, b))
            active -= seconds
        breaks.sort()
        bounds = [first, *(t for pair in breaks for t in pair), last]
        self.segments = list(zip(bounds[::2], bounds[1::2], strict=True))
        durations = [max((b - a).total_seconds(), 0.0) for a, b in self.segments]
        free = width - GAP * len(breaks) - 2 * self.PAD * len(self.segments)
        busy = sum(durations) or 1.0
        self.placed: list[tuple[dt.datetime, dt.datetime, float, float]] = []  # a, b, x0, width
        x = 0.0
        for (a, b), seconds in zip(self.segments, durations, strict=True):
            inner = free * seconds / busy if sum(durations) else free / len(self.segments)
            self.placed.append((a, b, x, inner))
            x += inner + 2 * self.PAD + GAP
        self.gaps = [(a, b, self.at(a) + self.PAD + GAP / 2) for a, b in breaks]
        self.longest = max((b - a for a, b in self.segments), default=dt.timedelta(minutes=1))

    def at(self, moment: dt.datetime) -> float:
        for a, b, x0, inner in self.placed:
            if moment <= b:
                seconds = (b - a).total_seconds()
                share = (moment - a).total_seconds() / seconds if seconds else 0.5
                return x0 + self.PAD + inner * max(share, 0.0)
        a, b, x0, inner = self.placed[-1]
        return x0 + self.PAD + inner

    def ticks(self) -> list[dt.datetime]:
        """The start of each segment, the middle and end of the longest, and the end."""
        out = []
        for a, b in self.segments:
            out.append(a)
            if b - a == self.longest and b > a:
                out.extend((a + (b - a) / 2, b))
        out.append(self.segments[-1][1])
        return sorted(set(out))


def timeline(events: Sequence[Event], deadlines: Sequence[tuple[str, str]] = ()) -> str:
    """The SVG; an empty string when no entry has a readable time."""
    points = [(moment, e) for e in events if (moment := _parse(e.at)) is not None]
    marks = [(moment, label) for label, due in deadlines if (moment := _parse(due)) is not None]
    if not points:
        return ""
    times = sorted({m for m, _ in points} | {m for m, _ in marks})
    scale = _Scale(times, WIDTH - LEFT - RIGHT)
    height = TOP + LANE * len(LANES) + 56

    def x(moment: dt.datetime) -> float:
        return LEFT + scale.at(moment)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="Timeline of {len(points)} log entries">'
    ]
    for number, (name, _) in enumerate(LANES):
        y = TOP + LANE * number + LANE / 2
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d0d7de"/>')
        out.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="#24292f">{name}</text>'
        )
    axis = TOP + LANE * len(LANES)
    out.append(f'<line x1="{LEFT}" y1="{axis}" x2="{WIDTH - RIGHT}" y2="{axis}" stroke="#57606a"/>')
    for gap_start, gap_end, gx in scale.gaps:
        seconds = (gap_end - gap_start).total_seconds()
        length = f"{seconds / 86400:.0f} days" if seconds >= 2 * 86400 else f"{seconds / 3600:.0f} hours"
        out.append(
            f'<rect x="{LEFT + gx - GAP / 2 + 3:.1f}" y="{TOP - 4}" width="{GAP - 6}" '
            f'height="{axis - TOP + 8}" '
            'fill="#ffffff" stroke="#d0d7de" stroke-dasharray="2 2"/>'
        )
        out.append(
            f'<text x="{LEFT + gx:.1f}" y="{axis + 32}" text-anchor="middle" font-size="11" fill="#57606a">'
            f"{length}</text>"
        )
    ticks = scale.ticks()
    labelled = -1000.0
    for number, moment in enumerate(ticks):
        tx = x(moment)
        out.append(f'<line x1="{tx:.1f}" y1="{axis}" x2="{tx:.1f}" y2="{axis + 5}" stroke="#57606a"/>')
        last = number == len(ticks) - 1
        if tx - labelled < 150 and not (last and tx - labelled >= 110):
            continue  # labels never overlap: the tick stays, its label is left out
        anchor = "start" if number == 0 else "end" if last else "middle"
        labelled = tx
        out.append(
            f'<text x="{tx:.1f}" y="{axis + 18}" text-anchor="{anchor}" font-size="12" fill="#57606a">'
            f"{_tick_label(moment, scale.longest)} UTC</text>"
        )
    for moment, label in marks:
        mx = x(moment)
        out.append(
            f'<line x1="{mx:.1f}" y1="{TOP - 6}" x2="{mx:.1f}" y2="{axis}" stroke="#cf222e" '
            'stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<text x="{mx - 3:.1f}" y="{TOP + 4}" text-anchor="end" font-size="12" fill="#cf222e">'
            f"due: {escape(label)}</text>"
        )
    for moment, event in points:
        number = _lane(event.type)
        name = LANES[number][0]
        cx, cy = x(moment), TOP + LANE * number + LANE / 2
        colour = COLOURS[name]
        if event.type == "publication":
            out.append(
                f'<path d="M{cx:.1f} {cy - 7:.1f} l6 7 l-6 7 l-6 -7 z" fill="{colour}" '
                'stroke="#fff" stroke-width="1"/>'
            )
        elif event.type == "rejection":
            out.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="#fff" stroke="#cf222e" stroke-width="2"/>'
            )
        else:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}" fill-opacity="0.75"/>')
    out.append(
        f'<text x="{LEFT}" y="{height - 4}" font-size="12" fill="#57606a">'
        "◆ publication   ○ rejection   ● other entry   ┆ regulatory deadline</text>"
    )
    out.append("</svg>")
    return "".join(out)
