"""The audit trail: evidence reports, append-only verification, as-of views and
CODEOWNERS generation. Everything here works on a :class:`clearance.history.History`
(one ``git log`` pass) and the documents from :func:`clearance.engine.load_repository`;
nothing here runs git on its own."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from clearance import __version__
from clearance.audit_rules import RULES
from clearance.history import Commit, History, PendingLog, Signature, governed

if TYPE_CHECKING:  # the engine (checks, cache, multiprocessing) is imported only when used
    from clearance.engine import Repository


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
_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (\S+)")
_GITLAB_MR = re.compile(r"See merge request (\S+![0-9]+)")
_SQUASH = re.compile(r"\(#(\d+)\)\s*$")
_IDENTITY = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")


@dataclass(frozen=True, slots=True)
class AuditFinding:
    rule: str
    sha: str
    message: str
    path: str | None = None
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.path}:1:1" if self.path else f"commit {self.sha[:12]}"
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        return f"{where}: {self.rule} {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "commit": self.sha,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


# -- people -------------------------------------------------------------------------


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


# -- the evidence report -------------------------------------------------------------


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

    def rendered(self, fmt: str) -> list[str]:
        """Each record's row in ``fmt`` ("md", "json" or "csv"): the ones made while
        the history streamed in, else made now."""
        rows = self.rows.get(fmt)
        if rows is None or len(rows) != len(self.records):
            rows = [_ROW_RENDERERS[fmt](r) for r in self.records]
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
    pr = _GITHUB_MERGE.match(subject)
    if pr:
        found.append(f"PR #{pr.group(1)}")
    mr = _GITLAB_MR.search(body) if body else None
    if mr:
        found.append(f"MR {mr.group(1)}")
    if commit.trailers:  # commit.trailer(*TICKET_TRAILERS)
        found.extend([value for key, value in commit.trailers if key.lower() in _TICKET_KEYS])
    text = commit.reason() if reason is None else reason
    if not pr:
        text = f"{subject}\n{text}"
    found.extend(_TICKET.findall(text))
    return list(dict.fromkeys(found)) if len(found) > 1 else found


def _claims(commit: Commit, directory: Directory) -> list[Approval]:
    """Approved-by / Reviewed-by trailers of ``commit``: claims, not recorded actions."""
    claims = []
    for key, value in commit.trailers:
        if key.lower() in _APPROVAL_KEYS:
            name, email = _parse_identity(value)
            claims.append(
                Approval(name, email, directory.by_email(email) if email else None, key, commit.sha, True)
            )
    return claims


@dataclass(slots=True, eq=False)
class _Merged:
    """What every change record brought in by one merge shares."""

    commit: Commit
    via: str  # "pull-request" or "merge"
    approvals: list[Approval]  # the merge itself, recorded
    claims: list[Approval]  # the merge message's approval trailers
    reason: str
    tickets: list[str]
    findings: list[AuditFinding]  # about the merge's signature


def signature_findings(
    commit: Commit,
    directory: Directory,
    *,
    required: bool,
    keys: bool = True,
    path: str | None = None,
) -> tuple[str, str | None, list[AuditFinding]]:
    """(summary, signer person, findings) for one commit's signature. Without
    ``keys`` (no allowed-signers file given) only a missing signature is judged."""
    sig = commit.signature
    if sig is None:
        return "not checked", None, []
    if not sig.signed:
        unsigned: list[AuditFinding] = []
        if required:
            unsigned.append(
                AuditFinding(
                    "SIG001",
                    commit.sha,
                    f"unsigned commit by {commit.author} while signing is required",
                    path,
                    "sign commits (git config commit.gpgsign true) and re-land the change",
                )
            )
        return "unsigned", None, unsigned
    signer = directory.by_signature(sig)
    key = sig.key or sig.fingerprint or "?"
    summary = f"{sig.describe()}; key {key}" + (f"; signer {signer}" if signer else "")
    findings: list[AuditFinding] = []
    if not keys:
        return f"signed (key {key}; not verified: no allowed-signers file given)", signer, findings
    if sig.status != "G":  # for SSH, "U" means a valid signature by a key NOT in the allowed signers
        findings.append(
            AuditFinding(
                "SIG002",
                commit.sha,
                f"{sig.describe()} (key {key}, principal {sig.signer or '-'!r})",
                path,
                "add the key to the allowed-signers file you trust, or re-sign the commit",
            )
        )
    elif signer is None:
        findings.append(
            AuditFinding(
                "SIG003",
                commit.sha,
                f"signed with key {key} (principal {sig.signer!r}) that belongs "
                "to no person in the directory",
                path,
                "add the key to the person's signing_keys",
            )
        )
    else:
        committer = directory.by_email(commit.committer_email)
        if committer is not None and committer != signer:
            findings.append(
                AuditFinding(
                    "SIG004",
                    commit.sha,
                    f"committed as {committer!r} ({commit.committer_email}) but signed by {signer!r}",
                    path,
                )
            )
    return summary, signer, findings


class _Builder:
    """Turns commits into change records, one at a time (so it can run while git
    still streams the history)."""

    def __init__(
        self,
        repo: Repository,
        directory: Directory,
        *,
        since: dt.datetime | None,
        until: dt.datetime | None,
        keys: bool,
        render: str | None = None,
    ) -> None:
        self.config = repo.config
        self.directory = directory
        self.since, self.until, self.keys = since, until, keys
        self.prefixes = tuple(f.rstrip("/") + "/" for f in repo.config.content)
        self.merges: dict[str, _Merged] = {}
        self.people: dict[str, str | None] = {}  # email as git wrote it -> person id
        self.records: list[ChangeRecord] = []
        self.render = render
        self.row = _ROW_RENDERERS[render] if render is not None else None
        self.rows: list[str] = []  # self.row of each record

    def add(self, commit: Commit, merge: Commit | None) -> None:
        """``merge``: the first-parent commit that introduced ``commit`` (itself when
        committed directly).

        Runs once per commit of the whole history (on the reader thread, while git
        works), so what depends only on the merge or on an email address is worked
        out once and kept."""
        since, until = self.since, self.until
        if since is not None and commit.committed < since:
            return
        if until is not None and commit.committed > until:
            return
        prefixes = self.prefixes
        changed = commit.files
        if len(changed) == 1:  # most commits touch one file
            _, path, old = changed[0]
            if not (path.startswith(prefixes) or (old and old.startswith(prefixes))):
                return
            files = [changed[0]]
        else:
            files = [f for f in changed if f[1].startswith(prefixes) or (f[2] and f[2].startswith(prefixes))]
            if not files:
                return
        directory = self.directory
        sha = commit.sha
        merged = None if merge is None or merge.sha == sha else self._merge(merge)
        if len(commit.parents) > 1:
            via = "merge-resolution"
        elif merged is None:
            squash = commit.committer_email.lower() == "noreply@github.com" and _SQUASH.search(commit.subject)
            via = "squash" if squash else "direct"
        else:
            via = merged.via
        author = self._person(commit.author_email)
        trailers = commit.trailers
        approvals: list[Approval] = []
        if merged is not None:
            approvals.extend(merged.approvals)
        if trailers:
            approvals.extend(_claims(commit, directory))
        if merged is not None:
            approvals.extend(merged.claims)
        reason = commit.reason() or (" ".join(commit.trailer(*REASON_TRAILERS)) if trailers else "")
        tickets = tickets_of(commit, reason)
        if merged is not None:
            reason = reason or merged.reason
            if merged.tickets:  # (tickets_of gives no duplicates)
                tickets = list(dict.fromkeys(tickets + merged.tickets))
        findings: list[AuditFinding] = []
        if via == "direct":
            count = len(files)
            findings.append(
                AuditFinding(
                    "AUD002",
                    sha,
                    f"committed directly to the main branch by {commit.author_name} <{commit.author_email}>, "
                    f"touching {count} governed file{'s' if count != 1 else ''} ({files[0][1]}"
                    f"{', ...' if count > 1 else ''})",
                    hint="land changes through a reviewed pull or merge request",
                )
            )
        if approvals and via != "merge-resolution":
            me = author or commit.author_email.lower()
            for approval in approvals:
                them = approval.person or approval.email.lower()
                if them and them == me:
                    what = "merged" if approval.source == "merge" else f"is named in {approval.source} of"
                    findings.append(
                        AuditFinding(
                            "AUD001",
                            sha,
                            f"{approval.person or approval.email} {what} their own change "
                            f"({'merge ' + approval.sha[:12] if approval.source == 'merge' else 'trailer'})",
                            hint="someone other than the author must approve and merge",
                        )
                    )
        if not tickets and not reason:
            findings.append(
                AuditFinding(
                    "AUD003",
                    sha,
                    f"no reason or ticket: only the subject {commit.subject!r}",
                    hint="say why in the message body, or add a 'Ticket:' / 'Refs:' trailer",
                )
            )
        if commit.signature is None:
            summary, signer = "not checked", None
        else:
            summary, signer, sig_findings = signature_findings(
                commit, directory, required=self.config.signing_required, keys=self.keys
            )
            findings.extend(sig_findings)
        if merged is not None:
            findings.extend(merged.findings)
        record = ChangeRecord(
            commit,
            files,
            author,
            via,
            merged.commit if merged else None,
            approvals,
            reason,
            tickets,
            summary,
            signer,
            findings,
        )
        self.records.append(record)
        if self.row is not None:
            self.rows.append(self.row(record))

    def _person(self, email: str) -> str | None:
        """``directory.by_email``, remembered per address as git wrote it."""
        try:
            return self.people[email]
        except KeyError:
            person = self.people[email] = self.directory.by_email(email)
            return person

    def _merge(self, merge: Commit) -> _Merged:
        """What a change record takes from the merge that introduced it, worked out
        once per merge (each merge brings in one or more commits)."""
        known = self.merges.get(merge.sha)
        if known is None:
            directory = self.directory
            via = (
                "pull-request"
                if _GITHUB_MERGE.match(merge.subject) or _GITLAB_MR.search(merge.body)
                else "merge"
            )
            merged_by = []
            if merge.is_merge:
                merged_by.append(
                    Approval(
                        merge.author_name,
                        merge.author_email,
                        directory.by_email(merge.author_email),
                        "merge",
                        merge.sha,
                        False,
                    )
                )
            reason = merge.reason()
            findings: list[AuditFinding] = []
            if merge.signature is not None:
                findings = signature_findings(
                    merge, directory, required=self.config.signing_required, keys=self.keys
                )[2]
            known = self.merges[merge.sha] = _Merged(
                merge, via, merged_by, _claims(merge, directory), reason, tickets_of(merge, reason), findings
            )
        return known

    def report(self, history: History, repo: Repository) -> AuditReport:
        head = history.head
        return AuditReport(
            self.config.organisation,
            head.sha if head else None,
            self.since,
            self.until,
            history.shallow,
            bool(head is not None and head.signature is not None),
            self.records,
            allowances(history, repo),
            {self.render: self.rows} if self.render is not None else {},
        )


def build_report(
    history: History,
    repo: Repository,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    keys: bool = True,
) -> AuditReport:
    """The evidence report from a loaded history (see :func:`audit` for the streamed
    variant the command uses; both give the same report)."""
    builder = _Builder(repo, Directory.from_repository(repo), since=since, until=until, keys=keys)
    for commit in history.commits:
        builder.add(commit, history.introduced_by(commit.sha))
    return builder.report(history, repo)


class _Introducers:
    """``History.introduced_by`` computed on the fly while commits arrive children
    first: a mainline commit introduces itself and offers itself to its merged
    parents; a side commit inherits the oldest offer made to it and passes it on.
    Returns None when a commit arrives before an offer reached it (git's order was
    not topological); the caller then falls back to the loaded history."""

    def __init__(self) -> None:
        self.next_main: str | None = None
        self.first = True
        self.position = 0
        self.offers: dict[str, tuple[int, str]] = {}
        self.by_sha: dict[str, Commit] = {}

    def _offer(self, sha: str, offer: tuple[int, str]) -> None:
        known = self.offers.get(sha)
        if known is None or known[0] < offer[0]:
            self.offers[sha] = offer

    def see(self, commit: Commit) -> Commit | None:
        self.by_sha[commit.sha] = commit
        if self.first or commit.sha == self.next_main:
            self.first = False
            offer = (self.position, commit.sha)
            self.position += 1
            self.next_main = commit.parents[0] if commit.parents else None
            self.offers.pop(commit.sha, None)
            for parent in commit.parents[1:]:
                self._offer(parent, offer)
            return commit
        found = self.offers.pop(commit.sha, None)
        if found is None:
            return None
        for parent in commit.parents:
            self._offer(parent, found)
        return self.by_sha[found[1]]


def audit(
    config: Any,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    signatures: bool = False,
    allowed_signers: Any = None,
    rev: str = "HEAD",
    render: str | None = None,
    started: PendingLog | None = None,
) -> AuditReport | None:
    """The evidence report, built while git streams the history: records are made on
    the reader thread as commits arrive, so the audit's own work overlaps git's.
    With ``render`` (a key of RENDERERS) each record's row in that format is made
    then too, and the renderer only joins them. ``started``: a log the caller
    started early (``history.start``) for these arguments; used when it matches
    them, else cancelled. None when the root is not in a git work tree."""
    import os
    from pathlib import Path

    from clearance import history as history_mod

    signers = Path(allowed_signers) if allowed_signers is not None else Path(os.devnull)
    pending = started
    if pending is not None and not pending.matches(
        config.root, rev=rev, signatures=signatures, allowed_signers=signers
    ):
        pending.cancel()
        pending = None
    if pending is None:
        pending = history_mod.start(config.root, rev=rev, signatures=signatures, allowed_signers=signers)
    if pending is None:
        return None
    try:
        repo = documents(config, wanted=_needed)
        keys = allowed_signers is not None
        builder = _Builder(
            repo, Directory.from_repository(repo), since=since, until=until, keys=keys, render=render
        )
    except BaseException:
        pending.cancel()
        raise
    introducers = _Introducers()
    broken = False

    def consume(commit: Commit) -> None:
        nonlocal broken
        if broken:
            return
        merge = introducers.see(commit)
        if merge is None:
            broken = True
            return
        builder.add(commit, merge)

    try:
        pending.attach(consume)  # what git sent so far, then the rest as it arrives
    except BaseException:
        pending.cancel()
        raise
    history = pending.result()
    if broken or pending.reordered:
        return build_report(history, repo, since=since, until=until, keys=keys)
    return builder.report(history, repo)


def allowances(history: History | None, repo: Repository) -> list[Allowance]:
    """Every justified disclosure-scanner allowance (``allow:``) in the documents."""
    result: list[Allowance] = []
    for doc in sorted(repo.documents, key=lambda d: d.path):
        items = doc.data.get("allow")
        if not isinstance(items, list):
            continue
        last = history.last_change(doc.path) if history is not None else None
        for item in items:
            if not isinstance(item, dict):
                continue
            result.append(
                Allowance(
                    doc.path,
                    item.get("detector"),
                    str(item.get("match", "")),
                    str(item.get("by", "")),
                    str(item.get("reason", "")),
                    last.sha if last else None,
                    f"{last.author_name} <{last.author_email}>" if last else None,
                    last.date.isoformat() if last else None,
                )
            )
    return result


# -- rendering the report -------------------------------------------------------------


def _cell(text: str) -> str:
    if "|" not in text and "\n" not in text and "\\" not in text:
        return text.strip() or " "
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or " "


_MD_FILES = 12  # files listed per change in the Markdown table


def _summary(reason: str, limit: int = 200) -> str:
    """The first paragraph of a message body on one line, shortened."""
    first = " ".join(reason.strip().split("\n\n", 1)[0].split())
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _period(report: AuditReport) -> str:
    since = report.since.isoformat() if report.since else "the first commit"
    until = report.until.isoformat() if report.until else "HEAD"
    return f"{since} to {until}"


def _md_change(r: ChangeRecord) -> str:
    """One change's row of the Markdown table."""
    c = r.commit
    files = r.files
    if len(files) == 1:
        s, p, o = files[0]
        shown = _cell(f"{s} {o} → {p}" if o else f"{s} {p}")
    else:
        cells = [_cell(f"{s} {o} → {p}" if o else f"{s} {p}") for s, p, o in files[:_MD_FILES]]
        if len(files) > _MD_FILES:
            cells.append(f"… and {len(files) - _MD_FILES} more (see the CSV or JSON export)")
        shown = "<br>".join(cells)
    reason = "; ".join([part for part in (", ".join(r.tickets), c.subject, _summary(r.reason)) if part])
    approved = "; ".join([a.describe() for a in r.approvals]) or (
        "none (direct commit)" if r.via == "direct" else "none recorded"
    )
    rules = ", ".join([f.rule for f in r.findings]) or "none"
    return (
        f"| `{c.sha[:12]}` | {c.committed_iso} | {_cell(r.author or c.author)} | {shown} | "
        f"{_cell(reason)} | {_cell(approved)} | {_cell(r.signature)} | {_cell(rules)} |\n"
    )


