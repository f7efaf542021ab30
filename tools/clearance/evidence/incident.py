"""An incident's evidence pack, gathered from the loaded repository: chronology,
statements with their approvals, obligations with their deadlines, notifications,
severity and status changes, the review and its metrics.

Classification-aware, with the handbook's rules (:mod:`clearance.site.audience`): a
log entry has its incident's classification (or its own, if higher), a review is at
least as classified as its incident, and a document the pack refers to (a cited
policy, a data class, a regulation, a template, a channel) is named only when the
audience may read it. Whatever is withheld is counted by what it is, never named."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clearance import __version__, loading
from clearance.config import Config
from clearance.errors import FatalError, UsageError
from clearance.evidence import manifest as manifests
from clearance.evidence import signatures
from clearance.evidence.model import (
    Change,
    Decision,
    Event,
    IncidentPack,
    Manifest,
    Notification,
    Obligation,
    Review,
    Statement,
    Withheld,
)
from clearance.incidents import approvals, metrics, obligations, privilege
from clearance.incidents.clocks import humanise
from clearance.incidents.provenance import Provenance
from clearance.incidents.session import Session, obligations_of, open_session
from clearance.index import Index, parse_time
from clearance.model import Document
from clearance.site.audience import AUDIENCES, Audience

WITHHELD = "[withheld]"
DECISION_TYPES = ("approval", "rejection")
# severity and status changes
CHANGE_TYPES = ("status-change", "escalation", "de-escalation", "reopen", "resolution-decision")


def _iso(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else ""


def _at(doc: Document) -> str:
    return _iso(approvals.at_of(doc)) or str(doc.data.get("at", ""))


class _Gate:
    """Decides, once per document, whether the audience may read it; counts what not."""

    def __init__(self, level: str, index: Index) -> None:
        self.audience = Audience(level, index, ())
        self.limit = self.audience.limit  # the legal audience alone reads privileged entries
        self.counts: Counter[str] = Counter()
        self.used: dict[str, str] = {}  # path -> role, of every visible document drawn on

    def sees(self, doc: Document | None) -> bool:
        return doc is not None and self.audience.effective_rank(doc) <= self.limit

    def withhold(self, what: str) -> None:
        self.counts[what] += 1

    def name(self, doc: Document | None, shown: str, what: str) -> str:
        """``shown`` when the audience may read ``doc``; else a counted placeholder.
        A reference to nothing is shown as written (``clearance check`` reports it)."""
        if doc is None:
            return shown
        if self.sees(doc):
            self.used.setdefault(doc.path, "document")
            return shown
        self.withhold(what)
        return WITHHELD

    def withheld(self) -> Withheld:
        return Withheld(tuple(sorted(self.counts.items())))


def _ref(gate: _Gate, index: Index, kind: str, key: str, what: str) -> str:
    if kind in ("clause", "obligation"):
        hit = index.part(kind, key)
        return gate.name(hit[0] if hit else None, key, what)
    return gate.name(index.get(kind, key), key, what)


def _refs(gate: _Gate, index: Index, entry: Document) -> str:
    """The documents an entry cites or names, as ids the audience may read."""
    data = entry.data
    parts = []
    cites = [_ref(gate, index, "clause", str(c), "cited policy clauses") for c in data.get("cites") or ()]
    if cites:
        parts.append("cites " + ", ".join(cites))
    for key, kind, what in (
        ("channel", "channel", "channels"),
        ("template", "template", "templates"),
        ("obligation", "obligation", "regulations"),
    ):
        if isinstance(data.get(key), str):
            parts.append(f"{key} {_ref(gate, index, kind, data[key], what)}")
    classes = [
        _ref(gate, index, "data-class", str(c), "data classes") for c in data.get("data_classes") or ()
    ]
    if classes:
        parts.append("data classes " + ", ".join(classes))
    return "; ".join(parts)


def _describe(entry: Document) -> str:
    """One entry, in words, for the chronology."""
    d = entry.data
    kind = d.get("type")
    if kind in DECISION_TYPES:
        verb = "approved" if kind == "approval" else "rejected"
        who = f"{d.get('person', d.get('by'))} ({d.get('role')})"
        return f"{who} {verb} draft {d.get('draft')} at step {d.get('step')}"
    if kind == "publication":
        return f"Published draft {d.get('draft')}" + (f": {d['link']}" if d.get("link") else "")
    if kind == "draft":
        return f"Drafted statement {approvals.entry_id(entry)} (full text under Statements)"
    if kind == "assessment":
        applies = "applies" if d.get("applies") else "does not apply"
        start = f"; clock started {d['clock_start']}" if d.get("clock_start") else ""
        return f"Assessed {d.get('obligation')}: {applies}{start}"
    if kind == "notification":
        return f"Notified {d.get('recipient')} under {d.get('obligation')} (reference {d.get('reference')})"
    if kind == "talking-points":
        return "Talking points: " + " / ".join(str(p) for p in d.get("points") or ())
    if kind == "role-change":
        return f"{str(d.get('action', 'assign')).capitalize()} {d.get('person')} as {d.get('role')}"
    if kind == "status-change":
        severity = f" (severity {d['severity']})" if d.get("severity") else ""
        return f"Status {d.get('from')} → {d.get('to')}{severity}"
    if kind in ("escalation", "de-escalation"):
        return f"{str(kind).capitalize()} to severity {d.get('severity')}"
    if kind == "facts":
        facts: dict[str, Any] = d["facts"] if isinstance(d.get("facts"), dict) else {}
        return "Facts: " + "; ".join(f"{k} = {v}" for k, v in facts.items())
    if kind == "tolling":
        return f"Clock tolled for {d.get('obligation') or d.get('regulation')}" + (
            f" until {d['until']}" if d.get("until") else ""
        )
    if kind == "withdraw":
        return f"Withdrew draft {d.get('draft')}"
    if kind == "enquiry":
        return f"Enquiry from {d.get('outlet')} on {d.get('channel')}: " + " / ".join(
            str(q) for q in d.get("questions") or ()
        )
    if kind == "enquiry-answer":
        return f"Answered enquiry {d.get('enquiry')}: {d.get('answer')}"
    if kind == "correction":
        return f"Corrects {d.get('corrects')}: {d.get('text', '')}"
    return str(d.get("text") or d.get("rationale") or kind)


def _change(entry: Document) -> str:
    d = entry.data
    if d.get("type") == "decision":
        return f"Severity {d.get('severity')}: {d.get('text', '')}"
    text = _describe(entry)
    reason = str(d.get("rationale") or "")
    return text + (f" ({reason})" if reason and reason not in text else "")


def _detail(entry: Document, refs: str) -> str:
    d = entry.data
    parts = []
    if d.get("type") not in ("correction",) and d.get("rationale"):
        parts.append(f"Rationale: {d['rationale']}")
    if d.get("source"):
        parts.append(f"Source: {d['source']}")
    if refs:
        parts.append(refs)
    return " · ".join(parts)


def _statements(
    session: Session,
    incident: Document,
    entries: Sequence[Document],
    gate: _Gate,
    end: dt.datetime,
    proofs: Provenance,
) -> list[Statement]:
    index = session.index
    membership = approvals.Membership(index, session.root)
    incident_id = str(incident.id)
    published: dict[str, Document] = {}
    for entry in entries:
        if entry.data.get("type") == "publication":
            published.setdefault(str(entry.data.get("draft")), entry)
    out = []
    for draft in entries:
        if draft.data.get("type") != "draft":
            continue
        draft_id = approvals.entry_id(draft)
        publication = published.get(draft_id)
        when = approvals.at_of(publication) if publication else end
        verdict = approvals.evaluate(index, incident, entries, draft_id, when or end, membership=membership)
        counted = {ref for step in verdict.steps for _who, _at, ref in step.approvers}
        decisions = []
        for entry in entries:
            d = entry.data
            if d.get("type") not in DECISION_TYPES or str(d.get("draft")) != draft_id:
                continue
            ident = approvals.entry_id(entry)
            decisions.append(
                Decision(
                    entry=ident,
                    decision="approved" if d.get("type") == "approval" else "rejected",
                    person=str(d.get("person") or d.get("by")),
                    role=str(d.get("role", "")),
                    step=str(d.get("step", "")),
                    at=_at(entry),
                    sha256=str(d.get("sha256", "")),
                    signature=signatures.status(proofs, incident_id, entry),
                    counted=ident in counted,
                    note=str(d.get("rationale", "")),
                )
            )
        text = str(draft.data.get("text", ""))
        classes = [_ref(gate, index, "data-class", c, "data classes") for c in verdict.classes]
        out.append(
            Statement(
                draft=draft_id,
                channel=_ref(gate, index, "channel", str(draft.data.get("channel")), "channels"),
                author=str(draft.data.get("by", "")),
                drafted_at=_at(draft),
                text=text if publication is not None else None,
                sha256=approvals.sha256_text(text),
                published_at=_at(publication) if publication else None,
                link=str(publication.data.get("link"))
                if publication and publication.data.get("link")
                else None,
                decisions=tuple(decisions),
                approved=verdict.ok,
                problems=tuple(verdict.reasons()) if publication is not None else (),
                data_classes=tuple(classes),
            )
        )
    return out


def _obligations(
    index: Index, incident: Document, entries: Sequence[Document], gate: _Gate, end: dt.datetime
) -> list[Obligation]:
    """Every obligation of the regulations the incident's protocol lists, and every one
    the log assessed or notified, with its state as the clocks compute it (fail closed:
    what nobody assessed is 'unassessed', never left out)."""
    states = obligations.obligation_states(
        obligations_of(index), entries, obligations.listed_regulations(index, incident)
    )
    out = []
    for state in states:
        hit = index.part("obligation", state.key)
        if hit is not None and not gate.sees(hit[0]):
            gate.withhold("regulatory obligations")
            continue
        if hit is not None:
            gate.used.setdefault(hit[0].path, "document")
        tolled = None
        if state.tolled is not None:
            until = _iso(state.tolled[1]) if state.tolled[1] else "the logged delay ends"
            tolled = f"{_iso(state.tolled[0])} until {until}"
        out.append(
            Obligation(
                obligation=state.key,
                title=state.title,
                applies={"applies": "yes", "not-applicable": "no"}.get(state.status, state.status),
                assessed_by=state.assessed_by or "",
                assessed_at=_iso(state.assessed_at),
                rationale=state.reason,
                clock_start=_iso(state.start) or None,
                due=_iso(state.due) or None,
                state=state.state(end),
                notified=_iso(state.notified) or None,
                recipient=state.recipient,
                reference=state.reference,
                cite=state.cite,
                tolled=tolled,
            )
        )
    return out


def _review(index: Index, incident: Document, gate: _Gate, figures: dict[str, Any]) -> Review | None:
    metrics_rows = _metrics(figures)
    review = next((r for r in index.of_kind("review") if r.data.get("incident") == incident.id), None)
    if review is None:
        return Review("", (), (), metrics_rows)
    if not gate.sees(review):
        gate.withhold("reviews")
        return Review("", (), (), metrics_rows)
    gate.used.setdefault(review.path, "review")
    findings = tuple(
        (str(f.get("id", "")), str(f.get("type", "")), str(f.get("text", "")).strip())
        for f in review.data.get("findings") or ()
        if isinstance(f, dict)
    )
    actions = tuple(
        (
            str(a.get("text", "")).strip(),
            str(a.get("owner", "")),
            str(a.get("due", "")),
            str(a.get("status", "")),
        )
        for a in review.data.get("action_items") or ()
        if isinstance(a, dict)
    )
    return Review(str(review.data.get("held_on", "")), findings, actions, metrics_rows)


def _span(seconds: Any) -> str:
    return humanise(float(seconds)) if isinstance(seconds, int | float) else "—"


def _metrics(m: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The review's metrics, computed from the log (never typed in)."""
    return (
        ("Time to detect", _span(m.get("time_to_detect_seconds"))),
        ("Time to declare", _span(m.get("time_to_declare_seconds"))),
        ("Time to first public statement", _span(m.get("time_to_first_public_statement_seconds"))),
        ("Public statements", str(m.get("public_statements", 0))),
        ("Approval steps past their time target", str(len(m.get("approval_sla_missed") or ()))),
        ("Updates on time / missed", f"{m.get('updates_kept', 0)} / {m.get('updates_missed', 0)}"),
        (
            "Deadlines met / missed / open",
            f"{m.get('deadlines_met', 0)} / {m.get('deadlines_missed', 0)} / {m.get('deadlines_open', 0)}",
        ),
        ("Corrections", str(m.get("corrections", 0))),
        ("Log entries", str(m.get("entries", 0))),
    )


