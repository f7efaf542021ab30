"""Who really made a log entry, and what the committed registers said then.

One ``git log`` pass (through :mod:`clearance.history`) maps every log entry file to
the commit that added it. From there:

- the commit's author email must be one of the ``emails`` of the entry's ``by:`` person
  (or of ``recorded_by:`` for a scribe's record), as the people register held it just
  before that commit;
- a decision's signature must verify against the ``signing_keys`` that person held just
  before that commit (for an entry not yet committed: at HEAD). Uncommitted edits to the
  registers never count, and neither does a key or an email added in the same commit;
- role membership is read from the committed role register just before the decision's
  commit (HEAD while uncommitted) and at the decision's ``at:``.

Repositories that recorded decisions before signing existed are migrated honestly:
entries added by the commit that first set ``signing: {decisions: required}`` or by its
ancestors are *legacy*. They still count, and ``clearance check`` reports what each
incident's legacy entries lack, as a warning; every later entry must be bound and signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance import loading, signing
from clearance.errors import FatalError
from clearance.history import Commit, History, head_id
from clearance.index import Index, parse_time
from clearance.model import Document

CONFIG = "clearance.yaml"


@dataclass(frozen=True)
class Person:
    emails: frozenset[str]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Proof:
    """What the record shows about one entry."""

    entry: Document
    commit: Commit | None  # the commit that added it (None: not committed yet)
    legacy: bool  # added before decisions had to be signed
    signed: bool
    verified: bool  # the signature verifies against the person's committed keys
    binding: str | None  # why the commit does not belong to the entry's person
    scribe: bool  # a scribe's record of someone else's words
    unproven: str | None = None  # uncommitted, unsigned, and not by whoever runs this

    @property
    def where(self) -> str:
        return f"commit {self.commit.sha[:12]}" if self.commit else "the working tree (not committed yet)"

    def refusal(self, required: bool) -> str | None:
        """Why this decision cannot count, or None. Legacy entries count (their lacks are
        reported as warnings); a bad signature never counts."""
        who = self.entry.data.get("by")
        kind = self.entry.data.get("type")
        if self.scribe:
            return (
                f"the {kind} by {who!r} is a scribe's record (recorded_by "
                f"{self.entry.data.get('recorded_by')!r}), which is never a decision"
            )
        if self.signed and not self.verified:
            return (
                f"the signature on the {kind} by {who!r} does not verify against the keys {who!r} "
                f"held ({self.where})"
            )
        if self.legacy:
            return None
        if self.unproven:
            return self.unproven
        if self.binding:
            return self.binding
        if required and not self.signed:
            return f"the {kind} by {who!r} is not signed ({self.where})"
        return None


@dataclass
class _Shared:
    """What one history holds, shared by every Provenance over the same HEAD in this
    process (a check builds one per unit): the one ``git log`` pass, which commit added
    each log entry, files read at commits (immutable by sha) and the legacy cut."""

    history: History | None
    added: dict[str, Commit]
    files: dict[tuple[str, str], Any]
    cut: tuple[Commit | None, frozenset[str]] | None = None  # (since, its ancestors)
    everything: frozenset[str] | None = None
    merged: dict[str, Commit] | None = None  # entries only a merge commit added (see merges)


_SHARED: dict[tuple[str, str], _Shared] = {}


def _head_id(root: Path) -> str | None:
    """HEAD's commit (history.head_id, read without running git); None when it cannot
    be read (then nothing is shared)."""
    head = head_id(root)
    return None if head.startswith("unknown:") else head


def _load(root: Path) -> _Shared:
    resolved = root.resolve()
    head = _head_id(resolved)
    key = (str(resolved), head) if head else None
    if key is not None and key in _SHARED:
        return _SHARED[key]
    try:
        found = History.load(root)
    except FatalError:
        found = None
    added: dict[str, Commit] = {}
    if found is not None:
        for commit in reversed(found.commits):  # oldest first: the newest add wins
            for status, path, _ in commit.files:
                if status[:1] in ("A", "R", "C") and "/log/" in path:
                    added[path] = commit
    shared = _Shared(found, added, {})
    if key is not None:
        _SHARED.clear()  # one HEAD at a time
        _SHARED[key] = shared
    return shared


class Provenance:
    """History-backed facts for one run; everything read from git is cached."""

    def __init__(self, index: Index, root: Path | None, *, required: bool = False) -> None:
        self.index = index
        self.root = root
        self.configured = required or _configured(root)
        self._shared: _Shared | None = None
        self._legacy: frozenset[str] | None = None
        self._acting: str | None = None
        self._since: Commit | None = None
        self._proofs: dict[str, Proof] = {}

    # -- history --------------------------------------------------------------------

    @property
    def history(self) -> History | None:
        if self._shared is None:
            self._shared = _load(self.root) if self.root is not None else _Shared(None, {}, {})
        self.index.depends(("history",))
        return self._shared.history

    def added_by(self, path: str) -> Commit | None:
        """The commit that added ``path``: a normal commit, else the merge commit that
        itself introduced it (bound to the merge's author), else None (uncommitted)."""
        found_history = self.history  # loads the shared state on first use
        shared = self._shared
        if found_history is None or shared is None:
            return None
        found = shared.added.get(path)
        if found is None and "/log/" in path:
            if shared.merged is None:
                from clearance.incidents import merges

                shared.merged = merges.introduced(found_history, merges.is_log_entry)
            found = shared.merged.get(path)
        return found

    def base(self, commit: Commit | None) -> str | None:
        """The commit whose registers judge an entry: the parent of the commit that added
        it (so nothing granted in that same commit counts), else HEAD."""
        found = self.history
        if found is None:
            return None
        if commit is None:
            return found.head.sha if found.head else None
        # the first commit of a repository has nothing before it: judge it by itself
        return commit.parents[0] if commit.parents else commit.sha

    def at(self, when: dt.datetime, path: str | None = None) -> str | None:
        """The mainline commit current at ``when``; when ``when`` is older than the whole
        history, the commit that first added ``path`` (the register as first committed)."""
        found = self.history
        if found is None or not found.commits:
            return None
        commit = found.at(when)
        if commit is not None:
            return commit.sha
        changes = found.changes(path) if path else []
        return changes[-1].sha if changes else found.mainline()[-1].sha

    def _read(self, path: str, sha: str) -> Any:
        found = self.history
        files = self._shared.files if self._shared is not None else {}
        key = (path, sha)
        if key not in files:
            value = None
            old = found.path_at(path, sha) if found is not None else None
            if found is not None and old is not None:
                try:
                    value = loading.load_text(found.read(sha, old).decode("utf-8"), old).data
                except (FatalError, loading.LoadFailed, UnicodeDecodeError):
                    value = None
            files[key] = value
        return files[key]

    def person(self, person: object, sha: str | None) -> Person | None:
        """The person as the register held them at ``sha`` (the working tree when there
        is no git history at all)."""
        if not isinstance(person, str):
            return None
        doc = self.index.get("person", person)
        if doc is None:
            return None
        data: Mapping[str, Any] | None = doc.data
        if self.history is not None:
            data = self._read(doc.path, sha) if sha else None
        if not isinstance(data, Mapping):
            return None
        emails = frozenset(str(e).lower() for e in data.get("emails") or () if isinstance(e, str))
        keys = tuple(str(k) for k in data.get("signing_keys") or () if isinstance(k, str))
        return Person(emails, keys)

    def members(self, role: str, sha: str | None) -> set[str]:
        doc = self.index.get("role", role)
        if doc is None:
            return set()
        data: Any = doc.data
        if self.history is not None:
            data = self._read(doc.path, sha) if sha else None
        if not isinstance(data, Mapping):
            return set()
        return {str(m) for m in data.get("members") or ()}

    def held(self, person: object, role: str, when: dt.datetime, entry: Document | None = None) -> bool:
        """Whether ``person`` held ``role`` in the committed register both when the entry
        was committed (just before its commit; HEAD while uncommitted) and at ``when``."""
        if not isinstance(person, str):
            return False
        if self.history is None:
            return person in self.members(role, None)
        commit = self.added_by(entry.path) if entry is not None else None
        if entry is not None and commit is not None and self.is_legacy(commit):
            # recorded before the registers were read from history: as before, a member
            # then or now
            doc = self.index.get("role", role)
            return person in self.members(
                role, self.at(when, doc.path if doc else None)
            ) or person in self.members(role, self.history.head.sha if self.history.head else None)
        doc = self.index.get("role", role)
        then = self.at(when, doc.path if doc is not None else None)
        return person in self.members(role, self.base(commit)) and person in self.members(role, then)

    def _me(self) -> str | None:
        """The person whose emails hold git's user.email here (asked once)."""
        if self._acting is None:
            from clearance import history as git

            result = git.run_git(self.root or Path("."), "config", "user.email", check=False)
            email = result.stdout.decode("utf-8", "replace").strip().lower() if result.returncode == 0 else ""
            self._acting = ""
            for doc in self.index.of_kind("person") if email else ():
                if email in (str(e).lower() for e in doc.data.get("emails") or ()):
                    self._acting = str(doc.id)
                    break
        return self._acting or None

    # -- migration ------------------------------------------------------------------

    def required_since(self) -> Commit | None:
        """The oldest mainline commit whose clearance.yaml requires signed decisions."""
        self._legacy_set()
        return self._since

    def required(self) -> bool:
        return self.configured or self.required_since() is not None

    def _legacy_set(self) -> frozenset[str]:
        if self._legacy is None:
            found = self.history
            shared = self._shared
            if found is None or shared is None:
                self._legacy = frozenset()
                return self._legacy
            if shared.cut is None:
                since: Commit | None = None
                for change in reversed(found.changes(CONFIG)):  # oldest first
                    if change.status == "D":
                        continue
                    data = self._read(CONFIG, change.sha)
                    spec = data.get("signing") if isinstance(data, Mapping) else None
                    if isinstance(spec, Mapping) and spec.get("decisions") == "required":
                        since = found.by_sha[change.sha]
                        break
                shared.cut = (since, frozenset(found.ancestors(since.sha)) if since else frozenset())
            self._since, ancestors = shared.cut
            if self._since is not None:
                self._legacy = ancestors
            elif self.configured:
                # required in the working tree, not committed yet: what is committed so
                # far predates it
                if shared.everything is None:
                    shared.everything = frozenset(c.sha for c in found.commits)
                self._legacy = shared.everything
            else:
                self._legacy = frozenset()
        return self._legacy

    def is_legacy(self, commit: Commit | None) -> bool:
        return commit is not None and commit.sha in self._legacy_set()

    # -- entries --------------------------------------------------------------------

    def proof(self, entry: Document, incident: str) -> Proof:
        cached = self._proofs.get(entry.path)
        if cached is not None:
            return cached
        data = entry.data
        commit = self.added_by(entry.path)
        legacy = self.is_legacy(commit)
        base = self.base(commit)
        scribe = bool(data.get("recorded_by")) or bool(data.get("on_behalf_of"))
        acting = data.get("recorded_by") if scribe else data.get("by")
        binding = None
        if commit is not None:
            person = self.person(acting, base)
            if person is None or commit.author_email.lower() not in person.emails:
                how = "introduced by merge commit" if commit.is_merge else "added by commit"
                binding = (
                    f"{data.get('type')} entry by {acting!r} was {how} {commit.sha[:12]} "
                    f"whose author {commit.author_email!r} is not one of {acting!r}'s emails "
                    f"in the committed people register"
                )
        signature = data.get("signature")
        signed = isinstance(signature, str) and bool(signature.strip())
        verified = False
        if signed:
            person = self.person(data.get("by"), base)
            keys = person.keys if person else ()
            verified = signing.verify(
                signing.payload(incident, data), str(signature), str(data.get("by")), tuple(keys)
            )
        unproven = None
        loose = commit is None and not signed and data.get("type") in signing.DECISIONS
        if loose and self.history is not None and self._me() != data.get("by"):
            unproven = (
                f"the {data.get('type')} by {data.get('by')!r} is neither signed nor committed by "
                f"{data.get('by')!r}: it is only in this working tree"
            )
        proof = Proof(entry, commit, legacy, signed, verified, binding, scribe, unproven)
        self._proofs[entry.path] = proof
        return proof


def skew(config_value: object) -> dt.timedelta:
    from clearance import durations

    parsed = durations.parse(str(config_value)) if config_value else None
    return parsed.fixed if parsed is not None else dt.timedelta(minutes=15)


def entry_time(entry: Document) -> dt.datetime | None:
    return parse_time(entry.data.get("at"))


_CONFIGURED: dict[tuple[str, int], bool] = {}


def _configured(root: Path | None) -> bool:
    """Whether clearance.yaml at ``root`` requires signed decisions (read once per
    version of the file)."""
    if root is None:
        return False
    from clearance import config

    try:
        stamp = (root / CONFIG).stat().st_mtime_ns
    except OSError:
        return False
    key = (str(root.resolve()), stamp)
    if key not in _CONFIGURED:
        try:
            _CONFIGURED[key] = config.load(root).signing_decisions
        except FatalError:
            _CONFIGURED[key] = False
    return _CONFIGURED[key]
