"""The documents and history the audit trail needs, loaded side by side."""

from __future__ import annotations

from collections.abc import Sequence
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
    allowances; validity is ``clearance check``'s job. The engine loads them (see
    :func:`documents`) while git streams the log."""
    import os
    from pathlib import Path

    from clearance import history

    signers = Path(allowed_signers) if allowed_signers is not None else Path(os.devnull)
    pending = history.start(
        config.root, rev=rev, signatures=signatures, allowed_signers=signers, merges=merges
    )
    try:
        repo = documents(config, mentioning=NEEDED)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    return (pending.result() if pending is not None else None), repo


# What the audit trail reads: people (identities, keys, handles), and any document's
# allowances; a file mentioning neither is never parsed.
NEEDED = (b"person", b"allow")


def documents(config: Any, mentioning: Sequence[bytes] = ()) -> Repository:
    """The documents the audit trail needs (see :func:`load`), from the engine (the
    one loader), without incident log entries, which name no people's keys, carry no
    allowances and own nothing; with ``mentioning``, only files mentioning one of
    those words. Documents that fail to load are left to ``clearance check``."""
    from clearance import engine, schemas

    kinds = frozenset(schemas.KINDS) - {"log-entry"}
    return engine.load_repository(config, kinds=kinds, mentioning=mentioning)
