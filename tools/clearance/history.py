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

import codecs
import datetime as dt
import functools
import gc
import heapq
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from clearance.errors import FatalError

if TYPE_CHECKING:
    from typing import IO

UNSHALLOW_HINT = "the clone is shallow, so history is incomplete; run 'git fetch --unshallow' first"

# Fields read for every commit, in order; %G? etc. are appended when signatures are wanted.
_FIELDS = (
    "%H",  # sha
    "%P",  # parents
    "%an",
    "%ae",
    "%aI",
    "%cn",
    "%ce",
    "%cI",
    "%s",
    "%b",
    "%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)",
)
_SIGNATURE_FIELDS = ("%GS", "%GK", "%GF", "%G?")
_STATUS = re.compile(r"[ACDMRTUXB]+[0-9]*")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Change:
    """One file changed by one commit."""

    sha: str
    author_name: str
    author_email: str
    date: dt.datetime  # author date, aware
    subject: str
    status: str  # A, M, D or R
    path: str  # repository-relative (to the Clearance root), POSIX
    old_path: str | None  # the name before a rename


@dataclass(frozen=True)
class Signature:
    """What git says about a commit's signature (``%G?``, ``%GS``, ``%GK``, ``%GF``)."""

    status: str  # G good, B bad, U good/unknown validity, X/Y expired, R revoked, E cannot check, N none
    signer: str  # principal (SSH) or user id (GPG)
    key: str  # key fingerprint (SSH: "SHA256:...") or GPG key id
    fingerprint: str

    @property
    def signed(self) -> bool:
        return self.status != "N"

    def describe(self) -> str:
        return {
            "G": "good signature",
            "B": "BAD signature",
            "U": "valid signature by a key that is not in the allowed signers (or not trusted)",
            "X": "good signature that has expired",
            "Y": "good signature by an expired key",
            "R": "good signature by a revoked key",
            "E": "signature cannot be checked (missing key or verifier)",
            "N": "unsigned",
        }.get(self.status, f"signature status {self.status!r}")


@functools.cache
def _lowered(keys: tuple[str, ...]) -> frozenset[str]:
    return frozenset(key.lower() for key in keys)


