"""The only module that talks to git.

History is read in ONE ``git log`` pass over the whole history (metadata, trailers
parsed by git, optional signature status, and ``--name-status`` file changes with
rename detection), then indexed by path in memory. Nothing here runs git once per
file, per page or per commit, and no per-commit diff objects are built: GitPython's
``iter_commits`` is ~19x slower for metadata alone and over 100x with per-commit
diffs (see PERFORMANCE-NOTES.md), so git is run as one subprocess per query and its
NUL-separated output is parsed here. GitPython is not a dependency: its import
costs ~70-130 ms and runs ``git version``, and its configuration reader disagrees
with git (it ignores GIT_CONFIG_COUNT/KEY/VALUE and ``-c``, so it named another
person's email than ``git config user.email`` does), so configuration is read by
asking git through :func:`run_git`, the one place any module runs git.

Field and record separators are random per run, so a commit message or a file name
cannot forge a record (an audited history is untrusted input).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from clearance.errors import FatalError
from clearance.history.commits import Change, Commit, Signature
from clearance.history.git import head_id, locate, run_git
from clearance.history.graph import History, PendingLog, start
from clearance.history.log import _iso, topological

UNSHALLOW_HINT = "the clone is shallow, so history is incomplete; run 'git fetch --unshallow' first"

__all__ = [
    "UNSHALLOW_HINT",
    "Change",
    "Commit",
    "History",
    "PendingLog",
    "Signature",
    "_iso",
    "governed",
    "head_id",
    "locate",
    "parse_moment",
    "run_git",
    "start",
    "topological",
]


def parse_moment(text: str, *, end: bool) -> dt.datetime:
    """A date (YYYY-MM-DD, taken in UTC) or an RFC 3339 time. With ``end``, a bare
    date means the end of that day."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1, microseconds=-1) if end else moment
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FatalError(f"{text!r} is not a date (YYYY-MM-DD) or an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise FatalError(f"{text!r}: give a UTC offset, e.g. {value}Z or {value}+02:00")
    return parsed


def governed(path: str, folders: Sequence[str]) -> bool:
    """Whether ``path`` lies under one of the content ``folders``."""
    return path.startswith(tuple(f.rstrip("/") + "/" for f in folders))
