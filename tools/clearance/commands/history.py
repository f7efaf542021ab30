"""Every change to one document, newest first, following renames: commit, date,
author, status (A added, M modified, D deleted, R renamed) and subject. Read from a
single git log pass. Exit 0, 2 when the path has no history or on a usage error.

This module also holds the small plumbing the other git-history commands (audit,
show, verify) share."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from clearance.commands.common import repository_config
from clearance.errors import FatalError, UsageError
from clearance.history import UNSHALLOW_HINT, History


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a document (it may since have been renamed or deleted)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    history = require_history(History.load(config.root), config.root)
    warn_shallow(history)
    path = repo_path(args.path, config.root)
    changes = history.changes(path)
    if not changes:
        raise FatalError(f"{path}: no history (never committed under this name)")
    from clearance.report import trail

    trail.document_history(path, changes, args.format, sys.stdout)
    return 0


def add_signers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allowed-signers", metavar="FILE",
        help="SSH allowed-signers file to verify signatures against (keep it outside the audited "
        "branch); each signer is mapped to a person through signing_keys and emails",
    )


def add_rev(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rev", default="HEAD", help="the main branch to audit (default: HEAD)")


def signers(args: argparse.Namespace) -> Path | None:
    if not args.allowed_signers:
        return None
    path = Path(args.allowed_signers)
    if not path.is_file():
        raise UsageError(f"--allowed-signers {args.allowed_signers!r}: no such file")
    return path


def require_history(history: History | None, root: Path) -> History:
    if history is None:
        raise FatalError(f"{str(root)!r} is not inside a git work tree; the audit trail is git history")
    return history


def repo_path(raw: str, root: Path) -> str:
    """A user-given path as a path relative to the repository root (it may no longer
    exist in the working tree)."""
    candidate = Path(raw)
    absolute = candidate if candidate.is_absolute() else Path.cwd() / candidate
    resolved_root = root.resolve()
    try:
        return absolute.resolve().relative_to(resolved_root).as_posix()
    except ValueError:
        if not candidate.is_absolute() and not (Path.cwd() / candidate).exists():
            return candidate.as_posix().removeprefix("./")
        raise UsageError(f"{raw}: outside the repository {str(resolved_root)!r}") from None


def write(output: str | None, text: str) -> None:
    if not output or output == "-":
        sys.stdout.write(text)
        return
    target = Path(output)
    if target.exists() and not target.is_file():
        # a device, FIFO or the like (/dev/null, /dev/stdout): write through it, never
        # replace it with a regular file
        with target.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def warn_shallow(history: History) -> None:
    if history.shallow:
        print(f"clearance: warning: {UNSHALLOW_HINT}", file=sys.stderr)
