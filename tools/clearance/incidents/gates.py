"""Gates that fail closed: what must be true before an incident closes or a
notification is recorded. Each unmet condition is an :class:`Item` saying what to log
to meet it; nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.incidents import approvals, enquiries, state, store
from clearance.incidents import obligations as register
from clearance.incidents.session import Session, obligations_of, state_of
from clearance.model import Document


@dataclass(frozen=True)
class Item:
    """One unmet condition and the command that meets it."""

    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what} ({self.fix})"


def _live(session: Session, incident: Document) -> list[Document]:
    derived = state_of(session, incident)
    return [e for e in derived.order if state.entry_id(e) not in derived.voided]


def may_close(session: Session, incident: Document, actor: str) -> bool:
    """Members and deputies of the protocol's owner role (the incident's owner role when
    the protocol names none), and whoever the log assigns to that role."""
    protocol = session.index.get("protocol", str(incident.data.get("protocol")))
    role_id = str((protocol.data.get("owner") if protocol else None) or incident.data.get("owner"))
    role = session.index.get("role", role_id)
    allowed = set(role.data.get("members") or ()) | set(role.data.get("deputies") or ()) if role else set()
    allowed |= {person for name, person in state_of(session, incident).roles if name == role_id}
    for other in session.index.of_kind("role"):  # roles whose may_approve lets them close incidents
        if "incident-close" in (other.data.get("may_approve") or ()):
            allowed |= set(other.data.get("members") or ()) | set(other.data.get("deputies") or ())
    return actor in allowed


def closing_role(session: Session, incident: Document) -> str:
    protocol = session.index.get("protocol", str(incident.data.get("protocol")))
    return str((protocol.data.get("owner") if protocol else None) or incident.data.get("owner"))


def applicability(session: Session, incident: Document, key: str) -> str | None:
    """Why a notification for obligation ``key`` cannot be recorded (never assessed, or
    assessed or found by its threshold not to apply), or None when it applies."""
    ident = str(incident.id)
    live = _live(session, incident)
    table = obligations_of(session.index)
    first = (
        f"assess it first: clearance incident assess {ident} {key} --applies yes --clock-start TIME "
        "--rationale '...'"
    )
    found = next((s for s in register.evaluate(table, live) if s.key == key), None)
    if found is None or found.status == "unassessed":
        return f"{key} was never assessed; {first}"
    if not found.applies:
        return (
            f"{key} does not apply ({found.reason}); if that changed, record an assessment with --applies yes"
        )
    return None


def _override_item(session: Session, ident: str, key: str, obligation: Mapping[str, Any], why: str) -> Item:
    role = register.regulation_role(session.index, key, obligation)
    return Item(
        f"obligation {key} applies ({why}) and nobody was notified",
        f"clearance incident notify {ident} {key} --recipient '...', or a member of {role!r}: "
        f"clearance incident log {ident} obligation-override --obligation {key} --role {role} "
        "--rationale '...'",
    )


def _unassessed_item(ident: str, key: str, title: object, reason: str = "") -> Item:
    regulation = key.partition("#")[0]
    return Item(
        f"obligation {key} ({title}) was never assessed" + (f": {reason}" if reason else ""),
        f"clearance incident assess {ident} {key} --applies yes|no --rationale '...' "
        f"(or the whole regulation: assess {ident} {regulation} ...)",
    )


def obligation_items(session: Session, incident: Document) -> list[Item]:
    """Every obligation of every listed regulation assessed; every applicable one
    notified or overridden by the role its regulation names."""
    ident = str(incident.id)
    live = _live(session, incident)
    table = obligations_of(session.index)
    overridden = {str(e.data.get("obligation")) for e in live if e.data.get("type") == "obligation-override"}
    items = []
    listed = register.listed_regulations(session.index, incident)
    for found in register.obligation_states(table, live, listed):
        if found.status == "unassessed":
            items.append(_unassessed_item(ident, found.key, found.title, found.reason))
        elif found.applies and found.notified is None and found.key not in overridden:
            items.append(_override_item(session, ident, found.key, table.get(found.key, {}), "as assessed"))
    return items


def draft_items(session: Session, incident: Document) -> list[Item]:
    """Drafts that are neither published, rejected nor withdrawn."""
    ident = str(incident.id)
    derived = state_of(session, incident)
    entries = session.entries(ident)
    # A notification that carries a draft delivered it (a regulator filing is not a publication).
    sent = ("publication", "notification")
    published = {
        str(e.data.get("draft")) for e in entries if e.data.get("type") in sent and e.data.get("draft")
    }
    items = []
    for entry in derived.order:
        draft_id = state.entry_id(entry)
        if entry.data.get("type") != "draft" or draft_id in published or draft_id in derived.withdrawn:
            continue
        if draft_id in derived.voided:
            continue
        verdict = approvals.evaluate(session.index, incident, entries, draft_id, session.now)
        if any(s.rejection is not None and not s.approvers for s in verdict.steps):
            continue  # rejected: it has its answer
        what = "is approved but not published" if verdict.ok else "awaits approval"
        items.append(
            Item(
                f"draft {draft_id} {what}",
                f"publish it, or: clearance incident log {ident} withdraw --draft {draft_id} "
                "--rationale '...'",
            )
        )
    return items


def resolution_items(session: Session, incident: Document) -> list[Item]:
    ident = str(incident.id)
    derived = state_of(session, incident)
    if derived.resolution_decision is not None:
        return []
    drafts = {state.entry_id(e): e for e in derived.order if e.data.get("type") == "draft"}
    for entry in derived.order:
        if entry.data.get("type") != "publication" or state.entry_id(entry) in derived.voided:
            continue
        draft = drafts.get(str(entry.data.get("draft")))
        template = session.index.get("template", str(draft.data.get("template"))) if draft else None
        if template is not None and template.data.get("stage") == "resolution":
            return []
    return [
        Item(
            "no resolution statement was published and no decision not to publish one was recorded",
            f"publish a draft from a 'resolution' template, or: clearance incident log {ident} "
            "resolution-decision --rationale '...'",
        )
    ]


def override_review_items(session: Session, incident: Document) -> list[Item]:
    ident = str(incident.id)
    entries = session.entries(ident)
    return [
        Item(
            f"override {state.entry_id(o.entry)} awaits review by {o.review_by}",
            f"clearance incident log {ident} override-review --override {state.entry_id(o.entry)} "
            "--rationale '...'",
        )
        for o in approvals.overrides(session.index, incident, entries)
        if o.reviewed is None
    ]


def close_items(session: Session, incident: Document) -> list[Item]:
    """Everything that stands between the incident and its close."""
    return (
        obligation_items(session, incident)
        + draft_items(session, incident)
        + resolution_items(session, incident)
        + override_review_items(session, incident)
        + enquiry_items(session, incident)
    )


def enquiry_items(session: Session, incident: Document) -> list[Item]:
    """Media enquiries past their deadline with no answer (see incidents.enquiries)."""
    now = state_of(session, incident).closed_at or session.now
    return [
        Item(
            f"media enquiry {e.entry} from {e.outlet}"
            + (f" ({e.journalist})" if e.journalist else "")
            + f" was due {store.format_time(e.deadline)} and has no answer",
            f"clearance signals answer {incident.id} {e.entry} --answer statement|qa-line|decline",
        )
        for e in enquiries.open_enquiries(session, incident)
        if e.deadline is not None and now > e.deadline
    ]
