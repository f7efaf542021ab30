"""The pipeline: discover → load → validate → index → checks → result. One pass, no
cache, no workers; every workflow (check, site, incidents, audit, evidence) gets its
documents from :func:`load_repository` so none re-parses on its own. The speed wing
(:mod:`clearance.incremental`) wraps these same steps from above and must give the
same result."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import os
import re
from collections.abc import Collection, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from clearance import checks, loading, schemas
from clearance.config import Config
from clearance.index import Index, Reads, Summary, Token, summarize
from clearance.model import Document, Finding, Location, Severity

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".md")


@dataclass
class Repository:
    config: Config
    documents: Sequence[Document]
    index: Index
    findings: list[Finding]  # loading, schema and index findings
    valid: set[str] = field(default_factory=set)  # paths that loaded and validated


@dataclass
class Result:
    repository: Repository
    findings: list[Finding]
    suppressed: list[tuple[Finding, str]]
    evaluated: int = 0  # units whose rules ran (the rest were reused from the cache)

    def exit_code(self) -> int:
        return 1 if any(f.severity >= Severity.ERROR for f in self.findings) else 0


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def discover(config: Config) -> Iterator[tuple[Path, str] | Finding]:
    """Document files under the content folders, sorted; symlinks leaving the
    repository are findings and are not followed."""
    for item in _scan(config, stat=False):
        yield item if isinstance(item, Finding) else (Path(item[0]), item[1])


# file name, repository path, and what git's index compares: size, modification and
# change times (ns), inode (-1 each when not asked for or unreadable)
Found = tuple[str, str, int, int, int, int]


def _scan(config: Config, *, stat: bool = True) -> list[Found | Finding]:
    """As :func:`discover`, with each file's size and modification time when ``stat``.
    Uses scandir's file types, so it costs at most one system call per file."""
    root = config.root.resolve()
    found: list[Found | Finding] = []
    for folder in config.content:
        base = root / folder
        if base.is_dir():
            _walk(root, str(base), folder, stat, found)
    return found


def _walk(root: Path, top: str, top_rel: str, stat: bool, found: list[Found | Finding]) -> None:
    """Depth first, each folder's files (by name) before its subfolders (by name)."""
    suffixes = DOCUMENT_SUFFIXES
    pending = [(top, top_rel)]
    while pending:
        directory, rel_dir = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=_name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if entry.is_symlink():
                outside = _leaves(root, Path(entry.path))
                if outside:
                    found.append(outside)
                elif not entry.is_dir() and name.endswith(suffixes):
                    found.append(_found(entry, f"{rel_dir}/{name}", stat, follow=True))
                continue  # a link to a folder inside the repository is walked at its real place
            if entry.is_dir():
                folders.append((entry.path, f"{rel_dir}/{name}"))
            elif name.endswith(suffixes):
                found.append(_found(entry, f"{rel_dir}/{name}", stat))
        pending.extend(reversed(folders))


_name = operator.attrgetter("name")


def _found(entry: os.DirEntry[str], rel: str, stat: bool, follow: bool = False) -> Found:
    if not stat:
        return entry.path, rel, -1, -1, -1, -1
    try:
        info = os.stat(entry.path) if follow else os.lstat(entry.path)
    except OSError:
        return entry.path, rel, -1, -1, -1, -1
    return entry.path, rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino


def _leaves(root: Path, link: Path) -> Finding | None:
    target = link.resolve()
    if target == root or root in target.parents:
        return None
    return Finding(
        "LD016",
        Severity.ERROR,
        f"symbolic link points outside the repository (to {str(target)!r}); not followed",
        Location(_rel(root, link), 1, 1),
        "copy the file into the repository or remove the link",
    )


class Loaded(NamedTuple):
    """One file through loading and validation: the document (None when it could not
    be loaded or has no known kind), the findings, and whether it matched its schema."""

    document: Document | None
    findings: list[Finding]
    valid: bool


def load_one(filename: Path, rel: str, config: Config, raw: bytes | None = None) -> Loaded:
    """Load and validate one file (from ``raw`` when its bytes were read already)."""
    try:
        if raw is None:
            raw = loading.read_bytes(filename, rel, max_bytes=config.max_file_bytes)
        doc = loading.load_bytes(raw, rel)
    except loading.LoadFailed as exc:
        return Loaded(
            None,
            [Finding(p.rule, Severity.ERROR, p.message, p.location, p.hint) for p in exc.problems],
            False,
        )
    problem = schemas.kind_finding(doc)
    if problem is not None:
        return Loaded(None, [problem], False)
    errors = schemas.validate(doc)
    return Loaded(doc, errors, not errors)


