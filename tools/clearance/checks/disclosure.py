"""Disclosure: templates and drafts scanned for sensitive data; allowances justified
and listed.

A template is published again and again, so any hit in its body is a finding unless
an allowance covers it. A draft may legitimately touch a data class, but then it
must say so in ``data_classes``: the approval rule adds the steps those classes need,
so a class the scanner finds but the draft does not declare would let a statement
skip its approvers. A published draft that touches a class whose disclosure rule is
``never`` is an error whatever it declares.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from clearance.checks import Context, register
from clearance.index import incident_of
from clearance.model import Document, Finding, Location, Severity

if TYPE_CHECKING:  # the scanner's detectors take a tenth of a second to import: only when needed
    from clearance.scan import Allowance, DocumentScan, Hit

_EMPTY_REASONS = frozenset(
    {
        "",
        "-",
        "ok",
        "okay",
        "fine",
        "n/a",
        "na",
        "none",
        "todo",
        "tbd",
        "fixme",
        "allowed",
        "yes",
        "needed",
        "because",
    }
)
MIN_REASON = 12
# Findings listed one by one per document and rule; past it, one summary finding
# (a 1 MB paste with 100,000 keys would otherwise print 100,000 lines).
MAX_HITS_PER_FILE = 100


def _source(ctx: Context, doc: Document) -> str | None:
    try:
        return (Path(ctx.config.root) / doc.path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _what(hit: Hit) -> str:
    return f"{hit.label} {hit.masked!r}"


def _needs(ctx: Context, classes: tuple[str, ...]) -> str:
    from clearance.scan import scanner_for

    scanner = scanner_for(ctx.index)
    return "; ".join(
        f"{c}: {scanner.requirement(c).describe()}" if len(classes) > 1 else scanner.requirement(c).describe()
        for c in classes
    )


@register(
    (
        "DSC001",
        Severity.ERROR,
        "template or draft text contains sensitive data that is neither declared nor allowed",
    ),
    ("DSC002", Severity.ERROR, "disclosure allowance without a real justification"),
    ("DSC003", Severity.WARNING, "draft text contains a hit that no data class covers"),
    ("DSC004", Severity.WARNING, "disclosure allowance that matches nothing"),
    ("DSC005", Severity.ERROR, "published draft touches a data class whose disclosure rule is 'never'"),
    ("DSC006", Severity.INFO, "allowed disclosure hit, listed for the record"),
    ("DSC007", Severity.ERROR, "data class detector pattern that cannot be used"),
)
def disclosure(ctx: Context) -> Iterator[Finding]:
    mine = {doc.path for doc in ctx.subjects("data-class")}
    templates = ctx.subjects("template")
    if mine or templates:
        from clearance.scan import scan_document, scanner_for
    for problem in scanner_for(ctx.index).problems if mine else ():
        if problem.location.path not in mine:
            continue
        yield ctx.finding(
            "DSC007",
            problem.location,
            f"pattern {problem.name!r} of data class {problem.data_class!r}: {problem.message}",
            "fix the regular expression; until then the scanner ignores it",
        )
    yield from _justifications(ctx)
    for doc in templates:
        result = scan_document(doc, ctx.index, None, every_body=False, locale=ctx.config.locale)
        for hit in result.hits[:MAX_HITS_PER_FILE]:
            yield ctx.finding(
                "DSC001",
                _at(doc, hit),
                f"template body contains {', '.join(hit.classes)} ({_what(hit)}); {_needs(ctx, hit.classes)}",
                "replace it with a {{ placeholder }}, or add an allowance (match, by, reason) "
                "if it is public",
            )
        if len(result.hits) > MAX_HITS_PER_FILE:
            yield _more(ctx, "DSC001", doc, result.hits[MAX_HITS_PER_FILE:])
        yield from _allowed(ctx, result)
        yield from _stale(ctx, result.allowances, result.allowed)
    yield from _drafts(ctx)


def _more(ctx: Context, rule: str, doc: Document, rest: list[Hit]) -> Finding:
    """One finding standing for the hits of a document past the cap."""
    counts: dict[str, int] = {}
    for hit in rest:
        counts[hit.label] = counts.get(hit.label, 0) + 1
    kinds = ", ".join(f"{label} {count}" for label, count in sorted(counts.items(), key=lambda i: -i[1]))
    return ctx.finding(
        rule,
        _at(doc, rest[0]),
        f"{len(rest)} more hits in this document from here on are not listed one by one ({kinds})",
        f"the first {MAX_HITS_PER_FILE} are listed; 'clearance scan --max-hits 0 {doc.path}' lists every one",
    )


def _at(doc: Document, hit: Hit) -> Location:
    return Location(doc.path, hit.line, hit.col)


def _allowed(ctx: Context, result: DocumentScan) -> Iterator[Finding]:
    doc = result.document
    for hit, allowance in result.allowed[:MAX_HITS_PER_FILE]:
        yield ctx.finding(
            "DSC006",
            _at(doc, hit),
            f"allowed {_what(hit)} ({', '.join(hit.classes)}) by {allowance.by!r}: {allowance.reason}",
            related=(allowance.location,),
        )
    if len(result.allowed) > MAX_HITS_PER_FILE:
        yield _more(ctx, "DSC006", doc, [hit for hit, _ in result.allowed[MAX_HITS_PER_FILE:]])


def _stale(
    ctx: Context, allowances: list[Allowance], allowed: list[tuple[Hit, Allowance]]
) -> Iterator[Finding]:
    used = {a.location for _, a in allowed}
    for allowance in allowances:
        if allowance.location in used or allowance.scope is not None:
            continue
        yield ctx.finding(
            "DSC004",
            allowance.location,
            f"allowance for {_mask_allowance(allowance)!r} matches nothing the scanner finds here",
            "remove it, or correct 'match' to the exact text of the hit",
        )


def _mask_allowance(allowance: Allowance) -> str:
    from clearance.scan import mask

    return mask(allowance.detector or "", allowance.match)


def _justifications(ctx: Context) -> Iterator[Finding]:
    for doc in ctx.subjects():
        items = doc.data.get("allow")
        for position, item in enumerate(items if isinstance(items, list) else ()):
            if not isinstance(item, dict):
                continue
            reason = item.get("reason")
            text = reason.strip() if isinstance(reason, str) else ""
            if text.casefold().rstrip(".!") in _EMPTY_REASONS or len(text) < MIN_REASON:
                yield ctx.finding(
                    "DSC002",
                    doc.where(
                        ("allow", position, "reason") if isinstance(reason, str) else ("allow", position)
                    ),
                    f"allowance for {_mask_allowance_raw(item)!r} does not say why the text may be published",
                    "write who decided and why, e.g. 'public support line, listed on the contact page'",
                )


def _mask_allowance_raw(item: dict[str, object]) -> str:
    from clearance.scan import mask

    match = item.get("match")
    return mask(str(item.get("detector") or ""), match) if isinstance(match, str) else "?"


def _drafts(ctx: Context) -> Iterator[Finding]:
    entries = ctx.subjects("log-entry")
    published: set[str] = set()
    for entry in entries:
        draft = entry.data.get("draft")
        if entry.data.get("type") == "publication" and isinstance(draft, str):
            published.add(f"{incident_of(entry)}/{draft}")
    drafts = [e for e in entries if e.data.get("type") == "draft" and isinstance(e.data.get("text"), str)]
    if not drafts:
        return
    from clearance.scan import UNCLASSIFIED, scan_document, scanner_for

    scanner = scanner_for(ctx.index)
    by_incident: dict[str | None, list[list[tuple[Hit, Allowance]]]] = {}
    incident_allowances: dict[str | None, list[Allowance]] = {}
    for entry in drafts:
        result = scan_document(
            entry, ctx.index, functools.partial(_source, ctx, entry), locale=ctx.config.locale
        )
        incident = incident_of(entry)
        by_incident.setdefault(incident, []).append(result.allowed)
        own = len([a for a in result.allowances if a.location.path == entry.path])
        incident_allowances.setdefault(incident, result.allowances[own:])
        declared = {c for c in entry.data.get("data_classes") or () if isinstance(c, str)}
        reported: set[str] = set()
        unclassified = [hit for hit in result.hits if hit.classes == (UNCLASSIFIED,)]
        if len(unclassified) > MAX_HITS_PER_FILE:
            yield _more(ctx, "DSC003", entry, unclassified[MAX_HITS_PER_FILE:])
        shown = {id(hit) for hit in unclassified[:MAX_HITS_PER_FILE]}
        for hit in result.hits:
            if hit.classes == (UNCLASSIFIED,):
                if id(hit) not in shown:
                    continue
                yield ctx.finding(
                    "DSC003",
                    _at(entry, hit),
                    f"draft text contains {_what(hit)}, which no data class covers",
                    f"list '{hit.detector}' under a data class's detectors.builtin, or allow the exact "
                    "text in incident.yaml with a reason",
                )
                continue
            missing = [c for c in hit.classes if c not in declared and c not in reported]
            for class_id in missing:
                reported.add(class_id)
                yield ctx.finding(
                    "DSC001",
                    _at(entry, hit),
                    f"draft text touches {class_id!r} ({_what(hit)}) but data_classes does not list it; "
                    f"{scanner.requirement(class_id).describe()}",
                    "record drafts with 'clearance incident draft' (it lists the classes found), or allow "
                    "the exact text in incident.yaml with a reason",
                )
        key = f"{incident}/{Path(entry.path).stem}"
        if key in published:
            never = sorted(
                {c for hit in result.hits for c in hit.classes if scanner.requirement(c).rule == "never"}
            )
            for class_id in never:
                first = next(h for h in result.hits if class_id in h.classes)
                yield ctx.finding(
                    "DSC005",
                    _at(entry, first),
                    f"published draft touches {class_id!r} ({_what(first)}), which must never be published",
                    "publish a corrected statement without it and record the correction",
                )
        yield from _allowed(ctx, result)
        own_allowances = result.allowances[:own]
        yield from _stale(ctx, own_allowances, result.allowed)
    for incident, allowances in incident_allowances.items():
        scans = by_incident.get(incident, [])
        allowed = [pair for pairs in scans for pair in pairs]
        yield from _stale(ctx, allowances, allowed)
