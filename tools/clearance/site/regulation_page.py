"""What counsel reads on a regulation's page and an incident's page: each obligation
with its clock in words, its threshold, its relations to other notices, and its worked
examples as the engine evaluates them; each listed obligation's state on an incident.

Rendering only: the clocks, thresholds and states come from
:mod:`clearance.incidents.obligations` and :mod:`clearance.incidents.examples`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from clearance.errors import FatalError
from clearance.incidents import examples as worked
from clearance.incidents.clocks import Rule
from clearance.incidents.facts import describe_condition
from clearance.incidents.obligations import ObligationState
from clearance.model import Document
from clearance.site import render
from clearance.site.urls import anchor

RELATION_WORDS = {
    "not-later-than": "not later than the notice under",
    "with": "together with (contemporaneously) the notice under",
    "before": "before the notice under",
}


def _row(label: str, value: object) -> Markup:
    return Markup("| {} | {} |").format(label, value)


def clock_words(ob: Mapping[str, Any]) -> str:
    """The obligation's clock in words: the main clock, the earliest-of limits, the
    notice that starts it, weekend relief and tolling limits."""
    deadline = ob.get("deadline")
    if not isinstance(deadline, dict):
        return "no clock"
    words = [Rule.from_deadline(deadline).describe()]
    for alt in deadline.get("earliest_of") or ():
        if isinstance(alt, dict):
            words.append(f"or, if earlier, {Rule.from_deadline(alt).describe()}")
    after = ob.get("after")
    if after:
        names = [after] if isinstance(after, str) else list(after)
        latest = "the latest notice under " if len(names) > 1 or ob.get("repeats") else "the notice under "
        words.append("counted from " + latest + " or ".join(str(n) for n in names))
    if isinstance(deadline.get("roll_when"), dict):
        words.append(f"weekend and holiday relief only when {describe_condition(deadline['roll_when'])}")
    tolling = ob.get("tolling")
    if isinstance(tolling, dict) and tolling.get("oral_limit"):
        words.append(f"an oral delay request lasts at most {render.duration(tolling['oral_limit'])}")
    if ob.get("repeats"):
        words.append("may be given several times; each notice re-opens the clocks that follow it")
    return "; ".join(words)


def relation_words(ob: Mapping[str, Any]) -> list[str]:
    out = []
    for relation in ob.get("relations") or ():
        if isinstance(relation, dict):
            kind = str(relation.get("type", "not-later-than"))
            text = f"{RELATION_WORDS.get(kind, kind)} {relation.get('obligation')}"
            if relation.get("within"):
                text += f" (within {render.duration(relation['within'])})"
            out.append(text)
    return out


def _facts(value: object) -> str:
    if not isinstance(value, Mapping):
        return "–"
    parts = []
    for key, item in value.items():
        if isinstance(item, Mapping):
            parts.append(", ".join(f"{key}.{k} = {v}" for k, v in item.items()))
        else:
            parts.append(f"{key} = {item}")
    return "; ".join(parts)


def _expected(example: Mapping[str, Any]) -> str:
    expect = example.get("expect") if isinstance(example.get("expect"), Mapping) else {}
    assert isinstance(expect, Mapping)
    if expect.get("applies") is False:
        return "does not apply"
    parts = []
    if "due" in expect:
        parts.append(f"due {render.when(expect['due'])}" if expect["due"] else "no computable deadline")
    if expect.get("state"):
        parts.append(str(expect["state"]))
    return ", ".join(parts) or "applies"


def obligations_section(doc: Document, ref: Any) -> Markup:
    """The obligations of ``doc`` (a regulation) as Markdown: one heading per obligation
    with its table and its worked examples, checked by the engine as the page builds."""
    try:
        results = {(r.obligation, r.position): r for r in worked.run(doc)}
    except FatalError as exc:
        results = {}
        failure: str | None = str(exc)
    else:
        failure = None
    lines: list[Markup] = []
    for ob in doc.data.get("obligations") or ():
        if not isinstance(ob, dict):
            continue
        local = str(ob.get("id"))
        key = f"{doc.id}#{local}"
        lines += [
            Markup("### {} {{: #{} }}").format(render.text(ob.get("title")), anchor("obligation", local)),
            Markup(""),
            Markup("| Field | Value |"),
            Markup("|---|---|"),
        ]
        if ob.get("cite"):
            lines.append(_row("Cite", render.text(ob.get("cite"))))
        lines.append(_row("Notify", render.text(ob.get("notify"))))
        if ob.get("applies_when"):
            lines.append(_row("Applies when", render.text(ob.get("applies_when"))))
        if isinstance(ob.get("threshold"), dict):
            lines.append(_row("Threshold", render.text("only when " + describe_condition(ob["threshold"]))))
        lines.append(_row("Clock starts", render.text(ob.get("clock_starts"))))
        lines.append(_row("Clock", Markup("**{}**").format(render.text(clock_words(ob)))))
        related = relation_words(ob)
        if related:
            lines.append(_row("Relations", render.text("; ".join(related))))
        if ob.get("records"):
            lines.append(_row("Records", render.text(ob.get("records"))))
        lines.append(Markup(""))
        shown = [e for e in ob.get("examples") or () if isinstance(e, dict)]
        if shown:
            lines += [
                Markup("Worked examples (evaluated by the clock engine when this page was built):"),
                Markup(""),
                Markup("| Example | Clock starts | Facts | Earlier notices | Expected | Engine |"),
                Markup("|---|---|---|---|---|---|"),
            ]
            for position, example in enumerate(shown):
                result = results.get((key, position))
                verdict = (
                    "not evaluated" + (f": {failure}" if failure else "")
                    if result is None
                    else "agrees"
                    if result.ok
                    else "DISAGREES: " + "; ".join(result.problems)
                )
                notices = example.get("notified") if isinstance(example.get("notified"), Mapping) else {}
                assert isinstance(notices, Mapping)
                earlier = "; ".join(f"{k} at {render.when(v)}" for k, v in notices.items()) or "–"
                if isinstance(example.get("tolling"), Mapping):
                    t = example["tolling"]
                    earlier += f"; delay from {render.when(t.get('at'))}" + (
                        f" to {render.when(t['until'])}" if t.get("until") else ", still running"
                    )
                lines.append(
                    Markup("| {} | {} | {} | {} | {} | {} |").format(
                        render.text(example.get("name")),
                        render.text(render.when(example.get("trigger"))),
                        render.text(_facts(example.get("facts"))),
                        render.text(earlier),
                        render.text(_expected(example)),
                        Markup("**{}**").format(render.text(verdict))
                        if result is None or not result.ok
                        else render.text(verdict),
                    )
                )
            lines.append(Markup(""))
    return Markup("\n").join(lines)


def state_rows(states: Iterable[ObligationState], now: dt.datetime) -> list[dict[str, Any]]:
    """An incident's obligations for its page: key, state, and what the state means."""
    rows = []
    for state in states:
        current = state.state(now)
        if current in ("unassessed", "not-applicable"):
            detail = state.reason
        elif current == "tolled" and state.tolled is not None:
            detail = "delay logged" + (
                f" until {render.when(state.tolled[1])}" if state.tolled[1] else ", still running"
            )
        elif current == "waiting":
            detail = state.reason
        elif state.due is not None:
            detail = f"due {render.when(state.due)}"
        else:
            detail = "no computable deadline: without undue delay"
        if state.notified is not None:
            detail += f"; notified {render.when(state.notified)}"
        rows.append({"obligation": state.key, "state": current, "detail": detail})
    return rows


def listed_states(
    index: Any, incident: Document, entries: Sequence[Document], visible: Mapping[str, Any]
) -> list[ObligationState]:
    """The states of every obligation of the regulations the incident's protocol lists
    (voided entries left out), from the obligations the audience may see."""
    from clearance.incidents import obligations, state

    derived = state.derive(incident, entries)
    live = [e for e in derived.order if state.entry_id(e) not in derived.voided]
    listed = [
        r
        for r in obligations.listed_regulations(index, incident)
        if any(k.startswith(f"{r}#") for k in visible)
    ]
    return obligations.obligation_states(visible, live, listed)
