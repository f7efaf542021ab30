"""The documents and history the audit trail needs, loaded side by side."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clearance.history import History

if TYPE_CHECKING:
    from clearance.engine import Repository


def load(
    config: Any,
    *,
    signatures: bool = False,
    allowed_signers: Any = None,
    rev: str = "HEAD",
    merges: bool = False,
) -> tuple[History | None, Repository]:
    """Start the one ``git log`` pass, read the documents while git works, then join.

    The audit needs identities (people's emails, signing keys, handles), owners and
    allowances, never validity: that is ``clearance check``'s job. So the documents are
    read with the engine's discovery and the same strict loader, minus schema
    validation and minus incident log entries (which name no people's keys and carry
    no allowances, and are most of the files in a busy repository)."""
    import os
    from pathlib import Path

    from clearance import history

    signers = Path(allowed_signers) if allowed_signers is not None else Path(os.devnull)
    pending = history.start(
        config.root, rev=rev, signatures=signatures, allowed_signers=signers, merges=merges
    )
    # only people (identities, keys) and documents with allowances matter here; a
    # byte search skips the rest before parsing (a superset: both need the word)
    try:
        repo = documents(config, wanted=needed)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    return (pending.result() if pending is not None else None), repo


def needed(raw: bytes) -> bool:
    return b"person" in raw or b"allow" in raw


def documents(config: Any, wanted: Callable[[bytes], bool] | None = None) -> Repository:
    """The documents the audit trail needs (see :func:`load`), without validation
    and without incident log entries; with ``wanted``, only files whose bytes it
    accepts."""
    from clearance import engine, loading
    from clearance.index import Index
    from clearance.model import Finding

    entries = re.compile(r"^[^/]+/[^/]+/log/[^/]+$")
    found = []
    problems: list[Finding] = []
    for item in engine.discover(config):
        if isinstance(item, Finding):
            problems.append(item)
            continue
        filename, rel = item
        if entries.match(rel):
            continue
        try:
            raw = loading.read_bytes(filename, rel, max_bytes=config.max_file_bytes)
            if wanted is None or wanted(raw):
                found.append(loading.load_bytes(raw, rel))
        except loading.LoadFailed:
            continue  # clearance check reports it; the audit just cannot use it
    return engine.Repository(config, found, Index(found), problems)