def gather(
    config: Config, incident_id: str, *, audience: str | None = None, now: dt.datetime | None = None
) -> IncidentPack:
    """The evidence pack for one incident, for ``audience`` (default: the incident's
    own classification). UsageError when the audience may not read the incident."""
    session = open_session(config, now)
    index = session.index
    incident = session.incident(incident_id)
    level = audience or str(incident.data.get("classification", "restricted"))
    if level not in AUDIENCES:
        level = "restricted"
    gate = _Gate(level, index)
    if not gate.sees(incident):
        raise UsageError(
            f"incident {incident_id!r} is classified {incident.data.get('classification')!r}: "
            f"audience {level!r} may not read it (use --audience "
            f"{incident.data.get('classification')} or above)"
        )
    gate.used[incident.path] = "incident"
    all_entries = session.entries(incident_id)
    _refuse_unreadable(Path(config.root).resolve(), incident, all_entries)
    entries = []
    for entry in all_entries:
        if gate.sees(entry):
            entries.append(entry)
            gate.used[entry.path] = "log-entry"
        else:  # counted, never named; privileged entries by their own count
            gate.withhold("privileged entries" if privilege.is_privileged(entry) else "log entries")
    end = metrics.end_of(incident, entries, session.now)
    proofs = Provenance(index, session.root)
    events = tuple(
        Event(
            _at(e),
            approvals.entry_id(e),
            str(e.data.get("type")),
            str(e.data.get("by", "")),
            _describe(e),
            _detail(e, _refs(gate, index, e)),
        )
        for e in entries
    )
    statements = _statements(session, incident, entries, gate, end, proofs)
    # Obligations assessed in privileged entries keep their state for other audiences
    # (a deadline is no secret); counsel's words read "privileged entry" (issue 23).
    sealed = [e for e in all_entries if privilege.is_privileged(e) and not gate.sees(e)]
    judged = [e for e in all_entries if e in entries or e in sealed] if sealed else entries
    duties = privilege.scrub(_obligations(index, incident, judged, gate, end), privilege.words_of(sealed))
    notifications = tuple(
        Notification(
            approvals.entry_id(e),
            _at(e),
            _ref(gate, index, "obligation", str(e.data.get("obligation")), "regulations"),
            str(e.data.get("recipient", "")),
            str(e.data.get("reference", "")),
            str(e.data.get("by", "")),
            signatures.status(proofs, incident_id, e),
        )
        for e in entries
        if e.data.get("type") == "notification"
    )
    changes = tuple(
        Change(approvals.entry_id(e), _at(e), str(e.data.get("by", "")), _change(e))
        for e in entries
        if e.data.get("type") in CHANGE_TYPES or (e.data.get("type") == "decision" and e.data.get("severity"))
    )
    found = [state.deadline() for state in _states(index, incident, entries) if state.applies]
    figures = metrics.compute(index, incident, entries, found, end, approvals.Membership(index, session.root))
    review = _review(index, incident, gate, figures)
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    gate.name(protocol, "", "protocols")
    root = Path(config.root).resolve()
    pack_manifest = _manifest(root, config, "incident", incident_id, level, gate)
    stamps = incident.data.get("timestamps") or {}
    return IncidentPack(
        organisation=config.organisation,
        incident=incident_id,
        title=str(incident.data.get("title", incident_id)),
        classification=str(incident.data.get("classification", "")),
        audience=level,
        exercise=bool(incident.data.get("exercise")),
        severity=approvals.severity_at(index, incident, entries, end),
        status=_status(incident, entries),
        summary=" ".join(str(incident.data.get("summary") or incident.data.get("description") or "").split()),
        timestamps=tuple((str(k), _iso(parse_time(v)) or str(v)) for k, v in stamps.items()),
        events=events,
        statements=tuple(statements),
        obligations=tuple(duties),
        notifications=notifications,
        changes=changes,
        review=review,
        withheld=gate.withheld(),
        manifest=pack_manifest,
        deadlines=tuple((o.obligation, o.due) for o in duties if o.due and o.applies == "yes"),
    )


