"""Page history for the handbook, read from :mod:`clearance.history` (one pass over git
history for the whole build; never one git process per page).

A commit's subject may name any file the commit touched, so a subject is shown only
when every governed file the commit touched (a document in a content folder or a
hand-written page) was visible to the audience *at that commit*: the classification
each path had in the commit and in its parent (so a re-classification, a deletion,
a rename or a move out of the content folders still counts the level the file had
then), and the classification it has now where it still exists. Otherwise the line
keeps its date, author and commit but says "(subject withheld)".

The classifications "at that commit" are read for the commits shown on some page
only, all in one ``git cat-file --batch``; a file the commit left as it is today is
judged from the document already loaded, without reading git.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearance import loading
from clearance.errors import FatalError
from clearance.index import incident_of_path
from clearance.model import Document

if TYPE_CHECKING:
    from clearance.site.audience import Audience

log = logging.getLogger("mkdocs.plugins.clearance")

TOP = 3  # the rank of "restricted": what an unreadable classification counts as
MARKDOWN = (".md", ".markdown", ".mdown", ".mkdn", ".mkd")  # what MkDocs builds as pages
_RANKS = {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}


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


@dataclass(frozen=True)
class Governance:
    """What decides a file's classification at any commit: the content folders and
    the hand-written pages' folder (root-relative), the hand-written pages' default
    level, and each current file's rank now (documents and hand-written pages)."""

    content: tuple[str, ...]
    docs: str | None
    docs_default: int
    now: dict[str, int]

    def governed(self, path: str) -> bool:
        """A document of a content folder (an attachment there is never published
        and is no document), or any file of the hand-written pages' folder."""
        if self.is_page(path):
            return True
        if not path.endswith((".md", ".yaml", ".yml")):
            return False
        return any(path.startswith(folder.rstrip("/") + "/") for folder in self.content)

    def is_page(self, path: str) -> bool:
        return bool(self.docs) and path.startswith(f"{self.docs}/")


def rank_of(value: object) -> int:
    return _RANKS.get(value, TOP) if isinstance(value, str) else TOP


def classify(path: str, raw: bytes | None, governance: Governance) -> int:
    """The rank a file's content declares (without inheriting from its incident)."""
    if raw is None:
        return TOP
    page = governance.is_page(path)
    if page and not path.lower().endswith(MARKDOWN):
        return governance.docs_default
    if page and not raw.startswith(b"---"):
        return governance.docs_default
    try:
        # a page named .markdown (or another MkDocs suffix) is Markdown too
        doc = loading.load_bytes(raw, path if not page else path.rsplit(".", 1)[0] + ".md")
    except (loading.LoadFailed, FatalError, UnicodeDecodeError):
        return TOP
    value = doc.data.get("classification")
    if "privileged" in doc.data and incident_of_path(path) is not None and "/log/" in path:
        return TOP + 1  # a privileged entry: only the legal audience (clearance.incidents.privilege)
    if value is None:
        if page:
            return governance.docs_default
        if incident_of_path(path) is not None and "/log/" in path:
            return 0  # a log entry has its incident's level (added by the caller)
    return rank_of(value)


def _incident_file(path: str) -> str | None:
    """The incident.yaml of the incident folder ``path`` lies in, if any."""
    incident = incident_of_path(path)
    if incident is None:
        return None
    parts = path.split("/")
    for position, part in enumerate(parts[:-2]):
        if part == "incidents" and parts[position + 1] == incident:
            return "/".join(parts[: position + 2]) + "/incident.yaml"
    return None


