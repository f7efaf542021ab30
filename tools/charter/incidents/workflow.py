"""The incident workflow: open an incident, log, draft, approve, publish, assess,
notify, close, review — and the status a crisis lead acts on.

Every operation loads the repository once through :func:`engine.load_repository`,
checks its inputs against the index, and appends entries through the atomic
:mod:`charter.incidents.store`. Nothing here prints; commands render the results.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charter import durations, engine, history
from charter.config import Config
from charter.errors import FatalError, UsageError
from charter.incidents import approvals, clocks, metrics, store
from charter.index import Index, parse_time
from charter.model import Document

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TRANSITIONS = {
    "triage": {"active", "stable"},
    "active": {"stable"},
    "stable": {"active", "closed"},
    "closed": {"active"},
}


class Refused(FatalError):
    """The workflow refuses an action (missing approvals, separation of duties, ...)."""

    exit_code = 1


def parse_moment(text: str, what: str = "time") -> dt.datetime:
    """An aware datetime from user input; a time without an offset is refused."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{what} {text!r} is not an RFC 3339 timestamp (e.g. 2026-03-14T09:05:00Z)"
        ) from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise UsageError(
            f"{what} {text!r} has no UTC offset; write it as e.g. "
            f"{text.strip()}Z or {text.strip()}+01:00 so it means one moment everywhere"
        )
    return moment


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Session:
    config: Config
    index: Index
    now: dt.datetime

    @property
    def root(self) -> Path:
        return self.config.root.resolve()

    def need(self, kind: str, key: str | None, what: str | None = None) -> Document:
        doc = self.index.get(kind, key) if key else None
        if doc is None:
            raise UsageError(f"no {what or kind} {key!r}" + _suggest(str(key), self.index.ids(kind)))
        return doc

    def incident(self, key: str) -> Document:
        return self.need("incident", key)

    def entries(self, incident: str) -> list[Document]:
        return self.index.incident_entries(incident)


def open_session(config: Config, now: dt.datetime | None = None) -> Session:
    repo = engine.load_repository(config)
    return Session(config, repo.index, now or dt.datetime.now(dt.UTC).replace(microsecond=0))


def reload(session: Session) -> Session:
    return open_session(session.config, session.now)


# --- who is acting -----------------------------------------------------------------


def resolve_actor(session: Session, given: str | None) -> str:
    """--as, else charter.yaml ``actor``, else git ``user.email`` matched against the
    people register. Must be a known person."""
    people = session.index.by_kind.get("person", {})
    for source, value in (("--as", given), ("charter.yaml actor", session.config.actor)):
        if value:
            if value in people:
                return value
            by_email = _person_by_email(people, value)
            if by_email:
                return by_email
            raise UsageError(f"{source} {value!r} is not a known person" + _suggest(value, people))
    result = history.run_git(session.root, "config", "user.email", check=False)
    email = result.stdout.decode("utf-8", "replace").strip() if result.returncode == 0 else ""
    if email:
        person = _person_by_email(people, email)
        if person:
            return person
        raise UsageError(
            f"git user.email {email!r} matches no person in the register; "
            "add it to the person's emails, or pass --as PERSON"
        )
    raise UsageError("who is acting? pass --as PERSON, set 'actor' in charter.yaml, or set git user.email")


def _person_by_email(people: Mapping[str, Document], email: str) -> str | None:
    wanted = email.strip().lower()
    for key, doc in people.items():
        if wanted in (str(e).lower() for e in doc.data.get("emails") or ()):
            return key
    return None


def _timestamp(moment: dt.datetime) -> str:
    return store.format_time(moment)


# --- references to entries ---------------------------------------------------------------


def resolve_entry(entries: Sequence[Document], ref: str, kind: str | None = None) -> Document:
    """An entry by its full id (file stem), its random suffix, or a unique prefix."""
    pool = [e for e in entries if kind is None or e.data.get("type") == kind]
    exact = [e for e in pool if approvals.entry_id(e) == ref]
    if exact:
        return exact[0]
    hits = [
        e for e in pool if approvals.entry_id(e).endswith(f"-{ref}") or approvals.entry_id(e).startswith(ref)
    ]
    what = kind or "entry"
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UsageError(f"no {what} {ref!r} in this incident")
    raise UsageError(f"{ref!r} matches {len(hits)} {what} entries; give the full id")


# --- writing --------------------------------------------------------------------------------


def _append(session: Session, incident: str, data: dict[str, Any]) -> str:
    entry = {"kind": "log-entry", **{k: v for k, v in data.items() if v not in (None, [], {})}}
    entry_id, _path = store.append_entry(session.root, incident, entry)
    return entry_id


