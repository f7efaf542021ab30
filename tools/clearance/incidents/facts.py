"""Facts logged on an incident (counts per country or state, records, materiality,
entity type, named times) and the threshold conditions the register states over them.

A ``facts`` entry records values with their ``source``; a later entry overrides a
value key by key, so the record shows which entry, from which source, made an
obligation apply. Nested maps are addressed with dots: ``affected.US-CA``; a last
segment ending in ``*`` matches every key with that prefix (``affected.US-*``: any
one state).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.index import parse_time
from clearance.model import Document

OPERATORS = {
    "gt": ("more than", lambda a, b: a > b),
    "gte": ("at least", lambda a, b: a >= b),
    "lt": ("fewer than", lambda a, b: a < b),
    "lte": ("at most", lambda a, b: a <= b),
    "eq": ("equal to", lambda a, b: a == b),
    "ne": ("other than", lambda a, b: a != b),
    "in": ("one of", lambda a, b: a in b),
    "not_in": ("none of", lambda a, b: a not in b),
}


def entry_id(entry: Document) -> str:
    return Path(str(entry.path)).stem


def _flatten(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            yield from _flatten(item, name + ".")
        else:
            yield name, item


@dataclass(frozen=True)
class Facts:
    values: Mapping[str, Any]
    sources: Mapping[str, str]  # key -> "entry-id (source)"

    @classmethod
    def from_entries(cls, entries: Sequence[Document]) -> Facts:
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for entry in entries:
            if entry.data.get("type") != "facts" or not isinstance(entry.data.get("facts"), Mapping):
                continue
            origin = f"{entry_id(entry)} ({entry.data.get('source', 'no source')})"
            for key, item in _flatten(entry.data["facts"]):
                values[key] = item
                sources[key] = origin
        return cls(values, sources)

    def value(self, path: str) -> Any:
        return self.values.get(path)

    def time(self, name: str) -> dt.datetime | None:
        return parse_time(self.values.get(name))

    def matching(self, path: str) -> list[tuple[str, Any]]:
        if path.endswith("*"):
            prefix = path[:-1]
            return [
                (k, v) for k, v in self.values.items() if k.startswith(prefix) and "." not in k[len(prefix) :]
            ]
        return [(path, self.values[path])] if path in self.values else []


def _comparable(actual: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return True
    numbers = (int, float)
    if isinstance(expected, numbers) and not isinstance(expected, bool):
        return isinstance(actual, numbers) and not isinstance(actual, bool)
    return type(actual) is type(expected)


def condition(cond: Mapping[str, Any], facts: Facts) -> tuple[bool | None, str]:
    """(verdict, why): True or False when the facts decide it, None when a fact is missing."""
    if "all" in cond or "any" in cond:
        mode = "all" if "all" in cond else "any"
        results = [condition(c, facts) for c in cond[mode] if isinstance(c, Mapping)]
        verdicts = [v for v, _ in results]
        decisive = mode != "all"
        hits = [why for v, why in results if v is decisive]
        if hits:
            return decisive, hits[0]
        unknown = [why for v, why in results if v is None]
        if unknown:
            return None, "; ".join(unknown)
        return (not decisive), ("; ".join(why for _, why in results) if verdicts else "no condition")
    path = str(cond.get("fact", ""))
    ops = [op for op in OPERATORS if op in cond]
    if not path or len(ops) != 1:
        return None, f"malformed condition {dict(cond)!r}"
    op = ops[0]
    words, test = OPERATORS[op]
    expected = cond[op]
    found = facts.matching(path)
    if not found:
        return None, f"no fact {path!r} recorded (needs {words} {expected!r})"
    best: tuple[bool, str] | None = None
    for key, actual in found:
        if not _comparable(actual, expected):
            return None, f"fact {key!r} is {actual!r}, not comparable with {expected!r}"
        verdict = bool(test(actual, expected))
        why = f"{key} = {actual!r} from {facts.sources.get(key, '?')}, needs {words} {expected!r}"
        if verdict:
            return True, why
        best = best or (False, why)
    assert best is not None
    return best


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def describe_condition(cond: Mapping[str, Any]) -> str:
    """A threshold in words, for the handbook."""
    if "all" in cond or "any" in cond:
        mode = "all" if "all" in cond else "any"
        parts = [describe_condition(c) for c in cond[mode] if isinstance(c, Mapping)]
        return (" and " if mode == "all" else " or ").join(
            f"({p})" if " and " in p or " or " in p else p for p in parts
        )
    path = str(cond.get("fact", "?"))
    for op, (words, _) in OPERATORS.items():
        if op in cond:
            subject = path.replace("*", "(any one)")
            return f"{subject} is {words} {_show(cond[op])}"
    return repr(dict(cond))
