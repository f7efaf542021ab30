"""Approvals enforced on the record: every publication in every incident is checked
with the same code that ``clearance incident publish`` uses; late approval steps,
unreviewed emergency overrides and missing exercise participation are warnings."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from clearance import durations
from clearance.checks import Context, register

if TYPE_CHECKING:
    from clearance.incidents import approvals
from clearance.index import parse_time
from clearance.model import Document, Finding, Severity


@register(
    ("APR001", Severity.ERROR, "publication without the complete approvals its chain requires"),
    ("APR002", Severity.WARNING, "approval or rejection that cannot count (author, non-member, other text)"),
    ("APR003", Severity.WARNING, "approval step finished after its time target"),
    ("APR004", Severity.WARNING, "emergency override not reviewed within the time the chain sets"),
    ("APR006", Severity.ERROR, "draft longer than its channel allows"),
)
def publications(ctx: Context) -> Iterator[Finding]:
    from clearance.incidents import approvals, metrics  # imported only for incidents

    now = ctx.now
    index = ctx.index
    membership = approvals.Membership(index, ctx.config.root)
    for incident in ctx.subjects("incident"):
        entries = index.incident_entries(str(incident.id))
        drafts = {approvals.entry_id(e): e for e in entries if e.data.get("type") == "draft"}
        for entry in entries:
            kind = entry.data.get("type")
            if kind == "draft":
                yield from _length(ctx, entry)
            elif kind == "publication":
                yield from _publication(ctx, incident, entries, entry, membership)
            elif kind in ("approval", "rejection"):
                yield from _decision(ctx, drafts.get(str(entry.data.get("draft"))), entry, membership)
        end = metrics.end_of(incident, entries, now)
        if end is now:  # an open incident's lateness grows with the clock
            ctx.until(now)
        report = metrics.compute(index, incident, entries, [], end, membership)
        for miss in report["approval_sla_missed"]:
            draft = drafts.get(miss["draft"])
            if draft is None:
                continue
            late = dt.timedelta(seconds=miss["delay_seconds"])
            finished = f"approved {miss['completed']}" if miss["completed"] else "still not approved"
            yield ctx.finding(
                "APR003",
                draft.where(("at",)),
                f"step {miss['step']!r} ({miss['role']}) was due {miss['due']} and is "
                f"{durations.humanise(late)} late ({finished})",
                "approvers should act within the chain's time target; see the review's latency figures",
            )
        for follow in approvals.overrides(index, incident, entries):
            if follow.due is None:
                continue
            reviewed_at = approvals.at_of(follow.reviewed) if follow.reviewed else None
            if reviewed_at is None and now <= follow.due:
                ctx.until(follow.due)
            if (reviewed_at is None and now > follow.due) or (reviewed_at and reviewed_at > follow.due):
                state = f"reviewed late, at {reviewed_at.isoformat()}" if reviewed_at else "not reviewed"
                yield ctx.finding(
                    "APR004",
                    follow.entry.where(("at",)),
                    f"emergency override by {follow.entry.data.get('by')!r} was due for review by "
                    f"{follow.review_by!r} before {follow.due.isoformat()}: {state}",
                    "log it: clearance incident log INCIDENT override-review --override ID --rationale ...",
                )


def _publication(
    ctx: Context,
    incident: Document,
    entries: list[Document],
    entry: Document,
    membership: approvals.Membership,
) -> Iterator[Finding]:
    from clearance.incidents import approvals

    at = parse_time(entry.data.get("at"))
    draft_ref = str(entry.data.get("draft"))
    if at is None or not approvals.has_entry(entries, draft_ref):
        return  # schema and reference rules report these
    verdict = approvals.evaluate(
        ctx.index,
        incident,
        entries,
        draft_ref,
        at,
        entry.data.get("sha256"),
        membership,
        entry.data.get("channel"),
    )
    if verdict.ok:
        return
    yield ctx.finding(
        "APR001",
        entry.where(("draft",)),
        f"publication of draft {draft_ref!r} at {entry.data.get('at')} was not approved: "
        + "; ".join(verdict.reasons()),
        "publish only with 'clearance incident publish', which refuses until every step has approved",
    )


def _length(ctx: Context, draft: Document) -> Iterator[Finding]:
    channel = ctx.get("channel", draft.data.get("channel"))
    if channel is None:
        return
    limit = channel.data.get("max_length")
    text = draft.data.get("text")
    if isinstance(limit, int) and isinstance(text, str) and len(text) > limit:
        yield ctx.finding(
            "APR006",
            draft.where(("text",)),
            f"draft is {len(text)} characters; channel {channel.id!r} allows at most {limit}",
            "shorten it and write a new draft; approvals are for the exact text",
        )


def _decision(
    ctx: Context, draft: Document | None, entry: Document, membership: approvals.Membership
) -> Iterator[Finding]:
    from clearance.incidents import approvals

    when = parse_time(entry.data.get("at"))
    if draft is None or when is None:
        return
    who = entry.data.get("by")
    role = str(entry.data.get("role"))
    problem = None
    if entry.data.get("type") == "approval" and who == draft.data.get("by"):
        problem = f"{who!r} approved their own draft (separation of duties)"
    elif (drafted := parse_time(draft.data.get("at"))) is not None and when < drafted:
        problem = f"{who!r} decided at {entry.data.get('at')}, before the draft ({draft.data.get('at')})"
    elif not membership.held(who, role, when, entry):
        problem = f"{who!r} was not a member of role {role!r} at the time"
    elif entry.data.get("sha256") != approvals.sha256_text(str(draft.data.get("text", ""))):
        problem = f"{who!r} decided on text that differs from the draft's"
    if problem:
        yield ctx.finding(
            "APR002",
            entry.where(("by",)),
            f"this {entry.data.get('type')} does not count: {problem}",
            "approvals count only from members of the step's role, on the exact draft text",
        )


@register(
    (
        "APR005",
        Severity.WARNING,
        "member of a role a protocol requires has not exercised it within the training cadence",
    ),
)
def training(ctx: Context) -> Iterator[Finding]:
    from clearance.incidents import approvals, metrics  # imported only for incidents

    now = ctx.now
    index = ctx.index
    protocols = ctx.subjects("protocol")
    exercises = [d for d in index.of_kind("incident") if d.data.get("exercise") is True] if protocols else []
    for protocol in protocols:
        policy = ctx.get("policy", protocol.data.get("training_policy"))
        every = durations.parse(str(policy.data.get("exercise_every"))) if policy else None
        if every is None:
            continue
        since = durations.add_months(now, -every.months) - every.fixed
        last: dict[str, dt.datetime] = {}
        for exercise in exercises:
            if exercise.data.get("protocol") != protocol.id:
                continue
            entries = index.incident_entries(str(exercise.id))
            when = metrics.declared_at(exercise, entries)
            if when is None:
                continue
            people = {str(r.get("person")) for r in exercise.data.get("roles") or () if isinstance(r, dict)}
            people |= {str(e.data.get("by")) for e in entries}
            people |= {str(e.data.get("person")) for e in entries if e.data.get("type") == "role-change"}
            for person in people:
                if person not in last or last[person] < when:
                    last[person] = when
        required: list[str] = []
        for row in protocol.data.get("raci") or ():
            if isinstance(row, dict):
                required.extend(row.get("responsible") or ())
                if row.get("accountable"):
                    required.append(row["accountable"])
        missing: dict[str, list[str]] = {}
        seen_people: set[str] = set()
        for role in dict.fromkeys(required):
            for person in sorted(approvals.members(index, role)):
                if person in seen_people:
                    continue
                seen_people.add(person)
                when = last.get(person)
                if when is not None and when >= since:
                    # ``since`` passes ``when`` no sooner than (months x 28 days + fixed) later
                    with contextlib.suppress(OverflowError):  # beyond the calendar: never changes
                        ctx.until(when + dt.timedelta(days=28 * every.months) + every.fixed)
                if when is None or when < since:
                    missing.setdefault(role, []).append(
                        f"{person} (last {when.date().isoformat()})" if when else f"{person} (never)"
                    )
        if missing:
            count = sum(len(v) for v in missing.values())
            listing = "; ".join(f"{role}: {', '.join(people)}" for role, people in missing.items())
            yield ctx.finding(
                "APR005",
                protocol.where(("training_policy",)),
                f"{count} of {len(seen_people)} people in the roles {protocol.id!r} requires have not "
                f"taken part in an exercise of it in the last {every}: {listing}",
                f"run 'clearance incident new --exercise --protocol {protocol.id} ...' with them",
            )


_FIX = "append a correction naming it: clearance incident log {incident} correction --corrects {entry} ..."


@register(
    ("APR007", Severity.ERROR, "log entry added by a commit whose author is not the person the entry names"),
    (
        "APR008",
        Severity.ERROR,
        "decision unsigned where signing is required, or its signature does not verify",
    ),
    ("APR009", Severity.ERROR, "a scribe's record (recorded_by / on_behalf_of) written as a decision"),
    (
        "APR010",
        Severity.ERROR,
        "entry time before the incident's detection, after its commit, or unlike its file name",
    ),
    ("APR011", Severity.ERROR, "signed decisions switched off after clearance.yaml required them"),
    ("APR012", Severity.WARNING, "decisions recorded before signing was required: what they lack"),
    ("APR013", Severity.WARNING, "unsigned decision (clearance.yaml does not require signed decisions)"),
)
def proofs(ctx: Context) -> Iterator[Finding]:
    """Every log entry against the commit that added it; every decision against its
    signature and the keys its person held (see clearance.incidents.provenance)."""
    from clearance import signing
    from clearance.incidents import approvals, provenance

    incidents = ctx.subjects("incident")
    if not incidents:
        return
    judge = approvals.Membership(ctx.index, ctx.config.root, required=ctx.config.signing_decisions)
    required = judge.required()
    since = judge.required_since()
    skew = provenance.skew(ctx.config.clock_skew)
    for incident in incidents:
        ident = str(incident.id)
        entries = ctx.index.incident_entries(ident)
        corrected = {str(e.data.get("corrects")) for e in entries if e.data.get("type") == "correction"}
        stamps = incident.data.get("timestamps") or {}
        detected = parse_time(stamps.get("detected")) or parse_time(stamps.get("declared"))
        legacy: dict[str, set[str]] = {}
        if since is not None and not ctx.config.signing_decisions:
            yield ctx.finding(
                "APR011",
                incident.where(("id",)),
                f"signed decisions were required from commit {since.sha[:12]} ({since.subject!r}); "
                "clearance.yaml no longer says so, and for this incident they stay required",
                "put back 'signing: {decisions: required}' in clearance.yaml",
            )
        for entry in entries:
            eid = approvals.entry_id(entry)
            fix = _FIX.format(incident=ident, entry=eid)
            if eid in corrected:
                continue  # voided by a correction: it counts for nothing
            proof = judge.proof(entry, ident)
            kind = str(entry.data.get("type"))
            who = entry.data.get("by")
            decision = kind in signing.DECISIONS
            times = list(_times(ctx, entry, proof, detected, skew, fix))
            if proof.legacy:
                lacks = legacy.setdefault(str(who), set())
                if times:
                    lacks.add("a time its commit contradicts")
                if proof.binding:
                    lacks.add(f"committed by {proof.commit.author_email if proof.commit else '?'}")
                if decision and not proof.signed:
                    lacks.add("unsigned")
                if proof.signed and not proof.verified:
                    lacks.add("signature that does not verify")
                if not lacks:
                    del legacy[str(who)]
                continue
            yield from times
            if proof.scribe and decision:
                yield ctx.finding(
                    "APR009",
                    entry.where(("type",)),
                    f"{kind} by {who!r} is a scribe's record (recorded_by {entry.data.get('recorded_by')!r}) "
                    f"in {proof.where}; a scribe may record what others said, never decide for them",
                    f"{who} must record it themselves; {fix}",
                )
            if proof.binding:
                yield ctx.finding(
                    "APR007", entry.where(("by",)), proof.binding, f"{who} must record it themselves; {fix}"
                )
            if decision and proof.signed and not proof.verified:
                yield ctx.finding(
                    "APR008",
                    entry.where(("signature",)),
                    f"the signature on this {kind} by {who!r} does not verify against the signing_keys "
                    f"{who!r} held in the committed people register ({proof.where})",
                    f"the entry was changed after signing or signed with another key; {fix}",
                )
            elif decision and not proof.signed and required:
                yield ctx.finding(
                    "APR008",
                    entry.where(("by",)),
                    f"this {kind} by {who!r} is not signed ({proof.where}), and clearance.yaml requires "
                    "signed decisions",
                    f"record decisions with the CLI and a registered key (clearance keys add); {fix}",
                )
            elif decision and not proof.signed:
                yield ctx.finding(
                    "APR013",
                    entry.where(("by",)),
                    f"this {kind} by {who!r} is not signed: nothing but the commit shows who made it",
                    "require them: 'signing: {decisions: required}' in clearance.yaml; clearance keys add",
                )
        if legacy:
            listing = "; ".join(f"{who}: {', '.join(sorted(lacks))}" for who, lacks in sorted(legacy.items()))
            yield ctx.finding(
                "APR012",
                incident.where(("id",)),
                "entries recorded before signed decisions were required"
                + (f" (commit {since.sha[:12]})" if since else "")
                + f" do not prove who made them: {listing}",
                "they still count, as the record of their time; new decisions must be signed by their "
                "person (an exercise can append signed re-confirmations)",
            )


def _times(
    ctx: Context,
    entry: Document,
    proof: object,
    detected: dt.datetime | None,
    skew: dt.timedelta,
    fix: str,
) -> Iterator[Finding]:
    from clearance.incidents import approvals

    at = parse_time(entry.data.get("at"))
    if at is None:
        return
    commit = getattr(proof, "commit", None)
    name = approvals.entry_id(entry)
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if name[:16] != stamp and len(name) >= 16 and name[8:9] == "T":
        yield ctx.finding(
            "APR010",
            entry.where(("at",)),
            f"the file name says {name[:16]} but 'at' is {entry.data.get('at')} ({stamp})",
            f"an entry's name is its time; {fix}",
        )
    if detected is not None and at < detected - skew:
        yield ctx.finding(
            "APR010",
            entry.where(("at",)),
            f"entry dated {entry.data.get('at')}, before the incident was detected ({detected.isoformat()}, "
            f"allowing {skew})",
            f"entries record what happened during the incident; {fix}",
        )
    if commit is not None and at > commit.committed + skew:
        yield ctx.finding(
            "APR010",
            entry.where(("at",)),
            f"entry dated {entry.data.get('at')}, after commit {commit.sha[:12]} that added it "
            f"({commit.committed.isoformat()}, allowing {skew})",
            f"an entry cannot record the future; {fix}",
        )
    elif commit is None and at > ctx.now + skew and ctx.config.today is None:
        ctx.until(at - skew)
        yield ctx.finding(
            "APR010",
            entry.where(("at",)),
            f"entry dated {entry.data.get('at')}, in the future",
            "give the time it happened (--at), never a time to come",
        )
