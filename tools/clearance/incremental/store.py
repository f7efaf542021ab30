"""What one run leaves for the next, keyed by content.

A SQLite database outside the tracked tree (``.git/clearance/state.sqlite`` in a git
work tree, else the user's cache folder) holds, for every file that loaded, its size,
modification time, SHA-256, index summary, loading findings and the loaded document;
and for every unit (a file, or an incident's folder) the findings its rules reported,
what they looked up, and until when the findings hold.

It is only ever a shortcut. A file is taken as unchanged when its size, modification
and change times (nanoseconds) and inode match what was recorded, as git's index
decides (and it was not modified within two seconds of the recording, git's "racy"
rule), or, failing that, when the SHA-256 of its bytes still matches. The state is
data, never code (see :mod:`clearance.incremental.codec`), and sealed: the whole
table of rows and unit records under one HMAC with the user's key, each cached
document under its own, so a state edited or pieced together from older ones is
ignored. A unit's findings are reused only when nothing it looked up can
have changed since the run that recorded them. A cache written by another Clearance
build, for other schemas, limits or configuration, or one that cannot be read, is
ignored and rebuilt; one that cannot be written costs the next run time, never a
result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from clearance import __version__, schemas
from clearance.incremental import codec
from clearance.incremental.codec import Row, UnitRecord
from clearance.model import Document

FORMAT = 3
RACY_NS = 2_000_000_000


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
    package = Path(__file__).parent.parent
    for module in sorted(package.rglob("*.py")):
        stat = module.stat()
        digest.update(f"{module.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for file in sorted(schemas.schema_dir().glob("*.schema.json")):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def load_memo(root: Path, name: str, key: str) -> dict[str, Any]:
    """A small derived-data table kept beside the cache, or {} when it is missing,
    unreadable, not sealed with the user's key, or was made for another ``key``."""
    secret = codec.seal_key()
    if secret is None:
        return {}
    try:
        stored = codec.loads(secret, (location(root).parent / f"{name}.json").read_bytes())
        if isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("data"), dict):
            return dict(stored["data"])
    except (OSError, codec.Broken):  # missing, truncated, foreign or forged
        pass
    return {}


def save_memo(root: Path, name: str, key: str, data: dict[str, Any]) -> None:
    """Keep ``data`` (JSON values) beside the cache, sealed."""
    folder = location(root).parent
    secret = codec.seal_key()
    if secret is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(codec.dumps(secret, {"key": key, "data": data}))
        os.replace(tmp, folder / f"{name}.json")
    except OSError:
        return


_INHERITED: list[sqlite3.Connection] = []  # see Store.forked

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS docs (rel TEXT PRIMARY KEY, digest TEXT NOT NULL, loaded BLOB NOT NULL)",
)


def unchanged_stat(row: Row, size: int, mtime_ns: int, ctime_ns: int, inode: int, trusted_ns: int) -> bool:
    """Git's test: the same size, times and inode as recorded, and not modified so
    close to the recording that an edit in the same tick could hide."""
    return (
        size == row.size
        and mtime_ns == row.mtime_ns
        and ctime_ns == row.ctime_ns
        and inode == row.inode
        and mtime_ns < trusted_ns
        and ctime_ns < trusted_ns
    )


