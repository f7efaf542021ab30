"""The incident workflow: open an incident, log, draft, approve, publish, assess,
notify, close, review.

Every operation works in a :class:`~clearance.incidents.session.Session` (the repository
loaded once through :func:`engine.load_repository`),
checks its inputs against the index, and appends entries through the atomic
:mod:`clearance.incidents.store`. Nothing here prints; commands render the results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from clearance.errors import UsageError
from clearance.incidents import approvals, gates, logbook, obligations, state, store
from clearance.incidents.logbook import Logged, log
from clearance.incidents.opening import incident_id, new_incident, slugify
from clearance.incidents.session import (
    Refused,
    Session,
    obligations_of,
    resolve_entry,
    state_of,
)
from clearance.incidents.statements import DraftResult, decide, draft, publish
from clearance.incidents.status import render_review_body, status

__all__ = [
    "DraftResult",
    "Logged",
    "assess",
    "close",
    "decide",
    "draft",
    "incident_id",
    "log",
    "new_incident",
    "notify",
    "publish",
    "review",
    "slugify",
]
TRANSITIONS = state.TRANSITIONS


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
    return logbook.append_to(
        session,
        incident_id,
        {
            "type": "assessment",
            "at": store.format_time(at or session.now),
            "by": actor,
            ("regulation" if whole else "obligation"): obligation,
            "applies": applies,
            "clock_start": store.format_time(clock_start) if applies and clock_start else None,
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
    chain = obligations.regulation_chain(session.index, obligation, table[obligation])
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
    return logbook.append_to(
        session,
        incident_id,
        {
            "type": "notification",
            "at": store.format_time(at),
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
    return logbook.append_to(
        session,
        incident_id,
        {
            "type": "status-change",
            "at": store.format_time(session.now),
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
