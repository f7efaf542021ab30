"""As-of views: a document's text as it stood at a moment on the main line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clearance.history import Commit, History


@dataclass(frozen=True)
class Snapshot:
    commit: Commit
    path: str  # the name the document had then
    text: bytes


def as_of(history: History, path: str, moment: dt.datetime | None) -> Snapshot | str:
    """The document now (or last) at ``path`` as it stood at ``moment`` on the main
    line, or a message saying why there is none."""
    commit = history.head if moment is None else history.at(moment)
    if commit is None:
        return "no commit on the main branch at or before that time"
    if not history.changes(path):
        return f"{path}: no history (never committed under this name)"
    name = history.path_at(path, commit.sha)
    if name is None:
        return f"{path}: did not exist as of commit {commit.short} ({commit.committed.isoformat()})"
    return Snapshot(commit, name, history.read(commit.sha, name))


def describe_changes(changes: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "commit": c.sha,
            "date": c.date.isoformat(),
            "author_name": c.author_name,
            "author_email": c.author_email,
            "status": c.status,
            "path": c.path,
            "old_path": c.old_path,
            "subject": c.subject,
        }
        for c in changes
    ]
