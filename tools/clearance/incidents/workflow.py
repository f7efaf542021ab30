"""The incident workflow: open an incident, log, draft, approve, publish, assess,
notify, close, review.

Every operation works in a :class:`~clearance.incidents.session.Session` (the repository
loaded once through :func:`engine.load_repository`),
checks its inputs against the index, and appends entries through the atomic
:mod:`clearance.incidents.store`. Nothing here prints; commands render the results.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.errors import UsageError
from clearance.incidents import approvals, decisions, gates, guard, logbook, preclearance, state, store
from clearance.incidents.logbook import Logged, log
from clearance.incidents.session import (
    Refused,
    Session,
    obligations_of,
    reload,
    resolve_entry,
    state_of,
)
from clearance.incidents.status import render_review_body, status
from clearance.incidents.templates import fill_template
from clearance.model import Document

__all__ = ["Logged", "log"]
TRANSITIONS = state.TRANSITIONS
# Fields of incident.yaml that a retried 'new' must find unchanged to finish the opening.
_FIXED = (
    "title",
    "protocol",
    "severity",
    "exercise",
    "coordination_channel",
    "summary",
    "roles",
    "data_classes",
)


def _timestamp(moment: dt.datetime) -> str:
    return store.format_time(moment)


def _append(session: Session, incident: str, data: dict[str, Any]) -> str:
    return logbook.append(session, session.incident(incident), data)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


def incident_id(detected: dt.datetime, name: str) -> str:
    """``<UTC date of detection>-<slug>``: the date is when the incident was detected, not
    when someone typed the command, so everyone who knows ``--detected`` knows the id."""
    return f"{detected.astimezone(dt.UTC):%Y-%m-%d}-{slugify(name)}"


def new_incident(
    session: Session,
    actor: str,
    *,
    protocol: str,
    title: str,
    severity: str,
    slug: str | None = None,
    exercise: bool = False,
    channel: str | None = None,
    detected: dt.datetime | None = None,
    started: dt.datetime | None = None,
    summary: str | None = None,
    roles: Sequence[tuple[str, str]] = (),
    data_classes: Sequence[str] = (),
    classification: str = "confidential",
) -> str:
    proto = session.need("protocol", protocol)
    levels = [s.get("level") for s in proto.data.get("severities") or () if isinstance(s, dict)]
    if severity not in levels:
        raise UsageError(
            f"protocol {protocol!r} has no severity {severity!r}; it defines {', '.join(map(str, levels))}"
        )
    channel_id = channel or proto.data.get("coordination_channel")
    if not channel_id:
        raise UsageError(f"protocol {protocol!r} names no coordination channel; pass --channel")
    chan = session.need("channel", str(channel_id))
    missing = [
        what
        for what, ok in (
            ("internal", chan.data.get("audience") == "internal"),
            ("approved", chan.data.get("approved") is True),
            ("end-to-end encrypted", chan.data.get("end_to_end_encrypted") is True),
        )
        if not ok
    ]
    if missing:
        raise Refused(
            f"coordination channel {channel_id!r} is not {' and '.join(missing)}; "
            "incidents are coordinated only on approved, end-to-end encrypted internal channels"
        )
    for role, person in roles:
        role_doc = session.need("role", role)
        session.need("person", person)
        if person not in (role_doc.data.get("members") or ()) and person not in (
            role_doc.data.get("deputies") or ()
        ):
            raise Refused(f"{person!r} is neither a member nor a deputy of role {role!r}")
    for name in data_classes:
        session.need("data-class", name, "data class")
    declared = session.now
    given_detected = detected is not None
    detected = detected or declared
    if detected > declared:
        raise UsageError("the detection time is after now (the declaration)")
    if started and started > detected:
        raise UsageError("the start time is after the detection time")
    name = slug or title
    if not slugify(name):
        flag = "--slug" if slug else "--title"
        raise UsageError(f"{flag} {name!r} has no letters or digits to name the incident by")
    ident = incident_id(detected, name)
    stamps: dict[str, str] = {}
    if started:
        stamps["started"] = _timestamp(started)
    stamps["detected"] = _timestamp(detected)
    stamps["declared"] = _timestamp(declared)
    data: dict[str, Any] = {
        "kind": "incident",
        "id": ident,
        "title": title,
        "owner": proto.data.get("owner"),
        "classification": classification,
        "protocol": protocol,
        "severity": severity,
    }
    if exercise:
        data["exercise"] = True
    data["coordination_channel"] = channel_id
    if summary:
        data["summary"] = summary
    data["timestamps"] = stamps
    if roles:
        data["roles"] = [{"role": r, "person": p} for r, p in roles]
    if data_classes:
        data["data_classes"] = list(data_classes)
    rel = f"incidents/{ident}/incident.yaml"
    existing = session.index.get("incident", ident)
    folder = session.root / "incidents" / ident
    # An empty folder is what a 'new' killed before its first write leaves: not an incident.
    if existing is not None or (folder.exists() and any(p.is_file() for p in folder.rglob("*"))):
        if existing is None or not _same_opening(existing, data, given_detected):
            what = f" ({existing.data.get('title')!r})" if existing else ""
            raise Refused(
                f"incident {ident!r} already exists{what}: log to it, or if this is another incident "
                f"detected that day, name it with --slug, e.g. --slug {ident[11:]}-2"
            )
        if session.entries(ident):
            return ident  # the same command again: it is open
        # A retry after a crash between incident.yaml and the first entry: finish the opening.
        declared = dt.datetime.fromisoformat(
            str((existing.data.get("timestamps") or {}).get("declared") or _timestamp(declared)).replace(
                "Z", "+00:00"
            )
        )
    else:
        # incident.yaml first: until the declaration entry lands the incident reads as
        # 'triage', a consistent state that a retry of the same command completes.
        guard.refuse_never_in(session, Document(rel, data, {}, {}), data, "the incident")
        text = store.checked(session.root, rel, data)
        try:
            store.create_exclusive(session.root / rel, text, root=session.root)
        except FileExistsError:
            raise Refused(f"{rel} already exists") from None
        session = reload(session)
    _append(
        session,
        ident,
        {
            "type": "status-change",
            "at": _timestamp(declared),
            "by": actor,
            "from": "triage",
            "to": "active",
            "severity": severity,
            "text": ("Exercise declared: " if exercise else "Incident declared: ") + title,
        },
    )
    return ident


def _same_opening(existing: Document, data: Mapping[str, Any], given_detected: bool) -> bool:
    """Whether ``existing`` is what this 'new' would write (a retry of the same command);
    times the command took from the clock are not compared."""
    stamps = dict(existing.data.get("timestamps") or {})
    wanted = dict(data.get("timestamps") or {})
    for name in ("declared",) if given_detected else ("declared", "detected"):
        stamps.pop(name, None)
        wanted.pop(name, None)
    return stamps == wanted and all(existing.data.get(k) == data.get(k) for k in _FIXED)


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
    entry_id = _append(
        session,
        incident_id,
        {
            "type": "draft",
            "at": _timestamp(at),
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
    entry_id = _append(
        session,
        incident_id,
        {
            "type": "approval" if approve else "rejection",
            "at": _timestamp(at),
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
        _append(
            session,
            incident_id,
            {
                "type": "override",
                "at": _timestamp(at),
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
    entry_id = _append(
        session,
        incident_id,
        {
            "type": "publication",
            "at": _timestamp(at),
            "by": actor,
            "draft": draft_id,
            "channel": draft_doc.data.get("channel"),
            "sha256": sha,
            "link": link,
        },
    )
    return entry_id, verdict


def assess(
    session: Session,
    actor: str,
    incident_id: str,
    obligation: str,
    *,
    applies: bool,
    rationale: str,
    clock_start: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> str:
    session.incident(incident_id)
    table = obligations_of(session.index)
    # A regulation id without '#obligation' assesses the whole regulation: every
    # obligation of it, unless an obligation's own assessment or threshold says otherwise.
    whole = "#" not in obligation and session.index.get("regulation", obligation) is not None
    if not whole and obligation not in table:
        raise UsageError(f"no obligation {obligation!r}" + session.part_hint("obligation", obligation))
    if applies and clock_start is None and (whole or not table[obligation].get("after")):
        raise UsageError("an obligation that applies needs --clock-start (when the clock started)")
    if applies and clock_start is None:
        clock_start = at or session.now
    return _append(
        session,
        incident_id,
        {
            "type": "assessment",
            "at": _timestamp(at or session.now),
            "by": actor,
            ("regulation" if whole else "obligation"): obligation,
            "applies": applies,
            "clock_start": _timestamp(clock_start) if applies and clock_start else None,
            "rationale": rationale,
        },
    )


def notify(
    session: Session,
    actor: str,
    incident_id: str,
    obligation: str,
    *,
    recipient: str,
    reference: str | None = None,
    draft_ref: str | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Record a notification; refused unless the latest assessment says the obligation
    applies and, where its regulation names an approval chain, the text sent (a draft)
    was approved under that chain."""
    incident = session.incident(incident_id)
    table = obligations_of(session.index)
    if obligation not in table:
        raise UsageError(f"no obligation {obligation!r}" + session.part_hint("obligation", obligation))
    derived = state_of(session, incident)
    verdict_text = gates.applicability(session, incident, obligation)
    if verdict_text is not None:
        raise Refused(verdict_text)
    at = at or session.now
    chain = gates.regulation_chain(session, obligation, table[obligation])
    sha = None
    if chain or draft_ref:
        if not draft_ref:
            raise Refused(
                f"the regulation names approval chain {chain!r} for what is sent: pass --draft ID, "
                "a draft of the notification text approved under it"
            )
        entries = session.entries(incident_id)
        draft_doc = resolve_entry(entries, draft_ref, "draft")
        draft_ref = approvals.entry_id(draft_doc)
        if draft_ref in derived.withdrawn:
            raise Refused(f"draft {draft_ref} was withdrawn")
        sha = approvals.sha256_text(str(draft_doc.data.get("text", "")))
        membership = approvals.Membership(session.index, session.root)
        verdict = approvals.evaluate(session.index, incident, entries, draft_ref, at, sha, membership)
        chains = {c for s in verdict.steps for c in (s.requirement.chain, *s.requirement.chains)}
        if chain and chain not in chains:
            raise Refused(
                f"draft {draft_ref} is not under approval chain {chain!r}, which the regulation names"
            )
        if not verdict.ok:
            raise Refused(f"draft {draft_ref} is not approved:\n  " + "\n  ".join(verdict.reasons()))
    return _append(
        session,
        incident_id,
        {
            "type": "notification",
            "at": _timestamp(at),
            "by": actor,
            "obligation": obligation,
            "recipient": recipient,
            "reference": reference,
            "draft": draft_ref,
            "sha256": sha,
        },
    )


