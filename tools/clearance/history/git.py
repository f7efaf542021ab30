"""Running git: the one place any module of Clearance starts a git process."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from clearance.errors import FatalError


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


def locate(root: Path) -> tuple[Path, bool] | None:
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


def head_id(root: Path) -> str:
    """The commit HEAD names, read from .git without running git (cheap enough to ask
    on every warm run); ``unborn:<ref>`` before the first commit, and a value that
    never repeats when it cannot be read, so findings that depend on history are redone."""
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text("utf-8").strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        loose = git / ref
        if loose.is_file():
            return loose.read_text("utf-8").strip()
        packed = git / "packed-refs"
        lines = packed.read_text("utf-8").splitlines() if packed.is_file() else []
        for line in lines:
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
        return f"unborn:{ref}"  # no commit yet: an empty history, the same every run
    except OSError:
        pass
    return f"unknown:{time.time_ns()}"
