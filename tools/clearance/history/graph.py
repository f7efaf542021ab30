"""The loaded history: every commit reachable from one revision, indexed by path,
with ancestry, renames and the text of any file at any commit."""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from clearance.errors import FatalError
from clearance.history.commits import Change, Commit
from clearance.history.git import _git_env, locate, run_git
from clearance.history.log import _FIELDS, _SIGNATURE_FIELDS, _Parser, _Reader, _widen_pipe, topological


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
    located = locate(root)
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
