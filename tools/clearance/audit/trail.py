"""The evidence report: every change to a governed document, who made it, who
approved it, and what is wrong with it (AUD001-AUD003, SIG001-SIG004). Built from one
``git log`` pass, record by record while git still streams."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clearance.audit.loader import NEEDED, documents
from clearance.audit.people import Directory
from clearance.audit.records import (
    GITHUB_MERGE,
    GITLAB_MR,
    REASON_TRAILERS,
    Allowance,
    Approval,
    AuditFinding,
    AuditReport,
    ChangeRecord,
    claims,
    judged,
    tickets_of,
)
from clearance.audit.signatures import signature_findings
from clearance.history import Commit, History, PendingLog
from clearance.incidents import privilege

if TYPE_CHECKING:
    from clearance.engine import Repository

_SQUASH = re.compile(r"\(#(\d+)\)\s*$")


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
        row: Callable[[ChangeRecord], str] | None = None,
    ) -> None:
        self.config = repo.config
        self.directory = directory
        self.since, self.until, self.keys = since, until, keys
        self.prefixes = tuple(f.rstrip("/") + "/" for f in repo.config.content)
        self.merges: dict[str, _Merged] = {}
        self.people: dict[str, str | None] = {}  # email as git wrote it -> person id
        self.records: list[ChangeRecord] = []
        self.render = render
        self.row = row if render is not None else None
        self.rows: list[str] = []  # self.row of each record
        # privileged log entries (issue 23): a commit touching one shows no message
        self.privileged = privilege.privileged_paths(repo.config.root)

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
        if self.privileged and any(f[1] in self.privileged or f[2] in self.privileged for f in files):
            commit = privilege.masked(commit)
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
            approvals.extend(claims(commit, directory))
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
        findings = judged(findings, self.config.rules)
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
                if GITHUB_MERGE.match(merge.subject) or GITLAB_MR.search(merge.body)
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
                merge, via, merged_by, claims(merge, directory), reason, tickets_of(merge, reason), findings
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
    row: Callable[[ChangeRecord], str] | None = None,
    started: PendingLog | None = None,
) -> AuditReport | None:
    """The evidence report, built while git streams the history: records are made on
    the reader thread as commits arrive, so the audit's own work overlaps git's.
    With ``render`` (a format name) and ``row`` (that format's row renderer) each
    record's row is made then too, and the reporter only joins them. ``started``: a log the caller
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
        repo = documents(config, mentioning=NEEDED)
        keys = allowed_signers is not None
        builder = _Builder(
            repo,
            Directory.from_repository(repo),
            since=since,
            until=until,
            keys=keys,
            render=render,
            row=row,
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
