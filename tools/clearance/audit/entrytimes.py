"""Entry times against history (VER006): every landed log entry's ``at:`` must lie no
earlier than its incident's detection and no later than the commit that added it (each
allowing the configured clock skew). ``clearance check`` reports the same, and a file
name that disagrees with ``at:``, as APR010.

Entries that landed before signed decisions were required (see
:mod:`clearance.incidents.provenance`) are left to APR012, which lists what they lack:
an append-only record never holds an error only a history rewrite could fix."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from clearance.audit.records import AuditFinding
from clearance.history import Commit, History
from clearance.index import parse_time

if TYPE_CHECKING:
    from clearance.engine import Repository

_AT = re.compile(rb"^at:[ \t]*['\"]?([^'\"\r\n#]+?)['\"]?[ \t]*(?:#.*)?$", re.MULTILINE)
_DETECTED = re.compile(rb"^[ \t]+(detected|declared):[ \t]*['\"]?([^'\"\r\n#]+?)['\"]?[ \t]*$", re.MULTILINE)
_ENTRY = re.compile(r"^(?P<incident>.+/[^/]+)/log/(?P<stem>\d{8}T\d{6}Z)-[^/]+\.ya?ml$")


def entry_times(history: History, repo: Repository) -> Iterator[AuditFinding]:
    from clearance.incidents import provenance

    head = history.head
    if head is None:
        return
    judge = provenance.Provenance(repo.index, repo.config.root)
    skew = provenance.skew(repo.config.clock_skew)
    added: dict[str, Commit] = {}
    for commit in reversed(history.commits):  # the newest add wins
        for status, path, _ in commit.files:
            if status[:1] in ("A", "R", "C") and _ENTRY.match(path):
                added[path] = commit
    folders = {path: path.split("/log/", 1)[0] for path in added}
    wanted = [(head.sha, path) for path in added]
    wanted += list(dict.fromkeys((head.sha, f"{folder}/incident.yaml") for folder in folders.values()))
    blobs = history.read_many(wanted)
    for path, commit in sorted(added.items()):
        text = blobs.get((head.sha, path))
        if text is None or judge.is_legacy(commit):
            continue  # gone (VER001 says so) or legacy (APR012)
        match = _AT.search(text)
        at = parse_time(match.group(1).decode("utf-8", "replace").strip()) if match else None
        if at is None:
            continue
        found = _ENTRY.match(path)
        assert found is not None
        problems = []
        stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        if at > commit.committed + skew:
            problems.append(
                f"it is dated {stamp}, after commit {commit.short} added it ({commit.committed_iso})"
            )
        incident = blobs.get((head.sha, f"{found.group('incident')}/incident.yaml")) or b""
        moments = {
            m.group(1): parse_time(m.group(2).decode("utf-8", "replace"))
            for m in _DETECTED.finditer(incident)
        }
        detected = moments.get(b"detected") or moments.get(b"declared")
        if detected is not None and at < detected - skew:
            problems.append(f"it is dated {stamp}, before the incident was detected ({detected.isoformat()})")
        for problem in problems:
            yield AuditFinding(
                "VER006",
                commit.sha,
                f"log entry {path}, added by {commit.short} ({commit.author}): {problem}",
                path,
                "an entry's time is when it happened; append a correction that names it",
            )
