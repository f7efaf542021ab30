"""The scanner: built-in detectors plus every data class's own patterns and terms,
compiled once per repository index, over normalised text.

A hit knows where it stands in the original text, which detector found it, the data
classes it belongs to (or ``unclassified`` when no class lists that built-in
detector: it is still a hit, never silent), and how to show itself without echoing
the sensitive value.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clearance.index import Index, Reads
from clearance.model import Document, Location
from clearance.scan import detectors
from clearance.scan.claims import Claim, claims_of, find_claims
from clearance.scan.hits import VALIDATED
from clearance.scan.normalise import Normalised, normalise, skeleton
from clearance.scan.terms import TermMatcher, compact

UNCLASSIFIED = "unclassified"
MASK = "•"


@dataclass(frozen=True)
class Hit:
    """One match, located in the original text (0-based offsets, 1-based line/col)."""

    start: int
    end: int
    line: int
    col: int
    detector: str  # a built-in name, "pattern" or "term"
    name: str  # built-in sub-kind ("aws-access-key"), pattern name, or "term"
    classes: tuple[str, ...]
    matched: str = field(repr=False)  # the original text: never print it
    normalised: str = field(repr=False)
    confidence: str = VALIDATED  # validated, plausible or contextual (clearance.scan.hits)

    @property
    def masked(self) -> str:
        return mask(self.detector, self.normalised)

    @property
    def label(self) -> str:
        """How the hit was found, without the value: "pattern customer-id", "email"."""
        if self.detector == "pattern":
            return f"pattern {self.name}"
        if self.detector == "term":
            return "term" if self.confidence == VALIDATED else "term (near match)"
        if self.detector == "claim":
            return f"claim {self.name}"
        if self.name and self.name != self.detector and self.detector in ("secret", "national-id"):
            return f"{self.detector} {self.name}"
        return self.detector

    def moved(self, line: int, col: int) -> Hit:
        return Hit(
            self.start,
            self.end,
            line,
            col,
            self.detector,
            self.name,
            self.classes,
            self.matched,
            self.normalised,
            self.confidence,
        )


def mask(detector: str, value: str) -> str:
    """Enough of a value to recognise it, never the whole of it."""
    if detector == "claim":
        return " ".join(value.split())  # a sentence, not a value: shown as written
    if detector in ("secret", "url-credentials"):
        return f"<{detector}, {len(value)} characters>"
    if detector == "payment-card":
        digits = [c for c in value if c.isdigit()]
        return MASK * (len(digits) - 4) + "".join(digits[-4:])
    if len(value) <= 4:
        return MASK * len(value)
    if len(value) <= 6:
        return value[0] + MASK * (len(value) - 2) + value[-1]
    return value[:2] + MASK * (len(value) - 4) + value[-2:]


@dataclass(frozen=True)
class Requirement:
    """What publishing a data class needs."""

    data_class: str
    rule: str  # "never", "with-approval" or "unknown"
    chain: str | None = None
    roles: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.data_class == UNCLASSIFIED:
            return "no data class covers this detector; review before publishing"
        if self.rule == "never":
            return "must not be published (disclosure rule 'never')"
        if self.rule == "with-approval":
            roles = ", ".join(self.roles) if self.roles else "(chain has no steps)"
            return f"needs approval: {roles} (chain {self.chain})"
        return "disclosure rule unknown; review before publishing"


@dataclass(frozen=True)
class Allowance:
    """A justified exception for one exact text."""

    match: str
    by: str
    reason: str
    detector: str | None
    location: Location
    scope: str | None = None  # a data class id when declared on a data class

    def covers(self, hit: Hit) -> bool:
        if self.scope is not None and self.scope not in hit.classes:
            return False
        if self.detector and self.detector not in (hit.detector, hit.name, *hit.classes):
            return False
        wanted = self.match.strip()
        if hit.matched.strip() == wanted or hit.normalised.strip() == wanted:
            return True
        return _compact(hit.normalised) == _compact(skeleton(wanted))


def _compact(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip()).casefold()


def allowances_of(doc: Document, scope: str | None = None) -> list[Allowance]:
    """The ``allow`` entries of one document."""
    items = doc.data.get("allow")
    out: list[Allowance] = []
    for position, item in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(item, dict) or not isinstance(item.get("match"), str) or not item["match"]:
            continue
        detector = item.get("detector")
        out.append(
            Allowance(
                item["match"],
                str(item.get("by") or ""),
                str(item.get("reason") or ""),
                detector if isinstance(detector, str) and detector else None,
                doc.where(("allow", position)),
                scope,
            )
        )
    return out


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    data_class: str


@dataclass(frozen=True)
class PatternProblem:
    data_class: str
    name: str
    message: str
    location: Location


class Scanner:
    """Detectors for one repository: build once per index, reuse for every text."""

    def __init__(self, index: Index | None = None) -> None:
        self.requirements: dict[str, Requirement] = {}
        self.builtin_classes: dict[str, tuple[str, ...]] = {}
        self.patterns: list[Pattern] = []
        self.problems: list[PatternProblem] = []
        self.class_allowances: list[Allowance] = []
        self._term_classes: dict[str, tuple[str, ...]] = {}
        self._terms: TermMatcher | None = None
        self.claims: list[Claim] = []
        if index is not None:
            self._build(index)

    # -- construction --------------------------------------------------------------

    def _build(self, index: Index) -> None:
        builtin: dict[str, list[str]] = {}
        terms: dict[str, list[str]] = {}
        fuzzy: set[str] = set()
        for doc in sorted(index.of_kind("data-class"), key=lambda d: d.id or ""):
            class_id = doc.id
            if class_id is None:
                continue
            self.requirements[class_id] = self._requirement(index, class_id, doc.data.get("disclosure"))
            self.class_allowances.extend(allowances_of(doc, scope=class_id))
            spec = doc.data.get("detectors")
            if not isinstance(spec, dict):
                continue
            for name in _strings(spec.get("builtin")):
                builtin.setdefault(name, []).append(class_id)
            for position, item in enumerate(spec.get("patterns") or ()):
                if not isinstance(item, dict) or not isinstance(item.get("regex"), str):
                    continue
                name = str(item.get("name") or f"pattern-{position + 1}")
                try:
                    regex = re.compile(item["regex"])
                except re.error as exc:
                    self.problems.append(
                        PatternProblem(
                            class_id,
                            name,
                            f"regular expression does not compile: {exc}",
                            doc.where(("detectors", "patterns", position, "regex")),
                        )
                    )
                    continue
                if regex.search(""):
                    self.problems.append(
                        PatternProblem(
                            class_id,
                            name,
                            "regular expression matches the empty string",
                            doc.where(("detectors", "patterns", position, "regex")),
                        )
                    )
                    continue
                self.patterns.append(Pattern(name, regex, class_id))
            for term in _strings(spec.get("terms")):
                key = _term_key(term)
                if key:
                    terms.setdefault(key, []).append(class_id)
                    if spec.get("fuzzy") is True:
                        fuzzy.add(key)
            claims, problems = claims_of(doc)
            self.claims.extend(claims)
            self.problems.extend(
                PatternProblem(p.data_class, p.name, p.message, p.location) for p in problems
            )
        self.builtin_classes = {name: tuple(dict.fromkeys(ids)) for name, ids in builtin.items()}
        self._term_classes = {key: tuple(dict.fromkeys(ids)) for key, ids in terms.items()}
        if terms:
            self._terms = TermMatcher(terms, fuzzy)

    @staticmethod
    def _requirement(index: Index, class_id: str, disclosure: Any) -> Requirement:
        if not isinstance(disclosure, dict):
            return Requirement(class_id, "unknown")
        rule = disclosure.get("rule")
        chain_id = disclosure.get("chain") if isinstance(disclosure.get("chain"), str) else None
        if rule != "with-approval":
            return Requirement(class_id, rule if rule == "never" else "unknown", chain_id)
        roles: list[str] = []
        chain = index.get("approval-chain", chain_id) if chain_id else None
        if chain is not None:
            for step in chain.data.get("steps") or ():
                if not isinstance(step, dict) or not isinstance(step.get("role"), str):
                    continue
                # A step limited to other data classes does not apply to this one.
                when = step.get("when")
                only = when.get("data_classes") if isinstance(when, dict) else None
                if isinstance(only, list) and class_id not in only:
                    continue
                roles.append(step["role"])
        return Requirement(class_id, "with-approval", chain_id, tuple(dict.fromkeys(roles)))

    @property
    def term_matcher(self) -> TermMatcher | None:
        """The matcher for every data class term."""
        return self._terms

    # -- scanning ------------------------------------------------------------------

    def requirement(self, class_id: str) -> Requirement:
        return self.requirements.get(class_id, Requirement(class_id, "unknown"))

    def scan(self, text: str, *, placeholders: bool = True, region: str | None = None) -> list[Hit]:
        """Every hit in ``text``, in order of position. Template placeholders
        (``{{ name }}``) are never hits when ``placeholders`` is true. ``region``
        (a locale such as "en-GB" or a region code) is where phone numbers written
        without a country code are read first."""
        norm = normalise(text, placeholders=placeholders)
        body = norm.text
        spans: list[_Span] = []
        for raw in detectors.run_all(body, detectors.region_of(region)):
            classes = self.builtin_classes.get(raw.detector, (UNCLASSIFIED,))
            spans.append((raw.start, raw.end, raw.detector, raw.kind, classes, raw.confidence))
        for pattern in self.patterns:
            for match in pattern.regex.finditer(body):
                if match.end() > match.start():
                    spans.append(
                        (
                            match.start(),
                            match.end(),
                            "pattern",
                            pattern.name,
                            (pattern.data_class,),
                            VALIDATED,
                        )
                    )
        if self._terms is not None:
            for found in self._terms.find(body):
                classes = self._term_classes.get(found.key, ())
                if classes:
                    confidence = detectors.PLAUSIBLE if found.fuzzy else VALIDATED
                    spans.append((found.start, found.end, "term", "term", classes, confidence))
        for start, end, claim in find_claims(self.claims, body):
            spans.append((start, end, "claim", claim.name, (claim.data_class,), detectors.CONTEXTUAL))
        if not spans:
            return []
        return self._hits(text, norm, spans)

    def _hits(self, text: str, norm: Normalised, spans: list[_Span]) -> list[Hit]:
        # A pattern or term hit that covers a weaker built-in hit of the same classes
        # replaces it; phone numbers inside an organisation's own identifiers go.
        strong = bytearray(len(norm.text) + 1)
        for s, e, det, *_ in spans:
            if det in ("pattern", "term"):
                strong[s:e] = b"\x01" * (e - s)
        hits: list[Hit] = []
        seen: set[tuple[int, int, str, tuple[str, ...]]] = set()
        lines = _LineIndex(text)
        for start, end, det, name, classes, confidence in sorted(spans, key=lambda s: (s[0], s[1])):
            if det == "phone" and strong.find(1, start, end) >= 0:
                continue
            key = (start, end, det, classes)
            if key in seen:
                continue
            seen.add(key)
            ostart, oend = norm.span(start, end)
            line, col = lines.position(ostart)
            hits.append(
                Hit(
                    ostart,
                    oend,
                    line,
                    col,
                    det,
                    name,
                    classes,
                    text[ostart:oend],
                    norm.text[start:end],
                    confidence,
                )
            )
        return hits

    def classes_in(self, text: str, allowances: Sequence[Allowance] = ()) -> set[str]:
        """The data classes ``text`` touches, after allowances (never "unclassified")."""
        found, _ = self.split(self.scan(text), allowances)
        return {c for hit in found for c in hit.classes if c != UNCLASSIFIED}

    def split(
        self, hits: Iterable[Hit], allowances: Sequence[Allowance] = ()
    ) -> tuple[list[Hit], list[tuple[Hit, Allowance]]]:
        """Separate hits that an allowance covers (document, incident or data class
        allowances) from the ones that count."""
        every = [*allowances, *self.class_allowances]
        counted: list[Hit] = []
        allowed: list[tuple[Hit, Allowance]] = []
        for hit in hits:
            cover = next((a for a in every if a.covers(hit)), None)
            if cover is None:
                counted.append(hit)
            else:
                allowed.append((hit, cover))
        return counted, allowed


_Span = tuple[int, int, str, str, tuple[str, ...], str]


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        if self.starts is None:
            self.starts = [0]
            self.starts.extend(m.end() for m in re.finditer("\n", self.text))
        import bisect

        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _term_key(term: str) -> str:
    return compact(skeleton(term))


_CACHE: weakref.WeakKeyDictionary[Index, Scanner] = weakref.WeakKeyDictionary()


def scanner_for(index: Index | None) -> Scanner:
    """The scanner for ``index``, built once and cached while the index lives. A rule
    reading through :class:`Reads` is recorded as depending on what the build read."""
    if index is None:
        return Scanner(None)
    base = index.base if isinstance(index, Reads) else index
    scanner = _CACHE.get(base)
    if scanner is None:
        scanner = _CACHE[base] = Scanner(base)
    # The scanner is built from every data class and the chains they name: say so
    # once per kind rather than per chain (a chain edit is rare; thousands of tokens
    # on every template would not be).
    index.depends(("kind", "data-class"))
    index.depends(("kind", "approval-chain"))
    return scanner
