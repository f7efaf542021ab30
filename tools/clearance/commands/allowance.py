"""Standing allowances of an incident: list them with their canonical hash and how far
their approval got, and approve one for a step of its class's disclosure chain (a
signed decision, recorded only by the person taking it, like an approval of a draft).

An allowance lets its data class through only once every step of that class's
disclosure chain approved that exact allowance; a class whose rule is 'never' takes
none (see clearance.incidents.allowances)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incidents import allowances, approvals, decisions, logbook, store
from clearance.incidents import session as session_mod
from clearance.incidents.session import Refused

INCIDENT = "2026-03-14-leaked-export-rumour"
EXAMPLE_SHA = "504d8493959fc28a3ab296eb8963c45652f8e8184ea9015a376186f795c7eed4"  # the story's allowance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="allowance_action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="an incident's allowances: hash, classes, and the steps still to approve",
        description="An incident's allowances (incident.yaml and its drafts): the canonical sha256 "
        "that approvals name, the classes each lets through, and each step of their disclosure chains.",
        epilog=f"example: clearance allowance list {INCIDENT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("incident")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    approve = actions.add_parser(
        "approve",
        help="approve an allowance for one step of its class's disclosure chain (signed)",
        description="Approve one allowance, named by its full sha256, for one step of the disclosure "
        "chain of the class it lets through. Signed with your key like every decision.",
        epilog=f"example: clearance allowance approve {INCIDENT} {EXAMPLE_SHA} --role privacy-officer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    approve.add_argument("incident")
    approve.add_argument("sha256", help="the allowance's full sha256 ('clearance allowance list' prints it)")
    approve.add_argument("--role", required=True, help="the role you approve as")
    approve.add_argument("--step", help="the step (default: the one step of that role)")
    approve.add_argument("--key", metavar="PATH", help="signing key (default: git user.signingkey)")
    approve.add_argument("--as", dest="actor", metavar="PERSON", help="must be you (git user.email)")
    approve.add_argument("--at", type=_time, metavar="TIME", help="when you approved (default: now)")
    approve.add_argument("--now", type=_time, metavar="TIME", help="treat TIME as the current time")


def _time(text: str) -> Any:
    try:
        return session_mod.parse_moment(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    if args.allowance_action == "list":
        return _list(session_mod.open_session(config), args)
    with store.writer_lock(config.root):
        return _approve(session_mod.open_session(config, args.now), args)


def _standing(session: session_mod.Session, incident_id: str) -> list[allowances.Standing]:
    incident = session.incident(incident_id)
    entries = session.entries(incident_id)
    judge = approvals.Membership(session.index, session.root, required=session.config.signing_decisions)
    found = list(allowances.standing(session.index, incident, entries, judge))
    for draft in entries:
        if draft.data.get("type") == "draft" and draft.data.get("allow"):
            own = allowances.standing(session.index, incident, entries, judge, draft=draft)
            found.extend(s for s in own if s.location.path == draft.path)
    return found


def _list(session: session_mod.Session, args: argparse.Namespace) -> int:
    found = _standing(session, args.incident)
    if args.format == "json":
        rows = [
            {
                "sha256": s.sha256,
                "at": str(s.location),
                "classes": list(s.classes),
                "effective": s.effective,
                "never": list(s.never),
                "problems": list(s.problems),
                "steps": [
                    {"chain": t.chain, "step": t.step, "role": t.role, "quorum": t.quorum,
                     "approved_by": list(t.approvers)}
                    for t in s.steps
                ],
            }
            for s in found
        ]  # fmt: skip
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not found:
        print(f"{args.incident}: no allowances")
    for item in found:
        state = "effective" if item.effective else "NOT effective"
        classes = ", ".join(item.classes) or "no data class"
        print(f"{item.location}: {item.sha256} ({classes}): {state}")
        for reason in item.reasons():
            print(f"  {reason}")
        for step in item.steps:
            if step.satisfied:
                print(f"  step {step.step!r} ({step.role}): approved by {', '.join(step.approvers)}")
    return 0


def _approve(session: session_mod.Session, args: argparse.Namespace) -> int:
    session.signing_key = args.key
    actor = decisions.decider(session, args.actor, "approve an allowance")
    found = [s for s in _standing(session, args.incident) if s.sha256 == args.sha256.strip().lower()]
    if not found:
        raise UsageError(
            f"incident {args.incident!r} has no allowance with sha256 {args.sha256!r}: the full hash "
            f"is required; 'clearance allowance list {args.incident}' prints each"
        )
    item = found[0]
    if item.never:
        raise Refused(
            f"the allowance lets through {', '.join(item.never)}, whose disclosure rule is 'never': "
            "it takes no allowance, whoever approves it"
        )
    if not item.steps:
        raise Refused("this allowance lets no data class through: there is nothing to approve")
    steps = [s for s in item.steps if s.role == args.role and (args.step is None or s.step == args.step)]
    if not steps:
        wanted = ", ".join(f"{s.step} ({s.role})" for s in item.steps)
        raise UsageError(
            f"no step for role {args.role!r}{' and step ' + repr(args.step) if args.step else ''}; "
            f"its steps: {wanted}"
        )
    if len(steps) > 1:
        raise UsageError(
            f"role {args.role!r} has several steps here: pass --step ({', '.join(s.step for s in steps)})"
        )
    step = steps[0]
    if actor == item.allowance.by:
        raise Refused(f"separation of duties: {actor!r} asked for this allowance and cannot approve it")
    if actor not in approvals.members(session.index, step.role):
        raise Refused(f"{actor!r} is not a member of role {step.role!r}, which step {step.step!r} needs")
    decisions.committed_member(session, actor, step.role, step.step)
    at = args.at or session.now
    entry = logbook.append_to(
        session,
        args.incident,
        {
            "type": allowances.KIND,
            "at": store.format_time(at),
            "by": actor,
            "allowance": item.sha256,
            "role": step.role,
            "step": step.step,
        },
    )
    print(f"approved allowance {item.sha256[:12]}... for step {step.step!r} as {step.role!r}: {entry}")
    return 0
