"""What ``clearance incident`` adds for the legal side of a crisis (issue 23), kept out
of the command module: who is reading (counsel or not), the incident status as that
reader may see it with the legal hold and stakeholder notices, the refusal to show a
privileged draft, and the marks a writing command puts on the entry it writes."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clearance.errors import UsageError
from clearance.incidents import hold, privilege, stakeholders, translations
from clearance.incidents import session as session_mod
from clearance.incidents.status import Status


def reader(session: session_mod.Session, args: argparse.Namespace) -> str | None:
    """The person reading (--as, clearance.yaml, git user.email); None when unknown,
    which is never counsel."""
    try:
        return session_mod.resolve_actor(session, getattr(args, "actor", None))
    except UsageError:
        return None


@dataclass(frozen=True)
class StatusView:
    report: Status
    before: list[str] = field(default_factory=list)  # text lines above the status
    after: list[str] = field(default_factory=list)  # text lines below it
    extra: Mapping[str, Any] = field(default_factory=dict)  # JSON keys to add


def status_view(session: session_mod.Session, args: argparse.Namespace, report: Status) -> StatusView:
    """Privileged drafts and words withheld from a reader outside the legal roles
    (counted), the legal hold on top, the stakeholder notices in protocol order below."""
    incident = args.incident
    withheld = 0
    if not privilege.may_read(session.index, reader(session, args)):
        report, withheld = privilege.redact_status(report, session.entries(incident))
    held = {h.incident: h for h in hold.in_force(session.index)}.get(incident)
    notices = stakeholders.states(
        session.index, session.incident(incident), session.entries(incident), session.now
    )
    before: list[str] = []
    after: list[str] = []
    extra: dict[str, Any] = {}
    if held is not None:
        before.append(
            f"LEGAL HOLD by {held.counsel} ({held.entry_path}): delete or move nothing in {held.folder} "
            f"nor the {len(held.paths)} document(s) it cites; see 'clearance hold list'"
        )
        extra["legal_hold"] = {"by": held.counsel, "entry": held.entry_path, "documents": sorted(held.paths)}
    if notices:
        after.append("Stakeholder notices (protocol order):")
        after.extend(f"  {notice.describe()}" for notice in notices)
        extra["stakeholders"] = [n.as_json() for n in notices]
    if withheld:
        noun = "entry" if withheld == 1 else "entries"
        after.append(f"{withheld} privileged {noun} withheld: only counsel (a legal role) reads them")
        extra["privileged_withheld"] = withheld
    return StatusView(report, before, after, extra)


def refuse_privileged_draft(session: session_mod.Session, args: argparse.Namespace) -> None:
    """``incident show`` of a privileged draft: counsel only."""
    draft = session_mod.resolve_entry(session.entries(args.incident), args.draft, "draft")
    if privilege.is_privileged(draft) and not privilege.may_read(session.index, reader(session, args)):
        raise UsageError(f"draft {args.draft!r} is a privileged entry: only counsel (a legal role) reads it")


def mark_writes(session: session_mod.Session, args: argparse.Namespace) -> None:
    """--privileged/--counsel on log, draft and assess; --translation-of/--language on draft."""
    if getattr(args, "privileged", None) is not None or getattr(args, "counsel", None) is not None:
        privilege.mark(session, session_mod.resolve_actor(session, args.actor), args.counsel, args.privileged)
    if getattr(args, "incident_action", None) == "draft":
        translations.mark(session, args.incident, args.translation_of, args.language)


def add_arguments(made: Mapping[str, argparse.ArgumentParser]) -> None:
    made["draft"].add_argument(
        "--translation-of", metavar="DRAFT", help="the original draft this translates (a draft of its own)"
    )
    made["draft"].add_argument("--language", metavar="LANG", help="the text's language (BCP 47: fr, pt-BR)")
    for name in ("log", "draft", "assess"):
        made[name].add_argument(
            "--privileged",
            metavar="DIRECTION",
            help="prepared at counsel's direction (say what counsel asked for): only counsel reads it",
        )
        made[name].add_argument("--counsel", metavar="PERSON", help="counsel who directed it (default: you)")
