"""Stakeholder notices: who must hear from us, in what order, by when. 'status' shows each
notice the incident's protocol asks for as due (with its time, or before the first
public statement), overdue, sent or not applicable; 'notify' records a notice sent and
'not-applicable' records why one is not owed. The register is policies/stakeholders/
(kind: stakeholder); protocols order the notices (stakeholders:, rule STK001)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incidents import logbook, stakeholders, store
from clearance.incidents import session as session_mod
from clearance.incidents.session import Refused

INCIDENT = "2026-03-14-leaked-export-rumour"


def _time(text: str) -> Any:
    try:
        return session_mod.parse_moment(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="stakeholder_action", metavar="ACTION", required=True)
    rows = (
        ("status", "each notice the protocol asks for: due, overdue, sent or not applicable",
         f"clearance stakeholders status {INCIDENT}"),
        ("notify", "record a notice sent to a stakeholder (by the person who sent it)",
         f"clearance stakeholders notify {INCIDENT} board --reference 'chair briefed by phone'"),
        ("not-applicable", "record that a stakeholder's notice is not owed, and why",
         f"clearance stakeholders not-applicable {INCIDENT} cyber-insurer --rationale 'no claim possible'"),
    )  # fmt: skip
    for name, help_text, example in rows:
        sub = actions.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("incident")
        sub.add_argument("--now", type=_time, metavar="TIME", help="treat TIME as the current time")
        if name == "status":
            sub.add_argument("--format", choices=("text", "json"), default="text")
            continue
        sub.add_argument("stakeholder")
        sub.add_argument("--notice", help="which of the stakeholder's notices (default: its first)")
        sub.add_argument("--as", dest="actor", metavar="PERSON", help="who records it")
        sub.add_argument("--at", type=_time, metavar="TIME", help="when it was sent (default: now)")
        if name == "notify":
            sub.add_argument("--reference", help="the message, call or ticket it went out as")
            sub.add_argument("--text", help="what was said, briefly")
        else:
            sub.add_argument("--rationale", required=True)


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    if args.stakeholder_action == "status":
        session = session_mod.open_session(config, args.now)
        incident = session.incident(args.incident)
        found = stakeholders.states(session.index, incident, session.entries(args.incident), session.now)
        if args.format == "json":
            json.dump([s.as_json() for s in found], sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        if not found:
            print(f"protocol {incident.data.get('protocol')!r} names no stakeholder notices")
        for state in found:
            print(state.describe())
        return 0
    with store.writer_lock(config.root):
        session = session_mod.open_session(config, args.now)
        incident = session.incident(args.incident)
        actor = session_mod.resolve_actor(session, args.actor)
        doc = session.index.get("stakeholder", args.stakeholder)
        if doc is None:
            raise UsageError(f"no stakeholder {args.stakeholder!r}; see policies/stakeholders/")
        notice = stakeholders.notice_of(doc, args.notice)
        if notice is None:
            raise Refused(f"stakeholder {args.stakeholder!r} has no notice {args.notice!r}")
        data: dict[str, Any] = {
            "type": stakeholders.NOTICE,
            "at": store.format_time(args.at or session.now),
            "by": actor,
            "stakeholder": args.stakeholder,
            "notice": str(notice.get("id")),
        }
        if args.stakeholder_action == "notify":
            data.update({"reference": args.reference, "text": args.text})
        else:
            data.update({"applies": False, "rationale": args.rationale})
        entry_id = logbook.append(session, incident, data)
    print(f"logged {stakeholders.NOTICE} {entry_id} ({args.stakeholder}#{notice.get('id')})")
    return 0
