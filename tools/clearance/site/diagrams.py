"""Diagrams drawn as SVG at build time, by this code: no script, no request to
another host, readable without JavaScript and in print.

- :func:`chain_svg`: the approval steps a publication needs, as ``publish`` enforces
  them: every applicable step is independent of the others (approved in any order,
  by its quorum), so they are drawn side by side between the draft and the
  publication. A step that applies only when the text touches a data class is drawn
  dashed with its condition; a step that does not apply at the severity shown is left
  out and counted.
- :func:`timeline_svg`: an incident as a chart over time, one lane per kind of event
  (detection and milestones, escalations, drafts, approvals, publications,
  notifications, deadlines met, missed or open).

Pages carry a diagram as one opaque paragraph (``embed``): the Markdown converter
and the sanitiser never see SVG (the marker is plain text), and :func:`restore` puts
the figure in the page's HTML after the sanitiser ran. The marker holds a secret made
once per build, so no document can forge one.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

_TOKEN = os.urandom(8).hex()
_MARKER = re.compile(rf"<p>CLEARANCESVG{_TOKEN}x([0-9a-f]+)</p>")
_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""


def embed(svg: str, caption: str = "") -> Markup:
    """A paragraph of its own that :func:`restore` turns into the figure."""
    figure = f'<figure class="clearance-diagram" data-search-exclude>{svg}'
    if caption:
        figure += f"<figcaption>{html.escape(caption)}</figcaption>"
    figure += "</figure>"
    return Markup(f"CLEARANCESVG{_TOKEN}x{figure.encode('utf-8').hex()}")


def restore(page_html: str) -> str:
    if "CLEARANCESVG" not in page_html:
        return page_html
    return _MARKER.sub(lambda m: bytes.fromhex(m.group(1)).decode("utf-8"), page_html)


def _t(value: object, limit: int = 44) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


# ------------------------------------------------------------------ approval chain


@dataclass(frozen=True)
class Step:
    role: str
    detail: str  # "quorum 2 · within 30m"
    condition: str  # "" when always required


def chain_svg(steps: Sequence[Step], *, left_out: str = "") -> str:
    # compact enough to stay legible on a phone (about 0.75x at 390 px)
    width, box_w, box_h, gap, node = 520, 300, 62, 12, 84
    rows = max(1, len(steps))
    height = rows * (box_h + gap) + gap + (22 if left_out else 0)
    mid = (rows * (box_h + gap) + gap) / 2
    sx = (width - box_w) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="clearance-chain" role="img" '
        f'viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" style="max-width:100%;height:auto" {_FONT} font-size="13">',
        "<title>Approval steps: each applicable step is required; they may be approved in any order</title>",
        _node(4, mid - 20, node, 40, "Draft", rounded=True),
        _node(width - node - 4, mid - 20, node, 40, "Publish", rounded=True),
    ]
    if not steps:
        parts.append(_line(node + 4, mid, width - node - 4, mid, dashed=False))
    for number, step in enumerate(steps):
        y = gap + number * (box_h + gap)
        cy = y + box_h / 2
        dashed = bool(step.condition)
        parts.append(_line(node + 4, mid, sx, cy, dashed=dashed))
        parts.append(_line(sx + box_w, cy, width - node - 4, mid, dashed=dashed, arrow=True))
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(
            f'<rect x="{sx:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="6" fill="none" '
            f'stroke="currentColor" stroke-width="1.5"{dash}/>'
        )
        parts.append(
            f'<text x="{sx + 10:.0f}" y="{y + 20:.0f}" fill="currentColor" font-weight="600">'
            f"{_t(step.role, 38)}</text>"
        )
        parts.append(
            f'<text x="{sx + 10:.0f}" y="{y + 37:.0f}" fill="currentColor" font-size="11.5">'
            f"{_t(step.detail, 48)}</text>"
        )
        if step.condition:
            parts.append(
                f'<text x="{sx + 10:.0f}" y="{y + 53:.0f}" fill="currentColor" font-size="11.5" '
                'font-style="italic">'
                f"{_t('only if ' + step.condition, 48)}</text>"
            )
    if left_out:
        parts.append(
            f'<text x="10" y="{height - 6:.0f}" fill="currentColor" font-size="11.5">'
            f"{_t(left_out, 84)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _node(x: float, y: float, w: float, h: float, label: str, *, rounded: bool) -> str:
    rx = h / 2 if rounded else 6
    return (
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx:.0f}" fill="none" '
        f'stroke="currentColor" stroke-width="1.5"/>'
        f'<text x="{x + w / 2:.0f}" y="{y + h / 2 + 5:.0f}" text-anchor="middle" fill="currentColor" '
        f'font-weight="600">{_t(label)}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, dashed: bool, arrow: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    head = ""
    if arrow:
        head = (
            f'<path d="M{x2:.0f},{y2:.0f} l-9,-4 l0,8 z" fill="currentColor" '
            f'transform="rotate({_angle(x1, y1, x2, y2):.1f} {x2:.0f} {y2:.0f})"/>'
        )
    return (
        f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="currentColor" '
        f'stroke-opacity="0.6" stroke-width="1.2"{dash}/>' + head
    )


def _angle(x1: float, y1: float, x2: float, y2: float) -> float:
    return math.degrees(math.atan2(y2 - y1, x2 - x1))


# ------------------------------------------------------------------------ timeline

LANES = (
    ("detect", "Detection"),
    ("escalate", "Escalations"),
    ("draft", "Drafts"),
    ("approve", "Approvals"),
    ("publish", "Publications"),
    ("notify", "Notifications"),
    ("deadline", "Deadlines"),
)
# marker shape and colour per outcome; colours read on light and dark schemes
_COLOURS = {
    "": "currentColor",
    "met": "#2e7d32",
    "missed": "#c62828",
    "open": "#8d6e00",
    "rejected": "#c62828",
}


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    lane: str
    label: str
    outcome: str = ""  # "", "met", "missed", "open", "rejected"


def timeline_svg(events: Sequence[Event]) -> str:
    if not events:
        return ""
    ordered = sorted(events, key=lambda e: e.at)
    start, end = ordered[0].at, ordered[-1].at
    # Time runs left to right, but a long quiet gap (days between detection and the
    # review) is shortened: each gap takes room by the logarithm of its length, so
    # the minutes of the response stay readable beside the weeks around them.
    stops = sorted({e.at for e in ordered})
    room = [0.0]
    for before, after in itertools.pairwise(stops):
        room.append(room[-1] + math.log1p((after - before).total_seconds() / 60.0))
    total = room[-1] or 1.0
    place = {moment: offset / total for moment, offset in zip(stops, room, strict=False)}
    lanes = [key for key, _ in LANES if any(e.lane == key for e in ordered)]
    names = dict(LANES)
    left, right, top, lane_h = 92, 500, 28, 32
    width = right + 20
    height = top + lane_h * len(lanes) + 30

    def x_of(moment: dt.datetime) -> float:
        return left + (right - left) * place[moment]

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="clearance-timeline" role="img" '
        f'viewBox="0 0 {width} {height}" '
        f'width="{width}" style="max-width:100%;height:auto" {_FONT} font-size="12">',
        f"<title>Incident timeline from {_t(_when(start))} to {_t(_when(end))}</title>",
    ]
    for row, key in enumerate(lanes):
        y = top + row * lane_h + lane_h / 2
        parts.append(f'<text x="8" y="{y + 4:.0f}" fill="currentColor">{_t(names[key])}</text>')
        parts.append(
            f'<line x1="{left}" y1="{y:.0f}" x2="{right}" y2="{y:.0f}" stroke="currentColor" '
            'stroke-opacity="0.25"/>'
        )
        for event in (e for e in ordered if e.lane == key):
            x = x_of(event.at)
            colour = _COLOURS.get(event.outcome, "currentColor")
            tip = f"<title>{_t(_when(event.at) + ' ' + event.label, 160)}</title>"
            if key == "deadline":
                parts.append(
                    f'<path d="M{x:.1f},{y - 7:.1f} l7,7 l-7,7 l-7,-7 z" fill="{colour}">{tip}</path>'
                )
            else:
                hollow = event.outcome == "rejected"
                fill = "none" if hollow else colour
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{fill}" stroke="{colour}" '
                    f'stroke-width="2">{tip}</circle>'
                )
    axis = top + lane_h * len(lanes) + 8
    parts.append(f'<line x1="{left}" y1="{axis}" x2="{right}" y2="{axis}" stroke="currentColor"/>')
    ticks = [stops[0], stops[-1]] if len(stops) > 1 else [stops[0]]
    middle = min(stops, key=lambda moment: abs(place[moment] - 0.5))
    if 0.3 < place[middle] < 0.7:
        ticks.insert(1, middle)
    for moment in ticks:
        fraction = place[moment]
        anchor = "start" if fraction < 0.2 else "end" if fraction > 0.8 else "middle"
        x = left + (right - left) * fraction
        parts.append(
            f'<line x1="{x:.0f}" y1="{axis - 4}" x2="{x:.0f}" y2="{axis + 4}" stroke="currentColor"/>'
        )
        parts.append(
            f'<text x="{x:.0f}" y="{axis + 16}" text-anchor="{anchor}" '
            f'fill="currentColor" font-size="11">{_t(_when(moment))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _when(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")
