"""What each ``clearance incident`` action does with its parsed arguments: call the
workflow and hand its typed result to a reporter. Nothing here parses arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clearance.commands.incident.arguments import _pairs
from clearance.errors import UsageError
from clearance.incidents import decisions, legal, workflow
from clearance.incidents import session as session_mod
from clearance.incidents import status as status_mod
from clearance.report import status as report_status

Handler = Callable[[session_mod.Session, argparse.Namespace], int]

# Decisions: recorded only by the person taking them, signed with their key.
DECISIONS = {"approve": "approve", "reject": "reject", "publish": "publish", "notify": "notify"}


def _actor(session: session_mod.Session, args: argparse.Namespace) -> str:
    action = DECISIONS.get(args.incident_action)
    if action is not None:
        session.signing_key = getattr(args, "key", None)
        return decisions.decider(session, args.actor, action)
    session.scribe = decisions.scribe_for(session, args.actor)
    actor = session_mod.find_actor(session, args.actor)
    explain = actor.source == "git user.email"
    if explain and session_mod.first_time(session.root, session_mod.ACTOR_NOTE_MARKER):
        # on stderr: stdout may be JSON or piped into another tool
        print(
            f"clearance: acting as {actor.person!r}, the person whose emails include your git user.email "
            f"{actor.email!r}. Who acts is --as PERSON if given, else 'actor:' in clearance.yaml, else "
            "git user.email matched to a person's emails. (This note is shown once per repository.)",
            file=sys.stderr,
        )
    return actor.person


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _run_new(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    ident = workflow.new_incident(
        session,
        actor,
        protocol=args.protocol,
        title=args.title,
        severity=args.severity,
        slug=args.slug,
        exercise=args.exercise,
        channel=args.channel,
        detected=args.detected,
        started=args.started,
        summary=args.summary,
        roles=_pairs(args.role, "--role"),
        data_classes=args.data_classes,
        classification=args.classification,
    )
    _out(f"opened {'exercise' if args.exercise else 'incident'} {ident} (incidents/{ident}/incident.yaml)")
    return 0


def _run_log(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    fields: dict[str, Any] = {
        "at": args.at,
        "text": args.text,
        "source": args.source,
        "rationale": args.rationale,
        "cites": args.cites,
        "points": args.points,
        "supersedes": args.supersedes,
        "role": args.role,
        "person": args.person,
        "action": args.action,
        "to": args.to,
        "severity": args.severity,
        "corrects": args.corrects,
        "override": args.override,
        "exercise_inject": args.exercise_inject,
    }
    fields["draft"] = args.draft
    fields["obligation"] = args.obligation
    done = workflow.log(
        session, actor, args.incident, args.type, {k: v for k, v in fields.items() if v is not None}
    )
    _out(f"logged {args.type} {done.entry_id}" if done.written else str(done.note))
    return 0


def _run_draft(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    text = None
    if args.file == "-":
        text = sys.stdin.read()
    elif args.file:
        try:
            text = Path(args.file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{args.file}: cannot read: {exc}") from None
    result = workflow.draft(
        session,
        actor,
        args.incident,
        channel=args.channel,
        text=text,
        template=args.template,
        values=dict(_pairs(args.values, "--set")),
        data_classes=args.data_classes,
        at=args.at,
    )
    _out(f"drafted {result.entry_id}" if result.written else f"already drafted as {result.entry_id}")
    _out(f"  sha256 {result.sha256}")
    if result.classes:
        _out(f"  data classes: {', '.join(result.classes)}")
    for name in result.verdict.forbidden:
        _out(f"  warning: data class {name!r} may never be published; this draft cannot be published")
    for step in result.verdict.steps:
        req = step.requirement
        if step.satisfied and result.verdict.clearance:
            _out(
                f"  step {req.step!r} ({req.role}) approved in peacetime: "
                f"clearance {result.verdict.clearance}"
            )
            continue
        _out(f"  needs {req.quorum} approval(s) for step {req.step!r} from role {req.role!r} ({req.because})")
    return 0


def _run_show(session: session_mod.Session, args: argparse.Namespace) -> int:
    legal.refuse_privileged_draft(session, args)
    view = decisions.draft_view(session, args.incident, args.draft)
    _out(f"draft {view.draft_id} by {view.author} for channel {view.channel}")
    _out(f"sha256 {view.sha256}")
    _out("-" * 72)
    _out(view.text)
    _out("-" * 72)
    if view.published:
        _out("published")
    for reason in view.blocked:
        _out(f"BLOCKED: {reason}")
    for step in view.steps:
        done = ", ".join(step.approved_by) or "nobody yet"
        waiting = ", ".join(step.may_approve) or "nobody eligible"
        state = "done" if step.satisfied else f"may still approve: {waiting}"
        _out(f"step {step.step} ({step.role}, quorum {step.quorum}): approved by {done}; {state}")
    return 0


def _confirm(session: session_mod.Session, args: argparse.Namespace) -> str:
    """Without --sha256: on a terminal, show the text and its hash and ask the approver
    to type the hash's first 8 characters; anywhere else, refuse."""
    view = decisions.draft_view(session, args.incident, args.draft)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            f"approve needs --sha256, the full hash of the text you reviewed: see it with "
            f"'clearance incident show {args.incident} {args.draft}'"
        )
    _out(view.text)
    _out(f"sha256 {view.sha256}")
    answer = input("type the first 8 characters of the sha256 above to approve exactly this text: ")
    if answer.strip().lower() != view.sha256[:8]:
        raise session_mod.Refused("not confirmed: nothing was recorded")
    return view.sha256


