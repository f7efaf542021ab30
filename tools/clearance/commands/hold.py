"""Legal holds: counsel places an incident's records under hold (its folder, every
document it cites, and any further paths named with --path) and releases it. While it
holds, 'clearance check' (HLD001), the pre-commit hook and 'clearance verify' (HLD003)
refuse or report any deletion or move of those files. Only a member of a legal role
(a role with 'legal: true') places or releases a hold, as themselves (git user.email)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incidents import decisions, hold, logbook, privilege, store
from clearance.incidents import session as session_mod
from clearance.incidents.session import Refused

INCIDENT = "2026-03-14-leaked-export-rumour"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hold_action", metavar="ACTION", required=True)
    examples = {
        "place": f"clearance hold place {INCIDENT} --rationale 'litigation reasonably anticipated'",
        "release": f"clearance hold release {INCIDENT} --rationale 'claim settled'",
        "list": "clearance hold list",
    }
    helps = {
        "place": "place an incident under legal hold (counsel only)",
        "release": "release an incident's legal hold (counsel only)",
        "list": "every hold in force: incident, counsel, and what it protects",
    }
    for name in ("place", "release", "list"):
        sub = actions.add_parser(
            name,
            help=helps[name],
            description=helps[name][0].upper() + helps[name][1:] + ".",
            epilog=f"example: {examples[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "list":
            sub.add_argument("--format", choices=("text", "json"), default="text")
            continue
        sub.add_argument("incident")
        sub.add_argument("--rationale", required=True, help="why (litigation, regulator's request ...)")
        sub.add_argument("--as", dest="actor", metavar="PERSON", help="must be you (git user.email)")
        sub.add_argument("--now", type=_time, metavar="TIME", help="treat TIME as the current time")
        if name == "place":
            sub.add_argument(
                "--path",
                action="append",
                default=[],
                dest="scope",
                metavar="PATH",
                help="a further file or folder to hold (repeat); the incident's folder and cited "
                "documents are always held",
            )


def _time(text: str) -> Any:
    try:
        return session_mod.parse_moment(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    if args.hold_action == "list":
        return _list(session_mod.open_session(config), args)
    with store.writer_lock(config.root):
        session = session_mod.open_session(config, args.now)
        incident = session.incident(args.incident)
        actor = decisions.decider(session, args.actor, f"a legal hold {args.hold_action}")
        if not privilege.may_read(session.index, actor):
            raise Refused(
                f"{actor!r} is not a member of a legal role: only counsel places or releases a hold"
            )
        current = {h.incident: h for h in hold.in_force(session.index)}.get(str(incident.id))
        placing = args.hold_action == "place"
        if placing and current is not None:
            print(f"incident {incident.id} is already under legal hold ({current.entry_path})")
            return 0
        if not placing and current is None:
            raise Refused(f"incident {incident.id!r} is not under legal hold")
        data: dict[str, Any] = {
            "type": hold.HOLD if placing else hold.RELEASE,
            "at": store.format_time(session.now),
            "by": actor,
            "rationale": args.rationale,
        }
        if placing and args.scope:
            data["scope"] = sorted({p.strip("/") for p in args.scope})
        entry_id = logbook.append(session, incident, data)
    print(f"logged {data['type']} {entry_id}")
    return 0


def _list(session: session_mod.Session, args: argparse.Namespace) -> int:
    holds = hold.in_force(session.index)
    if args.format == "json":
        import json

        rows = [
            {
                "incident": h.incident,
                "counsel": h.counsel,
                "entry": h.entry_path,
                "folder": h.folder,
                "documents": sorted(h.paths),
            }
            for h in holds
        ]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not holds:
        print("no incident is under legal hold")
    for h in holds:
        print(f"{h.incident}: under legal hold by {h.counsel} ({h.entry_path})")
        print(f"  holds {h.folder} and {len(h.paths)} cited document(s)")
        for path in sorted(h.paths):
            print(f"    {path}")
    return 0
