"""Media enquiries: an ``enquiry`` entry (outlet, journalist, channel, received at,
deadline, questions) and the ``enquiry-answer`` that closes it with a published
statement, an approved Q&A line or a recorded decline.

An enquiry with no answer is open; past its deadline it is overdue, and an overdue
enquiry is an open item of the incident (status lists open enquiries by deadline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from clearance.errors import UsageError
from clearance.incidents import approvals, logbook, state, store
from clearance.incidents.session import Refused, Session, resolve_entry, state_of
from clearance.index import parse_time
from clearance.model import Document

ANSWERS = ("statement", "qa-line", "decline")


@dataclass(frozen=True)
class Enquiry:
    entry: str
    outlet: str
    journalist: str | None
    channel: str
    received_at: dt.datetime | None
    deadline: dt.datetime | None
    questions: tuple[str, ...]
    answer: str | None  # statement | qa-line | decline
    answered_at: dt.datetime | None
    answered_by: str | None  # the enquiry-answer entry

    def overdue(self, now: dt.datetime) -> bool:
        end = self.answered_at or now
        return self.deadline is not None and end > self.deadline

    def late_seconds(self, now: dt.datetime) -> float | None:
        if self.deadline is None:
            return None
        return ((self.answered_at or now) - self.deadline).total_seconds()


def enquiries(entries: Sequence[Document], voided: frozenset[str] | set[str] = frozenset()) -> list[Enquiry]:
    """Every enquiry of a log with its answer (the first valid one), by deadline."""
    answers: dict[str, Document] = {}
    for entry in entries:
        if entry.data.get("type") == "enquiry-answer" and state.entry_id(entry) not in voided:
            answers.setdefault(str(entry.data.get("enquiry")), entry)
    out = []
    for entry in entries:
        ident = state.entry_id(entry)
        if entry.data.get("type") != "enquiry" or ident in voided:
            continue
        answer = answers.get(ident)
        out.append(
            Enquiry(
                ident,
                str(entry.data.get("outlet")),
                str(entry.data["journalist"]) if entry.data.get("journalist") else None,
                str(entry.data.get("channel")),
                parse_time(entry.data.get("received_at")),
                parse_time(entry.data.get("deadline")),
                tuple(str(q) for q in entry.data.get("questions") or ()),
                str(answer.data.get("answer")) if answer is not None else None,
                approvals.at_of(answer) if answer is not None else None,
                state.entry_id(answer) if answer is not None else None,
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda e: (e.deadline or far, e.entry))


def open_enquiries(session: Session, incident: Document) -> list[Enquiry]:
    derived = state_of(session, incident)
    return [e for e in enquiries(session.entries(str(incident.id)), derived.voided) if e.answer is None]


def record(
    session: Session,
    actor: str,
    incident_id: str,
    *,
    outlet: str,
    channel: str,
    received_at: dt.datetime,
    questions: Sequence[str],
    journalist: str | None = None,
    deadline: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> logbook.Logged:
    incident = session.incident(incident_id)
    session.need("channel", channel)
    questions = [q.strip() for q in questions if q.strip()]
    if not outlet.strip():
        raise UsageError("an enquiry needs --outlet (the publication or programme asking)")
    if not questions:
        raise UsageError("an enquiry needs at least one --question (what was asked)")
    if received_at > session.now:
        raise UsageError(f"--received {received_at.isoformat()} is in the future")
    if deadline is not None and deadline <= received_at:
        raise UsageError(
            f"--deadline {deadline.isoformat()} is not after --received {received_at.isoformat()}"
        )
    for existing in enquiries(session.entries(incident_id)):
        if (
            existing.outlet == outlet
            and existing.journalist == journalist
            and existing.received_at == received_at
        ):
            return logbook.Logged(
                existing.entry, False, f"enquiry {existing.entry} already records it; nothing was written"
            )
    data = {
        "type": "enquiry",
        "at": store.format_time(at or session.now),
        "by": actor,
        "outlet": outlet.strip(),
        "journalist": journalist,
        "channel": channel,
        "received_at": store.format_time(received_at),
        "deadline": store.format_time(deadline) if deadline else None,
        "questions": questions,
    }
    return logbook.Logged(logbook.append(session, incident, data), True)


def _published(entries: Sequence[Document], draft_id: str) -> Document | None:
    return next(
        (e for e in entries if e.data.get("type") == "publication" and e.data.get("draft") == draft_id),
        None,
    )


def answer(
    session: Session,
    actor: str,
    incident_id: str,
    enquiry_ref: str,
    *,
    kind: str,
    draft_ref: str | None = None,
    rationale: str | None = None,
    at: dt.datetime | None = None,
) -> logbook.Logged:
    """Record the answer to an enquiry: ``statement`` (a published draft), ``qa-line`` (a
    draft whose approvals are complete) or ``decline`` (with a rationale)."""
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    if kind not in ANSWERS:
        raise UsageError(f"--answer {kind!r}: choose from {', '.join(ANSWERS)}")
    target = resolve_entry(entries, enquiry_ref, "enquiry")
    ident = state.entry_id(target)
    derived = state_of(session, incident)
    done = next((e for e in enquiries(entries, derived.voided) if e.entry == ident and e.answer), None)
    if done is not None:
        return logbook.Logged(
            str(done.answered_by),
            False,
            f"enquiry {ident} is already answered ({done.answer}); nothing was written",
        )
    moment = at or session.now
    received = parse_time(target.data.get("received_at"))
    if received is not None and moment < received:
        raise UsageError(f"the answer is dated before the enquiry was received ({received.isoformat()})")
    draft_id = None
    if kind == "decline":
        if draft_ref:
            raise UsageError("a decline names no --draft; say why with --rationale")
        if not rationale:
            raise UsageError("a decline needs --rationale (why we do not answer)")
    else:
        if not draft_ref:
            what = "the published statement" if kind == "statement" else "the approved Q&A line"
            raise UsageError(f"an answer by {kind} needs --draft DRAFT ({what})")
        draft = resolve_entry(entries, draft_ref, "draft")
        draft_id = state.entry_id(draft)
        if draft_id in derived.withdrawn:
            raise Refused(f"draft {draft_id} was withdrawn")
        if kind == "statement":
            publication = _published(entries, draft_id)
            if publication is None:
                raise Refused(
                    f"draft {draft_id} is not published; publish it first, or answer with --answer qa-line "
                    "if it is an approved Q&A line sent only to the journalist"
                )
            published_at = approvals.at_of(publication)
            if published_at is not None and published_at > moment:
                raise Refused(f"draft {draft_id} was published after the answer's time")
        else:
            membership = approvals.Membership(session.index, session.root)
            sha = approvals.sha256_text(str(draft.data.get("text", "")))
            verdict = approvals.evaluate(session.index, incident, entries, draft_id, moment, sha, membership)
            if not verdict.ok:
                raise Refused(f"Q&A line {draft_id} is not approved:\n  " + "\n  ".join(verdict.reasons()))
    data = {
        "type": "enquiry-answer",
        "at": store.format_time(moment),
        "by": actor,
        "enquiry": ident,
        "answer": kind,
        "draft": draft_id,
        "rationale": rationale,
    }
    return logbook.Logged(logbook.append(session, incident, data), True)
