"""Scan statements for sensitive data before anyone publishes them: free text (a file,
or '-' for standard input), response templates and draft log entries. Each hit shows
where it is, what found it, the value masked, its data class and the approvals that
class requires. Exit 0 when nothing is found, 1 when something is, 2 on a usage
error."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from clearance import __version__, checks, engine, loading, report, schemas
from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.index import Index
from clearance.model import Document, Finding, Location, Severity
from clearance.scan import Allowance, Hit, Scanner, allowances_of, locale_for, scan_document, scanner_for

FORMATS = ("text", "json", "sarif")
STDIN = "<stdin>"
MAX_HITS = 200
NO_TEXT = "no statement text to scan (only templates' bodies, log entries' text and points, Markdown bodies)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to scan, or '-' for standard input")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="also apply this incident's allowances (for a draft pasted during that incident), and read "
        "phone numbers for its locale",
    )
    parser.add_argument(
        "--locale",
        metavar="LOCALE",
        help="region the text is written for (en-GB, de-DE): phone numbers without a country code are read "
        "for it first (default: the incident's locale, else organisation.locale in clearance.yaml)",
    )
    parser.add_argument(
        "--max-hits",
        type=_count,
        default=MAX_HITS,
        metavar="N",
        help=f"list at most N hits per file, then one summary line (default {MAX_HITS}; 0 lists every hit)",
    )


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{raw!r} is negative; 0 lists every hit")
    return value


@dataclass
class FileScan:
    path: str
    hits: list[Hit] = field(default_factory=list)
    allowed: list[tuple[Hit, Allowance]] = field(default_factory=list)
    note: str | None = None


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    sources = [_read(raw, config.max_file_bytes) for raw in args.files]  # usage errors before any work
    repo = engine.load_repository(config)
    index = repo.index
    scanner = scanner_for(index)
    extra: list[Allowance] = []
    if args.incident:
        incident = index.get("incident", args.incident)
        if incident is None:
            known = ", ".join(sorted(index.ids("incident"))) or "none"
            raise UsageError(f"--incident {args.incident!r}: no such incident (known: {known})")
        extra = allowances_of(incident)
        locale = args.locale or locale_for(incident, index, config.locale)
    else:
        locale = args.locale or config.locale
    for problem in scanner.problems:
        print(
            f"clearance: warning: {problem.location}: pattern {problem.name!r} ignored: {problem.message}",
            file=sys.stderr,
        )
    documents = {doc.path: doc for doc in repo.documents}
    root = config.root.resolve()
    results = [
        _scan(label, text, absolute, root, documents, index, scanner, extra, locale)
        for label, text, absolute in sources
    ]
    empty = [r for r in results if r.note == NO_TEXT]
    for result in results:
        if result.note and (result.note != NO_TEXT or len(empty) == 1):
            print(f"clearance: note: {result.path}: {result.note}", file=sys.stderr)
    if len(empty) > 1:
        print(
            f"clearance: note: {len(empty)} of {len(results)} documents have no statement text to scan",
            file=sys.stderr,
        )
    limit = args.max_hits or None
    if args.format == "json":
        _json(results, scanner, sys.stdout, limit)
    elif args.format == "sarif":
        _sarif(results, scanner, sys.stdout, limit)
    else:
        _text(results, scanner, sys.stdout, limit)
    return 1 if any(r.hits for r in results) else 0


def _read(raw: str, cap: int) -> tuple[str, str, Path | None]:
    if raw == "-":
        if hasattr(sys.stdin, "buffer"):
            data = sys.stdin.buffer.read(cap + 1)
        else:
            data = sys.stdin.read(cap + 1).encode()
        label, absolute = STDIN, None
    else:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{raw}: no such file")
        if path.is_dir():
            raise UsageError(f"{raw}: is a directory; name the files to scan")
        try:
            size = path.stat().st_size
            data = b"" if size > cap else path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{raw}: cannot read: {exc.strerror or exc}") from None
        if size > cap:
            data = b"\0" * (cap + 1)  # refused below without reading it
        label, absolute = raw, path.resolve()
    if len(data) > cap:
        raise UsageError(
            f"{label}: larger than the scan limit of {cap:,} bytes "
            "(limits.max_file_bytes in clearance.yaml); "
            "split the text, or raise the limit if a statement this long is real"
        )
    try:
        text = loading.decode(data, label)
    except loading.LoadFailed as exc:
        problem = exc.problems[0]
        raise UsageError(f"{problem.location}: {problem.message}") from None
    return label, text, absolute


def _scan(
    label: str,
    text: str,
    absolute: Path | None,
    root: Path,
    documents: dict[str, Document],
    index: Index,
    scanner: Scanner,
    extra: list[Allowance],
    locale: str | None,
) -> FileScan:
    result = FileScan(label)
    doc: Document | None = None
    if absolute is not None and absolute.suffix in engine.DOCUMENT_SUFFIXES:
        if absolute == root or root in absolute.parents:
            doc = documents.get(absolute.relative_to(root).as_posix())
        if doc is None:
            try:
                doc = loading.load_text(text, label)
            except loading.LoadFailed as exc:
                problem = exc.problems[0]
                result.note = (
                    f"not a loadable document ({problem.location}: {problem.message}); scanned as plain text"
                )
            else:
                if doc.kind not in schemas.KINDS:
                    result.note = "no known 'kind'; scanned as plain text"
                    doc = None
    if doc is None:
        hits = scanner.scan(text, region=locale)
        result.hits, result.allowed = scanner.split(hits, extra)
        return result
    # A document found in the repository is reported under the name it was given.
    doc = Document(
        label, doc.data, doc.positions, doc.key_positions, doc.body, doc.body_line, doc.digest, doc.extra
    )
    scanned = scan_document(doc, index, text, locale=locale)
    if not scanned.fields:
        result.note = NO_TEXT
    if extra:
        counted, allowed = scanner.split(scanned.hits, extra)
        result.hits, result.allowed = counted, [*scanned.allowed, *allowed]
    else:
        result.hits, result.allowed = scanned.hits, scanned.allowed
    return result


def _needs(scanner: Scanner, hit: Hit) -> str:
    if len(hit.classes) == 1:
        return scanner.requirement(hit.classes[0]).describe()
    return "; ".join(f"{c}: {scanner.requirement(c).describe()}" for c in hit.classes)


def _describe(hit: Hit) -> str:
    quiet = hit.confidence == "validated" or hit.detector == "claim"
    how = hit.label if quiet else f"{hit.label}, {hit.confidence}"
    return f"{', '.join(hit.classes)} ({how}) {hit.masked!r}"


def _more(result: FileScan, limit: int | None) -> str | None:
    """The summary line for the hits of a file past the limit."""
    if limit is None or len(result.hits) <= limit:
        return None
    rest = result.hits[limit:]
    counts: dict[str, int] = {}
    for hit in rest:
        for c in hit.classes:
            counts[c] = counts.get(c, 0) + 1
    by_class = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda i: -i[1]))
    first = rest[0]
    return (
        f"{result.path}:{first.line}:{first.col}: {len(rest)} more hits not listed ({by_class}); "
        f"--max-hits 0 lists every one"
    )


def _text(results: list[FileScan], scanner: Scanner, stream: TextIO, limit: int | None = None) -> None:
    for result in results:
        for hit in result.hits[:limit]:
            stream.write(f"{result.path}:{hit.line}:{hit.col}: {_describe(hit)} — {_needs(scanner, hit)}\n")
        more = _more(result, limit)
        if more:
            stream.write(more + "\n")
    allowed = [(r.path, hit, a) for r in results for hit, a in r.allowed]
    if allowed:
        stream.write("\nAllowed (not counted):\n")
        for path, hit, allowance in allowed:
            stream.write(
                f"{path}:{hit.line}:{hit.col}: {_describe(hit)} — allowed by {allowance.by}: "
                f"{allowance.reason} ({allowance.location})\n"
            )
    total = sum(len(r.hits) for r in results)
    files = sum(1 for r in results if r.hits)
    tail = f" ({len(allowed)} allowed)" if allowed else ""
    if total:
        stream.write(
            f"\n{total} hit{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}{tail}\n"
        )
    else:
        lead = "\n" if allowed else ""
        plural = "s" if len(results) != 1 else ""
        stream.write(f"{lead}no hits in {len(results)} file{plural}{tail}\n")


def _hit_json(path: str, hit: Hit, scanner: Scanner) -> dict[str, Any]:
    return {
        "path": path,
        "line": hit.line,
        "column": hit.col,
        "length": hit.end - hit.start,
        "detector": hit.detector,
        "name": hit.name,
        "masked": hit.masked,
        "confidence": hit.confidence,
        "classes": list(hit.classes),
        "requires": [
            {
                "class": c,
                "rule": scanner.requirement(c).rule,
                "chain": scanner.requirement(c).chain,
                "roles": list(scanner.requirement(c).roles),
                "summary": scanner.requirement(c).describe(),
            }
            for c in hit.classes
        ],
    }


def _json(results: list[FileScan], scanner: Scanner, stream: TextIO, limit: int | None = None) -> None:
    hits = [_hit_json(r.path, h, scanner) for r in results for h in r.hits[:limit]]
    total = sum(len(r.hits) for r in results)
    allowed = [
        {
            **_hit_json(r.path, h, scanner),
            "allowed_by": a.by,
            "reason": a.reason,
            "allowance": str(a.location),
        }
        for r in results
        for h, a in r.allowed
    ]
    payload = {
        "version": 1,
        "tool": {"name": "clearance", "version": __version__},
        "summary": {"files": len(results), "hits": total, "listed": len(hits), "allowed": len(allowed)},
        "hits": hits,
        "allowed": allowed,
        "notes": [{"path": r.path, "note": r.note} for r in results if r.note]
        + [{"path": r.path, "note": more} for r in results if (more := _more(r, limit))],
    }
    json.dump(payload, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def _sarif(results: list[FileScan], scanner: Scanner, stream: TextIO, limit: int | None = None) -> None:
    rule = "DSC001"
    catalogue = checks.catalogue()

    def finding(path: str, hit: Hit) -> Finding:
        message = f"{_describe(hit)}: {_needs(scanner, hit)}"
        return Finding(rule, Severity.ERROR, message, Location(path, hit.line, hit.col))

    findings = [finding(r.path, h) for r in results for h in r.hits[:limit]]
    for result in results:
        more = _more(result, limit)
        if more:
            first = result.hits[limit or 0]
            message = more.split(": ", 1)[1]
            where = Location(result.path, first.line, first.col)
            findings.append(Finding(rule, Severity.ERROR, message, where))
    suppressed = [
        (finding(r.path, h), f"allowed by {a.by}: {a.reason}") for r in results for h, a in r.allowed
    ]
    report.sarif(findings, stream, rules={rule: catalogue[rule]}, suppressed=suppressed)
