"""What a pack says about a decision's signature: verified (and by which key), not
signed, or failed. A pack never claims more than was checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clearance.index import Index
from clearance.model import Document

NOT_SIGNED = "not signed"


def keys_of(index: Index, person: str) -> tuple[str, ...]:
    doc = index.get("person", person)
    keys = doc.data.get("signing_keys") if doc is not None else None
    if isinstance(keys, str):
        return (keys,)
    if isinstance(keys, list):
        return tuple(str(k.get("key", k)) if isinstance(k, Mapping) else str(k) for k in keys)
    return ()


def status(index: Index, incident: str, entry: Document) -> str:
    """The signature status of a decision entry, checked with ``ssh-keygen -Y`` against
    the signing keys the people register holds for the person who took it."""
    data: Mapping[str, Any] = entry.data
    signature = data.get("signature")
    if not isinstance(signature, str) or not signature.strip():
        return NOT_SIGNED
    person = str(data.get("person") or data.get("by") or "")
    keys = keys_of(index, person)
    if not keys:
        return f"signed, not verifiable: no signing key registered for {person!r}"
    try:
        from clearance import signing
    except ImportError:  # an installation without signed decisions
        return "signed, not verified"
    try:
        ok = signing.verify(signing.payload(incident, data), signature, person, keys)
    except Exception as exc:  # a malformed signature is a finding, never a crash
        return f"invalid signature ({type(exc).__name__})"
    if not ok:
        return f"INVALID signature for {person!r}"
    return f"verified ({person})"
