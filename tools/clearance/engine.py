"""One run over a repository: discover, load, validate, index, check, then apply the
configured severities and suppressions. Every workflow (check, site, incidents,
audit) goes through :func:`load_repository` so none re-parses on its own."""

from __future__ import annotations

import dataclasses
import functools
import gc
import operator
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearance import checks, loading, progress, schemas
from clearance.config import Config
from clearance.errors import FatalError
from clearance.incremental.codec import Row, UnitRecord
from clearance.incremental.store import (
    RACY_NS,
    Loaded,
    Store,
    fingerprint,
    load_memo,
    save_memo,
    unchanged_stat,
)
from clearance.index import Index, Reads, Summary, Token, summarize, tokens_of, unit_of
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


def _load_one(filename: Path, rel: str, config: Config) -> Loaded:
    try:
        doc = loading.load_file(filename, rel, max_bytes=config.max_file_bytes)
    except loading.LoadFailed as exc:
        return (
            None,
            [Finding(p.rule, Severity.ERROR, p.message, p.location, p.hint) for p in exc.problems],
            False,
        )
    problem = schemas.kind_finding(doc)
    if problem is not None:
        return None, [problem], False
    errors = schemas.validate(doc)
    return doc, errors, not errors


_WORKER_CONFIG: Config | None = None


# A loaded file with what the run needs from it besides the document: its index
# summary and any suppression-syntax findings (SUP001), worked out where it was loaded.
Prepared = tuple[Document | None, list[Finding], bool, Summary | None, tuple[Finding, ...]]


def _prepare(filename: str | Path, rel: str, config: Config) -> Prepared:
    doc, problems, ok = _load_one(Path(filename), rel, config)
    if doc is None:
        return doc, problems, ok, None, ()
    return doc, problems, ok, summarize(doc), tuple(_suppression_findings([doc]))


def _load_chunk(chunk: list[tuple[str | Path, str]]) -> list[Prepared]:
    assert _WORKER_CONFIG is not None
    return [_prepare(filename, rel, _WORKER_CONFIG) for filename, rel in chunk]


PARALLEL_THRESHOLD = 2000  # below this, starting workers costs more than it saves
CHUNK = 500


