"""The incident timeline as SVG, drawn here: one lane per kind of entry, a mark per
entry, publications and status changes labelled, regulatory deadlines as dashed lines.
Plain SVG 1.1 that WeasyPrint and browsers both draw, with no script."""

from __future__ import annotations

import datetime as dt
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
WIDTH, LEFT, RIGHT, TOP, LANE = 1000, 110, 20, 16, 46


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


def timeline(events: Sequence[Event], deadlines: Sequence[tuple[str, str]] = ()) -> str:
    """The SVG; an empty string when no entry has a readable time."""
    points = [(moment, e) for e in events if (moment := _parse(e.at)) is not None]
    marks = [(moment, label) for label, due in deadlines if (moment := _parse(due)) is not None]
    if not points:
        return ""
    times = [m for m, _ in points] + [m for m, _ in marks]
    first, last = min(times), max(times)
    span = max(last - first, dt.timedelta(minutes=1))
    inner = WIDTH - LEFT - RIGHT
    height = TOP + LANE * len(LANES) + 40

    def x(moment: dt.datetime) -> float:
        return LEFT + inner * ((moment - first) / span)

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
    for step in range(6):
        moment = first + span * step / 5
        tx = x(moment)
        anchor = "start" if step == 0 else "end" if step == 5 else "middle"
        out.append(f'<line x1="{tx:.1f}" y1="{axis}" x2="{tx:.1f}" y2="{axis + 5}" stroke="#57606a"/>')
        out.append(
            f'<text x="{tx:.1f}" y="{axis + 18}" text-anchor="{anchor}" font-size="12" fill="#57606a">'
            f"{_tick_label(moment, span)} UTC</text>"
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
