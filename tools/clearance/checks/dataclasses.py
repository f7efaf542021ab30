"""Data-class detectors that work: patterns compile, match their examples, and cannot
hang the scanner on hostile input."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

from clearance.checks import Context, register
from clearance.index import Index
from clearance.model import Finding, Severity

ADVERSARIAL_LENGTH = 10_000
TIME_BUDGET = 1.0  # seconds per pattern over all adversarial inputs
_verdicts: dict[str, bool] = {}  # pattern -> too slow; computed once per process


def _adversarial(pattern: str) -> list[str]:
    alphabet = set("a0 -._@A/:") | {c for c in pattern if c.isprintable() and not c.isspace()}
    inputs = [ch * ADVERSARIAL_LENGTH + "\x00" for ch in sorted(alphabet)]
    inputs += ["a0" * (ADVERSARIAL_LENGTH // 2) + "\x00", "a " * (ADVERSARIAL_LENGTH // 2) + "\x00"]
    return inputs


def _probe(patterns: list[str], conn: Any) -> None:  # runs in a child process
    for pattern in patterns:
        compiled = re.compile(pattern)
        for text in _adversarial(pattern):
            compiled.search(text)
        conn.send(pattern)
    conn.close()


def too_slow(patterns: Iterable[str]) -> set[str]:
    """Patterns that take longer than the budget on 10 KB adversarial strings. Each
    runs in a child process that is killed when the budget runs out."""
    import multiprocessing

    wanted = list(dict.fromkeys(patterns))
    todo = [p for p in wanted if p not in _verdicts]
    context = multiprocessing.get_context("fork")
    while todo:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_probe, args=(todo, sender), daemon=True)
        process.start()
        sender.close()
        finished = 0
        for pattern in todo:
            if receiver.poll(TIME_BUDGET):
                try:
                    receiver.recv()
                except EOFError:
                    _verdicts[pattern] = True
                    break
                _verdicts[pattern] = False
                finished += 1
            else:
                _verdicts[pattern] = True
                break
        process.kill()
        process.join()
        receiver.close()
        todo = todo[finished + 1 :]
    return {p for p in wanted if _verdicts.get(p)}


def _patterns(index: Index) -> list[str]:
    found = []
    for doc in index.of_kind("data-class"):
        det = doc.data.get("detectors")
        for item in det.get("patterns") or () if isinstance(det, dict) else ():
            if isinstance(item, dict) and isinstance(item.get("regex"), str):
                try:
                    re.compile(item["regex"])
                except re.error:
                    continue
                found.append(item["regex"])
        for claim in det.get("claims") or () if isinstance(det, dict) else ():
            for source in claim.get("patterns") or () if isinstance(claim, dict) else ():
                if isinstance(source, str):
                    try:
                        re.compile(claim_source(source))
                    except re.error:
                        continue
                    found.append(claim_source(source))
    return found


def _pattern_path(position: Any) -> tuple[Any, ...]:
    return position if isinstance(position, tuple) else ("detectors", "patterns", position, "regex")


def claim_source(source: str) -> str:
    """A claim pattern as the scanner compiles it (clearance.scan.claims): case-
    insensitive, a space standing for any whitespace. Repeated here so that checking
    data classes does not import the scanner."""
    return "(?i)" + re.sub(r"(?<!\\) +", r"\\s+", source)


def _slow_patterns(memo: MutableMapping[str, Any] | None, index: Index) -> set[str]:
    patterns = _patterns(index)
    if memo is None or not patterns:
        return too_slow(patterns)
    # A verdict depends only on the pattern and on this probe; keep verdicts between
    # runs in the memo whoever runs the rules keeps (the speed wing stores it).
    key = f"regex-verdicts:{ADVERSARIAL_LENGTH}:{TIME_BUDGET}"
    stored = memo.get(key)
    known = {p: v for p, v in stored.items() if isinstance(v, bool)} if isinstance(stored, dict) else {}
    _verdicts.update(known)
    slow = too_slow(patterns)
    if any(p not in known for p in patterns):
        memo[key] = {**known, **{p: _verdicts[p] for p in patterns}}
    return slow


@register(
    ("DCL001", Severity.ERROR, "detector pattern is not a valid regular expression"),
    ("DCL002", Severity.ERROR, "detector pattern is catastrophically slow on a 10 KB hostile string"),
    ("DCL003", Severity.ERROR, "detector pattern does not match its own example"),
    ("DCL004", Severity.WARNING, "detector term is too short to match reliably"),
    ("DCL006", Severity.ERROR, "claim example that none of the claim's patterns matches"),
)
def detectors(ctx: Context) -> Iterator[Finding]:
    compiled: list[tuple[Any, Any, str]] = []
    for doc in ctx.subjects("data-class"):
        det = doc.data.get("detectors")
        if not isinstance(det, dict):
            continue
        for position, item in enumerate(det.get("patterns") or ()):
            if not isinstance(item, dict) or not isinstance(item.get("regex"), str):
                continue
            try:
                regex = re.compile(item["regex"])
            except re.error as exc:
                yield ctx.finding(
                    "DCL001",
                    doc.where(("detectors", "patterns", position, "regex")),
                    f"pattern {item.get('name')!r} does not compile: {exc}",
                )
                continue
            compiled.append((doc, position, item["regex"]))
            example = item.get("example")
            if isinstance(example, str) and not regex.search(example):
                yield ctx.finding(
                    "DCL003",
                    doc.where(("detectors", "patterns", position, "example")),
                    f"pattern {item.get('name')!r} does not match its example {example!r}",
                )
        yield from _claims(ctx, doc, det, compiled)
        for position, term in enumerate(det.get("terms") or ()):
            if isinstance(term, str) and len(term.strip()) < 3:
                yield ctx.finding(
                    "DCL004",
                    doc.where(("detectors", "terms", position)),
                    f"term {term!r} is shorter than 3 characters and would match ordinary words",
                    "use a longer term or a regex pattern with context",
                )
    if not compiled:
        return
    # One probe for every data class's patterns at once (forking per unit would cost
    # more than the probing); a verdict depends only on the pattern's own text.
    slow = ctx.index.derived("dataclasses.slow", functools.partial(_slow_patterns, ctx.memo))
    slow = slow | too_slow(p for _, _, p in compiled if p not in _verdicts)
    for doc, position, pattern in compiled:
        if pattern in slow:
            yield ctx.finding(
                "DCL002",
                doc.where(_pattern_path(position)),
                f"pattern {pattern!r} took over {TIME_BUDGET:g}s on a {ADVERSARIAL_LENGTH}-character "
                "hostile string (catastrophic backtracking)",
                "avoid nested quantifiers such as (a+)+ and overlapping alternatives such as (a|a)*",
            )


def _claims(
    ctx: Context, doc: Any, det: dict[str, Any], compiled: list[tuple[Any, Any, str]]
) -> Iterator[Finding]:
    for position, claim in enumerate(det.get("claims") or ()):
        if not isinstance(claim, dict):
            continue
        usable: list[re.Pattern[str]] = []
        for number, source in enumerate(claim.get("patterns") or ()):
            if not isinstance(source, str):
                continue
            where = ("detectors", "claims", position, "patterns", number)
            try:
                usable.append(re.compile(claim_source(source)))
            except re.error:
                continue  # DSC007 names it (the scanner reports patterns it cannot use)
            compiled.append((doc, where, claim_source(source)))
        for number, example in enumerate(claim.get("examples") or ()):
            if isinstance(example, str) and usable and not any(p.search(example) for p in usable):
                yield ctx.finding(
                    "DCL006",
                    doc.where(("detectors", "claims", position, "examples", number)),
                    f"claim {claim.get('name')!r}: no pattern matches its example {example!r}",
                    "widen a pattern, or correct the example",
                )
