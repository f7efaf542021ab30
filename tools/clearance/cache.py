"""What one run leaves for the next, keyed by content.

A SQLite database outside the tracked tree (``.git/clearance/state.sqlite`` in a git
work tree, else the user's cache folder) holds, for every file that loaded, its size,
modification time, SHA-256, index summary, loading findings and the loaded document;
and for every unit (a file, or an incident's folder) the findings its rules reported,
what they looked up, and until when the findings hold.

It is only ever a shortcut. A file is taken as unchanged when its size and
modification time match what was recorded (and it was not modified within two
seconds of the recording, git's "racy" rule) or, failing that, when the SHA-256 of its
bytes still matches. A unit's findings are reused only when nothing it looked up can
have changed since the run that recorded them. A cache written by another Clearance
build, for other schemas, limits or configuration, or one that cannot be read, is
ignored and rebuilt; one that cannot be written costs the next run time, never a
result.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

from clearance import __version__, schemas
from clearance.index import Summary, Token
from clearance.model import Document, Finding

FORMAT = 2
RACY_NS = 2_000_000_000
Loaded = tuple[Document | None, list[Finding], bool]


# A file's row, a plain tuple so a hundred thousand load at C speed: size,
# modification time (ns), SHA-256, index summary (None when the document has no kind
# or id), findings from loading it (syntax, schema, suppression syntax), and whether
# it loaded and matched its schema.
Row = tuple[int, int, str, Summary | None, tuple[Finding, ...], bool]
SIZE: Final = 0
MTIME: Final = 1
DIGEST: Final = 2
SUMMARY: Final = 3
FINDINGS: Final = 4
VALID: Final = 5


class UnitRecord(NamedTuple):
    tokens: frozenset[Token]  # what the unit's rules looked up
    expires: float | None  # POSIX time after which the findings may no longer hold
    findings: tuple[tuple[Finding, str | None], ...]  # with the reason when suppressed


def bucket(name: str) -> str:
    """The chunk a file's row or a unit's record is stored in: its folder (an
    incident's unit on its own), so a run rewrites only the chunks where something
    changed."""
    return name if name.startswith("incident:") else name.rpartition("/")[0]


def location(root: Path) -> Path:
    git = root / ".git"
    if git.is_dir():
        return git / "clearance" / "state.sqlite"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "clearance" / f"{hashlib.sha256(str(root).encode()).hexdigest()[:16]}.sqlite"


def fingerprint(max_file_bytes: int, extra: str = "") -> str:
    """What cached results depend on besides the files: this Clearance build (its
    version and the size and time of every module, so an edited checkout counts as
    another build), its schemas, limits and ``extra`` (the configuration)."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}:{max_file_bytes}:{extra}".encode())
    package = Path(__file__).parent
    for module in sorted(package.rglob("*.py")):
        stat = module.stat()
        digest.update(f"{module.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for file in sorted(schemas.schema_dir().glob("*.schema.json")):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def load_memo(root: Path, name: str, key: str) -> dict[str, Any]:
    """A small derived-data table kept beside the cache, or {} when it is missing,
    unreadable or was made for another ``key``."""
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


_INHERITED: list[sqlite3.Connection] = []  # see Store.forked

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS docs (rel TEXT PRIMARY KEY, digest TEXT NOT NULL, loaded BLOB NOT NULL)",
)