@dataclass(slots=True, eq=False)
class Commit:
    """One commit. Not frozen: a frozen dataclass's __init__ costs ~10 us more per
    commit, which is a tenth of a second per 10,000 commits. Treat it as read-only."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored: dt.datetime
    committer_name: str
    committer_email: str
    committed: dt.datetime
    subject: str
    body: str  # message after the subject line, trailers included
    trailers: tuple[tuple[str, str], ...]  # (key, value) as git parsed them
    signature: Signature | None  # None when signatures were not requested
    # (status, path, old path) per file; merges: empty, or with merges=True the files
    # differing from every parent. ``changes`` has the same as Change objects.
    files: tuple[tuple[str, str, str | None], ...]
    authored_iso: str  # authored.isoformat(), kept from git's text (see _iso)
    committed_iso: str  # committed.isoformat()
    _changes: tuple[Change, ...] | None = field(default=None, repr=False)

    @property
    def changes(self) -> tuple[Change, ...]:
        """The files changed as :class:`Change` objects, made on first use: an audit
        of 10,000 commits needs only the ``files`` tuples, and building a frozen
        dataclass per file changed would cost ~0.05 s there."""
        made = self._changes
        if made is None:
            sha, name, email, when, subject = (
                self.sha,
                self.author_name,
                self.author_email,
                self.authored,
                self.subject,
            )
            made = self._changes = tuple(
                Change(sha, name, email, when, subject, status, path, old) for status, path, old in self.files
            )
        return made

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def short(self) -> str:
        return self.sha[:12]

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>"

    def trailer(self, *keys: str) -> list[str]:
        """Values of the trailers named ``keys`` (case-insensitive), in order."""
        if not self.trailers:
            return []
        wanted = _lowered(keys)
        return [value for key, value in self.trailers if key.lower() in wanted]

    def reason(self) -> str:
        """The message body without its trailer block (git's trailers always form
        the last paragraph)."""
        body = self.body.strip()
        if body and self.trailers:
            paragraphs = _PARAGRAPHS.split(body)
            body = "\n\n".join(paragraphs[:-1]).strip()
        return body


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.pop("GIT_EXTERNAL_DIFF", None)
    return env


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run one git command; a missing git binary is a FatalError, never a traceback."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=_git_env(), check=False)
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FatalError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
    return proc


def _combined_status(status: str) -> str:
    if status.startswith(("R", "C")):
        return "R" if status.startswith("R") else "A"
    letters = set(status)
    if letters == {"A"}:
        return "A"
    if letters == {"D"}:
        return "D"
    return "M"


class _Parser:
    """Turns ``git log -z`` records (see :func:`start`) into commits."""

    def __init__(
        self, token: str, prefix: str, signatures: bool, on_commit: Callable[[Commit], None] | None = None
    ) -> None:
        self.on_commit = on_commit
        self.record_sep, self.field_sep = f"\x1e{token}R", f"\x1f{token}F"
        self.nfields = len(_FIELDS) + (len(_SIGNATURE_FIELDS) if signatures else 1)
        self.signatures = signatures
        self.strip = f"{prefix}/" if prefix else ""
        self.commits: list[Commit] = []
        self.lock = threading.Lock()  # orders delivery to on_commit (see attach)

    def feed(self, text: str) -> None:
        """Parse every complete record in ``text``; records start with the separator."""
        made = [self.record(record) for record in text.split(self.record_sep) if record]
        with self.lock:
            self.commits.extend(made)
            if self.on_commit is not None:
                for commit in made:
                    self.on_commit(commit)

    def attach(self, on_commit: Callable[[Commit], None]) -> None:
        """Hand every commit parsed so far, then each one parsed from now on, to
        ``on_commit``: in git's order, one at a time, never twice."""
        with self.lock:
            for commit in self.commits:
                on_commit(commit)
            self.on_commit = on_commit

    def record(self, record: str) -> Commit:
        fields = record.split(self.field_sep)
        if len(fields) != self.nfields:
            raise FatalError("could not read git log output (unexpected field count)")
        last, _, rest = fields[-1].partition("\0")
        sha, parents, an, ae, ad, cn, ce, cd, subject, body, trailers_raw = fields[:11]
        signature = Signature(last, fields[11], fields[12], fields[13]) if self.signatures else None
        trailers: tuple[tuple[str, str], ...] = ()
        if trailers_raw:
            pairs = []
            for item in trailers_raw.split("\x1d"):
                key, _, value = item.partition("\x1c")
                key = key.strip()
                if key:
                    pairs.append((key, value.strip()))
            trailers = tuple(pairs)
        authored = _fromiso(ad)
        committed = _fromiso(cd)
        files: tuple[tuple[str, str, str | None], ...] = ()
        if len(rest) > 1:
            tokens = rest[1:].split("\0")
            # the common case, one file added, modified or deleted: "M\0path\0"
            if len(tokens) == 3 and tokens[0] in _SIMPLE and tokens[1] and not tokens[2] and not self.strip:
                files = ((tokens[0], tokens[1], None),)
            else:
                files = tuple(self.files(tokens))
        return Commit(
            sha,
            (parents,) if parents and " " not in parents else tuple(parents.split()),
            an,
            ae,
            authored,
            cn,
            ce,
            committed,
            subject,
            body,
            trailers,
            signature,
            files,
            _iso(ad, authored),
            _iso(cd, committed),
        )

    def files(self, tokens: list[str]) -> Iterator[tuple[str, str, str | None]]:
        """(status, path, old path) from the NUL-separated ``--name-status`` tokens."""
        tokens = [t for t in tokens if t]
        strip = self.strip
        position = 0
        while position < len(tokens):
            status_token = tokens[position]
            if not _STATUS.fullmatch(status_token):
                raise FatalError(f"could not read git log output near {status_token!r}")
            two = status_token[0] in "RC" and len(status_token) > 1 and status_token[1:].isdigit()
            old: str | None
            if two:
                old, new = tokens[position + 1], tokens[position + 2]
                position += 3
            else:
                old, new = None, tokens[position + 1]
                position += 2
            status = status_token[0] if len(status_token) == 1 or two else _combined_status(status_token)
            if status in ("T", "U", "X", "B"):
                status = "M"
            if status == "C":
                status, old = "A", None
            if strip:
                if not new.startswith(strip):
                    if old is not None and old.startswith(strip):
                        status, new, old = "D", old, None
                    else:
                        continue
                new = new[len(strip) :]
                if old is not None:
                    if old.startswith(strip):
                        old = old[len(strip) :]
                    else:
                        status, old = "A", None
            yield (status, new, old)