def _load_many(
    files: Sequence[tuple[str | Path, str]], config: Config, jobs: int, tick: progress.Tick
) -> list[Prepared]:
    global _WORKER_CONFIG
    import multiprocessing

    if jobs > 1 and len(files) >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        _WORKER_CONFIG = config
        chunks = [list(files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
        loaded: list[Prepared] = []
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for part in pool.imap(_load_chunk, chunks):
                    loaded.extend(part)
                    tick(len(part))
        finally:
            _WORKER_CONFIG = None
        return loaded
    out = []
    for filename, rel in files:
        out.append(_prepare(filename, rel, config))
        tick()
    return out


class _Stale(FatalError):
    """A cached document could not be had as recorded. During a check the run starts
    again without the cache; afterwards it is reported (the file changed meanwhile)."""

    def __init__(self, rel: str) -> None:
        super().__init__(f"{rel}:1:1: changed while Clearance was reading the repository; run it again")


@dataclass
class _Files:
    """What one run knows about the files: a row for each that loaded, the documents
    loaded afresh, and findings about files that could not be loaded at all."""

    order: list[str]
    rows: dict[str, Row]
    new: dict[str, Document]  # loaded from the files this run
    findings: list[Finding]
    store: Store | None
    config: Config
    held: dict[str, Document] = field(default_factory=dict)  # read from the store this run

    def fetch(self, rel: str) -> Document:
        doc = self.new.get(rel) or self.held.get(rel)
        if doc is not None:
            return doc
        digest = self.rows[rel].digest
        doc = self.store.fetch(rel, digest) if self.store is not None else None
        if doc is None:  # not in the cache after all: read it again, as it must still be
            loaded = _load_one(self.config.root.resolve() / rel, rel, self.config)[0]
            if loaded is None or loaded.digest != digest:
                raise _Stale(rel)
            self.new[rel] = loaded
            return loaded
        self.held[rel] = doc
        return doc

    def index(self) -> Index:
        rows = self.rows
        summaries = [(rel, rows[rel].summary) for rel in self.order]
        return Index(summaries=[(rel, s) for rel, s in summaries if s is not None], fetch=self.fetch)

    def load_findings(self) -> list[Finding]:
        rows = self.rows
        return [
            *self.findings,
            *(f for rel in self.order if rows[rel].findings for f in rows[rel].findings),
        ]


def _gather(config: Config, extra: Sequence[Path], jobs: int, store: Store | None) -> _Files:
    """Find the files, reuse what the store recorded for those unchanged, load the rest."""
    root = config.root.resolve()
    found: list[Found] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    for item in _scan(config):
        if isinstance(item, Finding):
            findings.append(item)
        else:
            found.append(item)
            seen.add(item[1])
    for path in extra:
        rel = _rel(root, path.resolve())
        if rel not in seen and path.is_file():
            info = path.stat()
            found.append((str(path), rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
            seen.add(rel)
    rows: dict[str, Row] = {}
    todo: list[Found] = []
    with progress.progress("Loading documents", len(found)) as tick:
        table = store.table if store is not None else {}
        trusted = store.written_ns - RACY_NS if store is not None else 0
        for item in found:
            filename, rel, size, mtime_ns, ctime_ns, inode = item
            row = table.get(rel)
            # the common case inline: same size, times and inode, recorded long enough after
            if row is not None and unchanged_stat(row, size, mtime_ns, ctime_ns, inode, trusted):
                rows[rel] = row
                continue
            row = None
            if store is not None and size >= 0:
                try:
                    row = store.unchanged(rel, os.stat(filename), filename)
                except OSError:
                    row = None
            if row is None:
                todo.append(item)
            else:
                rows[rel] = row
        tick(len(rows))
        loaded = _load_many([(item[0], item[1]) for item in todo], config, jobs, tick)
    fresh: dict[str, Document] = {}
    for (_, rel, size, mtime_ns, ctime_ns, inode), (doc, problems, ok, summary, notes) in zip(
        todo, loaded, strict=True
    ):
        if doc is None:
            findings.extend(problems)
            continue
        rows[rel] = Row(size, mtime_ns, ctime_ns, inode, doc.digest, summary, (*problems, *notes), ok)
        fresh[rel] = doc
    order = [item[1] for item in found if item[1] in rows]
    return _Files(order, rows, fresh, findings, store, config)


class _Documents(Sequence[Document]):
    """The loaded documents of a run over a warm cache, read only when asked for."""

    def __init__(self, files: _Files) -> None:
        self._files = files

    def __len__(self) -> int:
        return len(self._files.order)

    def __getitem__(self, position):  # type: ignore[no-untyped-def]
        if isinstance(position, slice):
            return [self._files.fetch(rel) for rel in self._files.order[position]]
        return self._files.fetch(self._files.order[position])


def _open_store(config: Config) -> Store:
    root = config.root.resolve()
    settings = dataclasses.replace(config, root=root)  # however the root was spelled
    return Store.open(root, fingerprint(config.max_file_bytes, repr(settings)))


def _reference_paths(root: Path, store: Store) -> None:
    # The schema walk behind reference detection costs more than loading a small
    # repository; keep its result beside the cache, under the same fingerprint.
    stored = load_memo(root, "reference-paths", store.key)
    if set(stored) >= set(schemas.KINDS):
        try:  # kept as JSON lists: tuples again, as reference_paths gives them
            paths = {
                kind: tuple((tuple(path), str(target)) for path, target in table)
                for kind, table in stored.items()
            }
        except (TypeError, ValueError):
            paths = {}
    else:
        paths = {}
    if paths:
        schemas.preload_reference_paths(paths)
    else:
        save_memo(root, "reference-paths", store.key, schemas.all_reference_paths())


def _repository(files: _Files, index: Index) -> Repository:
    valid = {rel for rel in files.order if files.rows[rel].valid}
    findings = [f for f in files.load_findings() if f.rule != "SUP001"]
    findings.extend(index.findings)
    documents: Sequence[Document] = _Documents(files) if files.store is not None else list(files.new.values())
    return Repository(files.config, documents, index, findings, valid)


def load_repository(
    config: Config, extra: Sequence[Path] = (), *, jobs: int = 1, cache: bool = False
) -> Repository:
    store = _open_store(config) if cache else None
    try:
        files = _gather(config, extra, jobs, store)
        if store is not None:  # read only: rows are written with the units they were checked with
            _reference_paths(config.root.resolve(), store)
        return _repository(files, files.index())  # documents are fetched when asked for
    finally:
        if store is not None:
            store.close()


def _selected(paths: Sequence[str], finding: Finding) -> bool:
    target = finding.location.path
    return any(target == p or target.startswith(p.rstrip("/") + "/") for p in paths)


def _suppression(finding: Finding, index: Index) -> str | None:
    if finding.rule.startswith(("LD", "SCH", "SUP")) or index.summary(finding.location.path) is None:
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
    known = _known_rules()
    for doc in docs:
        for line, items in doc.extra.get("ignores", {}).items():
            for rule, reason in items:
                if rule not in known or not reason:
                    problem = "unknown rule" if rule not in known else "no reason given"
                    yield Finding(
                        "SUP001",
                        Severity.ERROR,
                        f"suppression of {rule!r}: {problem}",
                        Location(doc.path, line, 1),
                        "write '# clearance: ignore[RULE] why it does not apply'",
                    )
        for position, item in enumerate(doc.data.get("suppress") or ()):
            if isinstance(item, dict) and item.get("rule") not in known:
                yield Finding(
                    "SUP001",
                    Severity.ERROR,
                    f"suppression of unknown rule {item.get('rule')!r}",
                    doc.where(("suppress", position, "rule")),
                    "see 'clearance rules'",
                )


@functools.cache
def _known_rules() -> frozenset[str]:
    return frozenset(checks.catalogue())


def _head(root: Path) -> str:
    """The commit HEAD names, read from .git without running git; a value that never
    repeats when it cannot be read, so findings that depend on history are redone."""
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text("utf-8").strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        loose = git / ref
        if loose.is_file():
            return loose.read_text("utf-8").strip()
        packed = git / "packed-refs"
        lines = packed.read_text("utf-8").splitlines() if packed.is_file() else []
        for line in lines:
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
        return f"unborn:{ref}"  # no commit yet: an empty history, the same every run
    except OSError:
        pass
    return f"unknown:{time.time_ns()}"


class _Units:
    """Each unit's rules, run afresh or reused from the store. A unit's findings are
    reused when none of its files changed, nothing it looked up can have changed, and
    the clock has not passed a time its findings depend on."""

    def __init__(self, files: _Files, index: Index, config: Config, cache_root: Path | None) -> None:
        self.files = files
        self.index = index
        self.config = config
        self.cache_root = cache_root
        self.now = checks.Context(index, config).now
        self.records: dict[str, UnitRecord] = {}
        self.evaluated_units: set[str] = set()
        self.head = ""

    def changes(self, store: Store) -> tuple[set[str], set[Token]]:
        """The units whose files changed since the store was written, and every lookup
        whose answer may have changed with them."""
        old, rows = store.table, self.files.rows
        units: set[str] = set()
        tokens: set[Token] = set()
        gone = [rel for rel in old if rel not in rows]
        for rel in [*self.files.new, *gone]:
            units.add(unit_of(rel))
            for row in (old.get(rel), rows.get(rel)):
                summary = row.summary if row is not None else None
                if summary is not None:
                    tokens |= tokens_of(summary)
        if any(("history",) in record.tokens for record in store.units.values()):
            self.head = _head(self.config.root.resolve())
            if self.head != store.head:
                tokens.add(("history",))
        return units, tokens

    def run(self, store: Store | None, jobs: int = 1) -> None:
        previous = store.units if store is not None else {}
        touched, changed = self.changes(store) if store is not None else (set(), set())
        stamp = self.now.timestamp()
        kept: dict[str, UnitRecord] = {}
        todo: list[tuple[str, list[str]]] = []
        for unit, members in self.index.units.items():
            old = previous.get(unit)
            if (
                old is not None
                and unit not in touched
                and (old.expires is None or stamp < old.expires)
                and changed.isdisjoint(old.tokens)
            ):
                kept[unit] = old
            else:
                todo.append((unit, members))
        kept.update(self._evaluate_all(todo, jobs))
        self.records = {unit: kept[unit] for unit in self.index.units}  # in file order, every run
        if not self.head and any(("history",) in r.tokens for r in self.records.values()):
            self.head = _head(self.config.root.resolve())

    def _evaluate_all(self, todo: list[tuple[str, list[str]]], jobs: int) -> dict[str, UnitRecord]:
        """Run the units' rules. With many incidents to check and more than one core,
        worker processes (forked, so they share the loaded documents) take the
        incidents while this process takes the other units."""
        global _WORKER_UNITS
        import multiprocessing

        incidents = [item for item in todo if item[0].startswith("incident:")]
        if jobs < 2 or len(todo) < PARALLEL_THRESHOLD or len(incidents) < 2 * jobs:
            return {unit: self.evaluate(unit, members) for unit, members in todo}
        if "fork" not in multiprocessing.get_all_start_methods():
            return {unit: self.evaluate(unit, members) for unit, members in todo}
        others = [item for item in todo if not item[0].startswith("incident:")]
        size = max(1, len(incidents) // (4 * jobs))
        chunks = [incidents[i : i + size] for i in range(0, len(incidents), size)]
        done: dict[str, UnitRecord] = {}
        _WORKER_UNITS = self
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                pending = pool.map_async(_evaluate_chunk, chunks)
                for unit, members in others:
                    done[unit] = self.evaluate(unit, members)
                for part in pending.get():
                    for unit, record in part:
                        done[unit] = record
                        self.evaluated_units.add(unit)
        finally:
            _WORKER_UNITS = None
        return done

    @property
    def evaluated(self) -> int:
        return len(self.evaluated_units)

    def evaluate(self, unit: str, members: list[str]) -> UnitRecord:
        self.evaluated_units.add(unit)
        reads = Reads(self.index)
        docs = [self.index.doc(rel) for rel in members]
        context = checks.Context(reads, self.config, self.cache_root, units=docs, now=self.now)
        found = tuple((f, _suppression(f, self.index)) for f in checks.run(context))
        expires = reads.expires.timestamp() if reads.expires is not None else None
        return UnitRecord(frozenset(reads.tokens), expires, found)


_WORKER_UNITS: _Units | None = None


def _evaluate_chunk(chunk: list[tuple[str, list[str]]]) -> list[tuple[str, UnitRecord]]:
    units = _WORKER_UNITS
    assert units is not None
    store = units.files.store
    if store is not None:
        store.forked()
    return [(unit, units.evaluate(unit, members)) for unit, members in chunk]


def check(
    config: Config,
    paths: Sequence[str] = (),
    *,
    strict: bool = False,
    extra: Sequence[Path] = (),
    jobs: int = 1,
    cache: bool = False,
) -> Result:
    """Every finding for the repository. With ``cache``, files and units unchanged
    since the last run are not loaded or checked again; the result is the same."""
    # A run builds hundreds of thousands of small objects and frees few: the cyclic
    # collector's passes over them cost a tenth of a warm run and find nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if not cache:
            return _check(config, paths, strict, extra, jobs, None)
        store = _open_store(config)
        try:
            try:
                return _check(config, paths, strict, extra, jobs, store)
            except _Stale:
                store.close()
                # as if empty: everything is redone and rewritten
                store = Store(store.path, store.key, store.secret)
                return _check(config, paths, strict, extra, jobs, store)
        finally:
            store.close()
    finally:
        if collecting:
            gc.enable()


def _check(
    config: Config,
    paths: Sequence[str],
    strict: bool,
    extra: Sequence[Path],
    jobs: int,
    store: Store | None,
) -> Result:
    started = time.time_ns()
    root = config.root.resolve()
    files = _gather(config, extra, jobs, store)
    if store is not None:
        _reference_paths(root, store)
    index = files.index()
    repo = _repository(files, index)
    units = _Units(files, index, config, root if store is not None else None)
    units.run(store, jobs)
    raw: list[tuple[Finding, str | None]] = [(f, None) for f in files.load_findings()]
    raw.extend((f, _suppression(f, index)) for f in index.findings)
    for record in units.records.values():
        raw.extend(record.findings)
    if store is not None:
        changed = {*files.new, *units.evaluated_units}
        changed |= {rel for rel in store.table if rel not in files.rows}
        changed |= {unit for unit in store.units if unit not in units.records}
        store.save(files.rows, units.records, files.new.values(), started, units.head, changed)
    findings: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    for finding, reason in raw:
        if paths and not _selected(paths, finding):
            continue
        severity = config.rules.get(finding.rule, finding.severity)
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
    return Result(repo, findings, suppressed, units.evaluated)
