"""Legal hold: counsel's logged decision that an incident's records are preserved.

A hold is a ``legal-hold`` log entry by a member of a legal role (see
:mod:`clearance.incidents.privilege`) with a ``rationale`` and, optionally, a ``scope``
of further paths; a later ``hold-release`` entry by counsel ends it. While an incident
is held, nothing may delete or move (rename) any file of its folder, any document it
cites (every reference its incident record, log entries and review make, found from the
schemas' annotations: clauses, templates, channels, regulations, the protocol, people,
roles), or a path in the scope. Modifying a cited policy is still allowed: a hold
preserves a record, and git keeps every version of it.

Three places enforce it: ``clearance check`` (HLD001, the working tree against HEAD),
the pre-commit hook (``clearance hook append-only`` refuses the staged change) and
``clearance verify`` (HLD003, any such change in the history after the hold landed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearance import history as git
from clearance.index import Index, incident_of, references_of
from clearance.model import Document

if TYPE_CHECKING:
    from clearance.audit.records import AuditFinding

HOLD = "legal-hold"
RELEASE = "hold-release"
_KIND = re.compile(rb"^kind:\s*['\"]?([a-z-]+)", re.MULTILINE)
_ID = re.compile(rb"^id:\s*['\"]?([A-Za-z0-9._-]+)", re.MULTILINE)
_PARTS = {"clause": "policy", "obligation": "regulation"}
_ENTRY = re.compile(r"(?:^|/)incidents/([^/]+)/log/[^/]+\.ya?ml$")
Reader = Callable[[str], "bytes | None"]


@dataclass(frozen=True)
class Hold:
    """An incident's hold in force: the entry that placed it and what it protects."""

    incident: str
    entry_path: str  # the legal-hold entry (root-relative)
    counsel: str
    folder: str  # the incident's folder, root-relative, ending in '/'
    paths: frozenset[str] = frozenset()  # cited documents and the scope, root-relative
    documents: frozenset[tuple[str, str]] = frozenset()  # (kind, id) of every cited document

    def protects(self, path: str) -> bool:
        if path.startswith(self.folder) or path in self.paths:
            return True
        return any(path.startswith(p + "/") for p in self.paths)  # a folder of the scope


@dataclass(frozen=True)
class Breach:
    """A deletion or a move of a held file."""

    hold: Hold
    status: str  # D or R
    path: str
    new_path: str | None

    def describe(self) -> str:
        what = "deleted" if self.status == "D" else f"moved to {self.new_path}"
        return f"{self.path} {what} while incident {self.hold.incident!r} is under legal hold"


def in_force(index: Index) -> list[Hold]:
    """Every incident whose latest hold entry is a hold, not a release. A release by
    someone outside the legal roles (written by hand: HLD002) releases nothing."""
    from clearance.incidents.privilege import counsel

    lawyers = counsel(index)
    out = []
    for incident in index.of_kind("incident"):
        ident = str(incident.id)
        current: Document | None = None
        entries = index.incident_entries(ident)
        for entry in entries:
            kind = entry.data.get("type")
            if kind == HOLD:
                current = entry
            elif kind == RELEASE and entry.data.get("by") in lawyers:
                current = None
        if current is not None:
            out.append(_hold(index, incident, entries, current))
    return out


def _hold(index: Index, incident: Document, entries: Sequence[Document], entry: Document) -> Hold:
    folder = incident.path.rsplit("/", 1)[0] + "/"
    paths: set[str] = set()
    documents: set[tuple[str, str]] = set()
    review = next((d for d in index.of_kind("review") if incident_of(d) == incident.id), None)
    for doc in (incident, *entries, *((review,) if review is not None else ())):
        for ref in references_of(doc):
            if ref.kind in ("log-entry", "incident"):
                continue
            if ref.kind in _PARTS:
                owner = index.part(ref.kind, ref.key)
                target = owner[0] if owner else None
                documents.add((_PARTS[ref.kind], ref.key.split("#", 1)[0]))
            else:
                target = index.get(ref.kind, ref.key)
                documents.add((ref.kind, ref.key))
            if target is not None:
                paths.add(target.path)
    for item in entry.data.get("scope") or ():
        if isinstance(item, str):
            paths.add(item.strip("/"))
    counsel = str(entry.data.get("by", ""))
    return Hold(str(incident.id), entry.path, counsel, folder, frozenset(paths), frozenset(documents))


