"""Worked examples in the register, evaluated by the same engine incidents use.

Each obligation may carry ``examples``: a trigger time (the assessment's clock start),
facts logged on the incident, notices of other obligations already given, a tolling
entry, and what must come out (whether it applies, the deadline, the state). A register
edit that breaks a clock makes its example fail, in the tests and in ``clearance check``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clearance.incidents.obligations import ObligationState, evaluate
from clearance.index import parse_time
from clearance.model import Document, Path


@dataclass(frozen=True)
class ExampleResult:
    obligation: str  # regulation#obligation
    position: int  # index in the obligation's examples
    name: str
    problems: tuple[str, ...]
    state: ObligationState | None
    path: Path  # where the example stands in the regulation document

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry(name: str, data: Mapping[str, Any]) -> Document:
    return Document(f"incidents/worked-example/log/{name}.yaml", dict(data), {}, {})


def run(regulation: Document) -> Iterator[ExampleResult]:
    """Evaluate every worked example of ``regulation``'s obligations."""
    reg_id = str(regulation.id)
    obligations: dict[str, Mapping[str, Any]] = {}
    for item in regulation.data.get("obligations") or ():
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            obligations[f"{reg_id}#{item['id']}"] = item
    for position, item in enumerate(regulation.data.get("obligations") or ()):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        key = f"{reg_id}#{item['id']}"
        for number, example in enumerate(item.get("examples") or ()):
            if isinstance(example, dict):
                yield _one(key, obligations, example, number, ("obligations", position, "examples", number))


def _one(
    key: str,
    obligations: Mapping[str, Mapping[str, Any]],
    example: Mapping[str, Any],
    number: int,
    path: Path,
) -> ExampleResult:
    name = str(example.get("name", f"example {number + 1}"))
    trigger = parse_time(example.get("trigger"))
    if trigger is None:
        return ExampleResult(key, number, name, ("trigger is not a date-time with an offset",), None, path)
    regulation = key.split("#", 1)[0]
    entries = [
        _entry(
            "a-0",
            {
                "kind": "log-entry",
                "type": "assessment",
                "at": trigger.isoformat(),
                "by": "worked-example",
                "regulation": regulation,
                "applies": True,
                "clock_start": trigger.isoformat(),
                "rationale": "worked example",
            },
        )
    ]
    if isinstance(example.get("facts"), dict):
        entries.append(
            _entry(
                "f-0",
                {
                    "kind": "log-entry",
                    "type": "facts",
                    "at": trigger.isoformat(),
                    "by": "worked-example",
                    "facts": example["facts"],
                    "source": f"worked example {name!r}",
                },
            )
        )
    moments = [trigger]
    for number_, (other, at) in enumerate(sorted((example.get("notified") or {}).items())):
        other_key = other if "#" in other else f"{regulation}#{other}"
        entries.append(
            _entry(
                f"n-{number_}",
                {
                    "kind": "log-entry",
                    "type": "notification",
                    "at": at,
                    "by": "worked-example",
                    "obligation": other_key,
                    "recipient": "worked example",
                },
            )
        )
        if parse_time(at):
            moments.append(parse_time(at))  # type: ignore[arg-type]
    tolling = example.get("tolling")
    if isinstance(tolling, dict):
        entries.append(
            _entry(
                "t-0",
                {
                    "kind": "log-entry",
                    "type": "tolling",
                    "by": "worked-example",
                    "obligation": key,
                    "rationale": "worked example",
                    **tolling,
                },
            )
        )
        if parse_time(tolling.get("at")):
            moments.append(parse_time(tolling.get("at")))  # type: ignore[arg-type]
    entries.sort(key=lambda e: parse_time(e.data.get("at")) or trigger)
    found = {s.key: s for s in evaluate(obligations, entries, [regulation])}
    state = found.get(key)
    problems: list[str] = []
    expect = example.get("expect") if isinstance(example.get("expect"), dict) else {}
    assert isinstance(expect, dict)
    if state is None:
        return ExampleResult(key, number, name, ("the engine did not evaluate this obligation",), None, path)
    want_applies = expect.get("applies", True)
    if want_applies != state.applies:
        problems.append(
            f"expected it {'to apply' if want_applies else 'not to apply'}, "
            f"got {state.status} ({state.reason})"
        )
    if "due" in expect and state.applies:
        want = parse_time(expect["due"]) if expect["due"] is not None else None
        if expect["due"] is not None and want is None:
            problems.append(f"expect.due {expect['due']!r} is not a date-time with an offset")
        elif want != state.due:
            problems.append(f"expected due {_show(want)}, got {_show(state.due)}")
    if "state" in expect:
        now = max(moments) + dt.timedelta(seconds=1)
        got = state.state(now)
        if got != expect["state"]:
            problems.append(f"expected state {expect['state']!r} just after the last event, got {got!r}")
    return ExampleResult(key, number, name, tuple(problems), state, path)


def _show(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else "no computable deadline"
