"""The append-only entry store: one file per log entry, validated before it is written,
created atomically and never overwritten.

A write goes to an anonymous file in the target folder (``O_TMPFILE``) which is
fsynced and then linked under its final name; a process killed before the link leaves
nothing behind. Where anonymous files are unavailable, a hidden named temporary file
is used instead and stale ones left by killed writers are swept on the next write.
``os.link`` refuses to replace an existing name, so an entry can never overwrite
another one.

Named temporary files live in ``.git/clearance/tmp/`` (git never tracks or shows
them) when the repository has one, and stale ones are swept. Writers on one machine
are serialised by :func:`writer_lock`. For crash tests, ``CLEARANCE_FAULT`` names a
write boundary at which the process exits at once: ``before-write:N`` (the N-th file's
data is on disk but not under its name) or ``after-write:N`` (the N-th file is in place,
nothing after it is).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import hashlib
import os
import secrets
import string
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from clearance import loading, schemas
from clearance.errors import FatalError

SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_LENGTH = 6
# Test hook: when set to a path, a writer creates that file after its temporary data
# is on disk and then waits, so a test can kill it at exactly that point.
PAUSE_ENV = "CLEARANCE_STORE_PAUSE_AFTER_TEMP"
_TEMP_PREFIX = ".clearance-tmp-"
FAULT_ENV = "CLEARANCE_FAULT"
FAULT_EXIT = 86
# Set to use named temporary files (the fallback where O_TMPFILE is missing), for tests.
NAMED_ENV = "CLEARANCE_STORE_NAMED_TEMP"
_writes = {"before-write": 0, "after-write": 0}


def fault_point(name: str) -> None:
    """Exit at once (no cleanup, like a kill) when ``CLEARANCE_FAULT`` names this
    boundary: ``<name>:<n>`` for the n-th time the process reaches it."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    _writes[name] = _writes.get(name, 0) + 1
    if wanted == f"{name}:{_writes[name]}":
        os._exit(FAULT_EXIT)


def git_dir(root: Path) -> Path | None:
    """The repository's git directory (``.git``, or where a ``.git`` file points)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text("utf-8", "replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text[len("gitdir:") :].strip())
            return target if target.is_absolute() else (root / target).resolve()
    return None


def private_dir(root: Path, name: str) -> Path:
    """A folder for the tools' own files that git ignores: ``.git/clearance/<name>``,
    else (no git) a folder in the system's temporary directory keyed by the root."""
    base = git_dir(root.resolve())
    if base is not None:
        folder = base / "clearance" / name
    else:
        key = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"clearance-{key}" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Serialise the commands that write to the repository on this machine: each one
    reads the log, decides and writes while no other writer runs, so twenty parallel
    'status-change' processes make one transition and nineteen no-ops."""
    path = private_dir(root, "locks") / "incidents.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


class InvalidEntry(FatalError):
    """The entry would not pass its schema; nothing was written."""


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 with the moment's own offset; UTC is written as ``Z``."""
    text = moment.isoformat(timespec="seconds" if not moment.microsecond else "microseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def entry_stem(at: dt.datetime, suffix: str | None = None) -> str:
    """``<UTC YYYYMMDDTHHMMSSZ>-<6 lowercase letters or digits>``."""
    suffix = suffix or "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    return f"{utc(at):%Y%m%dT%H%M%SZ}-{suffix}"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value and not value.endswith((" ", "\t")) and " \n" not in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def modeline(root: Path, rel_path: str, kind: str) -> str:
    """``# yaml-language-server: $schema=...`` pointing at the bundled schema, relative
    to the file when the repository carries ``schemas/``, else the schema's URL."""
    target = root / "schemas" / f"{kind}.schema.json"
    if target.is_file():
        folder = (root / rel_path).parent
        ref = os.path.relpath(target, folder).replace(os.sep, "/")
    else:
        ref = f"{schemas.BASE_URI}{kind}.schema.json"
    return f"# yaml-language-server: $schema={ref}\n"


def render(root: Path, rel_path: str, data: Mapping[str, Any], body: str | None = None) -> str:
    """The exact text of a YAML document (or Markdown with front matter when ``body``
    is given), with a schema modeline."""
    dumped = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    kind = str(data.get("kind"))
    if body is None:
        return modeline(root, rel_path, kind) + dumped
    return "---\n" + modeline(root, rel_path, kind) + dumped + "---\n" + body


def checked(root: Path, rel_path: str, data: Mapping[str, Any], body: str | None = None) -> str:
    """Render, load back through the strict loader, and validate against the schema.
    Returns the text to write; raises :class:`InvalidEntry` with ``path:line:col``."""
    text = render(root, rel_path, data, body)
    try:
        for value in _strings(data):
            # YAML would escape these; the record must not hold invisible characters at all.
            loading.check_characters(value, rel_path)
        doc = loading.load_text(text, rel_path)
    except loading.LoadFailed as exc:
        problem = exc.problems[0]
        raise InvalidEntry(f"{problem.location}: {problem.message}; nothing was written") from None
    if dict(doc.data) != dict(data):
        raise InvalidEntry(f"{rel_path}: the entry does not survive a YAML round trip; nothing was written")
    errors = schemas.validate(doc)
    if errors:
        lines = [f"{e.location}: {e.message}" + (f" ({e.hint})" if e.hint else "") for e in errors]
        raise InvalidEntry("entry is invalid, nothing was written:\n  " + "\n  ".join(lines))
    return text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if not marker:
        return
    Path(marker).write_text(str(os.getpid()), "utf-8")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _link_anonymous(fd: int, final: Path) -> None:
    """Give an O_TMPFILE file its name; FileExistsError if the name is taken."""
    try:
        os.link(f"/proc/self/fd/{fd}", final)
        return
    except FileExistsError:
        raise
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, at_empty_path = -100, 0x1000
    if libc.linkat(fd, b"", at_fdcwd, os.fsencode(final), at_empty_path) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(final))


