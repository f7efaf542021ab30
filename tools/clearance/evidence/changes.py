"""Change-management evidence for a period (the SOC 2 CC8.1 / ISO 27001 A.8.32
question): every change to a governed document, its author, approvers, review, signature
status and findings, taken from the audit trail's own records (:func:`clearance.audit.audit`),
never re-derived. Summary figures and exceptions come first.

Classification-aware like the incident pack: a change touching a document above the
audience is withheld (counted, and its findings counted, never named). A path whose
classification cannot be known (a file deleted since, or not a document) is withheld
from every audience below ``restricted``: a mistake hides rather than leaks."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

from clearance import __version__
from clearance.errors import FatalError
from clearance.evidence import manifest as manifests
from clearance.evidence.model import ChangeRow, ChangesPack, Manifest, Withheld
from clearance.index import Index, incident_of_path
from clearance.site.audience import LEVELS, Audience, rank

UNKNOWN = len(LEVELS) - 1  # as site.audience does: unknown is restricted


def _levels(index: Index) -> dict[str, int]:
    audience = Audience("restricted", index, ())
    return {doc.path: audience.effective_rank(doc) for doc in index.documents}


def _rank_of(path: str, levels: dict[str, int], index: Index) -> int:
    if path in levels:
        return levels[path]
    incident = incident_of_path(path)
    if incident is not None:  # a log entry: its incident's classification
        doc = index.get("incident", incident)
        return rank(doc.data.get("classification")) if doc is not None else UNKNOWN
    return UNKNOWN


_CLASSIFICATION = re.compile(rb"^classification:[ \t]*[\"']?([a-z]+)", re.MULTILINE)


def _historic(
    root: Path, records: list[Any], levels: dict[str, int], index: Index
) -> dict[tuple[str, str], int]:
    """The classification, as the change left it (or, for a deletion, as it was before),
    of each changed path the checkout no longer has: renamed or deleted documents are
    judged by what they said about themselves, not hidden or shown by default."""
    wanted: list[tuple[str, str, str]] = []
    for record in records:
        sha = record.commit.sha
        for status, path, _old in record.files:
            if path in levels or incident_of_path(path) is not None:
                continue
            rev = f"{sha}^" if status.startswith("D") else sha
            wanted.append((sha, path, f"{rev}:./{path}"))
    out: dict[tuple[str, str], int] = {}
    for (sha, path, _name), raw in zip(wanted, manifests.objects(root, [w[2] for w in wanted]), strict=True):
        found = _CLASSIFICATION.search(raw) if raw is not None else None
        out[(sha, path)] = rank(found.group(1).decode()) if found else UNKNOWN
    return out


def _moment(value: dt.datetime | None, fallback: str) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else fallback


def gather(
    config: Any,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    audience: str = "internal",
    rev: str = "HEAD",
    allowed_signers: Path | None = None,
) -> ChangesPack:
    from clearance import audit

    report = audit.audit(
        config,
        since=since,
        until=until,
        rev=rev,
        allowed_signers=allowed_signers,
        signatures=True,
    )
    if report is None:
        raise FatalError(f"{config.root}: not in a git work tree; a changes pack needs the history")
    root = Path(config.root).resolve()
    repo = audit.documents(config)
    index = repo.index
    levels = _levels(index)
    limit = rank(audience)
    rows: list[ChangeRow] = []
    withheld: Counter[str] = Counter()
    kept = []
    historic = _historic(root, report.records, levels, index)
    for record in report.records:
        sha = record.commit.sha
        ranks = [
            level if (level := historic.get((sha, p))) is not None else _rank_of(p, levels, index)
            for _, p, _ in record.files
        ]
        if any(level > limit for level in ranks):
            withheld["changes"] += 1
            if record.findings:
                withheld["changes with findings (exceptions)"] += 1
            continue
        kept.append(record)
        c = record.commit
        author = record.author or f"{c.author_name} <{c.author_email}>"
        rows.append(
            ChangeRow(
                commit=c.sha,
                date=c.authored.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                author=author,
                subject=c.subject,
                files=tuple(f"{s} {p}" + (f" (from {o})" if o else "") for s, p, o in record.files),
                via=record.via,
                approvers=tuple(a.describe() for a in record.approvals),
                tickets=tuple(record.tickets),
                signature=record.signature + (f" (signer {record.signer})" if record.signer else ""),
                findings=tuple((f.rule, f.message) for f in record.findings),
            )
        )
    figures = _figures(report.records, rows, withheld)
    people = [d.path for d in index.documents if d.kind in ("person", "role") and levels[d.path] <= limit]
    files = [(p, "document") for p in sorted(set(people))]
    if (root / "clearance.yaml").is_file():
        files.insert(0, ("clearance.yaml", "document"))
    sources = manifests.file_sources(root, files) + manifests.commit_sources(root, [r.commit for r in rows])
    commit = manifests.head(root)
    period = f"{_moment(since, 'the first commit')} to {_moment(until, 'the last commit')}"
    counts = tuple(sorted(withheld.items()))
    return ChangesPack(
        organisation=config.organisation,
        since=_moment(since, "the first commit"),
        until=_moment(until, "the last commit"),
        audience=audience,
        signatures_checked=allowed_signers is not None,
        rows=tuple(rows),
        figures=figures,
        withheld=Withheld(counts),
        manifest=Manifest(
            kind="changes",
            subject=period,
            organisation=config.organisation,
            repository=manifests.repository_name(root),
            commit=commit,
            dirty=manifests.dirty(root, commit, sources),
            built_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            audience=audience,
            generator=f"clearance {__version__}",
            sources=tuple(sources),
            withheld=counts,
        ),
    )


def _figures(
    records: list[Any], rows: list[ChangeRow], withheld: Counter[str]
) -> tuple[tuple[str, str], ...]:
    """Figures over every change in the period, withheld ones included (so an exception
    cannot disappear by being classified), then what this pack shows."""
    rules: Counter[str] = Counter(f.rule for r in records for f in r.findings)
    via: Counter[str] = Counter(r.via for r in records)
    recorded = sum(1 for r in records if any(not a.claim for a in r.approvals))
    claimed = sum(1 for r in records if r.approvals and all(a.claim for a in r.approvals))
    signed = sum(1 for r in records if r.signature not in ("unsigned", "not checked"))
    out = [
        ("Changes in the period", str(len(records))),
        ("Changes with at least one exception", str(sum(1 for r in records if r.findings))),
        ("Approved by a recorded merge", str(recorded)),
        ("Approval claimed in a trailer only", str(claimed)),
        (
            "Direct commits / merges / pull requests",
            f"{via['direct']} / {via['merge']} / {via['pull-request']}",
        ),
        ("Signed commits", str(signed)),
        ("Self-approval (AUD001)", str(rules["AUD001"])),
        ("Direct commit to the main branch (AUD002)", str(rules["AUD002"])),
        ("No reason or ticket (AUD003)", str(rules["AUD003"])),
        (
            "Signature findings (SIG001-SIG004)",
            str(sum(n for rule, n in rules.items() if rule.startswith("SIG"))),
        ),
        ("Distinct authors", str(len({r.author for r in rows}))),
        ("Changes withheld from this audience", str(withheld["changes"])),
    ]
    return tuple(out)