def render_markdown(report: AuditReport) -> str:
    out = io.StringIO()
    w = out.write
    w(f"# Audit evidence: {report.organisation}\n\n")
    w(f"- Period: {_period(report)}\n")
    w(f"- Repository HEAD: `{report.head or '(no commits)'}`\n")
    w(f"- Generated by clearance {__version__}\n")
    w(f"- Signatures: {'verified with git' if report.signatures_checked else 'not checked'}\n")
    if report.shallow:
        w("- **Warning: shallow clone, history incomplete; run `git fetch --unshallow`.**\n")
    findings = report.findings
    w(f"- Changes: {len(report.records)} commits; findings: {len(findings)}\n\n")
    w("## Findings\n\n")
    if not findings:
        w("None.\n\n")
    else:
        for rule, count in sorted(Counter([f.rule for f in findings]).items()):
            w(f"- {rule} ({RULES.get(rule, '')}): {count}\n")
        w("\n| Rule | Commit | Finding |\n|---|---|---|\n")
        w("".join([f"| {f.rule} | `{f.sha[:12]}` | {_cell(f.message)} |\n" for f in findings]))
        w("\n")
    w("## Changes\n\n")
    if not report.records:
        w("No changes to governed documents in the period.\n\n")
    else:
        w("| Commit | Date | Author | Files | Reason / ticket | Approved by | Signature | Findings |\n")
        w("|---|---|---|---|---|---|---|---|\n")
        w("".join(report.rendered("md")))
        w("\n")
    w("## Disclosure allowances\n\n")
    if not report.allowances:
        w("No documents carry disclosure-scanner allowances.\n")
    else:
        w("| Document | Detector | Allowed text | Justified by | Reason | Last changed |\n")
        w("|---|---|---|---|---|---|\n")
        for a in report.allowances:
            last = f"`{a.last_commit[:12]}` {a.last_author} {a.last_date}" if a.last_commit else "uncommitted"
            w(
                f"| {_cell(a.path)} | {_cell(a.detector or '-')} | {_cell(a.match)} | {_cell(a.by)} | "
                f"{_cell(a.reason)} | {_cell(last)} |\n"
            )
    return out.getvalue()