def _create_anonymous(folder: Path, final: Path, payload: bytes) -> bool:
    """True when written; False when anonymous files are not available here."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not sys.platform.startswith("linux"):
        return False
    try:
        fd = os.open(folder, flag | os.O_WRONLY, 0o644)
    except OSError:
        return False
    try:
        _write_all(fd, payload)
        _pause_for_tests()
        fault_point("before-write")
        try:
            _link_anonymous(fd, final)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.ENOENT, errno.EOPNOTSUPP, errno.EINVAL):
                return False
            raise
    finally:
        os.close(fd)
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path) -> list[Path]:
    """Remove temporary files whose writer is gone (left by a killed named-temp write)."""
    removed = []
    for temp in folder.glob(f"{_TEMP_PREFIX}*"):
        try:
            pid = int(temp.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                temp.unlink()
                removed.append(temp)
    return removed


def _temp_folder(root: Path | None, folder: Path) -> Path:
    """Where named temporary files go: git's private folder when there is one on the
    same file system (a hard link cannot cross file systems), else ``folder``."""
    if root is not None and git_dir(root) is not None:
        temp = private_dir(root, "tmp")
        with contextlib.suppress(OSError):
            if temp.stat().st_dev == folder.stat().st_dev:
                sweep_stale(temp)
                return temp
    sweep_stale(folder)
    return folder


def _create_named(folder: Path, final: Path, payload: bytes, root: Path | None = None) -> None:
    where = _temp_folder(root, folder)
    temp = where / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            _write_all(fd, payload)
        finally:
            os.close(fd)
        _pause_for_tests()
        fault_point("before-write")
        os.link(temp, final)  # never replaces an existing file
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def create_exclusive(path: Path, text: str, *, anonymous: bool = True, root: Path | None = None) -> None:
    """Atomically create ``path`` with ``text``; FileExistsError if it exists."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    payload = text.encode("utf-8")
    anonymous = anonymous and not os.environ.get(NAMED_ENV)
    if not (anonymous and _create_anonymous(folder, path, payload)):
        _create_named(folder, path, payload, root)
    _fsync_dir(folder)
    fault_point("after-write")


def replace_atomically(path: Path, text: str, root: Path | None = None) -> None:
    """Replace a mutable document by rename; never for log entries."""
    where = _temp_folder(root, path.parent)
    temp = where / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            _write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    _fsync_dir(path.parent)


def append_entry(
    root: Path, incident: str, data: Mapping[str, Any], *, anonymous: bool = True
) -> tuple[str, Path]:
    """Validate and write one log entry; returns (entry id, path). Never overwrites:
    a name collision draws a new random suffix."""
    at = _entry_time(data)
    folder = root / "incidents" / incident / "log"
    for _attempt in range(20):
        stem = entry_stem(at)
        rel = f"incidents/{incident}/log/{stem}.yaml"
        text = checked(root, rel, data)
        try:
            create_exclusive(root / rel, text, anonymous=anonymous, root=root)
        except FileExistsError:
            continue
        return stem, folder / f"{stem}.yaml"
    raise FatalError(f"could not find a free entry name in {folder}")


def _entry_time(data: Mapping[str, Any]) -> dt.datetime:
    value = data.get("at")
    parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidEntry(f"entry time {value!r} needs a UTC offset; nothing was written")
    return parsed