def _status(session: Session, incident: Document) -> str:
    status = "triage"
    for entry in session.entries(str(incident.id)):
        if entry.data.get("type") == "status-change" and isinstance(entry.data.get("to"), str):
            status = entry.data["to"]
    return status


def _rewrite_incident(session: Session, incident: Document, changes: Mapping[str, Any]) -> None:
    data = dict(incident.data)
    for key, value in changes.items():
        if isinstance(value, dict):
            data[key] = {**dict(data.get(key) or {}), **value}
        else:
            data[key] = value
    text = store.checked(session.root, incident.path, data)
    store.replace_atomically(session.root / incident.path, text)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


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
    detected = detected or declared
    if detected > declared:
        raise UsageError("the detection time is after now (the declaration)")
    if started and started > detected:
        raise UsageError("the start time is after the detection time")
    ident = f"{declared.astimezone(dt.UTC):%Y-%m-%d}-{slugify(slug or title)}".strip("-")
    if session.index.get("incident", ident) or (session.root / "incidents" / ident).exists():
        raise Refused(f"incident {ident!r} already exists; choose another --slug")
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
        "status": "active",
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
    text = store.checked(session.root, rel, data)
    try:
        store.create_exclusive(session.root / rel, text)
    except FileExistsError:
        raise Refused(f"{rel} already exists") from None
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


# --- log -----------------------------------------------------------------------------------


def log(session: Session, actor: str, incident_id: str, entry_type: str, fields: dict[str, Any]) -> str:
    """observation, decision, talking-points, role-change, status-change, correction,
    override-review."""
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    at = fields.pop("at", None) or session.now
    data: dict[str, Any] = {"type": entry_type, "at": _timestamp(at), "by": actor}
    if entry_type in ("observation", "decision"):
        if not fields.get("text"):
            raise UsageError(f"a {entry_type} needs --text")
    elif entry_type == "talking-points":
        if not fields.get("points"):
            raise UsageError("talking points need at least one --point")
        if fields.get("supersedes"):
            fields["supersedes"] = approvals.entry_id(
                resolve_entry(entries, fields["supersedes"], "talking-points")
            )
    elif entry_type == "role-change":
        role = session.need("role", fields.get("role"))
        person = fields.get("person")
        session.need("person", person)
        if (
            fields.get("action") == "assign"
            and person not in (role.data.get("members") or ())
            and person not in (role.data.get("deputies") or ())
        ):
            raise Refused(f"{person!r} is neither a member nor a deputy of role {role.id!r}")
    elif entry_type == "status-change":
        current = _status(session, incident)
        target = fields.get("to")
        if target not in TRANSITIONS.get(current, set()):
            allowed = ", ".join(sorted(TRANSITIONS.get(current, set())))
            raise Refused(
                f"status cannot go from {current!r} to {target!r}; from {current!r} it may go to: {allowed}"
            )
        if target == "closed":
            raise UsageError("use 'charter incident close' to close an incident")
        data["from"] = current
        severity = fields.get("severity")
        if severity:
            proto = session.need("protocol", str(incident.data.get("protocol")))
            levels = [s.get("level") for s in proto.data.get("severities") or () if isinstance(s, dict)]
            if severity not in levels:
                raise UsageError(f"protocol {proto.id!r} has no severity {severity!r}")
    elif entry_type == "correction":
        if not fields.get("text"):
            raise UsageError("a correction needs --text saying what is right")
        fields["corrects"] = approvals.entry_id(resolve_entry(entries, str(fields.get("corrects"))))
    elif entry_type == "override-review":
        target = resolve_entry(entries, str(fields.get("override")), "override")
        fields["override"] = approvals.entry_id(target)
        follow_up = next(
            o for o in approvals.overrides(session.index, incident, entries) if o.entry is target
        )
        if follow_up.review_by and actor not in approvals.members(session.index, follow_up.review_by):
            raise Refused(
                f"{actor!r} is not a member of role {follow_up.review_by!r}, which reviews this override"
            )
        if not fields.get("rationale"):
            raise UsageError("an override review needs --rationale")
    else:
        raise UsageError(f"cannot log entries of type {entry_type!r} with 'log'")
    data.update({k: v for k, v in fields.items() if v not in (None, [], "")})
    entry_id = _append(session, incident_id, data)
    if entry_type == "status-change":
        changes: dict[str, Any] = {"status": data["to"]}
        if data.get("severity"):
            changes["severity"] = data["severity"]
        _rewrite_incident(session, incident, changes)
    return entry_id


