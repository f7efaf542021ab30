"""``clearance incident log``: the entries a person logs by hand — observations,
decisions, talking points, role and status changes, escalations and de-escalations,
withdrawals, reopening, corrections, override reviews, obligation overrides and the
decision not to publish a resolution statement.

Each type accepts only its own options (an option that would be ignored is refused),
and a change the log already records is not written again: the result says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clearance.errors import UsageError
from clearance.incidents import approvals, decisions, guard, state, store
from clearance.incidents.session import Refused, Session, levels, obligations_of, resolve_entry, state_of
from clearance.model import Document

COMMON = {"at", "text", "cites", "exercise_inject"}
OPTIONS: dict[str, set[str]] = {
    "observation": {"source"},
    "decision": {"rationale"},
    "talking-points": {"points", "supersedes", "rationale"},
    "role-change": {"role", "person", "action", "rationale"},
    "status-change": {"to", "severity", "rationale"},
    "escalation": {"severity", "rationale"},
    "de-escalation": {"severity", "rationale"},
    "withdraw": {"draft", "rationale"},
    "reopen": {"rationale"},
    "resolution-decision": {"rationale"},
    "correction": {"corrects", "rationale"},
    "override-review": {"override", "rationale"},
    "obligation-override": {"obligation", "role", "rationale"},
}
FLAGS = {"exercise_inject": "--inject", "cites": "--cite", "points": "--point"}


@dataclass(frozen=True)
class Logged:
    """What ``log`` did: the entry written, or the entry that already records it."""

    entry_id: str
    written: bool
    note: str | None = None


def _flag(name: str) -> str:
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def _time(moment: dt.datetime) -> str:
    return store.format_time(moment)


def append_to(session: Session, incident_id: str, data: dict[str, Any]) -> str:
    """:func:`append` to the incident named ``incident_id``."""
    return append(session, session.incident(incident_id), data)


def append(session: Session, incident: Document, data: dict[str, Any]) -> str:
    """Write one entry; refused while the incident is closed unless the entry may
    follow a close (a correction, a reopen, an override review)."""
    derived = state_of(session, incident)
    published = {str(e.data.get("draft")) for e in derived.order if e.data.get("type") == "publication"}
    if derived.status == "closed" and not state.allowed_after_close(data, published):
        closing = derived.closing
        raise Refused(
            f"incident {incident.id!r} is closed"
            + (f" (entry {state.entry_id(closing)})" if closing is not None else "")
            + f"; to log more, reopen it: clearance incident log {incident.id} reopen --rationale '...'"
        )
    entry = {"kind": "log-entry", **{k: v for k, v in data.items() if v not in (None, [], {})}}
    marking = getattr(session, "privileged", None)  # --privileged (issue 23): counsel's work product
    if marking:
        entry["privileged"] = dict(marking)
    translation = getattr(session, "translation", None)  # draft --translation-of (issue 23)
    if translation and entry.get("type") == "draft":
        entry.update(translation)
    if entry.get("type") == "publication":  # only a current spokesperson for the channel (issue 23)
        from clearance.incidents import spokespeople

        spokespeople.refuse_publication(session, entry)
    guard.refuse_never_in(session, incident, entry, f"the {entry.get('type')} entry")
    entry = decisions.seal(session, str(incident.id), entry)  # scribe fields, time, signature
    entry_id, _path = store.append_entry(session.root, str(incident.id), entry)
    return entry_id


def log(session: Session, actor: str, incident_id: str, entry_type: str, fields: dict[str, Any]) -> Logged:
    incident = session.incident(incident_id)
    handler = _HANDLERS.get(entry_type)
    if handler is None:
        raise UsageError(f"cannot log entries of type {entry_type!r} with 'log'")
    unused = sorted(
        k for k, v in fields.items() if v not in (None, [], "") and k not in COMMON | OPTIONS[entry_type]
    )
    if unused:
        hint = (
            " (to change the severity, log an escalation or a de-escalation)" if "severity" in unused else ""
        )
        raise UsageError(
            f"{', '.join(_flag(k) for k in unused)} does not apply to a {entry_type}; "
            f"nothing was written{hint}"
        )
    for cite in fields.get("cites") or ():
        if session.index.part("clause", cite) is None:
            raise UsageError(f"--cite {cite!r}: no such clause" + session.part_hint("clause", cite))
    at = fields.pop("at", None) or session.now
    data: dict[str, Any] = {"type": entry_type, "at": _time(at), "by": actor}
    done = handler(session, actor, incident, fields, data)
    if done is not None:
        return done
    data.update({k: v for k, v in fields.items() if v not in (None, [], "")})
    return Logged(append(session, incident, data), True)


Handler = Callable[[Session, str, Document, dict[str, Any], dict[str, Any]], Logged | None]


def _need(fields: dict[str, Any], *names: str, what: str) -> None:
    missing = [_flag(n) for n in names if not fields.get(n)]
    if missing:
        raise UsageError(f"a {what} needs {' and '.join(missing)}")


def _text(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    _need(fields, "text", what=str(data["type"]))


def _points(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    if not fields.get("points"):
        raise UsageError("talking points need at least one --point")
    if fields.get("supersedes"):
        entries = session.entries(str(incident.id))
        fields["supersedes"] = approvals.entry_id(
            resolve_entry(entries, fields["supersedes"], "talking-points")
        )


def _role_change(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    if not fields.get("role") or not fields.get("person"):
        raise UsageError("a role-change needs --role ROLE and --person PERSON")
    role = session.need("role", fields.get("role"))
    person = fields.get("person")
    session.need("person", person)
    fields.setdefault("action", "assign")
    if (
        fields.get("action") == "assign"
        and person not in (role.data.get("members") or ())
        and person not in (role.data.get("deputies") or ())
    ):
        raise Refused(f"{person!r} is neither a member nor a deputy of role {role.id!r}")


def _level(session: Session, incident: Document, level: str) -> None:
    known = levels(session, incident)
    if level not in known:
        raise UsageError(
            f"protocol {incident.data.get('protocol')!r} has no severity {level!r}; "
            f"it defines {', '.join(known)}"
        )


def _status_change(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> Logged | None:
    derived = state_of(session, incident)
    current, target = derived.status, fields.get("to")
    ident = str(incident.id)
    if not target:
        raise UsageError("a status-change needs --to STATUS")
    if target == "closed":
        raise UsageError(f"use 'clearance incident close {ident}' to close an incident (it checks the gates)")
    if current == "closed":
        raise Refused(
            f"incident {ident!r} is closed; reopen it: "
            f"clearance incident log {ident} reopen --rationale '...'"
        )
    severity = fields.get("severity")
    if severity:
        _level(session, incident, severity)
    if target == current:
        if severity and severity != derived.severity:
            kind = (
                "escalation"
                if _more_severe(session, incident, severity, derived.severity)
                else "de-escalation"
            )
            raise Refused(
                f"the incident is already {current!r}; to change its severity to {severity!r}: "
                f"clearance incident log {ident} {kind} --severity {severity} --rationale '...'"
            )
        last = derived.status_entry
        return Logged(
            state.entry_id(last) if last is not None else "",
            False,
            f"the incident is already {current!r}"
            + (f" (since entry {state.entry_id(last)})" if last is not None else "")
            + "; nothing was written",
        )
    if target not in state.TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(state.TRANSITIONS.get(current, frozenset())))
        raise Refused(
            f"status cannot go from {current!r} to {target!r}; from {current!r} it may go to: {allowed}"
        )
    data["from"] = current
    return None


def _more_severe(session: Session, incident: Document, level: str, than: str) -> bool:
    known = levels(session, incident)
    return level in known and than in known and known.index(level) < known.index(than)


def _severity(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> Logged | None:
    kind = str(data["type"])
    _need(fields, "severity", "rationale", what=kind)
    level = str(fields["severity"])
    _level(session, incident, level)
    derived = state_of(session, incident)
    if level == derived.severity:
        last = derived.severity_entry
        return Logged(
            state.entry_id(last) if last is not None else "",
            False,
            f"the severity is already {level!r}"
            + (f" (since entry {state.entry_id(last)})" if last is not None else " (since opening)")
            + "; nothing was written",
        )
    up = _more_severe(session, incident, level, derived.severity)
    if up != (kind == "escalation"):
        other = "escalation" if up else "de-escalation"
        raise UsageError(
            f"{derived.severity!r} to {level!r} is a{'n' if other[0] == 'e' else ''} {other}, "
            f"not a{'n' if kind[0] == 'e' else ''} {kind}: clearance incident log {incident.id} {other} "
            f"--severity {level} --rationale '...'"
        )
    data["previous"] = derived.severity
    return None


def _withdraw(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> Logged | None:
    _need(fields, "draft", "rationale", what="withdraw")
    entries = session.entries(str(incident.id))
    draft = resolve_entry(entries, str(fields["draft"]), "draft")
    draft_id = approvals.entry_id(draft)
    fields["draft"] = draft_id
    if any(e.data.get("type") == "publication" and e.data.get("draft") == draft_id for e in entries):
        raise Refused(f"draft {draft_id} is published; a published statement is corrected by a new one")
    derived = state_of(session, incident)
    if draft_id in derived.withdrawn:
        return Logged(draft_id, False, f"draft {draft_id} is already withdrawn; nothing was written")
    return None


def _reopen(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> Logged | None:
    _need(fields, "rationale", what="reopen")
    derived = state_of(session, incident)
    if derived.status != "closed":
        return Logged(
            "", False, f"the incident is not closed (status {derived.status!r}); nothing was written"
        )
    return None


def _rationale(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    _need(fields, "rationale", what=str(data["type"]))


def _correction(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    if not fields.get("text"):
        raise UsageError("a correction needs --text saying what is right")
    if not fields.get("corrects"):
        raise UsageError("a correction needs --corrects ENTRY (the id of the entry it corrects)")
    entries = session.entries(str(incident.id))
    fields["corrects"] = approvals.entry_id(resolve_entry(entries, str(fields.get("corrects"))))


def _override_review(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    if not fields.get("override"):
        raise UsageError("an override review needs --override ENTRY (the id of the override it reviews)")
    entries = session.entries(str(incident.id))
    target = resolve_entry(entries, str(fields.get("override")), "override")
    fields["override"] = approvals.entry_id(target)
    follow_up = next(o for o in approvals.overrides(session.index, incident, entries) if o.entry is target)
    if follow_up.review_by and actor not in approvals.members(session.index, follow_up.review_by):
        raise Refused(
            f"{actor!r} is not a member of role {follow_up.review_by!r}, which reviews this override"
        )
    if not fields.get("rationale"):
        raise UsageError("an override review needs --rationale")


def _obligation_override(
    session: Session, actor: str, incident: Document, fields: dict[str, Any], data: dict[str, Any]
) -> None:
    from clearance.incidents import obligations

    _need(fields, "obligation", "rationale", what="obligation-override")
    key = str(fields["obligation"])
    table = obligations_of(session.index)
    if key not in table:
        raise UsageError(f"no obligation {key!r}" + session.part_hint("obligation", key))
    role = obligations.regulation_role(session.index, key, table[key])
    if role is None:
        raise Refused(f"regulation of {key!r} names no role that may override its obligations")
    if fields.get("role") and fields["role"] != role:
        raise Refused(f"only role {role!r}, which the regulation names, may override {key!r}")
    fields["role"] = role
    if actor not in approvals.members(session.index, role):
        raise Refused(f"{actor!r} is not a member of role {role!r}, which the regulation names for {key!r}")


_HANDLERS: dict[str, Handler] = {
    "observation": _text,
    "decision": _text,
    "talking-points": _points,
    "role-change": _role_change,
    "status-change": _status_change,
    "escalation": _severity,
    "de-escalation": _severity,
    "withdraw": _withdraw,
    "reopen": _reopen,
    "resolution-decision": _rationale,
    "correction": _correction,
    "override-review": _override_review,
    "obligation-override": _obligation_override,
}
LOG_TYPES = tuple(_HANDLERS)