class Store:
    """The state of the last run, read at start and written once at the end."""

    def __init__(self, path: Path, key: str, secret: bytes | None = None) -> None:
        self.path = path
        self.key = key
        self.secret = secret  # the user's sealing key; None: nothing is read or written
        self.table: dict[str, Row] = {}
        self.units: dict[str, UnitRecord] = {}
        self.written_ns = 0
        self.head = ""  # the commit HEAD named when the state was written
        self.refreshed: set[str] = set()  # rows whose recorded size or times were updated
        self._chunks: dict[str, dict[str, Any]] = {}  # decoded, by chunk name
        self._blobs: dict[str, bytes] = {}  # as stored, by chunk name
        self._db: sqlite3.Connection | None = None

    @classmethod
    def open(cls, root: Path, key: str) -> Store:
        store = cls(location(root), key, codec.seal_key())
        if not store.path.is_file() or store.secret is None:
            return store
        try:
            store._db = sqlite3.connect(store.path, timeout=2)
            meta = dict(store._db.execute("SELECT name, value FROM meta"))
            if meta.get("key") != key.encode():
                return store
            written = int(meta["written_ns"])
            head = meta.get("head", b"").decode()
            blobs = dict(store._db.execute("SELECT name, value FROM chunks"))
            if not hmac.compare_digest(meta.get("seal", b""), _seal(store.secret, key, written, head, blobs)):
                return store  # edited, or pieced together from other states
            table: dict[str, Row] = {}
            units: dict[str, UnitRecord] = {}
            chunks: dict[str, dict[str, Any]] = {}
            for name, value in blobs.items():
                raw = json.loads(value)
                if name.startswith("files:"):
                    chunk = chunks[name] = {rel: codec.row_in(v) for rel, v in raw.items()}
                    table.update(chunk)
                else:
                    chunk = chunks[name] = {unit: codec.unit_in(v) for unit, v in raw.items()}
                    units.update(chunk)
            store.table, store.units, store.written_ns, store._chunks = table, units, written, chunks
            store._blobs, store.head = blobs, head
        except Exception:  # not a database, truncated, locked, foreign or malformed: start afresh
            store.table, store.units, store.written_ns, store._chunks, store._blobs = {}, {}, 0, {}, {}
        return store

    def unchanged(self, rel: str, stat: os.stat_result, filename: str) -> Row | None:
        """The recorded row when the file still holds what was recorded."""
        row = self.table.get(rel)
        if row is None:
            return None
        if unchanged_stat(
            row, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, self.written_ns - RACY_NS
        ):
            return row
        try:
            with open(filename, "rb") as handle:
                raw = handle.read()
        except OSError:
            return None
        if hashlib.sha256(raw).hexdigest() != row.digest:
            return None
        self.refreshed.add(rel)
        return row._replace(
            size=len(raw), mtime_ns=stat.st_mtime_ns, ctime_ns=stat.st_ctime_ns, inode=stat.st_ino
        )

    def fetch(self, rel: str, digest: str) -> Document | None:
        """The cached document for ``rel`` if it is the one with ``digest``; callers
        may ask after the run that opened the store has finished."""
        if self.secret is None:
            return None
        try:
            if self._db is None:
                if not self.path.is_file():
                    return None
                self._db = sqlite3.connect(self.path, timeout=2)
            found = self._db.execute("SELECT digest, loaded FROM docs WHERE rel = ?", (rel,)).fetchone()
            if found is None or found[0] != digest:
                return None
            doc = codec.document_in(codec.loads(self.secret, found[1]))
        except Exception:
            return None
        return doc if doc.path == rel and doc.digest == digest else None

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
        holding none of them are not rewritten. A failure to write (a read-only disk,
        another run holding the lock, no sealing key) is not an error."""
        if self.secret is None:
            return
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
                self.table, self.units, self._chunks, self._blobs = {}, {}, {}, {}
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
        assert self.secret is not None
        secret = self.secret
        names = None if changed is None else {*changed, *self.refreshed}
        chunks = dict(self._chunks)
        blobs = dict(self._blobs)
        files = _dirty("files:", chunks, blobs, table, names, codec.row_out)
        records = _dirty("units:", chunks, blobs, units, names, codec.unit_out)
        new = [(doc.path, doc.digest, _doc_blob(secret, doc)) for doc in documents]
        gone = [(rel,) for rel in self.table if rel not in table]
        if not (files or records or new or gone or head != self.head):
            return  # nothing changed since the last run
        with db:
            for statement in _SCHEMA:
                db.execute(statement)
            if dict(db.execute("SELECT name, value FROM meta")).get("key") != self.key.encode():
                db.execute("DELETE FROM docs")
                db.execute("DELETE FROM chunks")
                chunks, blobs = {}, {}
                files = _dirty("files:", chunks, blobs, table, None, codec.row_out)
                records = _dirty("units:", chunks, blobs, units, None, codec.unit_out)
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [
                    ("key", self.key.encode()),
                    ("written_ns", str(started_ns).encode()),
                    ("head", head.encode()),
                    ("seal", _seal(secret, self.key, started_ns, head, blobs)),
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
        self._chunks, self._blobs = chunks, blobs
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


def _seal(secret: bytes, key: str, written_ns: int, head: str, blobs: Mapping[str, bytes]) -> bytes:
    """One MAC over the whole table: every chunk by name and content, the run that
    wrote it and the commit it saw. Replacing, dropping or replaying any chunk breaks it."""
    mac = hmac.new(secret, f"{key}\0{written_ns}\0{head}\0".encode(), hashlib.sha256)
    for name in sorted(blobs):
        mac.update(name.encode() + b"\0" + hashlib.sha256(blobs[name]).digest())
    return mac.digest()


def _doc_blob(secret: bytes, doc: Document) -> bytes:
    """A cached document, sealed on its own: it carries its path and digest, which
    :meth:`Store.fetch` compares with the (sealed) row that names it."""
    return codec.dumps(secret, codec.document_out(doc))


def _dirty(
    prefix: str,
    chunks: dict[str, dict[str, Any]],
    blobs: dict[str, bytes],
    new: Mapping[str, Any],
    names: set[str] | None,
    encode: Callable[[Any], Any],
) -> list[tuple[str, bytes | None]]:
    """Bring ``chunks`` and their stored ``blobs`` (by chunk name) in line with ``new``
    for the entries ``names`` (None: all of them), and return the chunks that
    changed, encoded (None: now empty)."""
    if names is None:
        for name in [n for n in chunks if n.startswith(prefix)]:
            del chunks[name]
            blobs.pop(name, None)
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
            blob = json.dumps({n: encode(v) for n, v in chunk.items()}, separators=(",", ":")).encode()
            blobs[chunk_name] = blob
            out.append((chunk_name, blob))
        else:
            chunks.pop(chunk_name, None)
            blobs.pop(chunk_name, None)
            out.append((chunk_name, None))
    return out
