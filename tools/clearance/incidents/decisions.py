"""Who may record what, and sealing an entry before it is written.

- A decision (approval, rejection, publication, override, notification) is recorded only
  by the person taking it: the person whose emails hold git's ``user.email``. ``--as``
  naming anyone else is refused for decisions.
- For every other entry ``--as`` makes the entry a scribe's record: ``by`` is the person
  whose words it records, ``recorded_by`` the scribe, ``on_behalf_of`` the person again.
- A decision is signed with the acting person's SSH key (``--key``, else git's
  ``user.signingkey``); with ``signing: {decisions: required}`` an unsigned decision, or
  one whose key is not the person's committed key, is refused before anything is written.
- ``--at`` in the future, or before the incident's detection, is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clearance import history, signing
from clearance.errors import UsageError
from clearance.incidents import provenance
from clearance.incidents.session import Refused, Session, find_actor
from clearance.index import parse_time

KEYS_HINT = (
    "register your public key once: 'clearance keys add --key ~/.ssh/id_ed25519.pub', then commit "
    "policies/people/<you>.yaml"
)


def git_person(session: Session) -> str | None:
    """The person whose emails hold git's user.email, or None."""
    result = history.run_git(session.root, "config", "user.email", check=False)
    email = result.stdout.decode("utf-8", "replace").strip().lower() if result.returncode == 0 else ""
    if not email:
        return None
    for doc in session.index.of_kind("person"):
        if email in (str(e).lower() for e in doc.data.get("emails") or ()):
            return str(doc.id)
    return None


def decider(session: Session, given: str | None, action: str) -> str:
    """The person recording a decision: git's user.email's person. ``--as`` may only
    name that same person; ``actor:`` in clearance.yaml does not decide for anyone."""
    me = git_person(session)
    named = find_actor(session, given).person if given else None
    if me is None:
        raise Refused(
            f"who is deciding? {action} is recorded only by the person taking it, found from git "
            "user.email in the people register; set git user.email to your address"
            + (f" (--as {given!r} cannot stand in for it)" if given else "")
        )
    if named is not None and named != me:
        raise Refused(
            f"--as {given!r}: {action} is a decision and is recorded only by the person taking it; "
            f"git user.email says you are {me!r}. {named!r} must {action} themselves "
            "(a scribe may log what they said with 'clearance incident log ... --as'; that is never "
            "a decision)"
        )
    return me


def committed_member(session: Session, person: str, role: str, step: str) -> None:
    """Refuse a decision by someone the committed role register does not list (a grant
    in the working tree, not committed yet, never counts)."""
    judge = provenance.Provenance(session.index, session.root)
    if judge.history is None:
        return
    if person not in judge.members(role, judge.base(None)):
        raise Refused(
            f"{person!r} is not a member of role {role!r} in the committed role register, which step "
            f"{step!r} needs; uncommitted edits to the registers never count: commit the change first"
        )


def scribe_for(session: Session, given: str | None) -> str | None:
    """The scribe when ``--as`` names someone other than git's user.email's person."""
    if not given:
        return None
    me = git_person(session)
    named = find_actor(session, given).person
    return me if me is not None and me != named else None


def _check_time(session: Session, incident_id: str, data: dict[str, Any]) -> None:
    at = parse_time(data.get("at"))
    if at is None:
        return
    skew = provenance.skew(session.config.clock_skew)
    if at > session.now + skew:
        raise UsageError(
            f"--at {data.get('at')} is in the future (now is {session.now.isoformat()}); "
            "give the time it happened"
        )
    incident = session.index.get("incident", incident_id)
    stamps = (incident.data.get("timestamps") or {}) if incident is not None else {}
    detected = parse_time(stamps.get("detected")) or parse_time(stamps.get("declared"))
    if detected is not None and at < detected - skew:
        raise UsageError(
            f"--at {data.get('at')} is before the incident was detected ({stamps.get('detected')}); "
            "entries record what happened during the incident"
        )