def close(session: Session, actor: str, incident_id: str) -> str:
    """Close the incident: refused unless it is stable, the actor may close it under
    the protocol, and every gate is met (see :mod:`clearance.incidents.gates`).
    Closing a closed incident again writes nothing (returns the closing entry)."""
    incident = session.incident(incident_id)
    derived = state_of(session, incident)
    if derived.status == "closed" and derived.closing is not None:
        return approvals.entry_id(derived.closing)
    if not gates.may_close(session, incident, actor):
        role = gates.closing_role(session, incident)
        raise Refused(
            f"{actor!r} may not close this incident: protocol {incident.data.get('protocol')!r} lets members "
            f"and deputies of {role!r} close it"
        )
    if derived.status != "stable":
        raise Refused(
            f"the incident is {derived.status!r}; it closes from 'stable': "
            f"clearance incident log {incident_id} status-change --to stable --text '...'"
        )
    items = gates.close_items(session, incident)
    if items:
        raise Refused(
            f"cannot close {incident_id} while {len(items)} item(s) are open:\n  "
            + "\n  ".join(f"{i.what}\n    -> {i.fix}" for i in items)
        )
    return _append(
        session,
        incident_id,
        {
            "type": "status-change",
            "at": _timestamp(session.now),
            "by": actor,
            "from": "stable",
            "to": "closed",
        },
    )


