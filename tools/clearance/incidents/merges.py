"""Log entries that a merge commit itself introduced.

A merge normally brings in entries that commits on the merged branch added; ``git log``
then names those commits. An entry can also appear only in a merge's result (written
while resolving the merge, or by hand before ``git commit`` of the merge): no normal
commit adds it, so without this module it would look uncommitted and nobody would be
bound to it. Here such an entry is found as a file the merge adds compared with every
one of its parents (``git log --merges -m --diff-filter=A``: one pass, only when the
history has merges at all), and it belongs to the merge commit: its author is the
person who must be the entry's ``by``, and ``clearance verify`` reports the merge
(VER007)."""

from __future__ import annotations

import os
from collections.abc import Callable

from clearance.history import Commit, History, run_git


def introduced(history: History, wanted: Callable[[str], bool]) -> dict[str, Commit]:
    """Root-relative path -> the merge commit that introduced it, for every path
    ``wanted`` accepts that some merge added relative to all of its parents."""
    merges = [c for c in history.commits if c.is_merge]
    if not merges or history.head is None:
        return {}
    prefix = f"{history.prefix}/" if history.prefix else ""
    token = os.urandom(8).hex()
    proc = run_git(
        history.toplevel,
        "-c", "core.quotepath=off", "log", "--merges", "-m", "--diff-filter=A", "--no-renames",
        "--name-only", "-z", "--no-color", f"--format=%x1e{token}%H", history.head.sha, "--",
        *([prefix] if prefix else []),
        check=False,
    )  # fmt: skip
    counts: dict[tuple[str, str], int] = {}
    for record in proc.stdout.decode("utf-8", "replace").split(f"\x1e{token}"):
        if not record:
            continue
        sha, _, rest = record.partition("\0")
        sha = sha.strip()
        for name in {n.strip("\n") for n in rest.split("\0")}:
            if name.startswith(prefix) and wanted(name[len(prefix) :]):
                key = (sha, name[len(prefix) :])
                counts[key] = counts.get(key, 0) + 1
    found: dict[str, Commit] = {}
    for (sha, path), seen in counts.items():
        commit = history.by_sha.get(sha)
        if commit is not None and seen >= len(commit.parents) and path not in found:
            found[path] = commit
    return found


def is_log_entry(path: str) -> bool:
    return "/log/" in path and path.endswith((".yaml", ".yml"))