def merged(holds: Sequence[Hold], committed: Sequence[Hold]) -> list[Hold]:
    """The holds of the work tree, plus those HEAD records for incidents the work tree
    no longer shows whole (an incident record deleted with the rest of its folder)."""
    seen = {h.incident for h in holds}
    return [*holds, *(h for h in committed if h.incident not in seen)]


def committed_holds(root: Path, lawyers: Collection[str] = ()) -> list[Hold]:
    """Holds in force at HEAD, from the committed log entries alone (``git grep``, no
    documents loaded): the latest hold or release entry of each incident folder by
    file name, which starts with the entry's UTC time."""
    found = git.run_git(
        root,
        "grep",
        "-l",
        "-z",
        "-E",
        f"^type: ['\"]?({HOLD}|{RELEASE})['\"]?\\s*$",
        "HEAD",
        "--",
        ".",
        check=False,
    )
    if found.returncode not in (0, 1):
        return []
    top = prefix(root)
    latest: dict[str, list[str]] = {}
    for item in found.stdout.decode("utf-8", "surrogateescape").split("\0"):
        path = item.partition(":")[2] if item.startswith("HEAD:") else ""  # relative to root
        match = _ENTRY.search(path)
        if match is None:
            continue
        folder = path[: match.start(1)] + match.group(1) + "/"
        latest.setdefault(folder, []).append(path)
    holds = []
    for folder, paths in latest.items():
        current: Hold | None = None
        for path in sorted(paths, key=lambda p: p.rsplit("/", 1)[-1]):  # names start with the time
            raw = git.run_git(root, "show", f"HEAD:{top}{path}", check=False).stdout
            found_by = re.search(rb"^by:\s*['\"]?([A-Za-z0-9._-]+)", raw, re.MULTILINE)
            by = found_by.group(1).decode() if found_by else ""
            if re.search(rb"^type:\s*['\"]?" + HOLD.encode(), raw, re.MULTILINE):
                current = Hold(folder.rstrip("/").rsplit("/", 1)[-1], path, by, folder)
            elif by in lawyers:  # a release by counsel; anyone else's releases nothing
                current = None
        if current is not None:
            holds.append(current)
    return holds


def breaches(
    holds: Sequence[Hold], changes: Iterable[tuple[str, str, str | None]], old_text: Reader
) -> list[Breach]:
    """The changes (status, path before, path after) that delete or move a held file.
    A deleted file no longer in the index is recognised by its kind and id as they
    were (``old_text(path)``): a cited policy deleted leaves only a dangling reference."""
    found = []
    for status, path, new_path in changes:
        if status not in ("D", "R"):
            continue
        for hold in holds:
            if hold.protects(path) or (new_path is not None and hold.protects(new_path) and status == "R"):
                found.append(Breach(hold, status, path, new_path))
                continue
            if hold.documents and _identity(old_text(path)) in hold.documents:
                found.append(Breach(hold, status, path, new_path))
    return found


def _identity(raw: bytes | None) -> tuple[str, str] | None:
    if raw is None:
        return None
    kind, ident = _KIND.search(raw[:4096]), _ID.search(raw[:4096])
    if kind is None or ident is None:
        return None
    return kind.group(1).decode(), ident.group(1).decode()


# ------------------------------------------------------------------------ git


def prefix(root: Path) -> str:
    """The Clearance root's path inside the git work tree ('' at the top)."""
    found = git.run_git(root, "rev-parse", "--show-prefix", check=False)
    return found.stdout.decode("utf-8", "surrogateescape").strip() if found.returncode == 0 else ""


def has_head(root: Path) -> bool:
    return git.run_git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).returncode == 0


def worktree_changes(root: Path, *, staged_only: bool = False) -> list[tuple[str, str, str | None]]:
    """Changes against HEAD, renames detected, paths relative to ``root``: the staged
    ones (what a commit would record), or the work tree's (staged or not)."""
    args = ["diff", "--name-status", "-z", "--find-renames", "--no-ext-diff"]
    if staged_only:
        args.append("--cached")
    raw = git.run_git(root, *args, "HEAD").stdout.decode("utf-8", "surrogateescape")
    return _relative(_parse(raw.split("\0")), prefix(root))


