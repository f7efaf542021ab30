"""Page history for the handbook, read from :mod:`clearance.history` (one pass over git
history for the whole build; never one git process per page).

A commit's subject may name any file the commit touched, so a subject is shown only
when every document that commit touched is visible to the audience; otherwise the
line keeps its date, author and commit but says "(subject withheld)".
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearance.model import Document

if TYPE_CHECKING:
    from clearance.site.audience import Audience

log = logging.getLogger("mkdocs.plugins.clearance")


@dataclass(frozen=True)
class Line:
    sha: str
    short: str
    author: str
    date: str
    subject: str | None  # None when withheld


@dataclass(frozen=True)
class PageLog:
    last: Line | None
    lines: list[Line]
    url: str | None  # the file's history on the code host, when repo_url is set


class PageHistory:
    """Per-document changes from one loaded history, or nothing when history is off or
    the repository is not a git checkout."""

    def __init__(
        self,
        history: Any | None,
        documents: list[Document],
        *,
        entries: int = 10,
        repo_url: str | None = None,
        branch: str = "HEAD",
    ) -> None:
        self.history = history
        self.entries = entries
        self.repo_url = repo_url.rstrip("/") if repo_url else None
        self.branch = branch
        self._touched: dict[str, set[str]] = defaultdict(set)
        self._changes: dict[str, list[Any]] = {}
        if history is None:
            return
        for doc in documents:
            changes = list(history.changes(doc.path) or ())
            self._changes[doc.path] = changes
            for change in changes:
                self._touched[change.sha].add(doc.path)

    @classmethod
    def load(
        cls,
        root: Path,
        documents: list[Document],
        *,
        enabled: bool = True,
        entries: int = 10,
        repo_url: str | None = None,
    ) -> PageHistory:
        if not enabled:
            return cls(None, documents)
        try:
            from clearance import history as history_mod
        except ImportError:
            log.info("clearance: history module not available; pages show no change history")
            return cls(None, documents)
        loaded = history_mod.History.load(root)
        return cls(loaded, documents, entries=entries, repo_url=repo_url)

    def for_page(self, doc: Document | None, audience: Audience) -> PageLog | None:
        if doc is None or self.history is None:
            return None
        changes = self._changes.get(doc.path)
        if changes is None:
            changes = list(self.history.changes(doc.path) or ())
        visible_paths = audience.visible_paths
        lines = [self._line(change, visible_paths) for change in changes[: self.entries]]
        url = f"{self.repo_url}/commits/{self.branch}/{doc.path}" if self.repo_url else None
        return PageLog(lines[0] if lines else None, lines, url)

    def _line(self, change: Any, visible_paths: set[str]) -> Line:
        touched = self._touched.get(change.sha, set())
        subject = change.subject if touched <= visible_paths else None
        date = change.date
        shown = date.strftime("%Y-%m-%d") if hasattr(date, "strftime") else str(date)[:10]
        return Line(change.sha, change.sha[:8], change.author_name, shown, subject)