# --- drafts ------------------------------------------------------------------------------------


def _check_value(name: str, kind: str, value: str) -> str | None:
    if kind == "number" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return "is not a number"
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return "is not a date (YYYY-MM-DD)"
    if kind == "time" and not re.fullmatch(
        r"([01][0-9]|2[0-3]):[0-5][0-9]( ?[A-Z]{2,5}|[+-][0-9]{2}:[0-9]{2}|Z)?", value
    ):
        return "is not a time (HH:MM, optionally with a zone)"
    if kind == "datetime" and parse_time(value) is None:
        return "is not a timestamp with an offset"
    if kind == "url" and not re.fullmatch(r"https?://[^\s]+", value):
        return "is not an http(s) URL"
    if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return "is not an email address"
    if kind == "phone" and not re.fullmatch(r"\+?[0-9][0-9 ().-]{5,}", value):
        return "is not a phone number"
    return None


def fill_template(template: Document, values: Mapping[str, str]) -> str:
    """The template body with placeholders filled; every placeholder checked against
    its declaration (declared, given, type, max length)."""
    declared = {str(p.get("name")): p for p in template.data.get("placeholders") or () if isinstance(p, dict)}
    body = (template.body or "").strip()
    used = list(dict.fromkeys(PLACEHOLDER.findall(body)))
    problems = []
    for name in values:
        if name not in declared:
            problems.append(
                f"{name!r} is not a placeholder of template {template.id!r}" + _suggest(name, declared)
            )
    for name in used:
        if name not in declared:
            problems.append(f"the template body uses {name!r}, which it does not declare")
        elif name not in values:
            spec = declared[name]
            example = f", e.g. --set {name}={spec['example']!r}" if spec.get("example") else ""
            problems.append(f"missing --set {name}=... ({spec.get('description', '')}{example})")
    for name, value in values.items():
        if name not in declared:
            continue
        spec = declared[name]
        if len(value) > int(spec.get("max_length", 10**9)):
            problems.append(f"{name!r} is {len(value)} characters; at most {spec['max_length']}")
        problem = _check_value(name, str(spec.get("type")), value)
        if problem:
            problems.append(f"{name!r} = {value!r} {problem}")
    if problems:
        raise UsageError("cannot fill the template:\n  " + "\n  ".join(problems))
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


@dataclass
class DraftResult:
    entry_id: str
    sha256: str
    classes: list[str]
    verdict: approvals.Verdict


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
    found = approvals.scanned_classes(text, session.index) or []
    classes = sorted(set(data_classes) | set(found))
    digest = approvals.sha256_text(text)
    at = at or session.now
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
        },
    )
    session = reload(session)
    verdict = approvals.evaluate(session.index, incident, session.entries(incident_id), entry_id, at)
    return DraftResult(entry_id, digest, classes, verdict)


# --- approvals ---------------------------------------------------------------------------------


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
    at = at or session.now
    verdict = approvals.evaluate(session.index, incident, entries, draft_id, at)
    req = _pick_step(session, actor, verdict, step, role)
    word = "approve" if approve else "reject"
    if approve and actor == draft_doc.data.get("by"):
        raise Refused(f"separation of duties: {actor!r} wrote this draft and cannot approve it")
    if actor not in approvals.members(session.index, req.role):
        raise Refused(f"{actor!r} is not a member of role {req.role!r}, which step {req.step!r} needs")
    expected = approvals.sha256_text(str(draft_doc.data.get("text", "")))
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


# --- regulatory obligations ------------------------------------------------------------------------


def obligations_of(index: Index) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for key in index.ids("obligation"):
        hit = index.part("obligation", key)
        if hit is None:
            continue
        doc, path = hit
        value = index.value(doc, *path)
        if isinstance(value, dict):
            out[key] = value
    return out


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
    if obligation not in table:
        raise UsageError(
            f"no obligation {obligation!r} (write regulation-id#obligation-id)" + _suggest(obligation, table)
        )
    if applies and clock_start is None and not table[obligation].get("after"):
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
            "obligation": obligation,
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
    at: dt.datetime | None = None,
) -> str:
    session.incident(incident_id)
    table = obligations_of(session.index)
    if obligation not in table:
        raise UsageError(f"no obligation {obligation!r}" + _suggest(obligation, table))
    return _append(
        session,
        incident_id,
        {
            "type": "notification",
            "at": _timestamp(at or session.now),
            "by": actor,
            "obligation": obligation,
            "recipient": recipient,
            "reference": reference,
        },
    )


def deadlines(session: Session, incident_id: str) -> list[clocks.Deadline]:
    return clocks.deadlines(obligations_of(session.index), session.entries(incident_id))


