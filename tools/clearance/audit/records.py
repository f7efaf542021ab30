"""What the audit trail is made of: change records, the approvals they carry, the
allowances documents declare, and the findings about them. Plain data; building them
is :mod:`clearance.audit.trail`'s job, printing them :mod:`clearance.report.audit`'s."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clearance.audit.people import Directory
from clearance.audit_rules import severity
from clearance.history import Commit
from clearance.model import Severity

TICKET_TRAILERS = ("Ticket", "Refs", "Ref", "Issue", "Fixes", "Closes", "Resolves", "Jira", "Change-Id")
REASON_TRAILERS = ("Reason",)
APPROVAL_TRAILERS = ("Approved-by", "Reviewed-by")
_APPROVAL_KEYS = {key.lower() for key in APPROVAL_TRAILERS}
# A ticket id not preceded by [\w/.-]: ABC-123 (GH-12 is one of those), #12 or !12.
# Written to start with its first character rather than the look-behind, so the
# regex engine skips ahead to candidates: ~3x faster than the equivalent
# (?<![\w/.-])(?:[A-Z][A-Z0-9]+-\d+|GH-\d+|#\d+|![0-9]+)\b, on every commit.
_TICKET = re.compile(r"[A-Z#!](?<![\w/.-][A-Z#!])(?:(?<=[A-Z])[A-Z0-9]+-\d+|(?<=#)\d+|(?<=!)[0-9]+)\b")
_TICKET_KEYS = frozenset(key.lower() for key in TICKET_TRAILERS)
GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (\S+)")
GITLAB_MR = re.compile(r"See merge request (\S+![0-9]+)")
_IDENTITY = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")


@dataclass(frozen=True, slots=True)
class AuditFinding:
    rule: str
    sha: str
    message: str
    path: str | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR  # as configured (see judged)

    def render(self) -> str:
        where = f"{self.path}:1:1" if self.path else f"commit {self.sha[:12]}"
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        return f"{where}: {self.rule} {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "commit": self.sha,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


def judged(findings: Iterable[AuditFinding], configured: Mapping[str, Severity]) -> list[AuditFinding]:
    """``findings`` at the severity clearance.yaml gives their rules; those switched
    off are left out (enforcement rules cannot be switched off: checks.settings)."""
    out = []
    for finding in findings:
        level = severity(finding.rule, configured)
        if level is Severity.OFF:
            continue
        out.append(finding if level is finding.severity else dataclasses.replace(finding, severity=level))
    return out


@dataclass(frozen=True, slots=True)
class Approval:
    name: str
    email: str
    person: str | None
    source: str  # "merge" or a trailer key
    sha: str
    claim: bool  # True for trailers: an assertion in a message, not a recorded action

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "person": self.person,
            "source": self.source,
            "commit": self.sha,
            "claim": self.claim,
        }

    def describe(self) -> str:
        who = self.person or f"{self.name} <{self.email}>".strip()
        how = f"{self.source} (claim)" if self.claim else f"merged {self.sha[:12]}"
        return f"{who} [{how}]"


@dataclass(slots=True)
class ChangeRecord:
    commit: Commit
    files: list[tuple[str, str, str | None]]  # (status, path, old path)
    author: str | None  # person id
    via: str  # "direct", "merge", "pull-request", "squash", "merge-resolution"
    merge: Commit | None
    approvals: list[Approval]
    reason: str
    tickets: list[str]
    signature: str
    signer: str | None
    findings: list[AuditFinding]

    def as_dict(self) -> dict[str, Any]:
        c = self.commit
        return {
            "commit": c.sha,
            "parents": list(c.parents),
            "author": {"name": c.author_name, "email": c.author_email, "person": self.author},
            "authored": c.authored.isoformat(),
            "committer": {"name": c.committer_name, "email": c.committer_email},
            "committed": c.committed.isoformat(),
            "subject": c.subject,
            "reason": self.reason,
            "tickets": self.tickets,
            "files": [{"status": s, "path": p, "old_path": o} for s, p, o in self.files],
            "via": self.via,
            "merge": self.merge.sha if self.merge else None,
            "approvals": [a.as_dict() for a in self.approvals],
            "signature": self.signature,
            "signer": self.signer,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class Allowance:
    path: str
    detector: str | None
    match: str
    by: str
    reason: str
    last_commit: str | None
    last_author: str | None
    last_date: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AuditReport:
    organisation: str
    head: str | None
    since: dt.datetime | None
    until: dt.datetime | None
    shallow: bool
    signatures_checked: bool
    records: list[ChangeRecord]
    allowances: list[Allowance]
    # format -> each record's row, made by audit(render=...) while git streamed
    rows: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def findings(self) -> list[AuditFinding]:
        return [f for r in self.records for f in r.findings]

    def rendered(self, fmt: str, row: Callable[[ChangeRecord], str]) -> list[str]:
        """Each record's row in ``fmt``: the ones ``row`` made while the history
        streamed in, else made now."""
        rows = self.rows.get(fmt)
        if rows is None or len(rows) != len(self.records):
            rows = [row(r) for r in self.records]
        return rows


def _parse_identity(value: str) -> tuple[str, str]:
    match = _IDENTITY.match(value)
    if match:
        return match.group(1), match.group(2)
    return value.strip(), ""


def tickets_of(commit: Commit, reason: str | None = None) -> list[str]:
    """Ticket references: a PR or MR number, ticket trailers, and ticket-like ids
    (ABC-123, GH-12, #12, !12) in the subject and body."""
    found: list[str] = []
    subject, body = commit.subject, commit.body
    pr = GITHUB_MERGE.match(subject)
    if pr:
        found.append(f"PR #{pr.group(1)}")
    mr = GITLAB_MR.search(body) if body else None
    if mr:
        found.append(f"MR {mr.group(1)}")
    if commit.trailers:  # commit.trailer(*TICKET_TRAILERS)
        found.extend([value for key, value in commit.trailers if key.lower() in _TICKET_KEYS])
    text = commit.reason() if reason is None else reason
    if not pr:
        text = f"{subject}\n{text}"
    found.extend(_TICKET.findall(text))
    return list(dict.fromkeys(found)) if len(found) > 1 else found


def claims(commit: Commit, directory: Directory) -> list[Approval]:
    """Approved-by / Reviewed-by trailers of ``commit``: claims, not recorded actions."""
    claims = []
    for key, value in commit.trailers:
        if key.lower() in _APPROVAL_KEYS:
            name, email = _parse_identity(value)
            claims.append(
                Approval(name, email, directory.by_email(email) if email else None, key, commit.sha, True)
            )
    return claims


@dataclass(frozen=True)
class Verification:
    """What ``clearance verify`` established: how much history it read, what it found,
    and the checkpoint tag it created after a clean run."""

    head: str | None
    commits: int
    findings: list[AuditFinding]
    tagged: str | None = None