_SIMPLE = frozenset("AMD")
_fromiso = dt.datetime.fromisoformat


def _iso(text: str, moment: dt.datetime) -> str:
    """``moment.isoformat()``, which for git's strict ISO 8601 (%aI, %cI) is ``text``
    itself: YYYY-MM-DDTHH:MM:SS+HH:MM. Only a "-00:00" offset (or a format git may
    add later, such as "Z") reads back differently; isoformat() costs ~2.5 us, up to
    twice per change record when rendering 10,000 of them."""
    if len(text) == 25 and text[7] == "-" and text[10] == "T":
        sign = text[19]
        if sign == "+" or (sign == "-" and text[20:] != "00:00"):
            return text
    return moment.isoformat()


class _Reader(threading.Thread):
    """Drains git's stdout and parses records as they arrive, so parsing overlaps
    with git's own work (and git never blocks on a full pipe)."""

    def __init__(self, stream: IO[bytes], parser: _Parser | None) -> None:
        super().__init__(daemon=True)
        self.stream, self.parser = stream, parser
        self.data = b""
        self.error: BaseException | None = None

    def run(self) -> None:
        if self.parser is None:
            self.data = self.stream.read()
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        sep = self.parser.record_sep
        pending = ""
        try:
            while True:
                chunk = self.stream.read1(1 << 20)  # type: ignore[attr-defined]
                if not chunk:
                    break
                text = pending + decoder.decode(chunk)
                cut = text.rfind(sep)
                if cut > 0:
                    self.parser.feed(text[:cut])
                    pending = text[cut:]
                else:
                    pending = text
                if len(chunk) < 1 << 16:
                    # caught up with git: let a few of its 4 KiB writes gather in the
                    # (widened) pipe rather than wake up for each (~0.03 s of CPU
                    # per 10,000 commits)
                    time.sleep(0.003)
            self.parser.feed(pending + decoder.decode(b"", final=True))
        except BaseException as exc:  # handed to the caller by PendingLog.result
            self.error = exc
            self.stream.read()