class PageHistory:
    """Per-page changes from one loaded history, or nothing when history is off or
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
        self.documents = documents
        self.governance: Governance | None = None
        self._changes: dict[str, list[Any]] = {}
        self._under: dict[str, list[Any]] | None = None
        self._folders: set[str] = set()
        self._rank: dict[str, int] = {}  # sha -> highest rank of what it touched, then
        self._hidden_now: set[str] = set()
        self._order: dict[str, int] | None = None
        self._dirty: set[str] | None = None
        self._merged_by: dict[str, list[Any]] | None = None
        self._newest: dict[str, int] = {}

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
        from clearance import history as history_mod

        loaded = history_mod.History.load(root)
        return cls(loaded, documents, entries=entries, repo_url=repo_url)

    # ------------------------------------------------------------------ changes

    def changes(self, key: str) -> list[Any]:
        """Changes of a file (following renames), or of every file under a folder
        given as ``folder/`` (an incident: its record, log entries and review),
        newest first."""
        if self.history is None:
            return []
        found = self._changes.get(key)
        if found is None:
            found = self._folder_changes(key) if key.endswith("/") else list(self.history.changes(key) or ())
            self._changes[key] = found
        return found

    def _folder_changes(self, folder: str) -> list[Any]:
        assert self.history is not None
        if self._under is None or folder not in self._under:
            # One scan over every commit's files for all folders asked for so far.
            self._folders.add(folder)
            under: dict[str, list[Any]] = {name: [] for name in self._folders}
            for commit in self.history.commits:
                hit: set[str] = set()
                for _status, path, old in commit.files:
                    for name in (path, old):
                        if name is None:
                            continue
                        cut = name.rfind("/")
                        while cut > 0:
                            prefix = name[: cut + 1]
                            if prefix in under:
                                hit.add(prefix)
                            cut = name.rfind("/", 0, cut)
                for prefix in hit:
                    under[prefix].append(_CommitChange.of(commit))
                    # The merge that brought this commit into the main line belongs to
                    # the folder's history too (its subject is judged by everything it
                    # brought in: see _classify).
                    merge = self.history.introduced_by(commit.sha)
                    if merge is not None and merge.sha != commit.sha:
                        under[prefix].append(_CommitChange.of(merge))
            order = self._positions()
            for prefix, found in under.items():
                unique = {change.sha: change for change in found}
                under[prefix] = sorted(unique.values(), key=lambda change: order.get(change.sha, 0))
            self._under = under
        return self._under[folder]

    def _positions(self) -> dict[str, int]:
        assert self.history is not None
        if self._order is None:
            self._order = {c.sha: i for i, c in enumerate(self.history.commits)}
        return self._order

    def _merged(self) -> dict[str, list[Any]]:
        """The commits each merge brought into the main line, by merge sha."""
        assert self.history is not None
        if self._merged_by is None:
            table: dict[str, list[Any]] = {}
            for commit in self.history.commits:
                merge = self.history.introduced_by(commit.sha)
                if merge is not None and merge.sha != commit.sha:
                    table.setdefault(merge.sha, []).append(commit)
            self._merged_by = table
        return self._merged_by

    def key_of(self, doc: Document | None) -> str | None:
        if doc is None:
            return None
        if doc.kind == "incident":
            return posixpath.dirname(doc.path) + "/"
        return doc.path

    # ------------------------------------------------------------ classification

    def prepare(self, governance: Governance, keys: Iterable[str], hidden_now: Iterable[str] = ()) -> None:
        """Decide, in one batch, which of the commits shown under ``keys`` may show
        their subject."""
        self.governance = governance
        self._hidden_now = set(hidden_now)
        if self.history is None:
            return
        keys = list(keys)
        for key in keys:
            if key.endswith("/"):
                self._folders.add(key)
        self._under = None if any(k not in (self._under or {}) for k in self._folders) else self._under
        wanted: dict[str, Any] = {}
        for key in keys:
            for change in self.changes(key)[: self.entries]:
                if change.sha not in self._rank:
                    wanted[change.sha] = self.history.by_sha.get(change.sha)
        self._classify([c for c in wanted.values() if c is not None])

    def _classify(self, commits: list[Any]) -> None:
        assert self.history is not None
        governance = self.governance
        if governance is None:
            for commit in commits:
                self._rank[commit.sha] = TOP
            return
        history = self.history
        if not commits:
            return
        # A merge has no files of its own here: its subject may name anything it
        # brought in, so it is judged with those commits.
        merges = {c.sha: self._merged().get(c.sha, []) for c in commits if len(c.parents) > 1}
        brought = {b.sha: b for found in merges.values() for b in found if b.sha not in self._rank}
        commits = list({c.sha: c for c in [*commits, *brought.values()]}.values())
        order = self._positions()
        if self._dirty is None:
            self._dirty = history.dirty()
        dirty, newest = self._dirty, self._newest

        def newest_position(path: str) -> int:
            if path not in newest:
                last = history.last_change(path)
                newest[path] = order.get(last.sha, -1) if last is not None else -1
            return newest[path]

        def unchanged_since(path: str, sha: str) -> bool:
            # The file at ``sha`` is the file now: no later commit touched it.
            return path not in dirty and path in governance.now and newest_position(path) >= order[sha]

        # (commit, path) -> rank, from the loaded documents or from git
        ranks: dict[tuple[str, str], int] = {}
        reads: list[tuple[str, str]] = []
        judged: dict[str, list[tuple[str, str]]] = {}
        for commit in commits:
            pairs: list[tuple[str, str]] = []
            parent = commit.parents[0] if commit.parents else None
            for status, path, old in commit.files:
                sides: list[tuple[str, str]] = []
                if status != "D":
                    sides.append((commit.sha, path))
                if parent is not None:
                    if status in ("M", "D"):
                        sides.append((parent, path))
                    elif status == "R" and old is not None:
                        sides.append((parent, old))
                for sha, name in sides:
                    if not governance.governed(name):
                        continue
                    pairs.append((sha, name))
                    incident = _incident_file(name) if not governance.is_page(name) else None
                    if incident is not None and incident != name:
                        pairs.append((sha, incident))
            judged[commit.sha] = pairs
            for sha, name in pairs:
                if (sha, name) in ranks:
                    continue
                if sha in order and unchanged_since(name, sha):
                    ranks[(sha, name)] = governance.now[name]
                else:
                    reads.append((sha, name))
        if reads:
            try:
                blobs = history.read_many(reads)
            except FatalError as exc:
                log.warning("clearance: cannot read past classifications (%s); subjects withheld", exc)
                blobs = {}
            for pair in reads:
                raw = blobs.get(pair)
                if raw is None and _incident_file(pair[1]) == pair[1]:
                    ranks[pair] = 0  # no incident record in that commit: the entry's own level counts
                    continue
                ranks[pair] = classify(pair[1], raw, governance)
        for commit in commits:
            level = 0
            for sha, name in judged[commit.sha]:
                level = max(level, ranks.get((sha, name), TOP))
                if name in self._hidden_now:
                    level = max(level, TOP)  # never lowers a privileged entry's rank
            self._rank[commit.sha] = level
        for sha, found in merges.items():
            self._rank[sha] = max([self._rank[sha], *(self._rank.get(b.sha, TOP) for b in found)])

    # ------------------------------------------------------------------- pages

    def for_page(self, doc: Document | None, audience: Audience) -> PageLog | None:
        key = self.key_of(doc)
        return self.for_key(key, audience) if key is not None else None

    def for_key(self, key: str, audience: Audience, *, url_path: str | None = None) -> PageLog | None:
        if self.history is None:
            return None
        changes = self.changes(key)[: self.entries]
        missing = [c for c in changes if c.sha not in self._rank]
        if missing:
            self._classify([self.history.by_sha[c.sha] for c in missing if c.sha in self.history.by_sha])
        limit = TOP + 1 if audience.level == "legal" else _RANKS.get(audience.level, 0)
        lines = [self._line(change, limit) for change in changes]
        target = url_path or key.rstrip("/")
        url = f"{self.repo_url}/commits/{self.branch}/{target}" if self.repo_url else None
        return PageLog(lines[0] if lines else None, lines, url)

    def _line(self, change: Any, limit: int) -> Line:
        subject = change.subject if self._rank.get(change.sha, TOP) <= limit else None
        date = change.date
        shown = date.strftime("%Y-%m-%d") if hasattr(date, "strftime") else str(date)[:10]
        return Line(change.sha, change.sha[:8], change.author_name, shown, subject)


@dataclass(frozen=True)
class _CommitChange:
    """A commit as one line of a folder's history."""

    sha: str
    author_name: str
    date: Any
    subject: str

    @classmethod
    def of(cls, commit: Any) -> _CommitChange:
        return cls(commit.sha, commit.author_name, commit.authored, commit.subject)


def now_ranks(documents: Iterable[Document], effective: Callable[[Document], int]) -> dict[str, int]:
    """Each loaded document's rank now, by path."""
    return {doc.path: effective(doc) for doc in documents}