class Prepared(NamedTuple):
    """A loaded file with what a run needs from it besides the document: its index
    summary and any suppression-syntax findings (SUP001, SUP002)."""

    document: Document | None
    findings: list[Finding]
    valid: bool
    summary: Summary | None
    notes: tuple[Finding, ...]


def prepare(filename: str | Path, rel: str, config: Config, raw: bytes | None = None) -> Prepared:
    doc, problems, ok = load_one(Path(filename), rel, config, raw)
    if doc is None:
        return Prepared(doc, problems, ok, None, ())
    return Prepared(doc, problems, ok, summarize(doc), tuple(_suppression_findings([doc])))


def files(config: Config, extra: Sequence[Path] = ()) -> list[Found | Finding]:
    """The document files of a run, with what git's index compares about each:
    discovered under the content folders, plus ``extra`` paths named on the command
    line; symlinks leaving the repository are findings."""
    root = config.root.resolve()
    found = _scan(config)
    seen = {item[1] for item in found if not isinstance(item, Finding)}
    for path in extra:
        rel = _rel(root, path.resolve())
        if rel not in seen and path.is_file():
            info = path.stat()
            found.append((str(path), rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
            seen.add(rel)
    return found


def repository(config: Config, prepared: Iterable[Prepared], problems: Iterable[Finding] = ()) -> Repository:
    """The repository from loaded files: findings from loading, schemas and the index
    (suppression-syntax findings are reported by :func:`check`, not here)."""
    documents: list[Document] = []
    findings = list(problems)
    valid: set[str] = set()
    for item in prepared:
        findings.extend(item.findings)
        if item.document is not None:
            documents.append(item.document)
            if item.valid:
                valid.add(item.document.path)
    index = Index(documents)
    findings.extend(index.findings)
    return Repository(config, documents, index, findings, valid)


_LOG_ENTRY = re.compile(r"^[^/]+/[^/]+/log/[^/]+$")


def load_repository(
    config: Config,
    extra: Sequence[Path] = (),
    *,
    kinds: Collection[str] | None = None,
    mentioning: Sequence[bytes] = (),
) -> Repository:
    """Every document of the repository, loaded and validated. With ``kinds``, only
    documents of those kinds (log entries, most of a busy repository's files, are not
    even read unless asked for). With ``mentioning``, a file is parsed only when its
    bytes contain one of those words: a cheap superset test for a caller that needs
    only documents carrying some field (the audit trail: people and allowances)."""
    found = files(config, extra)
    problems = [item for item in found if isinstance(item, Finding)]
    prepared = []
    for item in found:
        if isinstance(item, Finding):
            continue
        filename, rel = item[0], item[1]
        if kinds is not None and "log-entry" not in kinds and _LOG_ENTRY.match(rel):
            continue
        raw = None
        if mentioning:
            try:
                raw = loading.read_bytes(filename, rel, max_bytes=config.max_file_bytes)
            except loading.LoadFailed:
                raw = None  # read again by prepare, which reports why it cannot be
            else:
                if not any(word in raw for word in mentioning):
                    continue
        loaded = prepare(filename, rel, config, raw)
        if kinds is None or (loaded.document is not None and loaded.document.kind in kinds):
            prepared.append(loaded)
    return repository(config, prepared, problems)


class UnitResult(NamedTuple):
    """What one unit's rules found, with what they looked up and until when the
    findings hold (the speed wing keeps these to reuse)."""

    tokens: frozenset[Token]
    expires: float | None  # POSIX time after which the findings may no longer hold
    findings: tuple[tuple[Finding, str | None], ...]  # with the reason when suppressed


def evaluate(
    index: Index,
    config: Config,
    members: Sequence[str],
    now: dt.datetime,
    memo: MutableMapping[str, Any] | None = None,
) -> UnitResult:
    """Run every rule over one unit (a file, or an incident's folder). The rules read
    the rest of the repository through a view that records what they looked up."""
    reads = Reads(index)
    docs = [index.doc(rel) for rel in members]
    context = checks.Context(reads, config, memo, units=docs, now=now)
    found = tuple((f, suppression(f, index)) for f in checks.run(context))
    expires = reads.expires.timestamp() if reads.expires is not None else None
    return UnitResult(frozenset(reads.tokens), expires, found)


def finish(
    config: Config,
    repo: Repository,
    raw: Iterable[tuple[Finding, str | None]],
    paths: Sequence[str] = (),
    *,
    strict: bool = False,
    evaluated: int = 0,
) -> Result:
    """Apply the configured severities, ``--strict`` and suppressions, keep the
    findings under ``paths``, and sort."""
    findings: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    for finding, reason in raw:
        if paths and not _selected(paths, finding):
            continue
        severity = config.rules.get(finding.rule, finding.severity)
        if finding.rule in checks.ENFORCED and severity < finding.severity:
            severity = finding.severity  # never lowered, however the configuration was read
        if severity is Severity.OFF:
            continue
        if strict and severity is Severity.WARNING:
            severity = Severity.ERROR
        if severity is not finding.severity:
            finding = Finding(
                finding.rule, severity, finding.message, finding.location, finding.hint, finding.related
            )
        if reason is not None:
            suppressed.append((finding, reason))
        else:
            findings.append(finding)
    findings.sort(key=Finding.sort_key)
    return Result(repo, findings, suppressed, evaluated)


def check(
    config: Config, paths: Sequence[str] = (), *, strict: bool = False, extra: Sequence[Path] = ()
) -> Result:
    """Every finding for the repository, in one process, from the files."""
    found = files(config, extra)
    problems = [item for item in found if isinstance(item, Finding)]
    prepared = [prepare(item[0], item[1], config) for item in found if not isinstance(item, Finding)]
    repo = repository(config, prepared, problems)
    index = repo.index
    raw: list[tuple[Finding, str | None]] = [(f, None) for f in problems]
    for item in prepared:
        raw.extend((f, None) for f in item.findings)
        raw.extend((f, None) for f in item.notes)
    raw.extend((f, suppression(f, index)) for f in index.findings)
    now = checks.Context(index, config).now
    units = index.units
    for members in units.values():
        raw.extend(evaluate(index, config, members, now).findings)
    return finish(config, repo, raw, paths, strict=strict, evaluated=len(units))


def _selected(paths: Sequence[str], finding: Finding) -> bool:
    target = finding.location.path
    return any(target == p or target.startswith(p.rstrip("/") + "/") for p in paths)


def suppression(finding: Finding, index: Index) -> str | None:
    if finding.rule.startswith(("LD", "SCH", "SUP")) or index.summary(finding.location.path) is None:
        return None
    if finding.rule in checks.ENFORCED:  # never waived by the people it constrains (SUP002)
        return None
    doc = index.doc(finding.location.path)
    for line, items in doc.extra.get("ignores", {}).items():
        if line in (finding.location.line, finding.location.line - 1):
            for rule, reason in items:
                if rule == finding.rule and reason:
                    return reason
    for item in doc.data.get("suppress") or ():
        if isinstance(item, dict) and item.get("rule") == finding.rule and item.get("reason"):
            return str(item["reason"])
    return None


def _suppression_findings(docs: Iterable[Document]) -> Iterator[Finding]:
    for doc in docs:
        if not doc.extra.get("ignores") and not doc.data.get("suppress"):
            continue  # most documents suppress nothing: no need to load every rule family
        known = _known_rules()
        for line, items in doc.extra.get("ignores", {}).items():
            for rule, reason in items:
                if rule in checks.ENFORCED:
                    yield _not_suppressible(rule, Location(doc.path, line, 1))
                elif rule not in known or not reason:
                    problem = "unknown rule" if rule not in known else "no reason given"
                    yield Finding(
                        "SUP001",
                        Severity.ERROR,
                        f"suppression of {rule!r}: {problem}",
                        Location(doc.path, line, 1),
                        "write '# clearance: ignore[RULE] why it does not apply'",
                    )
        for position, item in enumerate(doc.data.get("suppress") or ()):
            if isinstance(item, dict) and item.get("rule") in checks.ENFORCED:
                yield _not_suppressible(str(item.get("rule")), doc.where(("suppress", position, "rule")))
            elif isinstance(item, dict) and item.get("rule") not in known:
                yield Finding(
                    "SUP001",
                    Severity.ERROR,
                    f"suppression of unknown rule {item.get('rule')!r}",
                    doc.where(("suppress", position, "rule")),
                    "see 'clearance rules'",
                )


def _not_suppressible(rule: str, where: Location) -> Finding:
    return Finding(
        "SUP002",
        Severity.ERROR,
        f"rule {rule!r} cannot be suppressed: it enforces approvals, 'never' disclosure, the "
        "append-only record or signatures, which the people it constrains may not waive",
        where,
        "remove the suppression and fix what the rule reports (append the missing entry)",
    )


@functools.cache
def _known_rules() -> frozenset[str]:
    return frozenset(checks.catalogue())
