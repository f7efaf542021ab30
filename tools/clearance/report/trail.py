"""Reporters for the audit trail's other results: append-only verification, one
document's history, a document as of a date, and the rule catalogue."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from clearance.audit.asof import Snapshot, describe_changes
from clearance.audit.records import Verification
from clearance.history import Change
from clearance.model import Rule


def _json(value: Any, stream: TextIO) -> None:
    json.dump(value, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def verification(result: Verification, fmt: str, stream: TextIO) -> None:
    if fmt == "json":
        _json(
            {
                "head": result.head,
                "commits": result.commits,
                "findings": [f.as_dict() for f in result.findings],
            },
            stream,
        )
        return
    for finding in result.findings:
        stream.write(finding.render() + "\n")
    checked = f"verified {result.commits} commits: "
    stream.write(
        f"{checked}{len(result.findings)} finding(s)\n" if result.findings else f"{checked}no findings\n"
    )
    if result.tagged:
        stream.write(f"tagged {result.tagged} (signed); push it: git push origin {result.tagged}\n")


def document_history(path: str, changes: Sequence[Change], fmt: str, stream: TextIO) -> None:
    if fmt == "json":
        _json({"path": path, "changes": describe_changes(changes)}, stream)
        return
    for change in changes:
        name = f"{change.old_path} -> {change.path}" if change.old_path else change.path
        stream.write(
            f"{change.sha[:12]}  {change.date.isoformat()}  {change.status}  {name}\n"
            f"    {change.author_name} <{change.author_email}>: {change.subject}\n"
        )


def snapshot(path: str, found: Snapshot, as_of: str | None, fmt: str, stream: TextIO, notes: TextIO) -> None:
    """The text on ``stream``; in text format, which commit it came from on ``notes``
    (so the text itself can be redirected to a file unchanged)."""
    commit = found.commit
    text = found.text.decode("utf-8", "replace")
    if fmt == "json":
        _json(
            {
                "path": path,
                "path_then": found.path,
                "as_of": as_of,
                "commit": commit.sha,
                "committed": commit.committed.isoformat(),
                "author": commit.author,
                "subject": commit.subject,
                "text": text,
            },
            stream,
        )
        return
    renamed = f" (then named {found.path})" if found.path != path else ""
    notes.write(
        f"{path}{renamed} as of commit {commit.sha[:12]} ({commit.committed.isoformat()}, "
        f"{commit.author}: {commit.subject})\n"
    )
    stream.write(text)


def rules(catalogue: Iterable[Rule], fmt: str, stream: TextIO) -> None:
    if fmt == "json":
        json.dump(
            [{"id": r.id, "severity": str(r.severity), "description": r.description} for r in catalogue],
            stream,
            indent=2,
        )
        stream.write("\n")
        return
    for rule in catalogue:
        stream.write(f"{rule.id}  {rule.severity!s:8} {rule.description}\n")
