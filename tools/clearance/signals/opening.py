"""``signals evaluate --open``: open the incident the signals call for, or escalate the
open one, and log an observation per met trigger naming the trigger and linking the
export rows. Writes go through the incident workflow (:mod:`clearance.incidents.workflow`
and :mod:`clearance.incidents.logbook`); nothing here writes YAML itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clearance.errors import UsageError
from clearance.incidents import logbook, state, store, workflow
from clearance.incidents.session import Refused, Session, reload, state_of
from clearance.model import Document
from clearance.signals.triggers import Met, ProtocolResult, as_data, more_severe


@dataclass(frozen=True)
class Opened:
    incident: str
    created: bool
    escalated_from: str | None
    severity: str
    observations: tuple[str, ...]  # entry ids written
    already: tuple[str, ...]  # triggers an earlier observation already records


def _open_incident(session: Session, protocol: str, exercise: bool) -> Document | None:
    """The latest incident of ``protocol`` that is not closed (exercise or not, as asked)."""
    found = [
        doc
        for doc in session.index.of_kind("incident")
        if doc.data.get("protocol") == protocol
        and bool(doc.data.get("exercise")) == exercise
        and state_of(session, doc).status != "closed"
    ]
    return max(found, key=lambda d: str(d.id)) if found else None


def _recorded(session: Session, incident: str, met: Met) -> str | None:
    for entry in session.entries(incident):
        trig = entry.data.get("trigger")
        if (
            entry.data.get("type") == "observation"
            and isinstance(trig, dict)
            and trig.get("protocol") == met.trigger.protocol
            and trig.get("trigger") == met.trigger.id
        ):
            return state.entry_id(entry)
    return None


def _observation(actor: str, now: dt.datetime, met: Met, files: Sequence[str]) -> dict[str, Any]:
    t = met.trigger
    rows = [
        {
            "row": s.where,
            "at": store.format_time(s.moment),
            **({"url": s.url} if s.url else {}),
            **({"reach": s.reach} if s.reach is not None and t.measure == "reach" else {}),
        }
        for s in met.rows
    ]
    return {
        "type": "observation",
        "at": store.format_time(now),
        "by": actor,
        "text": (
            f"Monitoring trigger {t.id!r} of protocol {t.protocol!r} met at "
            f"{store.format_time(met.met_at)}: {met.summary()}; it calls for {met.severity}."
        ),
        "source": ", ".join(files),
        "trigger": dict(as_data(met)),
        "evidence": rows,
    }


def open_or_escalate(
    session: Session,
    actor: str,
    result: ProtocolResult,
    files: Sequence[str],
    *,
    incident: str | None = None,
    exercise: bool = False,
    title: str | None = None,
    slug: str | None = None,
) -> Opened:
    proto = session.need("protocol", result.protocol)
    target = session.incident(incident) if incident else _open_incident(session, result.protocol, exercise)
    if target is not None and target.data.get("protocol") != result.protocol:
        raise Refused(
            f"incident {target.id!r} runs protocol {target.data.get('protocol')!r}, but the signals meet "
            f"protocol {result.protocol!r}'s triggers"
        )
    created, previous = False, None
    if target is not None and not incident and not session.entries(str(target.id)):
        # incident.yaml without its declaration: a run killed in between; the same opening
        # again finishes it (new_incident refuses if anything differs)
        target = None
    if target is None:
        first = result.first
        if first.met_at > session.now:
            raise UsageError(
                f"the signals met {first.trigger.id!r} at {first.met_at.isoformat()}, after now "
                f"({session.now.isoformat()}); pass --now or check the export's time zone"
            )
        ident = workflow.new_incident(
            session,
            actor,
            protocol=result.protocol,
            title=title or f"{proto.data.get('title')} (from monitoring)",
            severity=result.severity,
            slug=slug,
            exercise=exercise,
            detected=first.met_at,
            summary=f"Opened from monitoring signals: {', '.join(m.trigger.id for m in result.met)} met.",
        )
        session = reload(session)
        created = True
    else:
        ident = str(target.id)
        derived = state_of(session, target)
        if derived.status == "closed":
            raise Refused(f"incident {ident!r} is closed; reopen it or open a new one")
        current = derived.severity
        if more_severe(result.severity, current) == result.severity and result.severity != current:
            trig = min((m for m in result.met if m.severity == result.severity), key=lambda m: m.met_at)
            logbook.log(
                session,
                actor,
                ident,
                "escalation",
                {
                    "severity": result.severity,
                    "rationale": f"Monitoring trigger {trig.trigger.id!r} met: {trig.summary()}",
                },
            )
            session = reload(session)
            previous = current
    written, already = [], []
    doc = session.incident(ident)
    for met in result.met:
        earlier = _recorded(session, ident, met)
        if earlier is not None:
            already.append(f"{met.trigger.id} ({earlier})")
            continue
        written.append(logbook.append(session, doc, _observation(actor, session.now, met, files)))
        session = reload(session)
    return Opened(
        ident,
        created,
        previous,
        state_of(session, session.incident(ident)).severity,
        tuple(written),
        tuple(already),
    )
