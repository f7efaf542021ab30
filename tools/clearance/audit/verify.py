"""Append-only verification over history: landed log entries never modified,
deleted or renamed (VER001), commits never dated before their parents (VER002),
recorded checkpoints still ancestors of HEAD (VER003), and commit signatures."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from clearance.audit.people import Directory
from clearance.audit.records import AuditFinding
from clearance.audit.signatures import signature_findings
from clearance.history import Commit, History, governed

if TYPE_CHECKING:
    from clearance.engine import Repository


def log_entry_pattern(repo: Repository) -> re.Pattern[str]:
    folders = [f for f, kinds in repo.config.folders.items() if "log-entry" in kinds] or ["incidents"]
    alternatives = "|".join(re.escape(f.strip("/")) for f in folders)
    return re.compile(rf"^(?:{alternatives})/[^/]+/log/[^/]+\.ya?ml$")


def verify(
    history: History,
    repo: Repository,
    *,
    checkpoints: Sequence[str] = (),
    keys: bool = True,
) -> list[AuditFinding]:
    findings: list[AuditFinding] = []
    entry = log_entry_pattern(repo)
    directory = Directory.from_repository(repo)
    for commit in history.commits:
        who = f"{commit.author}, {commit.committed.isoformat()}"
        for change in commit.changes:
            target: str | None = None
            action = ""
            if change.status in ("M", "D") and entry.match(change.path):
                target, action = change.path, "modified" if change.status == "M" else "deleted"
            elif change.status == "R" and change.old_path and entry.match(change.old_path):
                target, action = change.old_path, f"renamed (to {change.path})"
            if target is None:
                continue
            landed = history.added(target, commit.sha)
            origin = f" after it landed in {landed.short} ({landed.author})" if landed else ""
            kind = "merge commit " if commit.is_merge else "commit "
            findings.append(
                AuditFinding(
                    "VER001",
                    commit.sha,
                    f"{kind}{commit.short} ({who}) {action} the landed log entry {target}{origin}: "
                    f"{commit.subject!r}",
                    target,
                    "log entries are append-only: restore the entry and record a correction entry "
                    "that names it",
                )
            )
        for parent_sha in commit.parents:
            parent = history.by_sha.get(parent_sha)
            if parent is not None and commit.committed < parent.committed:
                findings.append(
                    AuditFinding(
                        "VER002",
                        commit.sha,
                        f"committer date {commit.committed.isoformat()} ({who.split(',')[0]}) is earlier "
                        f"than its parent {parent.short}'s {parent.committed.isoformat()}: backdated or "
                        f"rewritten",
                        hint="find out who rewrote this commit and why",
                    )
                )
    for checkpoint in checkpoints:
        if history.resolve(checkpoint) is not None:
            continue
        exists = history.object_exists(checkpoint)
        detail = (
            "still exists but is no longer an ancestor of HEAD"
            if exists
            else "is not in this repository at all (rewritten and pruned, or mistyped)"
        )
        findings.append(
            AuditFinding(
                "VER003",
                checkpoint,
                f"checkpoint {checkpoint} {detail}: history was rewritten",
                hint="compare with the recorded checkpoint and restore the original history",
            )
        )
    required = repo.config.signing_required
    if history.commits and history.commits[0].signature is not None:
        seen: set[str] = set()
        for commit in governed_commits(history, repo.config.content):
            if commit.sha in seen:
                continue
            seen.add(commit.sha)
            findings.extend(signature_findings(commit, directory, required=required, keys=keys)[2])
    return findings


def governed_commits(history: History, folders: Sequence[str]) -> Iterator[Commit]:
    """Commits touching governed files, and the merges that brought them in."""
    for commit in history.commits:
        if any(
            governed(c.path, folders) or (c.old_path and governed(c.old_path, folders))
            for c in commit.changes
        ):
            yield commit
            merge = history.introduced_by(commit.sha)
            if merge is not None and merge.sha != commit.sha:
                yield merge