def seal(session: Session, incident_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The entry as it will be written: scribe fields added, time checked, a decision
    signed. Refuses what the record could not prove later."""
    _check_time(session, incident_id, data)
    scribe = getattr(session, "scribe", None)
    kind = data.get("type")
    if scribe and data.get("by") != scribe:
        if kind in signing.DECISIONS:
            raise Refused(f"a scribe ({scribe!r}) cannot record a {kind} for {data.get('by')!r}")
        data = {**data, "recorded_by": scribe, "on_behalf_of": data.get("by")}
    if kind not in signing.DECISIONS:
        return data
    if kind == "approval" and getattr(session, "confirmed", None):
        data = {**data, "confirmed": session.confirmed}
    judge = provenance.Provenance(session.index, session.root, required=session.config.signing_decisions)
    required = judge.required()
    spec = getattr(session, "signing_key", None)
    if not spec:
        result = history.run_git(session.root, "config", "user.signingkey", check=False)
        spec = result.stdout.decode("utf-8", "replace").strip() if result.returncode == 0 else None
    if not spec:
        if required:
            raise Refused(
                f"this repository requires signed decisions and you have no signing key: pass --key "
                f"PATH or set git user.signingkey; {KEYS_HINT}"
            )
        return data
    key = signing.resolve_key(spec, session.root)
    body = {k: v for k, v in data.items() if k != "signature"}
    signature = signing.sign(signing.payload(incident_id, body), key)
    who = str(data.get("by"))
    head = judge.base(None)
    person = judge.person(who, head)
    registered = person.keys if person else ()
    if signing.public_part(key.public) not in {signing.public_part(k) for k in registered}:
        message = (
            f"key {signing.fingerprint(key.public)} is not one of {who!r}'s signing_keys in the committed "
            f"people register, so this {kind} would not verify; {KEYS_HINT}"
        )
        if required:
            raise Refused(message)
    return {**body, "signature": signature}


def now_within(session: Session, moment: dt.datetime | None) -> None:
    """Refuse an --at in the future (for commands that compute their own entries)."""
    if moment is not None and moment > session.now + provenance.skew(session.config.clock_skew):
        raise UsageError(f"--at {moment.isoformat()} is in the future; give the time it happened")


@dataclass(frozen=True)
class StepView:
    step: str
    role: str
    quorum: int
    approved_by: tuple[str, ...]
    may_approve: tuple[str, ...]  # members who have not approved yet (never the author)
    satisfied: bool


@dataclass(frozen=True)
class DraftView:
    """What an approver must see before approving: the text, its hash and the steps."""

    incident: str
    draft_id: str
    author: str
    channel: str
    text: str
    sha256: str
    steps: tuple[StepView, ...]
    blocked: tuple[str, ...]  # reasons it can never be published as it stands
    published: bool


def draft_view(session: Session, incident_id: str, draft_ref: str) -> DraftView:
    from clearance.incidents import approvals
    from clearance.incidents.session import resolve_entry

    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    draft = resolve_entry(entries, draft_ref, "draft")
    draft_id = approvals.entry_id(draft)
    judge = approvals.Membership(session.index, session.root, required=session.config.signing_decisions)
    text = str(draft.data.get("text", ""))
    verdict = approvals.evaluate(session.index, incident, entries, draft_id, session.now, membership=judge)
    author = str(draft.data.get("by"))
    head = judge.base(None)
    steps = []
    for result in verdict.steps:
        req = result.requirement
        done = tuple(who for who, _, _ in result.approvers)
        members = (
            sorted(judge.members(req.role, head))
            if judge.history is not None
            else sorted(approvals.members(session.index, req.role))
        )
        steps.append(
            StepView(
                req.step,
                req.role,
                req.quorum,
                done,
                tuple(m for m in members if m != author and m not in done) if not result.satisfied else (),
                result.satisfied,
            )
        )
    blocked = tuple(
        [f"data class {name!r} may never be disclosed" for name in verdict.forbidden] + list(verdict.problems)
    )
    published = any(e.data.get("type") == "publication" and e.data.get("draft") == draft_id for e in entries)
    return DraftView(
        incident_id,
        draft_id,
        author,
        str(draft.data.get("channel")),
        text,
        approvals.sha256_text(text),
        tuple(steps),
        blocked,
        published,
    )