def _run_decide(session: session_mod.Session, args: argparse.Namespace, approve: bool) -> int:
    actor = _actor(session, args)
    if approve and args.sha256 is None:
        args.sha256 = _confirm(session, args)
        session.confirmed = "shown on a terminal: text and sha256, confirmed by typing the hash"
    entry, req = workflow.decide(
        session,
        actor,
        args.incident,
        args.draft,
        approve=approve,
        step=args.step,
        role=args.role,
        sha=args.sha256,
        rationale=args.rationale,
        at=args.at,
    )
    _out(f"{'approved' if approve else 'rejected'} for step {req.step!r} as {req.role!r}: {entry}")
    return 0


def _run_approve(session: session_mod.Session, args: argparse.Namespace) -> int:
    return _run_decide(session, args, True)


def _run_reject(session: session_mod.Session, args: argparse.Namespace) -> int:
    return _run_decide(session, args, False)


def _run_publish(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    entry, verdict = workflow.publish(
        session,
        actor,
        args.incident,
        args.draft,
        link=args.link,
        at=args.at,
        override_reason=args.override_reason,
        override_role=args.override_role,
    )
    _out(f"published {verdict.draft_id}: {entry}")
    if verdict.override is not None:
        _out(f"  under emergency override {verdict.override.path}; it must be reviewed (see status)")
    return 0


def _run_assess(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    entry = workflow.assess(
        session,
        actor,
        args.incident,
        args.obligation,
        applies=args.applies == "yes",
        rationale=args.rationale,
        clock_start=args.clock_start,
        at=args.at,
    )
    _out(f"assessed {args.obligation}: {entry}")
    return 0


def _run_notify(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    entry = workflow.notify(
        session,
        actor,
        args.incident,
        args.obligation,
        recipient=args.recipient,
        reference=args.reference,
        draft_ref=args.draft,
        at=args.at,
    )
    _out(f"notified for {args.obligation}: {entry}")
    return 0


def _run_close(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    entry = workflow.close(session, actor, args.incident)
    _out(f"closed {args.incident}: {entry}")
    return 0


def _run_review(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    path = workflow.review(session, actor, args.incident)
    _out(f"created {path.relative_to(session.root).as_posix()}")
    return 0


def _zone(session: session_mod.Session, args: argparse.Namespace) -> dt.tzinfo:
    """--tz, else the acting person's ``timezone`` when someone is acting, else UTC."""
    name = args.tz
    if name is None:
        try:
            person = session.index.get("person", session_mod.resolve_actor(session, args.actor))
        except UsageError:
            person = None
        name = str(person.data.get("timezone")) if person and person.data.get("timezone") else "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"time zone {name!r} is not known (e.g. Europe/Dublin, America/New_York)") from None


def _run_status(session: session_mod.Session, args: argparse.Namespace) -> int:
    # privilege, legal hold and stakeholder notices (issue 23): see clearance.incidents.legal
    view = legal.status_view(session, args, status_mod.status(session, args.incident))
    if args.format == "json":
        # JSON is for tools: in --tz when given, else UTC; it says which in "timezone".
        zone = _zone(session, args) if args.tz else dt.UTC
        json.dump({**report_status.as_json(view.report, zone), **view.extra}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for line in view.before:
        _out(line)
    sys.stdout.write(report_status.text(view.report, _zone(session, args)))
    for line in view.after:
        _out(line)
    return 0


# Each action: its handler, and whether it writes (writers hold the repository's lock).
HANDLERS: dict[str, tuple[Handler, bool]] = {
    "new": (_run_new, True),
    "log": (_run_log, True),
    "draft": (_run_draft, True),
    "approve": (_run_approve, True),
    "show": (_run_show, False),
    "reject": (_run_reject, True),
    "publish": (_run_publish, True),
    "assess": (_run_assess, True),
    "notify": (_run_notify, True),
    "status": (_run_status, False),
    "close": (_run_close, True),
    "review": (_run_review, True),
}