# --- status ----------------------------------------------------------------------------------------------


def status(session: Session, incident_id: str) -> dict[str, Any]:
    """Everything a crisis lead acts on, as plain data (rendered as text or JSON)."""
    index = session.index
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    state = _status(session, incident)
    # Once closed, nothing runs late any more: clocks for waiting items stop at the close.
    now = metrics.end_of(incident, entries, session.now)
    current = approvals.severity_at(index, incident, entries, now)
    published = {str(e.data.get("draft")) for e in entries if e.data.get("type") == "publication"}
    waiting: list[dict[str, Any]] = []
    ready: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for entry in entries:
        if entry.data.get("type") != "draft" or approvals.entry_id(entry) in published:
            continue
        verdict = approvals.evaluate(index, incident, entries, approvals.entry_id(entry), now)
        if metrics.rejected(verdict):
            rejected.append(
                {
                    "draft": approvals.entry_id(entry),
                    "channel": entry.data.get("channel"),
                    "author": entry.data.get("by"),
                    "rejections": [
                        {"step": s.requirement.step, "by": s.rejection[0], "reason": s.rejection[2]}
                        for s in verdict.steps
                        if s.rejection is not None
                    ],
                }
            )
            continue
        steps: list[dict[str, Any]] = []
        row = {
            "draft": approvals.entry_id(entry),
            "channel": entry.data.get("channel"),
            "author": entry.data.get("by"),
            "at": entry.data.get("at"),
            "sha256": approvals.sha256_text(str(entry.data.get("text", ""))),
            "data_classes": verdict.classes,
            "forbidden": verdict.forbidden,
            "problems": verdict.problems,
            "steps": steps,
        }
        for missing in approvals.describe_missing(verdict):
            can = sorted(approvals.members(index, missing["role"]) - {entry.data.get("by")})
            due = parse_time(missing["due"])
            missing["who_can_approve"] = can
            missing["overdue_seconds"] = (now - due).total_seconds() if due and now > due else None
            steps.append(missing)
        if verdict.ok:
            ready.append(row)
        else:
            waiting.append(row)
    found = deadlines(session, incident_id)
    pubs = metrics.public_publications(index, entries)
    next_update = None
    if pubs and state != "closed":
        last = approvals.at_of(pubs[-1])
        every = metrics.update_every(index, incident, current)
        if last and every:
            due_at = every.after(last)
            assert isinstance(due_at, dt.datetime)
            next_update = {
                "last_publication": last.isoformat(),
                "every": str(every),
                "due": due_at.isoformat(),
                "seconds_left": (due_at - now).total_seconds(),
            }
    follow_ups = [
        {
            "override": approvals.entry_id(o.entry),
            "draft": o.entry.data.get("draft"),
            "by": o.entry.data.get("by"),
            "role": o.entry.data.get("role"),
            "reason": o.entry.data.get("rationale"),
            "review_by": o.review_by,
            "due": o.due.isoformat() if o.due else None,
            "overdue": bool(o.due and now > o.due),
        }
        for o in approvals.overrides(index, incident, entries)
        if o.reviewed is None
    ]
    return {
        "incident": incident.id,
        "title": incident.data.get("title"),
        "exercise": bool(incident.data.get("exercise")),
        "protocol": incident.data.get("protocol"),
        "status": state,
        "severity": current,
        "now": session.now.isoformat(),
        "closed": now.isoformat() if state == "closed" else None,
        "waiting": waiting,
        "ready_to_publish": ready,
        "rejected": rejected,
        "deadlines": [d.as_json(now) for d in found],
        "next_update": next_update,
        "override_reviews": follow_ups,
        "injects": injects(session, incident, entries, now),
        "metrics": metrics.compute(index, incident, entries, found, now),
    }


def injects(
    session: Session, incident: Document, entries: Sequence[Document], now: dt.datetime
) -> list[dict[str, Any]]:
    if not incident.data.get("exercise"):
        return []
    protocol = session.index.get("protocol", str(incident.data.get("protocol")))
    start = metrics.declared_at(incident, entries)
    delivered = {e.data.get("exercise_inject") for e in entries if "exercise_inject" in e.data}
    rows = []
    for position, item in enumerate((protocol.data.get("injects") or ()) if protocol else ()):
        if not isinstance(item, dict):
            continue
        offset = durations.parse(str(item.get("at")))
        due = offset.after(start) if offset and start else None
        rows.append(
            {
                "inject": position,
                "at": item.get("at"),
                "due": due.isoformat() if isinstance(due, dt.datetime) else None,
                "text": item.get("text"),
                "delivered": position in delivered,
                "pending": bool(isinstance(due, dt.datetime) and due <= now and position not in delivered),
            }
        )
    return rows


