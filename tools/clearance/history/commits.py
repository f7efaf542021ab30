"""What one ``git log`` pass yields: commits, their file changes and signatures."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Change:
    """One file changed by one commit."""

    sha: str
    author_name: str
    author_email: str
    date: dt.datetime  # author date, aware
    subject: str
    status: str  # A, M, D or R
    path: str  # repository-relative (to the Clearance root), POSIX
    old_path: str | None  # the name before a rename


@dataclass(frozen=True)
class Signature:
    """What git says about a commit's signature (``%G?``, ``%GS``, ``%GK``, ``%GF``)."""

    status: str  # G good, B bad, U good/unknown validity, X/Y expired, R revoked, E cannot check, N none
    signer: str  # principal (SSH) or user id (GPG)
    key: str  # key fingerprint (SSH: "SHA256:...") or GPG key id
    fingerprint: str

    @property
    def signed(self) -> bool:
        return self.status != "N"

    def describe(self) -> str:
        return {
            "G": "good signature",
            "B": "BAD signature",
            "U": "valid signature by a key that is not in the allowed signers (or not trusted)",
            "X": "good signature that has expired",
            "Y": "good signature by an expired key",
            "R": "good signature by a revoked key",
            "E": "signature cannot be checked (missing key or verifier)",
            "N": "unsigned",
        }.get(self.status, f"signature status {self.status!r}")


@functools.cache
def _lowered(keys: tuple[str, ...]) -> frozenset[str]:
    return frozenset(key.lower() for key in keys)


@dataclass(slots=True, eq=False)
class Commit:
    """One commit. Not frozen: a frozen dataclass's __init__ costs ~10 us more per
    commit, which is a tenth of a second per 10,000 commits. Treat it as read-only."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored: dt.datetime
    committer_name: str
    committer_email: str
    committed: dt.datetime
    subject: str
    body: str  # message after the subject line, trailers included
    trailers: tuple[tuple[str, str], ...]  # (key, value) as git parsed them
    signature: Signature | None  # None when signatures were not requested
    # (status, path, old path) per file; merges: empty, or with merges=True the files
    # differing from every parent. ``changes`` has the same as Change objects.
    files: tuple[tuple[str, str, str | None], ...]
    authored_iso: str  # authored.isoformat(), kept from git's text (see _iso)
    committed_iso: str  # committed.isoformat()
    _changes: tuple[Change, ...] | None = field(default=None, repr=False)

    @property
    def changes(self) -> tuple[Change, ...]:
        """The files changed as :class:`Change` objects, made on first use: an audit
        of 10,000 commits needs only the ``files`` tuples, and building a frozen
        dataclass per file changed would cost ~0.05 s there."""
        made = self._changes
        if made is None:
            sha, name, email, when, subject = (
                self.sha,
                self.author_name,
                self.author_email,
                self.authored,
                self.subject,
            )
            made = self._changes = tuple(
                Change(sha, name, email, when, subject, status, path, old) for status, path, old in self.files
            )
        return made

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def short(self) -> str:
        return self.sha[:12]

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>"

    def trailer(self, *keys: str) -> list[str]:
        """Values of the trailers named ``keys`` (case-insensitive), in order."""
        if not self.trailers:
            return []
        wanted = _lowered(keys)
        return [value for key, value in self.trailers if key.lower() in wanted]

    def reason(self) -> str:
        """The message body without its trailer block (git's trailers always form
        the last paragraph)."""
        body = self.body.strip()
        if body and self.trailers:
            paragraphs = _PARAGRAPHS.split(body)
            body = "\n\n".join(paragraphs[:-1]).strip()
        return body
