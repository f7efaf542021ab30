"""Append-only verification over history: landed log entries never modified,
deleted or renamed (VER001), commits never dated before their parents (VER002),
recorded checkpoints still ancestors of HEAD (VER003), and commit signatures."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clearance.audit.entrytimes import entry_times
from clearance.audit.people import Directory
from clearance.audit.records import AuditFinding, judged
from clearance.audit.signatures import signature_findings
from clearance.errors import FatalError
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
    tag_signers: Path | None = None,
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
    folders = [f for f, kinds in repo.config.folders.items() if "log-entry" in kinds] or ["incidents"]
    for merge, path in history.dropped_by_merges(folders):
        if not entry.match(path):
            continue
        landed = history.added(path, merge.sha)
        origin = f" (landed in {landed.short}, {landed.author})" if landed else ""
        findings.append(
            AuditFinding(
                "VER004",
                merge.sha,
                f"merge commit {merge.short} ({merge.author}, {merge.committed.isoformat()}) dropped the "
                f"landed log entry {path}{origin} that one of its parents held: {merge.subject!r}",
                path,
                "log entries are append-only: restore the entry in a new commit (its content from the "
                "parent) and record a correction entry that names it",
            )
        )
    findings.extend(_merge_introduced(history, entry))
    findings.extend(checkpoint_tags(history, tag_signers))
    findings.extend(entry_times(history, repo))
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
    return judged(findings, repo.config.rules)


def _merge_introduced(history: History, entry: re.Pattern[str]) -> Iterator[AuditFinding]:
    """VER007: a log entry no normal commit added, only a merge commit's result (see
    clearance.incidents.merges): nobody authored it in a commit of its own."""
    from clearance.incidents import merges

    for path, merge in merges.introduced(history, lambda p: bool(entry.match(p))).items():
        try:
            found = re.search(rb"^type:[ \t]*['\"]?([a-z-]+)", history.read(merge.sha, path), re.MULTILINE)
        except FatalError:  # unreadable at the merge: still reported, without its type
            found = None
        kind = found.group(1).decode() if found else "log"
        yield AuditFinding(
            "VER007",
            merge.sha,
            f"merge commit {merge.short} ({merge.author}, {merge.committed.isoformat()}) itself introduced "
            f"the {kind} entry {path}, which no normal commit added: nobody authored it in a commit of "
            f"its own (it is bound to the merge's author, {merge.author_email}): {merge.subject!r}",
            path,
            "record entries in commits of their own on a branch, then merge; to void this one append a "
            "correction entry that names it",
        )


CHECKPOINT_TAGS = "clearance-checkpoint/"


def checkpoint_tags(history: History, signers: Path | None) -> Iterator[AuditFinding]:
    """Every signed checkpoint tag CI left after a clean run must still point into the
    history (VER003) and carry a signature that verifies (VER005): a rewritten history is
    found without anyone passing a hash by hand."""
    for name, target in history.tags(CHECKPOINT_TAGS):
        if target not in history.by_sha:
            exists = history.object_exists(target)
            yield AuditFinding(
                "VER003",
                target,
                f"checkpoint tag {name} points at {target[:12]}, which "
                + ("still exists but is not an ancestor of HEAD" if exists else "is not in this history")
                + ": history was rewritten",
                hint="compare with the tagged commit and restore the original history",
            )
        if not history.tag_verifies(name, signers):
            yield AuditFinding(
                "VER005",
                target,
                f"checkpoint tag {name} is unsigned or its signature does not verify"
                + ("" if signers else " (pass --allowed-signers to check SSH signatures)"),
                hint="checkpoint tags are created by 'clearance verify --tag-checkpoint' with a signing key",
            )


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