def _parse(fields: list[str]) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    position = 0
    while position < len(fields) and fields[position]:
        status = fields[position][0]
        if status in "RC":
            out.append((status, fields[position + 1], fields[position + 2]))
            position += 3
        else:
            out.append((status, fields[position + 1], None))
            position += 2
    return out


def _relative(changes: list[tuple[str, str, str | None]], top: str) -> list[tuple[str, str, str | None]]:
    if not top:
        return changes
    cut = len(top)
    return [
        (s, p[cut:], n[cut:] if n and n.startswith(top) else n) for s, p, n in changes if p.startswith(top)
    ]


def reader_at(root: Path, rev: str) -> Reader:
    """A file's bytes at ``rev`` (root-relative path), None when it did not exist."""
    top = prefix(root)

    def read(path: str) -> bytes | None:
        found = git.run_git(root, "show", f"{rev}:{top}{path}", check=False)
        return found.stdout if found.returncode == 0 else None

    return read


def staged_problems(cwd: Path) -> list[str]:
    """For the pre-commit hook: a line per staged deletion or move of a held file.
    Documents are loaded only when the commit deletes or moves something."""
    from clearance import config as config_mod
    from clearance import engine

    if not has_head(cwd):
        return []
    root = config_mod.find_root(cwd)
    changes = worktree_changes(root, staged_only=True)
    if not any(status in ("D", "R") for status, _, _ in changes):
        return []
    index = engine.load_repository(config_mod.load(root)).index
    from clearance.incidents.privilege import counsel

    committed = committed_holds(root, counsel(index))
    held = merged(in_force(index), committed)
    return [
        f"{b.path}: {b.describe()} (hold by {b.hold.counsel}, {b.hold.entry_path}); restore it "
        f"(git restore --staged --worktree -- {b.path}); counsel releases the hold first if it must go"
        for b in breaches(held, changes, reader_at(root, "HEAD"))
    ]


# ------------------------------------------------------------------ history


def periods(index: Index) -> list[tuple[Hold, str | None]]:
    """Every hold ever placed (in force or released), with its release entry's path."""
    out: list[tuple[Hold, str | None]] = []
    for incident in index.of_kind("incident"):
        entries = index.incident_entries(str(incident.id))
        current: Hold | None = None
        for entry in entries:
            kind = entry.data.get("type")
            if kind == HOLD and current is None:
                current = _hold(index, incident, entries, entry)
            elif kind == RELEASE and current is not None:
                out.append((current, entry.path))
                current = None
        if current is not None:
            out.append((current, None))
    return out


def history_findings(root: Path, index: Index, commits: Sequence[Any]) -> list[AuditFinding]:
    """HLD003 for every commit, after the one that landed a hold and before the one that
    landed its release, that deleted or moved a file the hold protects. ``commits``:
    newest first (as ``clearance verify`` reads them), each with ``changes``."""
    from clearance.audit.records import AuditFinding

    held = periods(index)
    if not held:
        return []
    top = prefix(root)
    position = {c.sha: n for n, c in enumerate(commits)}
    landed: dict[str, str] = {}  # root-relative path -> sha of the commit that added it
    for commit in commits:
        for change in commit.changes:
            if change.status == "A" and change.path.startswith(top):
                landed.setdefault(change.path[len(top) :], commit.sha)
    findings = []
    for hold_, release in held:
        start = landed.get(hold_.entry_path)
        if start is None:
            continue  # not committed yet: check and the hook judge the work tree
        end = landed.get(release) if release else None
        newest = position[end] if end is not None else -1
        for commit in commits[newest + 1 : position[start]]:
            changes = [
                (
                    c.status,
                    c.old_path if c.status == "R" and c.old_path else c.path,
                    c.path if c.status == "R" else None,
                )
                for c in commit.changes
            ]
            changes = _relative(changes, top)
            parent = commit.parents[0] if commit.parents else None
            read = reader_at(root, parent) if parent else (lambda _path: None)
            for breach in breaches([hold_], changes, read):
                findings.append(
                    AuditFinding(
                        "HLD003",
                        commit.sha,
                        f"commit {commit.sha[:12]} ({commit.author_name}, {commit.committed.isoformat()}): "
                        + breach.describe()
                        + f" (hold by {hold_.counsel}, {hold_.entry_path}): {commit.subject!r}",
                        path=breach.path,
                        hint="restore the file in a new commit; a hold is released by counsel before "
                        "anything it protects is deleted or moved",
                    )
                )
    return findings
