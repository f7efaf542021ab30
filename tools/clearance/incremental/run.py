"""The speed wing's run: the pipeline of :mod:`clearance.engine`, with files and
units unchanged since the last run reused from the store, and worker processes for
large repositories. The result is the pipeline's, finding for finding
(tests/cache_test.py and tests/check_test.py compare them over random edits)."""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearance import checks, engine, progress, schemas
from clearance.config import Config
from clearance.engine import Prepared, Repository, Result, prepare
from clearance.errors import FatalError
from clearance.history import head_id
from clearance.incremental.codec import Row, UnitRecord
from clearance.incremental.store import RACY_NS, Store, fingerprint, load_memo, save_memo, unchanged_stat
from clearance.index import Index, Token, tokens_of, unit_of
from clearance.model import Document, Finding

_WORKER_CONFIG: Config | None = None


def _load_chunk(chunk: list[tuple[str | Path, str]]) -> list[Prepared]:
    assert _WORKER_CONFIG is not None
    return [prepare(filename, rel, _WORKER_CONFIG) for filename, rel in chunk]


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
        out.append(prepare(filename, rel, config))
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
            loaded = engine.load_one(self.config.root.resolve() / rel, rel, self.config)[0]
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
    found: list[engine.Found] = []
    findings: list[Finding] = []
    for item in engine.files(config, extra):
        if isinstance(item, Finding):
            findings.append(item)
        else:
            found.append(item)
    rows: dict[str, Row] = {}
    todo: list[engine.Found] = []
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
    """:func:`clearance.engine.load_repository`, with unchanged files read from the
    store and large repositories loaded by workers."""
    store = _open_store(config) if cache else None
    try:
        files = _gather(config, extra, jobs, store)
        if store is not None:  # read only: rows are written with the units they were checked with
            _reference_paths(config.root.resolve(), store)
        return _repository(files, files.index())  # documents are fetched when asked for
    finally:
        if store is not None:
            store.close()


class _Units:
    """Each unit's rules, run afresh or reused from the store. A unit's findings are
    reused when none of its files changed, nothing it looked up can have changed, and
    the clock has not passed a time its findings depend on."""

    def __init__(self, files: _Files, index: Index, config: Config, memo: dict[str, Any] | None) -> None:
        self.files = files
        self.index = index
        self.config = config
        self.memo = memo  # what rules remember between runs (see checks.Context.memo)
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
            self.head = head_id(self.config.root.resolve())
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
            self.head = head_id(self.config.root.resolve())

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
        return engine.evaluate(self.index, self.config, members, self.now, self.memo)


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
    memo = load_memo(root, "rules", store.key) if store is not None else None
    remembered = dict(memo) if memo is not None else None
    units = _Units(files, index, config, memo)
    units.run(store, jobs)
    if store is not None and memo is not None and memo != remembered:
        save_memo(root, "rules", store.key, memo)
    raw: list[tuple[Finding, str | None]] = [(f, None) for f in files.load_findings()]
    raw.extend((f, engine.suppression(f, index)) for f in index.findings)
    for record in units.records.values():
        raw.extend(record.findings)
    if store is not None:
        changed = {*files.new, *units.evaluated_units}
        changed |= {rel for rel in store.table if rel not in files.rows}
        changed |= {unit for unit in store.units if unit not in units.records}
        store.save(files.rows, units.records, files.new.values(), started, units.head, changed)
    return engine.finish(config, repo, raw, paths, strict=strict, evaluated=units.evaluated)
