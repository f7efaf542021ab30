"""Claims: sentences that assert something about an incident ("no personal data was
affected", "we have notified the regulator") and so need the sign-off of whoever
owns that truth, whatever identifiers the statement holds.

Claims are declared in data, on a data class (``detectors.claims``): a name, what
the claim says (``says``, in words another check can compare with the incident
record), and case-insensitive regular expressions in which a space matches any run
of whitespace. A hit belongs to the declaring class, so a statement making the claim
needs that class's approval chain, like one that quotes the class's data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from clearance.model import Location


@dataclass(frozen=True)
class Claim:
    name: str
    says: str
    data_class: str
    patterns: tuple[re.Pattern[str], ...]
    location: Location


@dataclass(frozen=True)
class ClaimProblem:
    data_class: str
    name: str
    message: str
    location: Location


def compile_claim_pattern(source: str) -> re.Pattern[str]:
    """A claim pattern: case-insensitive, a space stands for any whitespace."""
    return re.compile(re.sub(r"(?<!\\) +", r"\\s+", source), re.IGNORECASE)


def claims_of(doc: Any) -> tuple[list[Claim], list[ClaimProblem]]:
    """The claims a data-class document declares, and the patterns that cannot be
    used (not compiling, or matching the empty string)."""
    spec = doc.data.get("detectors")
    items = spec.get("claims") if isinstance(spec, dict) else None
    claims: list[Claim] = []
    problems: list[ClaimProblem] = []
    for position, item in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        compiled: list[re.Pattern[str]] = []
        for number, source in enumerate(item.get("patterns") or ()):
            if not isinstance(source, str):
                continue
            where = doc.where(("detectors", "claims", position, "patterns", number))
            try:
                pattern = compile_claim_pattern(source)
            except re.error as exc:
                problems.append(
                    ClaimProblem(doc.id, name, f"regular expression does not compile: {exc}", where)
                )
                continue
            if pattern.search(""):
                problems.append(
                    ClaimProblem(doc.id, name, "regular expression matches the empty string", where)
                )
                continue
            compiled.append(pattern)
        if compiled:
            says = str(item.get("says") or name)
            claims.append(
                Claim(name, says, doc.id, tuple(compiled), doc.where(("detectors", "claims", position)))
            )
    return claims, problems


def find_claims(claims: list[Claim], text: str) -> Iterator[tuple[int, int, Claim]]:
    for claim in claims:
        for pattern in claim.patterns:
            for match in pattern.finditer(text):
                if match.end() > match.start():
                    yield match.start(), match.end(), claim
