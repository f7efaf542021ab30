"""Signed decisions: the canonical payload of a log entry, signing it with the acting
person's SSH key and verifying it, all through ``ssh-keygen -Y`` with a namespace of
our own (a signature made for git commits or for anything else never verifies here).

The payload is the incident id and every field of the entry except ``signature``
itself, as JSON with sorted keys: the text hash, the step, the role, the time and the
person are all covered, so changing any of them after signing breaks the signature.
Keys are checked against an allowed-signers list built from the ``signing_keys`` the
people register held (see :mod:`clearance.incidents.provenance` for which commit)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.errors import FatalError, UsageError

NAMESPACE = "clearance-decision"
PAYLOAD_VERSION = "clearance-decision-v1"
# Entry types that are decisions: each is signed by the person who takes it.
DECISIONS = ("approval", "rejection", "publication", "override", "notification", "allowance-approval")
_KEY_LINE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/=]+")


def payload(incident: str, data: Mapping[str, Any]) -> bytes:
    """The bytes a decision's signature covers."""
    body = {key: value for key, value in data.items() if key != "signature"}
    text = json.dumps(
        {"incident": incident, "entry": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return f"{PAYLOAD_VERSION}\n{text}\n".encode()


def is_ssh_key(text: str) -> bool:
    return bool(_KEY_LINE.match(text.strip()))


def public_part(key: str) -> str:
    """``type base64`` of a public key line, without its comment."""
    return " ".join(key.split()[:2])


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise FatalError("ssh-keygen is not installed or not on PATH (it signs and verifies decisions)")
    return found


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")
    return subprocess.run([_ssh_keygen(), *args], input=data, capture_output=True, env=env, check=False)


@dataclass(frozen=True)
class Key:
    """What signs: a private key file, or a public key whose private half an agent holds."""

    path: Path  # passed to ssh-keygen -f
    public: str  # "type base64"
    temporary: bool = False


def resolve_key(spec: str, base: Path) -> Key:
    """A key named by ``--key`` or git's ``user.signingkey``: a file (private key, or a
    ``.pub`` whose private half is in ssh-agent) or a literal ``key::ssh-ed25519 ...``."""
    text = spec.strip()
    literal = text[5:] if text.startswith("key::") else text if is_ssh_key(text) else None
    if literal is not None:
        handle, name = tempfile.mkstemp(suffix=".pub", prefix="clearance-key-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(literal.strip() + "\n")
        return Key(Path(name), public_part(literal), temporary=True)
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise UsageError(f"signing key {spec!r}: no such file")
    if path.suffix == ".pub":
        return Key(path, public_part(path.read_text("utf-8", "replace")))
    derived = _run(["-y", "-f", str(path)])
    if derived.returncode != 0:
        pub = path.with_name(path.name + ".pub")
        if pub.is_file():
            return Key(path, public_part(pub.read_text("utf-8", "replace")))
        raise UsageError(
            f"signing key {spec!r}: ssh-keygen cannot read it "
            f"({derived.stderr.decode('utf-8', 'replace').strip() or 'unknown error'}); "
            "clearance signs with SSH keys only (a key file, or a .pub whose key is in ssh-agent)"
        )
    return Key(path, public_part(derived.stdout.decode("utf-8", "replace")))


def sign(data: bytes, key: Key) -> str:
    """An armoured SSH signature of ``data`` in our namespace."""
    try:
        proc = _run(["-Y", "sign", "-f", str(key.path), "-n", NAMESPACE], data)
    finally:
        if key.temporary:
            key.path.unlink(missing_ok=True)
    text = proc.stdout.decode("ascii", "replace").strip()
    if proc.returncode != 0 or "BEGIN SSH SIGNATURE" not in text:
        problem = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"could not sign with {key.path}: {problem[-1] if problem else 'ssh-keygen failed'}")
    return text + "\n"


def fingerprint(public: str) -> str:
    """``SHA256:...`` of a public key (for messages)."""
    return _fingerprint(public_part(public))


@functools.cache
def _fingerprint(public: str) -> str:
    with tempfile.TemporaryDirectory(prefix="clearance-fp-") as tmp:
        path = Path(tmp) / "key.pub"
        path.write_text(public + "\n", "utf-8")
        proc = _run(["-l", "-f", str(path)])
    parts = proc.stdout.decode("utf-8", "replace").split()
    return parts[1] if proc.returncode == 0 and len(parts) > 1 else "unknown key"


def allowed_signers(principal: str, keys: Iterable[str]) -> str:
    """An allowed-signers list: ``principal`` may sign our namespace with ``keys``."""
    lines = [
        f'{principal} namespaces="{NAMESPACE}" {public_part(key)}'
        for key in keys
        if isinstance(key, str) and is_ssh_key(key)
    ]
    return "".join(line + "\n" for line in lines)


@functools.cache
def verify(data: bytes, signature: str, principal: str, keys: tuple[str, ...]) -> bool:
    """Whether ``signature`` over ``data`` was made in our namespace by one of ``keys``
    (the keys ``principal`` held). Cached: the same entry is verified once per run."""
    allowed = allowed_signers(principal, keys)
    if not allowed or "BEGIN SSH SIGNATURE" not in signature or re.search(r"\s", principal):
        return False
    with tempfile.TemporaryDirectory(prefix="clearance-verify-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(allowed, "utf-8")
        sig = Path(tmp) / "entry.sig"
        sig.write_text(signature.strip() + "\n", "utf-8")
        proc = _run(
            ["-Y", "verify", "-f", str(signers), "-I", principal, "-n", NAMESPACE, "-s", str(sig)], data
        )
    return proc.returncode == 0