def review(session: Session, actor: str, incident_id: str) -> Path:
    incident = session.incident(incident_id)
    rel = f"incidents/{incident_id}/review.md"
    target = session.root / rel
    if target.exists():
        raise Refused(f"{rel} already exists; edit it instead (it is never overwritten)")
    report = status(session, incident_id)
    participants = sorted(
        {str(e.data.get("by")) for e in session.entries(incident_id)}
        | {str(r.get("person")) for r in incident.data.get("roles") or () if isinstance(r, dict)}
    )
    data = {
        "kind": "review",
        "id": f"{incident_id}-review",
        "title": f"Review: {incident.data.get('title')}",
        "owner": incident.data.get("owner"),
        "status": "draft",
        "classification": incident.data.get("classification"),
        "incident": incident_id,
        "held_on": session.now.date().isoformat(),
        "participants": [p for p in participants if session.index.get("person", p)],
        "findings": [],
        "action_items": [],
    }
    body = render_review_body(report, actor, _review_sections(session))
    text = store.checked(session.root, rel, data, body)
    try:
        store.create_exclusive(target, text)
    except FileExistsError:
        raise Refused(f"{rel} already exists") from None
    return target


def _review_sections(session: Session) -> tuple[str, ...]:
    """The sections the review policy requires (what EXR003 checks), for the review's
    headings."""
    from types import SimpleNamespace

    from clearance.checks.exercises import required_sections

    index = session.index
    lookup = SimpleNamespace(get=lambda kind, key: index.get(kind, key) if isinstance(key, str) else None)
    sections, _policy = required_sections(lookup)  # type: ignore[arg-type]
    return sections
