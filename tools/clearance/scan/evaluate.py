"""Scoring the scanner against labelled sets: recall and false-positive rate per
detector kind. Used by tests/scan_eval_test.py and bench/scan_bench.py, so the test
and the published figures come from the same arithmetic.

Two formats are read. The original corpus (``trigger``/``evasion``/``no_trigger``,
each positive with one expected class) is scored per section, the section being the
``# --- name ---`` comment above the items. The held-out set (``positives`` with
``expect: {kind: class}``, ``negatives``) is scored per detector kind: a positive
counts for a kind when a counted hit of that detector carries the class (``*`` for
any class). On negatives, a text is a false positive of every kind that produced a
counted hit in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clearance.scan.scanner import Hit, Scanner


@dataclass(frozen=True)
class KindScore:
    kind: str
    positives: int
    caught: int
    negatives: int
    flagged: int
    missed: tuple[str, ...] = field(default=(), repr=False)
    false_positives: tuple[str, ...] = field(default=(), repr=False)

    @property
    def recall(self) -> float:
        return self.caught / self.positives if self.positives else 1.0

    @property
    def fp_rate(self) -> float:
        return self.flagged / self.negatives if self.negatives else 0.0


def counted(scanner: Scanner, text: str, region: str | None = None) -> list[Hit]:
    hits, _allowed = scanner.split(scanner.scan(text, region=region))
    return hits


def _flags(scanner: Scanner, negatives: Iterable[str]) -> tuple[int, dict[str, list[str]]]:
    by_kind: dict[str, list[str]] = {}
    total = 0
    for text in negatives:
        total += 1
        for kind in sorted({hit.detector for hit in counted(scanner, text)}):
            by_kind.setdefault(kind, []).append(text)
    return total, by_kind


def score_heldout(scanner: Scanner, data: dict[str, Any]) -> dict[str, KindScore]:
    caught: dict[str, int] = {}
    total: dict[str, int] = {}
    missed: dict[str, list[str]] = {}
    for item in data["positives"]:
        hits = counted(scanner, item["text"], item.get("locale"))
        for kind, wanted in item["expect"].items():
            total[kind] = total.get(kind, 0) + 1
            if any(h.detector == kind and (wanted == "*" or wanted in h.classes) for h in hits):
                caught[kind] = caught.get(kind, 0) + 1
            else:
                missed.setdefault(kind, []).append(item["text"])
    negatives, flagged = _flags(scanner, (item["text"] for item in data["negatives"]))
    kinds = sorted(set(total) | set(flagged))
    return {
        kind: KindScore(
            kind,
            total.get(kind, 0),
            caught.get(kind, 0),
            negatives,
            len(flagged.get(kind, ())),
            tuple(missed.get(kind, ())),
            tuple(flagged.get(kind, ())),
        )
        for kind in kinds
    }


_SECTION = re.compile(r"^\s*#\s*---\s*(.+?)\s*---\s*$")


def corpus_sections(source: str) -> list[str]:
    """The section name of each positive item of the original corpus, in order
    (``trigger`` items under their heading, then ``evasion`` items)."""
    names: list[str] = []
    section = ""
    part = ""
    for line in source.splitlines():
        if line.startswith(("trigger:", "evasion:", "no_trigger:")):
            part = line.split(":")[0]
            section = "evasion" if part == "evasion" else ""
            continue
        heading = _SECTION.match(line)
        if heading and part == "trigger":
            section = heading.group(1).split(":")[0].split("(")[0].strip()
        elif line.lstrip().startswith("- {expect:") and part in ("trigger", "evasion"):
            names.append(section or part)
    return names


def score_corpus(scanner: Scanner, data: dict[str, Any], source: str) -> dict[str, KindScore]:
    """Recall per section of the original corpus, false positives per detector kind."""
    positives = data["trigger"] + data["evasion"]
    sections = corpus_sections(source)
    if len(sections) != len(positives):
        sections = ["all"] * len(positives)
    caught: dict[str, int] = {}
    total: dict[str, int] = {}
    missed: dict[str, list[str]] = {}
    for section, item in zip(sections, positives, strict=True):
        total[section] = total.get(section, 0) + 1
        hits = counted(scanner, item["text"])
        if any(item["expect"] in h.classes or item["expect"] == h.detector for h in hits):
            caught[section] = caught.get(section, 0) + 1
        else:
            missed.setdefault(section, []).append(item["text"])
    negatives, flagged = _flags(scanner, data["no_trigger"])
    scores = {
        section: KindScore(
            section, total[section], caught.get(section, 0), 0, 0, tuple(missed.get(section, ()))
        )
        for section in total
    }
    for kind, texts in flagged.items():
        scores[f"fp:{kind}"] = KindScore(kind, 0, 0, negatives, len(texts), (), tuple(texts))
    scores["fp:any"] = KindScore(
        "any", 0, 0, negatives, len({t for texts in flagged.values() for t in texts}), ()
    )
    return scores