class Store:
    """The state of the last run, read at start and written once at the end."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.table: dict[str, Row] = {}
        self.units: dict[str, UnitRecord] = {}
        self.written_ns = 0
        self.head = ""  # the commit HEAD named when the state was written
        self.refreshed: set[str] = set()  # rows whose recorded size or time were updated
        self._chunks: dict[str, dict[str, Any]] = {}  # as stored, by chunk name
        self._db: sqlite3.Connection | None = None

    @classmethod
    def open(cls, root: Path, key: str) -> Store:
        store = cls(location(root), key)
        if not store.path.is_file():
            return store
        try:
            store._db = sqlite3.connect(store.path, timeout=2)
            meta = dict(store._db.execute("SELECT name, value FROM meta"))
            if meta.get("key") != key.encode():
                return store
            written = int(meta["written_ns"])
            table: dict[str, Row] = {}
            units: dict[str, UnitRecord] = {}
            chunks: dict[str, dict[str, Any]] = {}
            for name, value in store._db.execute("SELECT name, value FROM chunks"):
                chunk = chunks[name] = pickle.loads(value)
                (table if name.startswith("files:") else units).update(chunk)
            store.table, store.units, store.written_ns, store._chunks = table, units, written, chunks
            store.head = meta.get("head", b"").decode()
        except Exception:  # not a database, truncated, locked or foreign: start afresh
            store.table, store.units, store.written_ns, store._chunks = {}, {}, 0, {}
        return store

    def unchanged(self, rel: str, size: int, mtime_ns: int, filename: str) -> Row | None:
        """The recorded row when the file still holds what was recorded."""
        row = self.table.get(rel)
        if row is None:
            return None
        if size == row[SIZE] and mtime_ns == row[MTIME] and mtime_ns < self.written_ns - RACY_NS:
            return row
        try:
            with open(filename, "rb") as handle:
                raw = handle.read()
        except OSError:
            return None
        if hashlib.sha256(raw).hexdigest() != row[DIGEST]:
            return None
        self.refreshed.add(rel)
        return (len(raw), mtime_ns, *row[DIGEST:])

    def fetch(self, rel: str, digest: str) -> Document | None:
        """The cached document for ``rel`` if it is the one with ``digest``; callers
        may ask after the run that opened the store has finished."""
        try:
            if self._db is None:
                if not self.path.is_file():
                    return None
                self._db = sqlite3.connect(self.path, timeout=2)
            found = self._db.execute("SELECT digest, loaded FROM docs WHERE rel = ?", (rel,)).fetchone()
            if found is None or found[0] != digest:
                return None
            doc = pickle.loads(found[1])
        except Exception:
            return None
        return doc if isinstance(doc, Document) and doc.digest == digest else None

    def save(
        self,
        table: Mapping[str, Row],
        units: Mapping[str, UnitRecord],
        documents: Iterable[Document],
        started_ns: int,
        head: str = "",
        changed: Iterable[str] | None = None,
    ) -> None:
        """Record this run in one transaction: ``documents`` are those loaded afresh;
        cached documents of files that are gone are dropped. ``changed`` names the
        rows and units that may differ from the stored ones (None: any may); chunks
        holding none of them are not rewritten. A failure to write (a read-only disk, another run
        holding the lock) is not an error."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._db
            if db is None:
                db = self._db = sqlite3.connect(self.path, timeout=2)
            try:
                self._write(db, table, units, documents, started_ns, head, changed)
            except sqlite3.DatabaseError:
                db.close()  # a damaged file: replace it
                self._db = None
                self.path.unlink(missing_ok=True)
                self.table, self.units, self._chunks = {}, {}, {}
                db = self._db = sqlite3.connect(self.path, timeout=2)
                self._write(db, table, units, documents, started_ns, head, None)
        except (OSError, sqlite3.Error):
            return

    def _write(
        self,
        db: sqlite3.Connection,
        table: Mapping[str, Row],
        units: Mapping[str, UnitRecord],
        documents: Iterable[Document],
        started_ns: int,
        head: str,
        changed: Iterable[str] | None,
    ) -> None:
        names = None if changed is None else {*changed, *self.refreshed}
        chunks = dict(self._chunks)
        files = _dirty("files:", chunks, table, names)
        records = _dirty("units:", chunks, units, names)
        new = [(doc.path, doc.digest, pickle.dumps(doc, protocol=5)) for doc in documents]
        gone = [(rel,) for rel in self.table if rel not in table]
        if not (files or records or new or gone or head != self.head):
            return  # nothing changed since the last run
        with db:
            for statement in _SCHEMA:
                db.execute(statement)
            if dict(db.execute("SELECT name, value FROM meta")).get("key") != self.key.encode():
                db.execute("DELETE FROM docs")
                db.execute("DELETE FROM chunks")
                chunks = {}
                files = _dirty("files:", chunks, table, None)
                records = _dirty("units:", chunks, units, None)
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [
                    ("key", self.key.encode()),
                    ("written_ns", str(started_ns).encode()),
                    ("head", head.encode()),
                ],
            )
            db.executemany(
                "DELETE FROM chunks WHERE name = ?", [(n,) for n, v in files + records if v is None]
            )
            db.executemany(
                "INSERT OR REPLACE INTO chunks (name, value) VALUES (?, ?)",
                [(n, v) for n, v in files + records if v is not None],
            )
            db.executemany("INSERT OR REPLACE INTO docs (rel, digest, loaded) VALUES (?, ?, ?)", new)
            db.executemany("DELETE FROM docs WHERE rel = ?", gone)
        self.table, self.units, self.written_ns, self.head = dict(table), dict(units), started_ns, head
        self._chunks = chunks
        self.refreshed = set()

    def forked(self) -> None:
        """In a forked child: SQLite connections do not survive fork, so leave the
        parent's alone (neither use nor close it) and open another when needed."""
        if self._db is not None:
            _INHERITED.append(self._db)
            self._db = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _dirty(
    prefix: str, chunks: dict[str, dict[str, Any]], new: Mapping[str, Any], names: set[str] | None
) -> list[tuple[str, bytes | None]]:
    """Bring ``chunks`` (by chunk name) in line with ``new`` for the entries ``names``
    (None: all of them), and return the chunks that changed, pickled (None: now empty)."""
    if names is None:
        for name in [n for n in chunks if n.startswith(prefix)]:
            del chunks[name]
        names = set(new)
    by_chunk: dict[str, list[str]] = {prefix + bucket(name): [] for name in names}
    for name in names:
        if name in new:
            by_chunk[prefix + bucket(name)].append(name)
    out: list[tuple[str, bytes | None]] = []
    for chunk_name, members in by_chunk.items():
        old = chunks.get(chunk_name, {})
        chunk = {n: v for n, v in old.items() if n not in names}
        chunk.update((n, new[n]) for n in members)
        if chunk_name in chunks and chunk == old:
            continue
        if chunk:
            chunks[chunk_name] = chunk
        else:
            chunks.pop(chunk_name, None)
        out.append((chunk_name, pickle.dumps(chunk, protocol=5) if chunk else None))
    return out
