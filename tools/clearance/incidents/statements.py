"""A statement's path through the record: drafted (scanned before anything is
written), approved or rejected on its exact text, published."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clearance.errors import UsageError
from clearance.incidents import approvals, decisions, guard, logbook, preclearance, store
from clearance.incidents.session import (
    Refused,
    Session,
    reload,
    resolve_entry,
    state_of,
)
from clearance.incidents.templates import fill_template
from clearance.model import Document


@dataclass
class DraftResult:
    entry_id: str
    sha256: str
    classes: list[str]
    verdict: approvals.Verdict
    written: bool = True


def draft(
    session: Session,
    actor: str,
    incident_id: str,
    *,
    channel: str,
    text: str | None = None,
    template: str | None = None,
    values: Mapping[str, str] | None = None,
    data_classes: Sequence[str] = (),
    at: dt.datetime | None = None,
) -> DraftResult:
    incident = session.incident(incident_id)
    chan = session.need("channel", channel)
    tpl = None
    if template:
        tpl = session.need("template", template)
        if channel not in (tpl.data.get("channels") or ()):
            raise UsageError(
                f"template {template!r} is written for "
                f"{', '.join(tpl.data.get('channels') or ())}, not {channel!r}"
            )
        text = fill_template(tpl, values or {})
    elif values:
        raise UsageError("--set needs --template")
    if text is None or not text.strip():
        raise UsageError("the draft has no text; give --file, --file - (stdin) or --template")
    text = text.replace("\r\n", "\n").strip("\n")
    limit = chan.data.get("max_length")
    if isinstance(limit, int) and len(text) > limit:
        raise Refused(f"the draft is {len(text)} characters; channel {channel!r} allows at most {limit}")
    for name in data_classes:
        session.need("data-class", name, "data class")
    # Scan before anything is written: a value of a 'never' class must not reach the
    # append-only log, not even in a draft that is refused later.
    guard.refuse_never(session, incident, [text, *(values or {}).values()], data_classes)
    found = approvals.scanned_classes(text, session.index, incident) or []
    classes = sorted(set(data_classes) | set(found))
    digest = approvals.sha256_text(text)
    at = at or session.now
    state_now = state_of(session, incident)
    for entry in state_now.order:
        if (
            entry.data.get("type") == "draft"
            and entry.data.get("sha256") == digest
            and entry.data.get("by") == actor
            and entry.data.get("channel") == channel
            and approvals.entry_id(entry) not in state_now.withdrawn
            and not any(
                e.data.get("type") == "publication" and e.data.get("draft") == approvals.entry_id(entry)
                for e in state_now.order
            )
        ):
            # The same draft again (a retry): one draft awaiting approval, not two.
            existing = approvals.entry_id(entry)
            verdict = approvals.evaluate(session.index, incident, session.entries(incident_id), existing, at)
            return DraftResult(existing, digest, classes, verdict, written=False)
    entry_id = logbook.append_to(
        session,
        incident_id,
        {
            "type": "draft",
            "at": store.format_time(at),
            "by": actor,
            "text": text,
            "channel": channel,
            "template": template,
            "values": dict(values) if values else None,
            "data_classes": classes,
            "sha256": digest,
            "clearance": preclearance.clearance_id(
                session.index, template, values, text, state_now.severity_at(at), at, actor
            ),
        },
    )
    session = reload(session)
    verdict = approvals.evaluate(session.index, incident, session.entries(incident_id), entry_id, at)
    return DraftResult(entry_id, digest, classes, verdict)


def _pick_step(
    session: Session, actor: str, verdict: approvals.Verdict, step: str | None, role: str | None
) -> approvals.Requirement:
    reqs = [s.requirement for s in verdict.steps]
    if step or role:
        matching = [r for r in reqs if (step is None or r.step == step) and (role is None or r.role == role)]
        if not matching:
            options = ", ".join(f"{r.step} ({r.role})" for r in reqs) or "none"
            raise Refused(
                f"no applicable step {step or ''}"
                f"{' with role ' + repr(role) if role else ''} for this draft; "
                f"applicable steps: {options}"
            )
        if len(matching) > 1:
            matching = [r for r in matching if actor in approvals.members(session.index, r.role)] or matching
        return matching[0]
    mine = [
        s.requirement
        for s in verdict.steps
        if actor in approvals.members(session.index, s.requirement.role) and not s.satisfied
    ]
    if len(mine) == 1:
        return mine[0]
    options = ", ".join(f"{r.step} ({r.role})" for r in (mine or reqs)) or "none"
    raise UsageError(f"which step? pass --step; applicable steps: {options}")


def _full_sha256(draft_doc: Document, sha: str, expected: str) -> str:
    """``sha`` when it is a whole sha256 (64 hex digits); a prefix is refused: the
    approver vouches for exactly the text they read, which a prefix does not pin down."""
    given = sha.strip().lower()
    if re.fullmatch(r"[0-9a-f]{64}", given):
        return given
    what = (
        f"only the first {len(given)} characters of the draft's hash"
        if given and expected.startswith(given)
        else "not a sha256 (64 hexadecimal digits)"
    )
    raise UsageError(
        f"--sha256 {sha!r} is {what}; the full 64-character sha256 is required: copy it from "
        f"the 'sha256' line 'clearance incident draft' printed, or from 'sha256:' in {draft_doc.path}"
    )


def decide(
    session: Session,
    actor: str,
    incident_id: str,
    draft_ref: str,
    *,
    approve: bool,
    step: str | None = None,
    role: str | None = None,
    sha: str | None = None,
    rationale: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[str, approvals.Requirement]:
    """Record an approval or a rejection of a draft by ``actor``."""
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    draft_doc = resolve_entry(entries, draft_ref, "draft")
    draft_id = approvals.entry_id(draft_doc)
    if draft_id in state_of(session, incident).withdrawn:
        raise Refused(f"draft {draft_id} was withdrawn; write a new draft")
    expected = approvals.sha256_text(str(draft_doc.data.get("text", "")))
    if sha is not None:
        sha = _full_sha256(draft_doc, sha, expected)
    at = at or session.now
    verdict = approvals.evaluate(session.index, incident, entries, draft_id, at)
    req = _pick_step(session, actor, verdict, step, role)
    word = "approve" if approve else "reject"
    if approve and actor == draft_doc.data.get("by"):
        raise Refused(f"separation of duties: {actor!r} wrote this draft and cannot approve it")
    if actor not in approvals.members(session.index, req.role):
        raise Refused(f"{actor!r} is not a member of role {req.role!r}, which step {req.step!r} needs")
    decisions.committed_member(session, actor, req.role, req.step)  # uncommitted grants never count
    if sha is not None and sha != expected:
        raise Refused(
            f"the text you reviewed (sha256 {sha[:12]}...) is not the text of draft {draft_id} "
            f"(sha256 {expected[:12]}...); {word} the current text or write a new draft"
        )
    if any(e.data.get("type") == "publication" and e.data.get("draft") == draft_id for e in entries):
        raise Refused(f"draft {draft_id} is already published")
    if not approve and not rationale:
        raise UsageError("a rejection needs --reason")
    entry_id = logbook.append_to(
        session,
        incident_id,
        {
            "type": "approval" if approve else "rejection",
            "at": store.format_time(at),
            "by": actor,
            "draft": draft_id,
            "role": req.role,
            "step": req.step,
            "sha256": expected,
            "rationale": rationale,
        },
    )
    return entry_id, req


def publish(
    session: Session,
    actor: str,
    incident_id: str,
    draft_ref: str,
    *,
    link: str | None = None,
    at: dt.datetime | None = None,
    override_reason: str | None = None,
    override_role: str | None = None,
) -> tuple[str, approvals.Verdict]:
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    draft_doc = resolve_entry(entries, draft_ref, "draft")
    draft_id = approvals.entry_id(draft_doc)
    if draft_id in state_of(session, incident).withdrawn:
        raise Refused(f"draft {draft_id} was withdrawn; write a new draft")
    at = at or session.now
    if any(e.data.get("type") == "publication" and e.data.get("draft") == draft_id for e in entries):
        raise Refused(f"draft {draft_id} is already published")
    sha = approvals.sha256_text(str(draft_doc.data.get("text", "")))
    membership = approvals.Membership(session.index, session.root)
    verdict = approvals.evaluate(session.index, incident, entries, draft_id, at, sha, membership)
    if not verdict.ok and override_reason:
        if verdict.forbidden or verdict.problems:
            raise Refused("an emergency override cannot publish this:\n  " + "\n  ".join(verdict.reasons()))
        allowed = approvals.override_roles(session.index, verdict)
        mine = [r for r in sorted(allowed) if actor in approvals.members(session.index, r)]
        if override_role:
            mine = [r for r in mine if r == override_role]
        if not mine:
            raise Refused(
                f"{actor!r} may not override: the chains allow only members of "
                f"{', '.join(sorted(allowed)) or 'no role'} to override"
            )
        logbook.append_to(
            session,
            incident_id,
            {
                "type": "override",
                "at": store.format_time(at),
                "by": actor,
                "draft": draft_id,
                "role": mine[0],
                "rationale": override_reason,
            },
        )
        session = reload(session)
        entries = session.entries(incident_id)
        membership = approvals.Membership(session.index, session.root)
        verdict = approvals.evaluate(session.index, incident, entries, draft_id, at, sha, membership)
    if not verdict.ok:
        raise Refused(
            f"publication of draft {draft_id} refused:\n  "
            + "\n  ".join(verdict.reasons())
            + "\n(an emergency override needs --override-reason and a role the chain allows)"
        )
    entry_id = logbook.append_to(
        session,
        incident_id,
        {
            "type": "publication",
            "at": store.format_time(at),
            "by": actor,
            "draft": draft_id,
            "channel": draft_doc.data.get("channel"),
            "sha256": sha,
            "link": link,
        },
    )
    return entry_id, verdict