# --- close and review ---------------------------------------------------------------------------------------


def open_items(session: Session, incident_id: str) -> list[str]:
    report = status(session, incident_id)
    items = []
    for row in report["waiting"]:
        steps = ", ".join(f"{s['step']} ({s['role']})" for s in row["steps"])
        items.append(f"draft {row['draft']} awaits approval: {steps}")
    for deadline in report["deadlines"]:
        if deadline["state"] in ("open", "overdue", "waiting"):
            items.append(f"obligation {deadline['obligation']} ({deadline['title']}) is {deadline['state']}")
    for follow in report["override_reviews"]:
        items.append(f"override {follow['override']} awaits review by {follow['review_by']}")
    return items


def close(session: Session, actor: str, incident_id: str, *, override_reason: str | None = None) -> list[str]:
    """Close the incident; returns the open items that were overridden."""
    incident = session.incident(incident_id)
    current = _status(session, incident)
    if current == "closed":
        raise Refused(f"incident {incident_id!r} is already closed")
    items = open_items(session, incident_id)
    if items and not override_reason:
        raise Refused(
            "cannot close while items are open:\n  "
            + "\n  ".join(items)
            + "\n(pass --override-reason to close anyway; it is logged)"
        )
    at = session.now
    if current != "stable":
        # Two transitions: stable first, closed one second later so event order is unambiguous.
        _append(
            session,
            incident_id,
            {"type": "status-change", "at": _timestamp(at), "by": actor, "from": current, "to": "stable"},
        )
        at += dt.timedelta(seconds=1)
    rationale = None
    if items:
        rationale = f"closed with open items ({'; '.join(items)}): {override_reason}"
    _append(
        session,
        incident_id,
        {
            "type": "status-change",
            "at": _timestamp(at),
            "by": actor,
            "from": "stable",
            "to": "closed",
            "rationale": rationale,
        },
    )
    stamps = dict(incident.data.get("timestamps") or {})
    stamps["closed"] = _timestamp(at)
    _rewrite_incident(session, incident, {"status": "closed", "timestamps": stamps})
    return items


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
    body = render_review_body(report, actor)
    text = store.checked(session.root, rel, data, body)
    try:
        store.create_exclusive(target, text)
    except FileExistsError:
        raise Refused(f"{rel} already exists") from None
    return target


def _span(seconds: float | None) -> str:
    return "n/a" if seconds is None else clocks.humanise(seconds)


def render_review_body(report: Mapping[str, Any], actor: str) -> str:
    m = report["metrics"]
    lines = [
        f"# Review: {report['title']}",
        "",
        f"Computed from the incident log by `charter incident review` on {report['now']} for {actor}. "
        "Do not edit the figures; run `charter incident status --format json` to recompute them.",
        "",
        "## Metrics",
        "",
        "| Metric | Value |",
        "|---|---|",
        f"| Time to detect | {_span(m['time_to_detect_seconds'])} |",
        f"| Time to declare | {_span(m['time_to_declare_seconds'])} |",
        f"| Time to first public statement | {_span(m['time_to_first_public_statement_seconds'])} |",
        f"| Public statements | {m['public_statements']} |",
        f"| Updates kept / missed | {m['updates_kept']} / {m['updates_missed']} |",
        f"| Deadlines met / missed / open | {m['deadlines_met']} / {m['deadlines_missed']} "
        f"/ {m['deadlines_open']} |",
        f"| Corrections | {m['corrections']} |",
        f"| Approval steps over their time target | {len(m['approval_sla_missed'])} |",
        "",
        "## Approval latency",
        "",
        "| Step or role | Approvals | Median | Longest |",
        "|---|---|---|---|",
    ]
    for label, table in (("step", m["approval_latency_per_step"]), ("role", m["approval_latency_per_role"])):
        for name, row in table.items():
            lines.append(
                f"| {label} {name} | {row['count']} | {_span(row['median_seconds'])} "
                f"| {_span(row['max_seconds'])} |"
            )
    lines += ["", "## Regulatory deadlines", "", "| Obligation | Rule | Due | State |", "|---|---|---|---|"]
    for d in report["deadlines"]:
        lines.append(
            f"| {d['obligation']} | {d['rule']} | {d['due'] or 'no fixed deadline'} | {d['state']} |"
        )
    lines += ["", "## Findings", "", "_To be written by the review meeting._", ""]
    return "\n".join(lines)
