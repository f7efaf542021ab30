"""Run an incident or an exercise from the command line: open it from a protocol, log
what happens, draft statements, approve or reject them, publish (only with complete
approvals), assess regulatory obligations and record notifications, see what is
waiting and what is due, close it and create the review."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incidents import decisions, legal, logbook, store, workflow
from clearance.incidents import session as session_mod
from clearance.incidents import status as status_mod
from clearance.report import status as report_status

# (name, help, example)
SUBCOMMANDS = (
    (
        "new",
        "open an incident (or --exercise) from a protocol",
        "clearance incident new --protocol viral-data-exposure-allegation --severity sev2 "
        '--title "Leaked export rumour" --detected 2026-03-14T08:40:00Z',
    ),
    (
        "log",
        "log an observation, decision, talking points, role or status change, escalation or "
        "de-escalation, withdrawal of a draft, reopening, correction, override review",
        "clearance incident log 2026-03-14-leaked-export-rumour observation "
        '--text "Hashtag trending" --source x.com',
    ),
    (
        "draft",
        "draft a statement from a file, stdin or a template",
        "clearance incident draft 2026-03-14-leaked-export-rumour --channel x --template scoping-message "
        '--set scope="one support export" --set unknown="what the export holds" '
        '--set next_update="11:00 UTC" --at 2026-03-14T08:50:00Z',
    ),
    (
        "approve",
        "approve a draft for one approval step",
        "clearance incident approve 2026-03-14-leaked-export-rumour 20260314T085000Z --step legal "
        "--sha256 ca7cda21c631d21d73ebd63b68b8d08e08862ebd62098881a98e5dc6117d71e8",
    ),
    (
        "show",
        "show a draft's text, its sha256, its approval steps and who may still approve",
        "clearance incident show 2026-03-14-leaked-export-rumour 20260314T085000Z",
    ),
    (
        "reject",
        "reject a draft for one approval step",
        "clearance incident reject 2026-03-14-leaked-export-rumour 20260314T085000Z --step legal "
        '--reason "say what we have already checked"',
    ),
    (
        "publish",
        "record the publication of an approved draft",
        "clearance incident publish 2026-03-14-leaked-export-rumour 20260314T085000Z "
        "--link https://x.com/example/status/1",
    ),
    (
        "assess",
        "record whether a regulatory obligation applies and when its clock started",
        'clearance incident assess 2026-03-14-leaked-export-rumour "gdpr#art-33" --applies yes '
        '--clock-start 2026-03-14T09:00:00Z --rationale "personal data of EU customers"',
    ),
    (
        "notify",
        "record a notification that fulfils an obligation",
        'clearance incident notify 2026-03-14-leaked-export-rumour "gdpr#art-33" '
        '--recipient "Data Protection Commission" --reference DPC-123',
    ),
    (
        "status",
        "what is waiting for whom, deadlines, next update due, metrics",
        "clearance incident status 2026-03-14-leaked-export-rumour --format json",
    ),
    (
        "close",
        "close the incident (refused until it is stable and every gate is met)",
        "clearance incident close 2026-03-14-leaked-export-rumour",
    ),
    (
        "review",
        "create the post-incident review with computed metrics",
        "clearance incident review 2026-03-14-leaked-export-rumour",
    ),
)
LOG_TYPES = logbook.LOG_TYPES


def _time(text: str) -> dt.datetime:
    try:
        return session_mod.parse_moment(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(parser: argparse.ArgumentParser, *, at: bool = True) -> None:
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="PERSON",
        help="who is acting (default: clearance.yaml actor, then git user.email)",
    )
    parser.add_argument(
        "--now", type=_time, metavar="TIME", help="treat TIME as the current time (RFC 3339 with offset)"
    )
    if at:
        parser.add_argument("--at", type=_time, metavar="TIME", help="when it happened (default: now)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="incident_action", metavar="ACTION", parser_class=type(parser))
    made: dict[str, argparse.ArgumentParser] = {}
    for name, help_text, example in SUBCOMMANDS:
        made[name] = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    p = made["new"]
    _common(p, at=False)
    p.add_argument("--protocol", required=True, help="the protocol to run")
    p.add_argument("--title", required=True)
    p.add_argument("--severity", required=True, choices=("sev1", "sev2", "sev3", "sev4"))
    p.add_argument(
        "--slug", help="id suffix (default: from the title); the id is <UTC date of --detected>-<slug>"
    )
    p.add_argument("--exercise", action="store_true", help="mark it as a drill")
    p.add_argument("--channel", help="coordination channel (default: the protocol's)")
    p.add_argument("--detected", type=_time, help="when it was detected (default: now)")
    p.add_argument("--started", type=_time, help="when it started, if known")
    p.add_argument("--summary")
    p.add_argument(
        "--role", action="append", default=[], metavar="ROLE=PERSON", help="assign a person to a role"
    )
    p.add_argument("--data-class", action="append", default=[], dest="data_classes")
    p.add_argument(
        "--classification",
        default="confidential",
        choices=("public", "internal", "confidential", "restricted"),
    )

    p = made["log"]
    p.add_argument("incident")
    p.add_argument("type", choices=LOG_TYPES)
    _common(p)
    p.add_argument("--text")
    p.add_argument("--source", help="where an observation came from")
    p.add_argument("--rationale")
    p.add_argument("--cite", action="append", default=[], dest="cites", metavar="POLICY#CLAUSE")
    p.add_argument("--point", action="append", default=[], dest="points", help="a talking point (repeat)")
    p.add_argument("--supersedes", help="talking points entry these replace")
    p.add_argument("--role")
    p.add_argument("--person")
    p.add_argument("--action", choices=("assign", "release"))
    p.add_argument("--to", choices=("triage", "active", "stable"))
    p.add_argument("--severity", choices=("sev1", "sev2", "sev3", "sev4"))
    p.add_argument("--corrects", metavar="ENTRY")
    p.add_argument("--override", metavar="ENTRY", help="the override entry an override-review reviews")
    p.add_argument("--draft", metavar="DRAFT", help="the draft a withdraw ends")
    p.add_argument(
        "--obligation", metavar="REGULATION#OBLIGATION", help="the obligation an obligation-override covers"
    )
    p.add_argument(
        "--inject", type=int, dest="exercise_inject", metavar="N", help="exercise inject this answers"
    )

    p = made["draft"]
    p.add_argument("incident")
    _common(p)
    p.add_argument("--channel", required=True)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="file with the text, or - for stdin")
    source.add_argument("--template")
    p.add_argument("--set", action="append", default=[], dest="values", metavar="NAME=VALUE")
    p.add_argument(
        "--data-class",
        action="append",
        default=[],
        dest="data_classes",
        help="a data class the text touches (added to what the scanner finds)",
    )

    legal.add_arguments(made)  # --privileged, --counsel, --translation-of, --language (issue 23)

    p = made["show"]
    p.add_argument("incident")
    p.add_argument("draft", help="draft id (or its 6-character suffix)")
    _common(p, at=False)

    for name in ("approve", "reject"):
        p = made[name]
        p.add_argument("incident")
        p.add_argument("draft", help="draft id (or its 6-character suffix)")
        _common(p)
        _key(p)
        p.add_argument("--step", help="approval step (default: the one step you can act on)")
        p.add_argument("--role", help="role you act in (default: the step's)")
        p.add_argument(
            "--sha256",
            help="the full hash of the text you reviewed, from 'clearance incident show' (refused if the "
            "draft differs); approve without it asks you to confirm the text shown, on a terminal",
        )
        p.add_argument("--reason", required=name == "reject", dest="rationale")

    p = made["publish"]
    p.add_argument("incident")
    p.add_argument("draft")
    _common(p)
    _key(p)
    p.add_argument("--link", help="URL of the published statement")
    p.add_argument(
        "--override-reason", help="emergency override: publish without the full chain (logged, reviewed)"
    )
    p.add_argument("--override-role", help="the role you override in (default: the first you hold)")

    p = made["assess"]
    p.add_argument("incident")
    p.add_argument(
        "obligation",
        metavar="REGULATION#OBLIGATION",
        help="one obligation, or a regulation id alone to assess all its obligations at once",
    )
    _common(p)
    p.add_argument("--applies", required=True, choices=("yes", "no"))
    p.add_argument("--clock-start", type=_time, help="when the clock started (awareness, determination ...)")
    p.add_argument("--rationale", required=True)

    p = made["notify"]
    p.add_argument("incident")
    p.add_argument("obligation", metavar="REGULATION#OBLIGATION")
    _common(p)
    _key(p)
    p.add_argument("--recipient", required=True)
    p.add_argument("--reference")
    p.add_argument(
        "--draft", help="the approved draft of what was sent (required where the regulation names a chain)"
    )

    p = made["status"]
    p.add_argument("incident")
    _common(p, at=False)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--tz", help="time zone for times shown (IANA name; default: the acting person's timezone, else UTC)"
    )

    p = made["close"]
    p.add_argument("incident")
    _common(p, at=False)

    p = made["review"]
    p.add_argument("incident")
    _common(p, at=False)


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} {item!r}: write NAME=VALUE")
        out.append((name.strip(), value))
    return out


Handler = Callable[[session_mod.Session, argparse.Namespace], int]


def _key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="SSH key to sign this decision with (default: git user.signingkey); see 'clearance keys'",
    )


# Decisions: recorded only by the person taking them, signed with their key.
DECISIONS = {"approve": "approve", "reject": "reject", "publish": "publish", "notify": "notify"}


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "incident_action", None)
    if not action:
        raise UsageError("which action? see 'clearance incident --help'")
    handler, writes = HANDLERS[action]
    config = repository_config(args)
    if not writes:
        return handler(session_mod.open_session(config, args.now), args)
    # Writers run one at a time on this machine and read the log inside the lock, so
    # each decides on what the others wrote (20 identical status changes: one entry).
    with store.writer_lock(config.root):
        session = session_mod.open_session(config, args.now)
        legal.mark_writes(session, args)
        return handler(session, args)


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
            _out(f"  step {req.step!r} ({req.role}) approved in peacetime: clearance {result.verdict.clearance}")
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
