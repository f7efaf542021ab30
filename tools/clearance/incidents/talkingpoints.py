"""Talking points as declared facts: a ``talking-points`` entry may declare facts (a
count, a date) with the words a sentence about them uses; the current points at a moment
are the latest entry not superseded by then. A published statement contradicts a current
point when a sentence naming one of a fact's terms states a number or date, and none of
them is the declared value."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from clearance.incidents import state
from clearance.index import parse_time
from clearance.model import Document

_NUMBER = re.compile(r"(?<![\w.,])\d[\d,. ]*\d(?![\w])|(?<![\w.,])\d(?![\w])")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


@dataclass(frozen=True)
class Contradiction:
    points: str  # the talking-points entry
    fact: str
    declared: str
    sentence: str
    stated: tuple[str, ...]


def current(entries: Sequence[Document], at: dt.datetime) -> list[Document]:
    """Talking-points entries in force at ``at``: written by then, not superseded by then."""
    written = [
        e
        for e in entries
        if e.data.get("type") == "talking-points" and (parse_time(e.data.get("at")) or at) <= at
    ]
    superseded = {str(e.data.get("supersedes")) for e in written if e.data.get("supersedes")}
    return [e for e in written if state.entry_id(e) not in superseded]


def _norm(token: str) -> str:
    return re.sub(r"[ ,]", "", token).rstrip(".")


def contradictions(text: str, points: Sequence[Document]) -> list[Contradiction]:
    out = []
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    for entry in points:
        declares = entry.data.get("declares")
        if not isinstance(declares, dict):
            continue
        for fact, spec in declares.items():
            if not isinstance(spec, dict):
                continue
            declared = str(spec.get("value"))
            terms = [str(t) for t in spec.get("terms") or () if str(t).strip()]
            pattern = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE
            ) if terms else None  # fmt: skip
            if pattern is None:
                continue
            shape = _DATE if _DATE.fullmatch(declared.strip()) else _NUMBER
            for sentence in sentences:
                if not pattern.search(sentence):
                    continue
                stated = tuple(m.group(0).strip() for m in shape.finditer(sentence))
                if stated and _norm(declared) not in {_norm(s) for s in stated}:
                    out.append(Contradiction(state.entry_id(entry), str(fact), declared, sentence, stated))
    return out
