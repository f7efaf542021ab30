"""A cache of loaded and schema-checked documents, keyed by content.

It lives outside the tracked tree (``.git/charter/`` in a git work tree, else the
user's cache folder) and is only ever a shortcut: an entry is reused when the file's
size and modification time match what was recorded (and the file was not modified
within two seconds of the recording, git's "racy" rule) or, failing that, when the
SHA-256 of its bytes still matches. A cache written by another Charter version or for
other schemas or limits, or one that cannot be read, is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from charter import __version__, schemas
from charter.model import Document, Finding

FORMAT = 1
RACY_NS = 2_000_000_000
Loaded = tuple[Document | None, list[Finding], bool]


def location(root: Path) -> Path:
    git = root / ".git"
    if git.is_dir():
        return git / "charter" / "documents.pickle"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "charter" / f"{hashlib.sha256(str(root).encode()).hexdigest()[:16]}.pickle"


def fingerprint(max_file_bytes: int) -> str:
    """What a cached result depends on besides the file: Charter, schemas, limits."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}:{max_file_bytes}".encode())
    for file in sorted(schemas.schema_dir().glob("*.schema.json")):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def load_memo(root: Path, name: str, key: str) -> dict[str, Any]:
    """A small derived-data table kept beside the document cache, or {} when it is
    missing, unreadable or was made for another ``key``."""
    try:
        with open(location(root).parent / f"{name}.pickle", "rb") as handle:
            stored: Any = pickle.load(handle)
        if isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("data"), dict):
            return dict(stored["data"])
    except Exception:  # missing, truncated or foreign
        pass
    return {}


def save_memo(root: Path, name: str, key: str, data: dict[str, Any]) -> None:
    folder = location(root).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"key": key, "data": data}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{name}.pickle")
    except OSError:
        return


class DocumentCache:
    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.entries: dict[str, tuple[int, int, str, Loaded]] = {}
        self.written_ns = 0
        self.hits = 0
        self.changed = False

    @classmethod
    def open(cls, root: Path, max_file_bytes: int) -> DocumentCache:
        cache = cls(location(root), fingerprint(max_file_bytes))
        try:
            with open(cache.path, "rb") as handle:
                stored: Any = pickle.load(handle)
            if (
                isinstance(stored, dict)
                and stored.get("key") == cache.key
                and isinstance(stored.get("entries"), dict)
                and isinstance(stored.get("written_ns"), int)
            ):
                cache.entries = stored["entries"]
                cache.written_ns = stored["written_ns"]
        except Exception:  # missing, truncated or foreign: start afresh
            cache.entries = {}
        return cache

    def lookup(self, filename: Path, rel: str) -> Loaded | None:
        entry = self.entries.get(rel)
        if entry is None:
            return None
        size, mtime_ns, digest, loaded = entry
        try:
            stat = os.stat(filename)
        except OSError:
            return None
        if stat.st_size == size and stat.st_mtime_ns == mtime_ns and mtime_ns < self.written_ns - RACY_NS:
            self.hits += 1
            return loaded
        try:
            raw = Path(filename).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(raw).hexdigest() != digest:
            return None
        self.entries[rel] = (stat.st_size, stat.st_mtime_ns, digest, loaded)
        self.changed = True
        self.hits += 1
        return loaded

    def store(self, filename: Path, rel: str, loaded: Loaded) -> None:
        doc = loaded[0]
        if doc is None:
            return  # files that failed to load are re-read every run
        try:
            stat = os.stat(filename)
        except OSError:
            return
        self.entries[rel] = (stat.st_size, stat.st_mtime_ns, doc.digest, loaded)
        self.changed = True

    def prune(self, keep: set[str]) -> None:
        for rel in set(self.entries) - keep:
            del self.entries[rel]
            self.changed = True

    def save(self) -> None:
        """Write atomically; a failure to write only costs the next run time."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            payload = {"key": self.key, "written_ns": time.time_ns(), "entries": self.entries}
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".documents-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            return