def _widen_pipe(stream: IO[bytes]) -> None:
    """Let git run up to 1 MiB ahead while Python is busy (Linux; a no-op elsewhere).
    With the default 64 KiB pipe git stalls every few milliseconds whenever the
    reader thread waits for the GIL."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass


class PendingLog:
    """A ``git log`` running in the background (start it, do other work, then join)."""

    def __init__(
        self,
        root: Path,
        toplevel: Path,
        shallow: bool,
        args: list[str],
        token: str,
        signatures: bool,
        rev: str,
        on_commit: Callable[[Commit], None] | None = None,
        request: tuple[object, ...] = (),
    ) -> None:
        self.root, self.toplevel, self.shallow, self.rev = root, toplevel, shallow, rev
        self.request = request  # what start() was asked for (see matches)
        self.reordered = False  # set by result() when git's order had to be fixed
        prefix = root.resolve().relative_to(toplevel.resolve()).as_posix()
        self.parser = _Parser(token, "" if prefix == "." else prefix, signatures, on_commit)
        try:
            self.proc = subprocess.Popen(
                ["git", *args],
                cwd=toplevel,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Into a pipe git flushes after every commit unless told not to:
                # 10,000 small writes, each waking the reader, cost git ~20 % more
                # CPU and the reader ~0.07 s. Buffered, it writes in 4 KiB blocks.
                env={**_git_env(), "GIT_FLUSH": "0"},
            )
        except FileNotFoundError:
            raise FatalError("git is not installed or not on PATH") from None
        assert self.proc.stdout is not None and self.proc.stderr is not None
        _widen_pipe(self.proc.stdout)
        # Parsing allocates ~10 objects per commit and none of them form cycles; the
        # cyclic collector's passes over them cost 15-20 % of the parse. Paused until
        # result() (which restores it).
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self._out = _Reader(self.proc.stdout, self.parser)
        self._err = _Reader(self.proc.stderr, None)
        self._out.start()
        self._err.start()

    def attach(self, on_commit: Callable[[Commit], None]) -> None:
        """Start handing commits to ``on_commit`` (see ``start``), beginning with
        those parsed before this call."""
        self.parser.attach(on_commit)

    def matches(
        self,
        root: Path,
        *,
        rev: str = "HEAD",
        signatures: bool = False,
        allowed_signers: Path | None = None,
        merges: bool = False,
    ) -> bool:
        """Whether this is the log ``start`` would run for these arguments (so a log
        started early, before they were all known, can be used)."""
        return self.request == _request(root, rev, signatures, allowed_signers, merges)

    def result(self) -> History:
        try:
            return self._result()
        finally:
            if self._gc_was_enabled:
                gc.enable()

    def cancel(self) -> None:
        """Stop git and the reader (the caller failed before it needed the result)."""
        try:
            self.proc.kill()
            self._out.join()
            self._err.join()
            self.proc.wait()
        finally:
            if self._gc_was_enabled:
                gc.enable()

    def _result(self) -> History:
        self._out.join()
        self._err.join()
        code = self.proc.wait()
        err = self._err.data.decode("utf-8", "replace")
        if code != 0:
            unborn = ("does not have any commits", "bad revision 'HEAD'", "unknown revision")
            if self.rev == "HEAD" and any(text in err for text in unborn):
                return History(self.root, self.toplevel, [], self.shallow)
            lines = err.strip().splitlines()
            raise FatalError(f"git log failed: {lines[-1] if lines else code}")
        if self._out.error is not None:
            raise self._out.error
        ordered = topological(self.parser.commits)
        self.reordered = ordered is not self.parser.commits
        return History(self.root, self.toplevel, ordered, self.shallow)


def topological(commits: list[Commit]) -> list[Commit]:
    """``commits`` unchanged when every commit comes before its parents (git's date
    order almost always gives that); otherwise re-ordered so it does, keeping git's
    order wherever it is consistent (clock skew and backdated commits break it)."""
    order = {c.sha: i for i, c in enumerate(commits)}
    if all(order.get(p, len(commits)) > i for i, c in enumerate(commits) for p in c.parents):
        return commits
    children: dict[str, int] = {}
    for commit in commits:
        for parent in commit.parents:
            if parent in order:
                children[parent] = children.get(parent, 0) + 1
    by_sha = {c.sha: c for c in commits}
    ready = [c.sha for c in commits if children.get(c.sha, 0) == 0]
    heap = [(order[sha], sha) for sha in ready]
    heapq.heapify(heap)
    result: list[Commit] = []
    while heap:
        _, sha = heapq.heappop(heap)
        commit = by_sha[sha]
        result.append(commit)
        for parent in commit.parents:
            if parent in children:
                children[parent] -= 1
                if children[parent] == 0:
                    heapq.heappush(heap, (order[parent], parent))
    return result


def _locate(root: Path) -> tuple[Path, bool] | None:
    """(work-tree top level, shallow?) or None when ``root`` is not in a git work tree."""
    if not root.is_dir():
        return None
    proc = run_git(root, "rev-parse", "--show-toplevel", "--is-shallow-repository", check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        if "dubious ownership" in err or "safe.directory" in err:
            raise FatalError(
                f"git refuses to read {str(root)!r} (owned by another user); "
                f"run 'git config --global --add safe.directory {root}'"
            )
        return None
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    if len(lines) < 2 or not lines[0]:
        return None  # inside .git, or a bare repository
    return Path(lines[0]), lines[1].strip() == "true"


def start(
    root: Path,
    *,
    rev: str = "HEAD",
    signatures: bool = False,
    allowed_signers: Path | None = None,
    merges: bool = False,
    on_commit: Callable[[Commit], None] | None = None,
) -> PendingLog | None:
    """Start the one ``git log`` pass in the background; None outside a git work tree.

    ``on_commit`` is called with each commit as it is parsed, in git's order, on the
    reader thread (so work on it overlaps git's); or give it later to
    ``PendingLog.attach``, which first hands it what was parsed before. Check
    ``reordered`` after ``result()``: when True, git's order was not topological and
    consumers that relied on children arriving before parents must redo their work.

    With ``merges``, merge commits list the files whose merged content differs from
    every parent (``--cc``: conflict resolutions and "evil merges"); that costs
    about half a raw ``git log`` again, so only append-only verification asks."""
    located = _locate(root)
    if located is None:
        return None
    toplevel, shallow = located
    token = os.urandom(8).hex()  # secrets.token_hex(8), without importing secrets (~10 ms)
    fields = list(_FIELDS) + (list(_SIGNATURE_FIELDS) if signatures else ["%ct"])
    fmt = f"%x1e{token}R" + f"%x1f{token}F".join(fields)
    config = ["-c", "log.showSignature=false", "-c", "core.quotepath=off", "-c", "diff.renameLimit=10000"]
    if allowed_signers is not None:
        config += ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"]
    if rev.startswith("-"):
        raise FatalError(f"invalid revision {rev!r}")
    args = [
        *config,
        "log",
        "-z",
        "--name-status",
        "-M",
        *(["--cc"] if merges else []),
        "--no-color",
        "--no-ext-diff",
        "--encoding=UTF-8",
        "--no-mailmap",
        "--root",
        f"--format={fmt}",
        rev,
        "--",
    ]
    request = _request(root, rev, signatures, allowed_signers, merges)
    return PendingLog(root, toplevel, shallow, args, token, signatures, rev, on_commit, request)


def _request(
    root: Path, rev: str, signatures: bool, allowed_signers: Path | None, merges: bool
) -> tuple[object, ...]:
    signers = str(allowed_signers.resolve()) if allowed_signers is not None else None
    return (str(root.resolve()), rev, signatures, signers, merges)


class History:
    """Every commit reachable from the loaded revision, newest first (topological),
    with an index from path to the changes that touched it."""

    def __init__(self, root: Path, toplevel: Path, commits: list[Commit], shallow: bool) -> None:
        self.root = root
        self.toplevel = toplevel
        self.commits = commits
        self.shallow = shallow
        self.by_sha: dict[str, Commit] = {c.sha: c for c in commits}
        self._order: dict[str, int] = {c.sha: i for i, c in enumerate(commits)}
        self._index: dict[str, list[tuple[int, int]]] | None = None
        self._mainline: list[Commit] | None = None
        self._introduced: dict[str, str] | None = None

    @classmethod
    def load(
        cls,
        root: Path,
        *,
        rev: str = "HEAD",
        signatures: bool = False,
        allowed_signers: Path | None = None,
        merges: bool = False,
    ) -> History | None:
        """Read the history of ``root``'s repository; None when ``root`` is not in a
        git work tree. Paths are relative to ``root``."""
        pending = start(root, rev=rev, signatures=signatures, allowed_signers=allowed_signers, merges=merges)
        return pending.result() if pending is not None else None

    @property
    def head(self) -> Commit | None:
        return self.commits[0] if self.commits else None

    @property
    def prefix(self) -> str:
        rel = self.root.resolve().relative_to(self.toplevel.resolve()).as_posix()
        return "" if rel == "." else rel

    # -- per path ---------------------------------------------------------------------

    def _by_path(self) -> dict[str, list[tuple[int, int]]]:
        """Path -> (position of the commit, position in its ``files``) for every file
        change under that name (a rename is listed under both names), built on first
        use: the audit of a whole history rarely asks by path."""
        index = self._index
        if index is None:
            index = {}
            for position, commit in enumerate(self.commits):
                for k, (_, path, old_path) in enumerate(commit.files):
                    index.setdefault(path, []).append((position, k))
                    if old_path is not None:  # the old name's history ends here
                        index.setdefault(old_path, []).append((position, k))
            self._index = index
        return index

    def changes(self, path: str) -> list[Change]:
        """Every change to ``path`` newest first, following renames backwards."""
        index, commits = self._by_path(), self.commits
        result: list[Change] = []
        current, start = path, 0
        while True:
            renamed = False
            for position, k in index.get(current, ()):
                if position < start:
                    continue
                status, new, old = commits[position].files[k]
                if new != current:
                    if not result:  # asked by an old name: start from the rename away
                        result.append(commits[position].changes[k])
                        continue
                    return result  # renamed away: older changes belonged to another file
                result.append(commits[position].changes[k])
                if status == "R" and old is not None:
                    current, start, renamed = old, position + 1, True
                    break
            if not renamed:
                return result

    def added(self, path: str, before: str) -> Commit | None:
        """The newest commit older than ``before`` that created ``path`` (added it or
        renamed something to it)."""
        limit = self._order.get(before, -1)
        for position, k in self._by_path().get(path, ()):
            status, new, _ = self.commits[position].files[k]
            if position > limit and new == path and status in ("A", "R"):
                return self.commits[position]
        return None

    def last_change(self, path: str) -> Change | None:
        changes = self.changes(path)
        return changes[0] if changes else None

    def paths(self) -> Iterable[str]:
        return self._by_path().keys()

    # -- graph ------------------------------------------------------------------------

    def mainline(self) -> list[Commit]:
        """The first-parent chain from the loaded revision, newest first."""
        if self._mainline is None:
            chain: list[Commit] = []
            commit = self.head
            while commit is not None:
                chain.append(commit)
                commit = self.by_sha.get(commit.parents[0]) if commit.parents else None
            self._mainline = chain
        return self._mainline

    def introduced_by(self, sha: str) -> Commit | None:
        """The first-parent commit that brought ``sha`` into the mainline: the commit
        itself when it was committed directly, else the merge that merged it."""
        if self._introduced is None:
            introduced: dict[str, str] = {}
            for commit in reversed(self.mainline()):
                introduced[commit.sha] = commit.sha
                stack = list(commit.parents[1:])
                while stack:
                    current = stack.pop()
                    if current in introduced or current not in self.by_sha:
                        continue
                    introduced[current] = commit.sha
                    stack.extend(self.by_sha[current].parents)
            self._introduced = introduced
        owner = self._introduced.get(sha)
        return self.by_sha.get(owner) if owner else None

    def ancestors(self, sha: str) -> set[str]:
        """``sha`` and every commit reachable from it (within the loaded history)."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.by_sha:
                continue
            seen.add(current)
            stack.extend(self.by_sha[current].parents)
        return seen

    def resolve(self, rev: str) -> Commit | None:
        """A loaded commit by full or abbreviated (>= 4 hex digits) sha."""
        rev = rev.strip().lower()
        if rev in self.by_sha:
            return self.by_sha[rev]
        if len(rev) < 4 or not re.fullmatch(r"[0-9a-f]+", rev):
            return None
        hits = [c for sha, c in self.by_sha.items() if sha.startswith(rev)]
        return hits[0] if len(hits) == 1 else None

    def object_exists(self, rev: str) -> bool:
        if rev.startswith("-"):
            return False
        proc = run_git(self.toplevel, "cat-file", "-e", f"{rev}^{{commit}}", check=False)
        return proc.returncode == 0

    # -- as of ------------------------------------------------------------------------

    def at(self, when: dt.datetime) -> Commit | None:
        """The newest mainline commit committed at or before ``when``."""
        for commit in self.mainline():
            if commit.committed <= when:
                return commit
        return None

    def path_at(self, path: str, sha: str) -> str | None:
        """The name the document now at ``path`` had in commit ``sha`` (None if it did
        not exist there)."""
        reachable = self.ancestors(sha)
        for change in self.changes(path):
            if change.sha in reachable:
                return None if change.status == "D" else change.path
        return None

    def read(self, sha: str, path: str) -> bytes:
        full = f"{self.prefix}/{path}" if self.prefix else path
        proc = run_git(self.toplevel, "cat-file", "blob", f"{sha}:{full}", check=False)
        if proc.returncode != 0:
            raise FatalError(f"{path}: not present in commit {sha[:12]}")
        return proc.stdout

    def read_many(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """The content of each (commit sha, path) in ONE ``git cat-file --batch``;
        None where the path is absent from that commit (or its name cannot be asked
        for: a newline in it)."""
        pairs = list(dict.fromkeys(wanted))
        found: dict[tuple[str, str], bytes | None] = {pair: None for pair in pairs}
        asked = [(sha, path) for sha, path in pairs if "\n" not in path and re.fullmatch(r"[0-9a-f]+", sha)]
        if not asked:
            return found
        prefix = f"{self.prefix}/" if self.prefix else ""
        request = "".join(f"{sha}:{prefix}{path}\n" for sha, path in asked).encode("utf-8")
        try:
            proc = subprocess.run(
                ["git", "cat-file", "--batch"],
                cwd=self.toplevel,
                input=request,
                capture_output=True,
                env=_git_env(),
            )
        except FileNotFoundError:
            raise FatalError("git is not installed or not on PATH") from None
        if proc.returncode != 0:
            raise FatalError(f"git cat-file failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        out, position = proc.stdout, 0
        for pair in asked:
            end = out.index(b"\n", position)
            header = out[position:end].split(b" ")
            position = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                found[pair] = out[position : position + size]
                position += size + 1
            elif len(header) == 3:  # a tree or another object under that name: skip its content
                position += int(header[2]) + 1
        return found

    def dirty(self) -> set[str]:
        """Paths whose work-tree or staged content differs from the loaded HEAD."""
        proc = run_git(self.toplevel, "diff", "--name-only", "-z", "HEAD", "--", ".", check=False)
        if proc.returncode != 0:
            return set()
        prefix = f"{self.prefix}/" if self.prefix else ""
        names = proc.stdout.decode("utf-8", "replace").split("\0")
        return {name[len(prefix) :] for name in names if name and name.startswith(prefix)}

    def dropped_by_merges(self, folders: Sequence[str]) -> list[tuple[Commit, str]]:
        """(merge, path) for every file under ``folders`` that a parent of the merge held
        and the merge's result lacks: ONE ``git log --merges -m`` pass (a merge that
        silently drops a file shows no change in the combined diff)."""
        if not any(c.is_merge for c in self.commits) or not self.head:
            return []
        prefix = f"{self.prefix}/" if self.prefix else ""
        token = os.urandom(8).hex()
        proc = run_git(
            self.toplevel,
            "-c", "core.quotepath=off", "log", "--merges", "-m", "--diff-filter=D", "--no-renames",
            "--name-only", "-z", "--no-color", f"--format=%x1e{token}%H", self.head.sha, "--",
            *[f"{prefix}{f.strip('/')}" for f in folders],
        )  # fmt: skip
        found: list[tuple[Commit, str]] = []
        seen: set[tuple[str, str]] = set()
        for record in proc.stdout.decode("utf-8", "replace").split(f"\x1e{token}"):
            if not record:
                continue
            sha, _, rest = record.partition("\0")
            commit = self.by_sha.get(sha.strip())
            for name in rest.split("\0"):
                name = name.strip("\n")
                if commit is None or not name or not name.startswith(prefix):
                    continue
                key = (commit.sha, name[len(prefix) :])
                if key not in seen:
                    seen.add(key)
                    found.append((commit, key[1]))
        return found

    def tags(self, prefix: str) -> list[tuple[str, str]]:
        """(tag name, commit it points at) for every tag under ``refs/tags/<prefix>``."""
        proc = run_git(
            self.toplevel, "for-each-ref", "--format=%(refname:strip=2)%00%(*objectname)%00%(objectname)",
            f"refs/tags/{prefix}", check=False,
        )  # fmt: skip
        found = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            name, peeled, direct = [*line.split("\0"), "", ""][:3]
            if name:
                found.append((name, peeled or direct))
        return found

    def tag_verifies(self, name: str, allowed_signers: Path | None) -> bool:
        """Whether tag ``name`` carries a good signature (SSH: against ``allowed_signers``)."""
        config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"] if allowed_signers else []
        return run_git(self.toplevel, *config, "tag", "-v", name, check=False).returncode == 0

    def sign_tag(self, name: str, message: str) -> None:
        """Create a signed annotated tag ``name`` at HEAD (git's own signing settings)."""
        proc = run_git(self.toplevel, "tag", "-s", "-m", message, name, "HEAD", check=False)
        if proc.returncode != 0:
            problem = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise FatalError(
                f"could not create the signed checkpoint tag {name!r}: "
                f"{problem[-1] if problem else proc.returncode} "
                "(set gpg.format=ssh and user.signingkey for the CI identity)"
            )


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