def _states(index: Index, incident: Document, entries: Sequence[Document]) -> list[Any]:
    return obligations.obligation_states(
        obligations_of(index), entries, obligations.listed_regulations(index, incident)
    )


def _refuse_unreadable(root: Path, incident: Document, entries: Sequence[Document]) -> None:
    """A pack that silently left out a log entry nobody could read would not be the
    record: each file in the log folder must have loaded, else the pack is refused with
    the file's own error (fix it by appending a correction, never by editing history)."""
    folder = root / Path(incident.path).parent / "log"
    loaded = {e.path for e in entries}
    for file in sorted(folder.glob("*")) if folder.is_dir() else ():
        rel = file.relative_to(root).as_posix()
        if rel in loaded or not file.is_file() or file.name.startswith("."):
            continue
        try:
            loading.load_file(file, rel)
        except loading.LoadFailed as exc:
            problem = exc.problems[0]
            raise FatalError(
                f"{problem.location}: {problem.rule} {problem.message}; "
                "an evidence pack cannot leave a log entry out (run 'clearance check')"
            ) from None
        raise FatalError(
            f"{rel}:1:1: not loaded as a log entry of {incident.id!r}; an evidence pack cannot leave it out "
            "(run 'clearance check')"
        )


def _status(incident: Document, entries: Sequence[Document]) -> str:
    status = str(incident.data.get("status", "triage"))
    for entry in entries:
        if entry.data.get("type") == "status-change" and isinstance(entry.data.get("to"), str):
            status = entry.data["to"]
    return status


def _manifest(root: Path, config: Config, kind: str, subject: str, level: str, gate: _Gate) -> Manifest:
    sources = manifests.file_sources(root, sorted(gate.used.items()))
    commit = manifests.head(root)
    return Manifest(
        kind=kind,
        subject=subject,
        organisation=config.organisation,
        repository=manifests.repository_name(root),
        commit=commit,
        dirty=manifests.dirty(root, commit, sources),
        built_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        audience=level,
        generator=f"clearance {__version__}",
        sources=tuple(sources),
        withheld=gate.withheld().counts,
    )