def _array(items: Iterable[dict[str, Any]]) -> str:
    """A JSON array with one compact object per line: readable and diffable, and
    written by json's C encoder (an indented dump uses the pure-Python one, several
    times slower on 10,000 changes)."""
    return _lines([json.dumps(item, ensure_ascii=False) for item in items])


def _lines(rows: list[str]) -> str:
    return "[\n    " + ",\n    ".join(rows) + "\n  ]" if rows else "[]"


# json.dumps(str, ensure_ascii=False) is this C function behind ~3 us of set-up per call.
_q: Callable[[str], str] = json.encoder.encode_basestring


def _jv(value: str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for a str or None."""
    return "null" if value is None else _q(value)


def _json_finding(f: AuditFinding) -> str:
    """``json.dumps(f.as_dict(), ensure_ascii=False)``, written directly."""
    return (
        f'{{"rule": {_q(f.rule)}, "commit": {_q(f.sha)}, "path": {_jv(f.path)}, '
        f'"message": {_q(f.message)}, "hint": {_jv(f.hint)}}}'
    )


def _json_approval(a: Approval) -> str:
    return (
        f'{{"name": {_q(a.name)}, "email": {_q(a.email)}, "person": {_jv(a.person)}, '
        f'"source": {_q(a.source)}, "commit": {_q(a.sha)}, "claim": {"true" if a.claim else "false"}}}'
    )


def _json_change(r: ChangeRecord) -> str:
    """``json.dumps(r.as_dict(), ensure_ascii=False)``, written directly: the same
    text at a third of the cost (no dicts to build, no encoder to set up per record).
    tests/audit_test.py holds the two together."""
    c = r.commit
    q = _q
    files = ", ".join(
        [
            f'{{"status": {q(s)}, "path": {q(p)}, "old_path": {"null" if o is None else q(o)}}}'
            for s, p, o in r.files
        ]
    )
    return (
        f'{{"commit": {q(c.sha)}, "parents": [{", ".join([q(p) for p in c.parents])}], '
        f'"author": {{"name": {q(c.author_name)}, "email": {q(c.author_email)}, '
        f'"person": {_jv(r.author)}}}, "authored": {q(c.authored_iso)}, '
        f'"committer": {{"name": {q(c.committer_name)}, "email": {q(c.committer_email)}}}, '
        f'"committed": {q(c.committed_iso)}, "subject": {q(c.subject)}, "reason": {q(r.reason)}, '
        f'"tickets": [{", ".join([q(t) for t in r.tickets])}], "files": [{files}], "via": {q(r.via)}, '
        f'"merge": {q(r.merge.sha) if r.merge else "null"}, '
        f'"approvals": [{", ".join([_json_approval(a) for a in r.approvals])}], '
        f'"signature": {q(r.signature)}, "signer": {_jv(r.signer)}, '
        f'"findings": [{", ".join([_json_finding(f) for f in r.findings])}]}}'
    )


def render_json(report: AuditReport) -> str:
    findings = report.findings
    head: dict[str, Any] = {
        "version": 1,
        "tool": {"name": "clearance", "version": __version__},
        "organisation": report.organisation,
        "head": report.head,
        "since": report.since.isoformat() if report.since else None,
        "until": report.until.isoformat() if report.until else None,
        "shallow": report.shallow,
        "signatures_checked": report.signatures_checked,
        "summary": {
            "changes": len(report.records),
            "findings": dict(Counter([f.rule for f in findings])),
        },
    }
    fields = [(key, json.dumps(value, ensure_ascii=False)) for key, value in head.items()]
    fields += [
        ("changes", _lines(report.rendered("json"))),
        ("findings", _lines([_json_finding(f) for f in findings])),
        ("allowances", _array(a.as_dict() for a in report.allowances)),
    ]
    return "{\n" + ",\n".join(f"  {json.dumps(key)}: {value}" for key, value in fields) + "\n}\n"


CSV_COLUMNS = [
    "commit",
    "committed",
    "authored",
    "author_name",
    "author_email",
    "author_person",
    "status",
    "path",
    "old_path",
    "subject",
    "reason",
    "tickets",
    "via",
    "merge",
    "approvals",
    "signature",
    "signer",
    "findings",
]


def _csv_change(r: ChangeRecord) -> str:
    """One change's CSV rows: one per file, the commit's columns repeated."""
    c = r.commit
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    tickets = "; ".join(r.tickets)
    merge = r.merge.sha if r.merge else ""
    approvals = "; ".join([a.describe() for a in r.approvals])
    findings = "; ".join([f"{f.rule}: {f.message}" for f in r.findings])
    writer.writerows(
        [
            c.sha,
            c.committed_iso,
            c.authored_iso,
            c.author_name,
            c.author_email,
            r.author or "",
            status,
            path,
            old or "",
            c.subject,
            r.reason,
            tickets,
            r.via,
            merge,
            approvals,
            r.signature,
            r.signer or "",
            findings,
        ]
        for status, path, old in r.files
    )
    return out.getvalue()


def render_csv(report: AuditReport) -> str:
    """One row per file changed, commit columns repeated (filterable in a spreadsheet)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
    out.write("".join(report.rendered("csv")))
    return out.getvalue()


# What each format writes per change record: audit(render=...) calls it as records
# are built, while git is still streaming the history.
_ROW_RENDERERS: dict[str, Callable[[ChangeRecord], str]] = {
    "md": _md_change,
    "json": _json_change,
    "csv": _csv_change,
}
RENDERERS = {"md": render_markdown, "json": render_json, "csv": render_csv}


# -- append-only verification ----------------------------------------------------------


def log_entry_pattern(repo: Repository) -> re.Pattern[str]:
    folders = [f for f, kinds in repo.config.folders.items() if "log-entry" in kinds] or ["incidents"]
    alternatives = "|".join(re.escape(f.strip("/")) for f in folders)
    return re.compile(rf"^(?:{alternatives})/[^/]+/log/[^/]+\.ya?ml$")


def verify(
    history: History,
    repo: Repository,
    *,
    checkpoints: Sequence[str] = (),
    keys: bool = True,
) -> list[AuditFinding]:
    findings: list[AuditFinding] = []
    entry = log_entry_pattern(repo)
    directory = Directory.from_repository(repo)
    for commit in history.commits:
        who = f"{commit.author}, {commit.committed.isoformat()}"
        for change in commit.changes:
            target: str | None = None
            action = ""
            if change.status in ("M", "D") and entry.match(change.path):
                target, action = change.path, "modified" if change.status == "M" else "deleted"
            elif change.status == "R" and change.old_path and entry.match(change.old_path):
                target, action = change.old_path, f"renamed (to {change.path})"
            if target is None:
                continue
            landed = history.added(target, commit.sha)
            origin = f" after it landed in {landed.short} ({landed.author})" if landed else ""
            kind = "merge commit " if commit.is_merge else "commit "
            findings.append(
                AuditFinding(
                    "VER001",
                    commit.sha,
                    f"{kind}{commit.short} ({who}) {action} the landed log entry {target}{origin}: "
                    f"{commit.subject!r}",
                    target,
                    "log entries are append-only: restore the entry and record a correction entry "
                    "that names it",
                )
            )
        for parent_sha in commit.parents:
            parent = history.by_sha.get(parent_sha)
            if parent is not None and commit.committed < parent.committed:
                findings.append(
                    AuditFinding(
                        "VER002",
                        commit.sha,
                        f"committer date {commit.committed.isoformat()} ({who.split(',')[0]}) is earlier "
                        f"than its parent {parent.short}'s {parent.committed.isoformat()}: backdated or "
                        f"rewritten",
                        hint="find out who rewrote this commit and why",
                    )
                )
    for checkpoint in checkpoints:
        if history.resolve(checkpoint) is not None:
            continue
        exists = history.object_exists(checkpoint)
        detail = (
            "still exists but is no longer an ancestor of HEAD"
            if exists
            else "is not in this repository at all (rewritten and pruned, or mistyped)"
        )
        findings.append(
            AuditFinding(
                "VER003",
                checkpoint,
                f"checkpoint {checkpoint} {detail}: history was rewritten",
                hint="compare with the recorded checkpoint and restore the original history",
            )
        )
    required = repo.config.signing_required
    if history.commits and history.commits[0].signature is not None:
        seen: set[str] = set()
        for commit in governed_commits(history, repo.config.content):
            if commit.sha in seen:
                continue
            seen.add(commit.sha)
            findings.extend(signature_findings(commit, directory, required=required, keys=keys)[2])
    return findings


def governed_commits(history: History, folders: Sequence[str]) -> Iterator[Commit]:
    """Commits touching governed files, and the merges that brought them in."""
    for commit in history.commits:
        if any(
            governed(c.path, folders) or (c.old_path and governed(c.old_path, folders))
            for c in commit.changes
        ):
            yield commit
            merge = history.introduced_by(commit.sha)
            if merge is not None and merge.sha != commit.sha:
                yield merge


# -- as-of views --------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    commit: Commit
    path: str  # the name the document had then
    text: bytes


def as_of(history: History, path: str, moment: dt.datetime | None) -> Snapshot | str:
    """The document now (or last) at ``path`` as it stood at ``moment`` on the main
    line, or a message saying why there is none."""
    commit = history.head if moment is None else history.at(moment)
    if commit is None:
        return "no commit on the main branch at or before that time"
    if not history.changes(path):
        return f"{path}: no history (never committed under this name)"
    name = history.path_at(path, commit.sha)
    if name is None:
        return f"{path}: did not exist as of commit {commit.short} ({commit.committed.isoformat()})"
    return Snapshot(commit, name, history.read(commit.sha, name))


# -- CODEOWNERS --------------------------------------------------------------------------


@dataclass
class Owners:
    text: str
    warnings: list[str]


def _members(
    repo: Repository, role_id: str, directory: Directory, warnings: list[str], path: str
) -> list[str]:
    role = repo.index.get("role", role_id)
    if role is None:
        warnings.append(f"{path}: role {role_id!r} not found")
        return []
    handles = []
    for member in role.data.get("members") or ():
        handle = directory.handles.get(member) if isinstance(member, str) else None
        if handle:
            handles.append(handle)
        else:
            warnings.append(f"{path}: member {member!r} of role {role_id!r} has no code_host handle")
    return handles


def _escape_path(path: str) -> str:
    escaped = re.sub(r"([\s#\\])", r"\\\1", path)
    return escaped


def owners_of(repo: Repository, directory: Directory, warnings: list[str]) -> dict[str, list[str]]:
    """Document path -> ordered code-host handles (owner role, then change chain steps)."""
    table: dict[str, list[str]] = {}
    for doc in sorted(repo.documents, key=lambda d: d.path):
        if doc.kind in _INCIDENT_KINDS:
            continue  # one folder rule instead: see incident_owners()
        owner = doc.data.get("owner")
        if not isinstance(owner, str):
            continue
        handles = _members(repo, owner, directory, warnings, doc.path)
        chain_id = doc.data.get("change_chain")
        if isinstance(chain_id, str):
            chain = repo.index.get("approval-chain", chain_id)
            if chain is None:
                warnings.append(f"{doc.path}: change chain {chain_id!r} not found")
            else:
                for step in chain.data.get("steps") or ():
                    if isinstance(step, dict) and isinstance(step.get("role"), str):
                        handles.extend(_members(repo, step["role"], directory, warnings, doc.path))
        table[doc.path] = list(dict.fromkeys(handles))
    return table


_INCIDENT_KINDS = ("incident", "log-entry", "review")


def incident_owners(repo: Repository, directory: Directory, warnings: list[str]) -> dict[str, list[str]]:
    """Incident folders -> the members of the roles that own the protocols.

    Incidents are opened in the middle of a crisis; listing them file by file would
    make CODEOWNERS stale, and its check block commits, exactly then. One rule per
    incident folder, owned by whoever owns the playbooks, stays right as incidents
    come and go."""
    handles: list[str] = []
    for protocol in sorted(repo.index.of_kind("protocol"), key=lambda d: d.path):
        owner = protocol.data.get("owner")
        if isinstance(owner, str):
            handles.extend(_members(repo, owner, directory, warnings, protocol.path))
    folders = sorted(f for f, kinds in repo.config.folders.items() if set(kinds) & set(_INCIDENT_KINDS))
    if not handles:
        return {}
    return {f"{folder}/": list(dict.fromkeys(handles)) for folder in folders if folder in repo.config.content}


def codeowners(repo: Repository, *, syntax: str = "github", prefix: str = "") -> Owners:
    """CODEOWNERS text, deterministic for the same documents."""
    directory = Directory.from_repository(repo)
    warnings: list[str] = []
    table = {**owners_of(repo, directory, warnings), **incident_owners(repo, directory, warnings)}
    lines = [
        "# Generated by 'clearance codeowners' from each document's owner role and the",
        "# approval chain that governs changes to it. Do not edit by hand: change the",
        "# roles, people or chains, then run 'clearance codeowners' again.",
    ]
    sections: dict[str, list[str]] = {}
    for path, handles in table.items():
        top = PurePosixPath(path).parts[0]
        full = f"/{prefix}/{path}" if prefix else f"/{path}"
        if handles:
            sections.setdefault(top, []).append(f"{_escape_path(full)} {' '.join(handles)}")
        else:
            sections.setdefault(top, []).append(f"# {full}: no owner with a code-host handle")
    for top in sorted(sections):
        title = top.replace("-", " ").replace("_", " ").title()
        lines.append("")
        lines.append(f"[{title}]" if syntax == "gitlab" else f"# {title}")
        lines.extend(sections[top])
    return Owners("\n".join(lines) + "\n", _aggregate(warnings))


def _aggregate(warnings: list[str]) -> list[str]:
    """One line per problem, naming up to three of the documents it affects."""
    by_problem: dict[str, list[str]] = {}
    for warning in warnings:
        path, _, problem = warning.partition(": ")
        paths = by_problem.setdefault(problem, [])
        if path not in paths:
            paths.append(path)
    result = []
    for problem, paths in by_problem.items():
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        result.append(f"{', '.join(paths[:3])}{more}: {problem}")
    return result


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{name} (committed)",
            tofile=f"{name} (generated)",
        )
    )


def describe_changes(changes: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "commit": c.sha,
            "date": c.date.isoformat(),
            "author_name": c.author_name,
            "author_email": c.author_email,
            "status": c.status,
            "path": c.path,
            "old_path": c.old_path,
            "subject": c.subject,
        }
        for c in changes
    ]


# -- loading both halves at once -------------------------------------------------------------


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
        repo = documents(config, wanted=_needed)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    return (pending.result() if pending is not None else None), repo


def _needed(raw: bytes) -> bool:
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
