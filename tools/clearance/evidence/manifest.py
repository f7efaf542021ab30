"""Hashing what a pack draws on, and checking a pack against a checkout.

A pack's manifest names the commit it was built from and the sha256 of every file
(and, for a changes pack, of every commit object) it drew on. Verification recomputes
them from a checkout:

- every source as recorded in the named commit must match: a pack whose manifest does
  not match the repository's own history was not built from it (or was edited);
- every incident log entry must also still match in the working tree: landed entries
  are append-only, so a difference there is a rewritten record;
- other documents that changed in the working tree since are reported, not failed:
  policies move on after a pack is sent.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clearance.errors import FatalError
from clearance.evidence.model import Manifest, Source
from clearance.history import run_git

COMMIT_PREFIX = "commit:"


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def head(root: Path) -> str | None:
    proc = run_git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def repository_name(root: Path) -> str:
    proc = run_git(root, "config", "--get", "remote.origin.url", check=False)
    url = proc.stdout.decode("utf-8", "replace").strip()
    return url or root.name


def file_sources(root: Path, paths: Iterable[tuple[str, str]]) -> list[Source]:
    """(path, role) pairs → sources, hashed from the working tree."""
    out = []
    for path, role in paths:
        try:
            raw = (root / path).read_bytes()
        except OSError as exc:
            raise FatalError(f"{path}: cannot read: {exc.strerror}") from None
        out.append(Source(path, sha256_bytes(raw), role))
    return out


def objects(root: Path, names: Sequence[str]) -> list[bytes | None]:
    """The content of each git object name (``<commit>:<path>``, a commit sha), None
    where the name resolves to nothing; one ``git cat-file --batch`` for them all."""
    if not names:
        return []
    if any("\n" in name for name in names):
        raise FatalError("a source path holds a newline; cannot look it up in git")
    try:
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=root,
            input="".join(f"{name}\n" for name in names).encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise FatalError(f"git cat-file failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    out: list[bytes | None] = []
    data, pos = proc.stdout, 0
    for _ in names:
        end = data.index(b"\n", pos)
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<name> missing" / "ambiguous"
            out.append(None)
            continue
        size = int(header[2])
        out.append(data[pos : pos + size])
        pos += size + 1
    return out


def commit_sources(root: Path, shas: Sequence[str]) -> list[Source]:
    """The sha256 of each commit object, so the pack is bound to the commits' content
    by a hash stronger than git's SHA-1 names."""
    out = []
    for sha, raw in zip(shas, objects(root, list(shas)), strict=True):
        if raw is None:
            raise FatalError(f"commit {sha[:12]} is not in this repository")
        out.append(Source(COMMIT_PREFIX + sha, sha256_bytes(raw), "commit"))
    return out


def dirty(root: Path, commit: str | None, sources: Sequence[Source]) -> tuple[str, ...]:
    """The file sources whose working-tree bytes differ from ``commit`` (all of them
    when there is no commit): the pack then shows uncommitted material, and says so."""
    files = [s for s in sources if not s.path.startswith(COMMIT_PREFIX)]
    if commit is None:
        return tuple(s.path for s in files)
    blobs = objects(root, [f"{commit}:./{s.path}" for s in files])
    return tuple(
        s.path for s, raw in zip(files, blobs, strict=True) if raw is None or sha256_bytes(raw) != s.sha256
    )


def contains(root: Path, commit: str) -> bool:
    """Whether ``commit`` is HEAD or one of its ancestors."""
    return run_git(root, "merge-base", "--is-ancestor", commit, "HEAD", check=False).returncode == 0


@dataclass(frozen=True)
class Difference:
    path: str
    problem: str
    fatal: bool


@dataclass(frozen=True)
class Verification:
    manifest: Manifest
    checked: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not any(d.fatal for d in self.differences)


def verify(root: Path, manifest: Manifest) -> Verification:
    """Recompute every source of ``manifest`` from the checkout at ``root``."""
    problems: list[Difference] = []
    commit = manifest.commit
    files = [s for s in manifest.sources if not s.path.startswith(COMMIT_PREFIX)]
    commits = [s for s in manifest.sources if s.path.startswith(COMMIT_PREFIX)]
    if manifest.dirty:
        problems.append(
            Difference(
                ", ".join(manifest.dirty[:5]) + (" ..." if len(manifest.dirty) > 5 else ""),
                f"the pack was built from {len(manifest.dirty)} uncommitted file(s); "
                "they cannot be checked against any commit",
                True,
            )
        )
    if commit is None or objects(root, [commit])[0] is None:
        what = f"commit {commit[:12]}" if commit else "no commit"
        problems.append(
            Difference(
                "(repository)",
                f"the pack names {what}, which is not in this checkout "
                "(fetch it, or the history was rewritten)",
                True,
            )
        )
        at_commit: list[bytes | None] = [None] * len(files)
        known = False
    else:
        at_commit = objects(root, [f"{commit}:./{s.path}" for s in files])
        known = True
        if not contains(root, commit):
            problems.append(
                Difference(
                    "(repository)",
                    f"commit {commit[:12]} is not in the history of this checkout's HEAD "
                    "(the history was rewritten, or check out the branch the pack was built from)",
                    True,
                )
            )
    short = (commit or "")[:12]
    for source, raw in zip(files, at_commit, strict=True):
        if known and source.path not in manifest.dirty:
            if raw is None:
                problems.append(Difference(source.path, f"not in commit {short}", True))
            elif sha256_bytes(raw) != source.sha256:
                problems.append(Difference(source.path, f"differs from commit {short}", True))
        try:
            now = sha256_bytes((root / source.path).read_bytes())
        except OSError:
            now = None
        if now == source.sha256:
            continue
        append_only = source.role == "log-entry"
        what = "deleted from the working tree" if now is None else "changed in the working tree"
        problems.append(
            Difference(
                source.path,
                f"{what} since the pack was built"
                + (" (log entries are append-only)" if append_only else ""),
                append_only,
            )
        )
    shas = [s.path[len(COMMIT_PREFIX) :] for s in commits]
    for source, raw in zip(commits, objects(root, shas), strict=True):
        sha = source.path[len(COMMIT_PREFIX) :]
        if raw is None:
            problems.append(Difference(source.path, f"commit {sha[:12]} is not in this checkout", True))
        elif sha256_bytes(raw) != source.sha256:
            problems.append(Difference(source.path, f"commit {sha[:12]} has different content", True))
    return Verification(manifest, len(manifest.sources), tuple(problems))
