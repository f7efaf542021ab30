"""Small repository-hygiene checks run as pre-commit hooks (``clearance hook ...``):
the append-only guard for incident logs, trailing whitespace, end-of-file newlines,
large added files and YAML that is not text. Each function takes file names and
returns problems as ``path: message`` lines; fixers rewrite the files they fix.

They exist here because a repository adopting Clearance should pass its own
pre-commit configuration offline: hooks fetched from a code host are not an option
everywhere. Nothing here loads governance documents, so the hooks start fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clearance import history
from clearance.errors import FatalError

# incidents/<incident id>/log/<entry>.yaml, possibly below a sub-folder of the work
# tree when the Clearance root is not the top of the git repository.
_LOG_ENTRY = re.compile(r"(?:^|/)incidents/[^/]+/log/[^/]+\.ya?ml$")
_STATUS_WORDS = {"M": "modified", "D": "deleted", "R": "renamed", "T": "changed type of"}
_BINARY_TAG = re.compile(rb"!!binary\b|tag:yaml\.org,2002:binary")
DEFAULT_MAX_KB = 500


@dataclass(frozen=True)
class Change:
    status: str  # one letter: A C D M R T U X
    path: str  # the path before the change (the landed one, for renames)
    new_path: str | None = None


def is_log_entry(path: str) -> bool:
    return bool(_LOG_ENTRY.search(path))


def staged_changes(cwd: Path) -> list[Change]:
    """Staged changes against HEAD (nothing when HEAD does not exist yet), renames
    detected, paths relative to the top of the work tree."""
    if history.run_git(cwd, "rev-parse", "--git-dir", check=False).returncode:
        raise FatalError(f"git: {str(cwd)!r} is not inside a git repository")
    if history.run_git(cwd, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).returncode:
        return []
    raw = history.run_git(
        cwd, "diff", "--cached", "--name-status", "-z", "--find-renames", "--no-ext-diff", "HEAD"
    ).stdout.decode("utf-8", "surrogateescape")
    fields = raw.split("\0")
    changes: list[Change] = []
    position = 0
    while position < len(fields) and fields[position]:
        status = fields[position][0]
        if status in "RC":
            changes.append(Change(status, fields[position + 1], fields[position + 2]))
            position += 3
        else:
            changes.append(Change(status, fields[position + 1]))
            position += 2
    return changes


def append_only(cwd: Path) -> list[str]:
    """Problems for every staged change that modifies, deletes or renames an incident
    log entry that is already committed. Adding entries (and copying) is fine."""
    problems = []
    for change in staged_changes(cwd):
        if change.status in _STATUS_WORDS and is_log_entry(change.path):
            what = _STATUS_WORDS[change.status]
            target = f" to {change.new_path}" if change.new_path else ""
            problems.append(
                f"{change.path}: {what} a committed incident log entry{target}; log entries are "
                "append-only: restore it (git restore --staged --worktree -- "
                f"{change.path}) and log a correction entry that names it instead"
            )
    return problems


def trailing_whitespace(filenames: Iterable[str]) -> list[str]:
    """Strip spaces and tabs at line ends, in place. Markdown hard breaks made of two
    trailing spaces go too: they are invisible and a backslash does the same."""
    fixed = []
    for name in filenames:
        data = _read(name)
        if data is None or b"\0" in data:  # binary: never rewritten
            continue
        lines = data.splitlines(keepends=True)
        cleaned = [_strip_line(line) for line in lines]
        if cleaned != lines:
            Path(name).write_bytes(b"".join(cleaned))
            fixed.append(f"{name}: trailing whitespace removed")
    return fixed


def _strip_line(line: bytes) -> bytes:
    body = line.rstrip(b"\r\n")
    ending = line[len(body):]
    return body.rstrip(b" \t") + ending


def end_of_file(filenames: Iterable[str]) -> list[str]:
    """Make every non-empty file end with exactly one newline, in place."""
    fixed = []
    for name in filenames:
        data = _read(name)
        if not data or b"\0" in data:  # empty or binary: left alone
            continue
        stripped = data.rstrip(b"\r\n")
        ending = b"\r\n" if data[len(stripped):].startswith(b"\r\n") else b"\n"
        wanted = stripped + ending if stripped else b""
        if wanted != data:
            Path(name).write_bytes(wanted)
            fixed.append(f"{name}: fixed end of file")
    return fixed


def large_files(
    filenames: Sequence[str], cwd: Path, *, max_kb: int = DEFAULT_MAX_KB, enforce_all: bool = False
) -> list[str]:
    """Files over ``max_kb`` kilobytes among those being added (staged as new), or
    among all given files with ``enforce_all``."""
    names = set(filenames)
    if not enforce_all:
        added = history.run_git(
            cwd, "diff", "--cached", "--name-only", "--diff-filter=A", "-z", check=False
        ).stdout.decode("utf-8", "surrogateescape")
        names &= {n for n in added.split("\0") if n}
    problems = []
    for name in sorted(names):
        path = Path(name)
        if path.is_file():
            size = (path.stat().st_size + 1023) // 1024
            if size > max_kb:
                problems.append(f"{name}: {size} KB is over the {max_kb} KB limit for added files")
    return problems


def yaml_text(filenames: Iterable[str]) -> list[str]:
    """YAML files must be UTF-8 text: no NUL bytes, no other encodings, and no
    ``!!binary`` values (binary content hidden in YAML cannot be reviewed)."""
    problems = []
    for name in filenames:
        data = _read(name)
        if data is None:
            continue
        if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            problems.append(f"{name}:1:1: encoded as UTF-16 or UTF-32, not UTF-8: save it as UTF-8")
            continue
        if b"\0" in data:
            problems.append(f"{name}:1:1: contains NUL bytes: binary data, not YAML text")
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, col = _line_col(data, exc.start)
            problems.append(f"{name}:{line}:{col}: not UTF-8 text (byte 0x{data[exc.start]:02x})")
            continue
        match = _BINARY_TAG.search(data)
        if match:
            line, col = _line_col(data, match.start())
            problems.append(f"{name}:{line}:{col}: '!!binary' value: keep binary files out of YAML")
    return problems


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _read(name: str) -> bytes | None:
    path = Path(name)
    if not path.is_file() or path.is_symlink():
        return None
    return path.read_bytes()
