"""Who is who in the audit trail: git identities and signing keys mapped to the
people of the person register."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clearance.history import Signature

if TYPE_CHECKING:
    from clearance.engine import Repository

_IDENTITY = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")


def ssh_fingerprint(public_key: str) -> str | None:
    """OpenSSH's SHA256 fingerprint of an ``ssh-<type> AAAA... [comment]`` public key."""
    parts = public_key.split()
    if len(parts) < 2 or not (parts[0].startswith(("ssh-", "ecdsa-", "sk-"))):
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass
class Directory:
    """Who is who: git identities and signing keys mapped to person ids."""

    emails: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # SSH fingerprint or GPG fingerprint -> person
    names: dict[str, str] = field(default_factory=dict)  # person id -> full name
    handles: dict[str, str] = field(default_factory=dict)  # person id -> @code-host handle

    @classmethod
    def from_repository(cls, repo: Repository) -> Directory:
        directory = cls()
        for doc in repo.index.of_kind("person"):
            pid = doc.id
            if pid is None:
                continue
            directory.names[pid] = str(doc.data.get("name") or pid)
            handle = doc.data.get("code_host")
            if isinstance(handle, str) and handle:
                directory.handles[pid] = handle if handle.startswith("@") else f"@{handle}"
            for email in doc.data.get("emails") or ():
                if isinstance(email, str):
                    directory.emails.setdefault(email.strip().lower(), pid)
            for key in doc.data.get("signing_keys") or ():
                if not isinstance(key, str):
                    continue
                fingerprint = ssh_fingerprint(key)
                if fingerprint:
                    directory.keys.setdefault(fingerprint, pid)
                else:
                    directory.keys.setdefault(re.sub(r"\s+", "", key).upper(), pid)
        return directory

    def by_email(self, email: str) -> str | None:
        return self.emails.get(email.strip().lower())

    def by_signature(self, sig: Signature) -> str | None:
        for key in (sig.key, sig.fingerprint):
            if not key:
                continue
            if key in self.keys:
                return self.keys[key]
            upper = key.upper()
            for known, pid in self.keys.items():
                # a GPG long key id is the tail of the fingerprint
                if not known.startswith("SHA256:") and len(upper) >= 16 and known.endswith(upper):
                    return pid
        match = _IDENTITY.match(sig.signer)
        return self.by_email(match.group(2) if match else sig.signer) if sig.signer else None

    def label(self, pid: str | None, fallback: str) -> str:
        return f"{pid} ({fallback})" if pid else fallback
