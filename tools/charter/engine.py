"""One run over a repository: discover, load, validate, index, check, then apply the
configured severities and suppressions. Every workflow (check, site, incidents,
audit) goes through :func:`load_repository` so none re-parses on its own."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from charter import checks, loading, progress, schemas
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
    repository are findings and are not followed."""
    root = config.root.resolve()
    for folder in config.content:
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            here = Path(dirpath)
            dirnames.sort()
            for name in list(dirnames):
                if name.startswith("."):
                    dirnames.remove(name)
                    continue
                candidate = here / name
                if candidate.is_symlink():
                    dirnames.remove(name)
                    outside = _leaves(root, candidate)
                    if outside:
                        yield outside
            for name in sorted(filenames):
                if name.startswith(".") or not name.endswith(DOCUMENT_SUFFIXES):
                    continue
                candidate = here / name
                if candidate.is_symlink():
                    outside = _leaves(root, candidate)
                    if outside:
                        yield outside
                        continue
                yield candidate, _rel(root, candidate)


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


def load_documents(
    files: Iterable[tuple[Path, str]], config: Config
) -> tuple[list[Document], list[Finding], set[str]]:
    documents: list[Document] = []
    findings: list[Finding] = []
    valid: set[str] = set()
    for filename, rel in files:
        try:
            doc = loading.load_file(filename, rel, max_bytes=config.max_file_bytes)
        except loading.LoadFailed as exc:
            findings.extend(
                Finding(p.rule, Severity.ERROR, p.message, p.location, p.hint) for p in exc.problems
            )
            continue
        problem = schemas.kind_finding(doc)
        if problem is not None:
            findings.append(problem)
            continue
        errors = schemas.validate(doc)
        findings.extend(errors)
        documents.append(doc)
        if not errors:
            valid.add(rel)
    return documents, findings, valid


def load_repository(config: Config, extra: Sequence[Path] = ()) -> Repository:
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
    # progress.track draws a line on a terminal only; piped or in CI it is silent.
    documents, load_findings, valid = load_documents(progress.track(files, "Loading documents"), config)
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
    config: Config, paths: Sequence[str] = (), *, strict: bool = False, extra: Sequence[Path] = ()
) -> Result:
    repo = load_repository(config, extra)
    context = checks.Context(repo.index, config)
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
