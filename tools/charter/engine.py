"""One run over a repository: discover, load, validate, index, check, then apply the
configured severities and suppressions. Every workflow (check, site, incidents,
audit) goes through :func:`load_repository` so none re-parses on its own."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from charter import checks, loading, progress, schemas
from charter.cache import DocumentCache, Loaded, load_memo, save_memo
from charter.config import Config
from charter.index import Index
from charter.model import Document, Finding, Location, Severity

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".md")


@dataclass
class Repository:
    config: Config
    documents: list[Document]
    index: Index
    findings: list[Finding]  # loading, schema and index findings
    valid: set[str] = field(default_factory=set)  # paths that loaded and validated


@dataclass
class Result:
    repository: Repository
    findings: list[Finding]
    suppressed: list[tuple[Finding, str]]

    def exit_code(self) -> int:
        return 1 if any(f.severity >= Severity.ERROR for f in self.findings) else 0


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def discover(config: Config) -> Iterator[tuple[Path, str] | Finding]:
    """Document files under the content folders, sorted; symlinks leaving the
    repository are findings and are not followed. Uses scandir's file types, so a
    large repository costs no extra system call per file."""
    root = config.root.resolve()
    for folder in config.content:
        base = root / folder
        if base.is_dir():
            yield from _walk(root, str(base), folder)


def _walk(root: Path, directory: str, rel_dir: str) -> Iterator[tuple[Path, str] | Finding]:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        rel = f"{rel_dir}/{name}"
        if entry.is_symlink():
            outside = _leaves(root, Path(entry.path))
            if outside:
                yield outside
            elif not entry.is_dir() and name.endswith(DOCUMENT_SUFFIXES):
                yield Path(entry.path), rel
            continue  # a link to a folder inside the repository is walked at its real place
        if entry.is_dir():
            folders.append((entry.path, rel))
        elif name.endswith(DOCUMENT_SUFFIXES):
            yield Path(entry.path), rel
    for path, rel in folders:
        yield from _walk(root, path, rel)


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


def _load_chunk(chunk: list[tuple[Path, str]]) -> list[Loaded]:
    assert _WORKER_CONFIG is not None
    return [_load_one(filename, rel, _WORKER_CONFIG) for filename, rel in chunk]


PARALLEL_THRESHOLD = 2000  # below this, starting workers costs more than it saves
CHUNK = 500


def _load_many(
    files: Sequence[tuple[Path, str]], config: Config, jobs: int, tick: progress.Tick
) -> list[Loaded]:
    global _WORKER_CONFIG
    if jobs > 1 and len(files) >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        _WORKER_CONFIG = config
        chunks = [list(files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
        loaded: list[Loaded] = []
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
        out.append(_load_one(filename, rel, config))
        tick()
    return out


def load_documents(
    files: Sequence[tuple[Path, str]],
    config: Config,
    jobs: int = 1,
    cache: DocumentCache | None = None,
) -> tuple[list[Document], list[Finding], set[str]]:
    """Load and validate files, reusing cached results for unchanged files; the rest
    in worker processes (fork) when ``jobs`` > 1 and there are enough of them.
    Results keep the order of ``files``."""
    results: list[Loaded | None] = [None] * len(files)
    todo: list[int] = []
    # The progress line is drawn on a terminal only; piped or in CI it is silent.
    with progress.progress("Loading documents", len(files)) as tick:
        for position, (filename, rel) in enumerate(files):
            hit = cache.lookup(filename, rel) if cache is not None else None
            if hit is None:
                todo.append(position)
            else:
                results[position] = hit
                tick()
        fresh = _load_many([files[i] for i in todo], config, jobs, tick)
    for position, loaded in zip(todo, fresh, strict=True):
        results[position] = loaded
        if cache is not None:
            cache.store(files[position][0], files[position][1], loaded)
    if cache is not None:
        cache.prune({rel for _, rel in files})
        cache.save()
    documents: list[Document] = []
    findings: list[Finding] = []
    valid: set[str] = set()
    for result in results:
        assert result is not None
        doc, problems, ok = result
        findings.extend(problems)
        if doc is not None:
            documents.append(doc)
            if ok:
                valid.add(doc.path)
    return documents, findings, valid


def load_repository(
    config: Config, extra: Sequence[Path] = (), *, jobs: int = 1, cache: bool = False
) -> Repository:
    files: list[tuple[Path, str]] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    for item in discover(config):
        if isinstance(item, Finding):
            findings.append(item)
        else:
            files.append(item)
            seen.add(item[1])
    root = config.root.resolve()
    for path in extra:
        rel = _rel(root, path.resolve())
        if rel not in seen and path.is_file():
            files.append((path, rel))
            seen.add(rel)
    store = DocumentCache.open(root, config.max_file_bytes) if cache else None
    documents, load_findings, valid = load_documents(files, config, jobs, store)
    if store is not None:
        # The schema walk behind reference detection costs more than loading a small
        # repository; keep its result with the cache, under the same fingerprint.
        paths = load_memo(root, "reference-paths", store.key)
        if set(paths) >= set(schemas.KINDS):
            schemas.preload_reference_paths(paths)
        else:
            save_memo(root, "reference-paths", store.key, schemas.all_reference_paths())
    findings.extend(load_findings)
    index = Index(documents)
    findings.extend(index.findings)
    return Repository(config, documents, index, findings, valid)


def _selected(paths: Sequence[str], finding: Finding) -> bool:
    target = finding.location.path
    return any(target == p or target.startswith(p.rstrip("/") + "/") for p in paths)


def _suppression(finding: Finding, docs: dict[str, Document]) -> str | None:
    doc = docs.get(finding.location.path)
    if doc is None:
        return None
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
    known = checks.catalogue()
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
                        "write '# charter: ignore[RULE] why it does not apply'",
                    )
        for position, item in enumerate(doc.data.get("suppress") or ()):
            if isinstance(item, dict) and item.get("rule") not in known:
                yield Finding(
                    "SUP001",
                    Severity.ERROR,
                    f"suppression of unknown rule {item.get('rule')!r}",
                    doc.where(("suppress", position, "rule")),
                    "see 'charter rules'",
                )


def check(
    config: Config,
    paths: Sequence[str] = (),
    *,
    strict: bool = False,
    extra: Sequence[Path] = (),
    jobs: int = 1,
    cache: bool = False,
) -> Result:
    repo = load_repository(config, extra, jobs=jobs, cache=cache)
    context = checks.Context(repo.index, config, config.root.resolve() if cache else None)
    raw = [*repo.findings, *checks.run(context), *_suppression_findings(repo.documents)]
    docs = {doc.path: doc for doc in repo.documents}
    findings: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    for finding in raw:
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
        reason = None if finding.rule.startswith(("LD", "SCH", "SUP")) else _suppression(finding, docs)
        if reason is not None:
            suppressed.append((finding, reason))
        else:
            findings.append(finding)
    findings.sort(key=Finding.sort_key)
    return Result(repo, findings, suppressed)
