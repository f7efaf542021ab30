"""The cache's on-disk form: data, never code, and sealed.

Everything the cache keeps is written as JSON with an explicit shape per record type
(rows, unit records, documents, small memos) and read back into the same frozen
values; nothing is unpickled, so a cache file cannot run code. Every blob is sealed
with an HMAC-SHA256 under a key kept outside the repository (in the user's cache
folder, readable by the user only), so a cache edited by anyone who can write
``.git/`` but not the user's home — findings erased, a document swapped — fails its
seal and is ignored, and the run checks from the files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from clearance.engine import UnitResult
from clearance.index import Summary
from clearance.model import Document, Finding, Location, Severity

SEAL_BYTES = 32


class Row(NamedTuple):
    """What one run knows about one file that loaded. ``ctime_ns`` and ``inode`` are
    there because a same-size edit whose modification time was put back still
    changes them (git's index keeps the same four)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str  # SHA-256 of the bytes
    summary: Summary | None  # None when the document has no kind or id
    findings: tuple[Finding, ...]  # from loading it: syntax, schema, suppression syntax
    valid: bool  # loaded and matched its schema


UnitRecord = UnitResult  # what one unit's rules found, as the pipeline returns it


class Broken(Exception):
    """A blob that is not what this codec wrote: bad seal, bad JSON or bad shape."""


# -- the seal -------------------------------------------------------------------------


def key_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "clearance" / "cache.key"


def seal_key() -> bytes | None:
    """The user's secret for sealing caches, made on first use (mode 0600). None
    when it can be neither read nor made: the run then goes without a cache."""
    path = key_file()
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except OSError:
        pass
    fresh = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".cache.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
        os.replace(tmp, path)
        return path.read_bytes() if path.stat().st_size == 32 else None
    except OSError:
        return None


def seal(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest() + payload


def unseal(key: bytes, blob: bytes) -> bytes:
    mac, payload = blob[:SEAL_BYTES], blob[SEAL_BYTES:]
    if len(mac) != SEAL_BYTES or not hmac.compare_digest(
        mac, hmac.new(key, payload, hashlib.sha256).digest()
    ):
        raise Broken("seal does not match")
    return payload


def dumps(key: bytes, value: Any) -> bytes:
    return seal(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def loads(key: bytes, blob: bytes) -> Any:
    try:
        return json.loads(unseal(key, blob))
    except ValueError as exc:
        raise Broken(str(exc)) from None


# -- shapes ---------------------------------------------------------------------------


def _location(loc: Location) -> list[Any]:
    return [loc.path, loc.line, loc.col]


def _to_location(value: Any) -> Location:
    return Location(*value)


# The seal proves this process's user wrote the blob, so decoding trusts the shape it
# wrote and converts no more than JSON leaves undone (tuples): a warm run decodes
# every row and finding of the repository.
_SEVERITIES = {int(s): s for s in Severity}


def finding_out(f: Finding) -> list[Any]:
    related = [_location(r) for r in f.related]
    return [f.rule, int(f.severity), f.message, _location(f.location), f.hint, related]


def finding_in(value: Any) -> Finding:
    rule, severity, message, location, hint, related = value
    where = tuple(Location(*r) for r in related) if related else ()
    return Finding(rule, _SEVERITIES[severity], message, Location(*location), hint, where)


def summary_out(s: Summary | None) -> Any:
    return None if s is None else [s[0], s[1], s[2], [list(p) for p in s[3]], s[4]]


def summary_in(value: Any) -> Summary | None:
    if value is None:
        return None
    kind, key, unit, parts, at = value
    return (kind, key, unit, tuple(map(tuple, parts)) if parts else (), at)


def row_out(row: Row) -> list[Any]:
    return [
        row.size,
        row.mtime_ns,
        row.ctime_ns,
        row.inode,
        row.digest,
        summary_out(row.summary),
        [finding_out(f) for f in row.findings],
        row.valid,
    ]


def row_in(value: Any) -> Row:
    size, mtime, ctime, inode, digest, summary, findings, valid = value
    found = tuple(map(finding_in, findings)) if findings else ()
    return Row(size, mtime, ctime, inode, digest, summary_in(summary), found, valid)


def unit_out(record: UnitRecord) -> list[Any]:
    return [
        sorted([list(t) for t in record.tokens]),
        record.expires,
        [[finding_out(f), reason] for f, reason in record.findings],
    ]


def unit_in(value: Any) -> UnitRecord:
    tokens, expires, findings = value
    return UnitRecord(
        frozenset(map(tuple, tokens)),
        expires,
        tuple((finding_in(f), reason) for f, reason in findings),
    )


def _positions_out(table: Mapping[tuple[str | int, ...], tuple[int, int]]) -> list[Any]:
    return [[list(path), line, col] for path, (line, col) in table.items()]


def _positions_in(value: Any) -> dict[tuple[str | int, ...], tuple[int, int]]:
    return {tuple(path): (int(line), int(col)) for path, line, col in value}


def document_out(doc: Document) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    ignores = doc.extra.get("ignores")
    if ignores:
        extra["ignores"] = [[line, [list(item) for item in items]] for line, items in ignores.items()]
    return {
        "path": doc.path,
        "data": doc.data,
        "positions": _positions_out(doc.positions),
        "key_positions": _positions_out(doc.key_positions),
        "body": doc.body,
        "body_line": doc.body_line,
        "digest": doc.digest,
        "extra": extra,
    }


def document_in(value: Any) -> Document:
    if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
        raise Broken("not a document")
    extra: dict[str, Any] = {}
    ignores = value.get("extra", {}).get("ignores")
    if ignores:
        extra["ignores"] = {int(line): [(str(r), str(why)) for r, why in items] for line, items in ignores}
    return Document(
        path=str(value["path"]),
        data=value["data"],
        positions=_positions_in(value["positions"]),
        key_positions=_positions_in(value["key_positions"]),
        body=value["body"],
        body_line=int(value["body_line"]),
        digest=str(value["digest"]),
        extra=extra,
    )
