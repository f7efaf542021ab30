"""What the diagrams and statements of a page show, from the documents the audience
sees: the approval steps of a chain at a severity, an incident's events over time,
a published statement's Markdown as clean HTML."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from clearance.index import parse_time
from clearance.model import Document
from clearance.site import diagrams, render
from clearance.site.urls import title_of

if TYPE_CHECKING:
    from clearance.site.pages import Site

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")  # worst first, as clearance.incidents.approvals
CHAIN_CAPTION = (
    "Publishing needs every step shown, each approving the exact text, in any order. "
    "A dashed step is needed only under its condition. A template's chain and the "
    "disclosure chain of each data class the text touches add their steps."
)


def _visible_title(site: Site, kind: str, key: object) -> str:
    doc = site.index.get(kind, key) if isinstance(key, str) else None
    return title_of(doc) if doc is not None and site.audience.sees(doc) else "restricted"


def _holds(limit: str, severity: str) -> bool:
    if limit not in SEVERITIES or severity not in SEVERITIES:
        return False
    return SEVERITIES.index(severity) <= SEVERITIES.index(limit)


def chain(site: Site, steps: Sequence[dict[str, Any]], severity: str | None) -> Markup:
    drawn: list[diagrams.Step] = []
    left_out = 0
    for step in steps:
        raw = step.get("when")
        when: dict[str, Any] = raw if isinstance(raw, dict) else {}
        conditions = []
        limit = when.get("severity_at_least")
        if isinstance(limit, str):
            if severity is not None and not _holds(limit, severity):
                left_out += 1
                continue
            if severity is None:
                conditions.append(f"{limit} or worse")
        classes = [c for c in when.get("data_classes") or () if isinstance(c, str)]
        if classes:
            conditions.append(
                "text touches " + ", ".join(_visible_title(site, "data-class", c) for c in classes)
            )
        quorum = step.get("quorum")
        detail = f"{quorum} approvals" if isinstance(quorum, int) and quorum > 1 else "1 approval"
        if step.get("sla"):
            detail += f" · within {render.duration(step.get('sla'))}"
        drawn.append(
            diagrams.Step(_visible_title(site, "role", step.get("role")), detail, " and ".join(conditions))
        )
    note = ""
    if left_out:
        note = (
            f"{left_out} more step{'s' if left_out > 1 else ''} of this chain apply only at a worse severity."
        )
    return diagrams.embed(diagrams.chain_svg(drawn, left_out=note), CHAIN_CAPTION)


_MILESTONE_LANE = {
    "started": "detect",
    "detected": "detect",
    "declared": "escalate",
    "mitigated": "escalate",
    "resolved": "escalate",
    "closed": "escalate",
}


def timeline(
    site: Site, incident: Document, entries: Sequence[Document], deadlines: Sequence[Any], now: dt.datetime
) -> Markup:
    events: list[diagrams.Event] = []
    stamps = incident.data.get("timestamps") or {}
    if isinstance(stamps, dict):
        for name, lane in _MILESTONE_LANE.items():
            moment = parse_time(stamps.get(name))
            if moment is not None:
                events.append(diagrams.Event(moment, lane, name))
    for entry in entries:
        data = entry.data
        moment = parse_time(data.get("at"))
        if moment is None:
            continue
        kind = data.get("type")
        if kind == "status-change":
            change = f"status {data.get('from') or '?'} → {data.get('to')}"
            if data.get("severity"):
                change += f", severity {data.get('severity')}"
            events.append(diagrams.Event(moment, "escalate", change))
        elif kind == "draft":
            events.append(
                diagrams.Event(
                    moment, "draft", f"draft for {_visible_title(site, 'channel', data.get('channel'))}"
                )
            )
        elif kind in ("approval", "rejection", "override"):
            outcome = "rejected" if kind == "rejection" else ""
            role = _visible_title(site, "role", data.get("role"))
            events.append(diagrams.Event(moment, "approve", f"{kind} as {role}", outcome))
        elif kind == "publication":
            events.append(
                diagrams.Event(
                    moment, "publish", f"published on {_visible_title(site, 'channel', data.get('channel'))}"
                )
            )
        elif kind == "notification":
            events.append(diagrams.Event(moment, "notify", f"notified {data.get('recipient') or ''}"))
    for deadline in deadlines:
        if deadline.due is None:
            continue
        state = deadline.state(now)
        outcome = {"met": "met", "late": "missed", "overdue": "missed"}.get(state, "open")
        events.append(diagrams.Event(deadline.due, "deadline", f"{deadline.title}: {state}", outcome))
    if not events:
        return Markup("")
    legend = (
        "Deadlines: green met, red missed, amber still open. A hollow mark is a rejection. "
        "Long quiet gaps are shortened; hover a mark for its time and what happened."
    )
    return diagrams.embed(diagrams.timeline_svg(events), legend)


_AFFECTED = re.compile(
    r"resident|individual|data subject|affected|customer|consumer|patient|employee|people|person|user",
    re.IGNORECASE,
)
_REGULATOR = re.compile(
    r"authorit|attorney general|commission|regulator|supervis|department|agency|cert|csirt|secretary|"
    r"office|edgar|ico\b|oaic|pdpc|government",
    re.IGNORECASE,
)


def recipient_kind(notify: str, recipient: object) -> str:
    """'affected people', 'regulator' or 'other recipient', from the obligation's
    ``notify`` (else the recipient as written)."""
    for text in (notify, str(recipient or "")):
        if not text:
            continue
        if _AFFECTED.search(text):
            return "affected people"
        if _REGULATOR.search(text):
            return "regulator"
    return "other recipient"


_STATEMENT_TAGS = {
    "p",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "br",
    "a",
    "code",
    "blockquote",
    "h4",
    "h5",
    "h6",
}
_HEADING = re.compile(r"<(/?)h[1-3]\b")


@functools.lru_cache(maxsize=256)
def _statement(text: str) -> str:
    import markdown
    import nh3

    converted = markdown.markdown(text, extensions=[], output_format="html")
    converted = _HEADING.sub(lambda m: f"<{m.group(1)}h4", converted)
    cleaned = nh3.clean(
        converted,
        tags=_STATEMENT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    # one raw HTML block for Markdown: no blank line inside it
    lines = [line for line in cleaned.splitlines() if line.strip()]
    return "\n".join(lines)


def statement_html(value: object) -> Markup:
    """A statement's Markdown as sanitised HTML in a quote (headings become h4, so
    they stay out of the page's table of contents)."""
    text = str(value or "").strip()
    if not text:
        return Markup("")
    return Markup(f'<blockquote class="clearance-statement">\n{_statement(text)}\n</blockquote>')
