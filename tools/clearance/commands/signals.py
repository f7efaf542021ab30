"""Monitoring signals in, media enquiries tracked.

'evaluate' reads monitoring exports (CSV, JSON, JSON Lines; the column mapping comes
from 'signals: formats:' in clearance.yaml or a preset: mentions-csv, tickets-json),
scans their text with the disclosure scanner and evaluates every protocol's structured
triggers; it prints which protocol and severity the signals meet with the evidence rows,
and with --open opens the incident (or escalates the open one) with an observation per
met trigger. Rows that cannot be read are reported with file:line and skipped.

'enquiry' logs a media enquiry (outlet, journalist, channel, received, deadline,
questions); 'answer' records its answer: a published statement, an approved Q&A line
or a decline; 'enquiries' lists them by deadline."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from clearance import history, signals
from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incidents import decisions, enquiries, preclearance, store
from clearance.incidents import session as session_mod
from clearance.signals import opening
from clearance.signals.triggers import as_data

SKEW = dt.timedelta(minutes=1)  # an export's clock may run a little ahead of ours
SUBCOMMANDS = (
    (
        "evaluate",
        "evaluate monitoring exports against every protocol's triggers; --open opens or escalates",
        "clearance signals evaluate tests/data/signals/viral-leak-mentions.csv",
    ),
    (
        "enquiry",
        "log a media enquiry: outlet, journalist, channel, when it came, deadline, questions",
        "clearance signals enquiry 2026-03-14-leaked-export-rumour --outlet 'The Ledger' "
        "--journalist 'Hannah Price' --channel x --received 2026-03-14T09:31:00Z "
        "--deadline 2026-03-14T12:00:00Z --question 'Is the export in the screenshot yours?' "
        "--at 2026-03-14T09:32:00Z",
    ),
    (
        "answer",
        "record the answer to an enquiry: a published statement, an approved Q&A line or a decline",
        "clearance signals answer 2026-03-14-leaked-export-rumour 20260314T093200Z --answer statement "
        "--draft 20260314T085000Z",
    ),
    (
        "preclear",
        "sign your approval of a template's clearance (its text and allowed values) for one step",
        "clearance signals preclear holding-x --step legal",
    ),
    (
        "enquiries",
        "list an incident's media enquiries by deadline, open and overdue first",
        "clearance signals enquiries 2026-03-14-leaked-export-rumour --format json",
    ),
)


def _time(text: str) -> dt.datetime:
    try:
        return session_mod.parse_moment(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="actor", metavar="PERSON", help="who is acting (default: git user.email)"
    )
    parser.add_argument(
        "--now", type=_time, metavar="TIME", help="treat TIME as the current time (RFC 3339 with offset)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="signals_action", metavar="ACTION", parser_class=type(parser))
    made = {}
    for name, help_text, example in SUBCOMMANDS:
        made[name] = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    p = made["evaluate"]
    p.add_argument("files", nargs="+", metavar="FILE", help="CSV, JSON or JSON Lines exports")
    p.add_argument("--format", dest="export_format", metavar="NAME", help="export format (default: detected)")
    p.add_argument("--protocol", action="append", default=[], help="evaluate only this protocol (repeat)")
    p.add_argument("--open", action="store_true", help="open or escalate the incident the signals call for")
    p.add_argument("--incident", help="with --open: the incident to escalate (default: the open one)")
    p.add_argument("--exercise", action="store_true", help="with --open: open an exercise")
    p.add_argument("--title", help="with --open: the new incident's title")
    p.add_argument("--slug", help="with --open: the new incident's id suffix")
    p.add_argument("--output", dest="output_format", choices=("text", "json"), default="text")
    _who(p)

    p = made["enquiry"]
    p.add_argument("incident")
    p.add_argument("--outlet", required=True, help="the publication or programme asking")
    p.add_argument("--journalist", help="who asked")
    p.add_argument("--channel", required=True, help="the channel it came through (a channel id)")
    p.add_argument("--received", type=_time, required=True, metavar="TIME", help="when it reached us")
    p.add_argument("--deadline", type=_time, metavar="TIME", help="the outlet's deadline")
    p.add_argument(
        "--question", action="append", default=[], dest="questions", help="what was asked (repeat)"
    )
    p.add_argument("--at", type=_time, metavar="TIME", help="when it was logged (default: now)")
    _who(p)

    p = made["answer"]
    p.add_argument("incident")
    p.add_argument("enquiry", help="the enquiry entry (id, suffix or unique prefix)")
    p.add_argument("--answer", required=True, choices=enquiries.ANSWERS)
    p.add_argument("--draft", help="statement: the published draft; qa-line: the approved Q&A draft")
    p.add_argument("--rationale", help="decline: why we do not answer")
    p.add_argument("--at", type=_time, metavar="TIME", help="when it was answered (default: now)")
    _who(p)

    p = made["preclear"]
    p.add_argument("template", help="the template whose 'clearance:' block you approve")
    p.add_argument("--step", required=True, help="the approval step you clear it for (e.g. legal)")
    p.add_argument("--role", help="the role you act in, when the step exists for several")
    p.add_argument("--key", metavar="PATH", help="SSH key to sign with (default: git user.signingkey)")
    p.add_argument("--as", dest="actor", metavar="PERSON", help="must be you (git user.email)")
    p.add_argument("--now", type=_time, metavar="TIME", help="treat TIME as the current time")

    p = made["enquiries"]
    p.add_argument("incident")
    p.add_argument("--format", dest="output_format", choices=("text", "json"), default="text")
    p.add_argument("--now", type=_time, metavar="TIME", help="treat TIME as the current time")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "signals_action", None)
    if not action:
        raise UsageError("which action? see 'clearance signals --help'")
    config = repository_config(args)
    if action == "evaluate" and not args.open:
        return _evaluate(session_mod.open_session(config, args.now), args)
    if action == "enquiries":
        return _list(session_mod.open_session(config, args.now), args)
    with store.writer_lock(config.root):
        session = session_mod.open_session(config, args.now)
        if action == "evaluate":
            return _evaluate(session, args)
        if action == "enquiry":
            return _enquiry(session, args)
        if action == "preclear":
            return _preclear(session, args)
        return _answer(session, args)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _actor(session: session_mod.Session, args: argparse.Namespace) -> str:
    session.scribe = decisions.scribe_for(session, args.actor)
    return session_mod.find_actor(session, args.actor).person


def _shown(path: str, root: Path) -> str:
    """A file as the log names it: relative to the repository when inside it."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def _evaluate(session: session_mod.Session, args: argparse.Namespace) -> int:
    settings = signals.settings(session.root)
    for name in args.protocol:
        session.need("protocol", name)
    if not args.open and (args.incident or args.exercise or args.title or args.slug):
        raise UsageError("--incident, --exercise, --title and --slug go with --open")
    files = [(Path(f), _shown(f, session.root)) for f in args.files]
    result = signals.evaluate(
        files, session.index, settings, args.export_format, args.protocol, session.now + SKEW
    )
    for bad in result.bad:
        print(f"clearance: {bad}", file=sys.stderr)
    if result.bad_count + result.notes_count > len(result.bad):
        more = result.bad_count + result.notes_count - len(result.bad)
        print(f"clearance: ... and {more} more rows with problems", file=sys.stderr)
    opened = None
    if args.open:
        if not result.protocols:
            raise session_mod.Refused("the signals meet no protocol's trigger; nothing was opened")
        top = result.protocols[0]
        tied = [p for p in result.protocols[1:] if p.severity == top.severity and len(p.met) == len(top.met)]
        if tied and not args.incident:
            names = ", ".join(p.protocol for p in (top, *tied))
            raise session_mod.Refused(
                f"the signals meet {names} equally at {top.severity}; choose one with --protocol"
            )
        actor = _actor(session, args)
        opened = opening.open_or_escalate(
            session,
            actor,
            top,
            result.files,
            incident=args.incident,
            exercise=args.exercise,
            title=args.title,
            slug=args.slug,
        )
    if args.output_format == "json":
        json.dump(_as_json(result, opened), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    _out(
        f"read {result.rows:,} rows from {len(result.files)} file(s); {result.bad_count} skipped, "
        f"{result.notes_count} kept without a value; {result.triggers} triggers evaluated, "
        f"{result.scanned} distinct texts scanned"
    )
    if not result.protocols:
        _out("no protocol's trigger is met")
    for proto in result.protocols:
        _out(f"protocol {proto.protocol}: {proto.severity}")
        for met in proto.met:
            _out(
                f"  trigger {met.trigger.id} ({met.trigger.measure}) met at "
                f"{store.format_time(met.met_at)}: {met.summary()} -> {met.severity}"
            )
            for row in met.rows:
                extra = f" reach {row.reach:,}" if met.trigger.measure == "reach" and row.reach else ""
                _out(f"    {row.where} {store.format_time(row.moment)}{extra} {row.url or ''}".rstrip())
    if opened is not None:
        verb = "opened" if opened.created else "escalated" if opened.escalated_from else "updated"
        _out(f"{verb} incident {opened.incident} at {opened.severity}")
        for entry in opened.observations:
            _out(f"  logged observation {entry}")
        for note in opened.already:
            _out(f"  already logged: {note}")
    return 0


def _as_json(result: signals.Evaluation, opened: opening.Opened | None) -> dict[str, Any]:
    return {
        "files": list(result.files),
        "rows": result.rows,
        "skipped": result.bad_count,
        "kept_without_value": result.notes_count,
        "problems": [
            {"row": f"{b.path}:{b.line}", "reason": b.reason, "skipped": b.skipped} for b in result.bad
        ],
        "protocols": [
            {
                "protocol": p.protocol,
                "severity": p.severity,
                "triggers": [
                    {
                        **as_data(m),
                        "evidence": [
                            {
                                "row": r.where,
                                "at": store.format_time(r.moment),
                                "url": r.url,
                                "reach": r.reach,
                            }
                            for r in m.rows
                        ],
                    }
                    for m in p.met
                ],
            }
            for p in result.protocols
        ],
        "opened": None
        if opened is None
        else {
            "incident": opened.incident,
            "created": opened.created,
            "escalated_from": opened.escalated_from,
            "severity": opened.severity,
            "observations": list(opened.observations),
        },
    }


def _enquiry(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    done = enquiries.record(
        session,
        actor,
        args.incident,
        outlet=args.outlet,
        journalist=args.journalist,
        channel=args.channel,
        received_at=args.received,
        deadline=args.deadline,
        questions=args.questions,
        at=args.at,
    )
    _out(f"logged enquiry {done.entry_id}" if done.written else str(done.note))
    return 0


def _answer(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = _actor(session, args)
    done = enquiries.answer(
        session,
        actor,
        args.incident,
        args.enquiry,
        kind=args.answer,
        draft_ref=args.draft,
        rationale=args.rationale,
        at=args.at,
    )
    _out(f"logged enquiry-answer {done.entry_id}" if done.written else str(done.note))
    return 0


def _preclear(session: session_mod.Session, args: argparse.Namespace) -> int:
    actor = decisions.decider(session, args.actor, "pre-clear a template")
    spec = args.key
    if not spec:
        found = history.run_git(session.root, "config", "user.signingkey", check=False)
        spec = found.stdout.decode("utf-8", "replace").strip() if found.returncode == 0 else ""
    if not spec:
        raise session_mod.Refused(
            f"a clearance is signed: pass --key PATH or set git user.signingkey; {decisions.KEYS_HINT}"
        )
    role = preclearance.sign_approval(
        session.index, session.root, actor, args.template, args.step, spec, session.now, args.role
    )
    tpl = session.need("template", args.template)
    _out(f"cleared {args.template} for step {args.step!r} as {role!r}; now commit {tpl.path}")
    return 0


def _list(session: session_mod.Session, args: argparse.Namespace) -> int:
    incident = session.incident(args.incident)
    derived = session_mod.state_of(session, incident)
    now = derived.closed_at or session.now
    rows = enquiries.enquiries(session.entries(args.incident), derived.voided)
    rows.sort(key=lambda e: (e.answer is not None, not e.overdue(now)))
    if args.output_format == "json":
        json.dump([_enquiry_json(e, now) for e in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        _out("no media enquiries")
    for e in rows:
        data = _enquiry_json(e, now)
        _out(
            f"{data['state']:<8} {e.entry}  {e.outlet}{' (' + e.journalist + ')' if e.journalist else ''} "
            f"via {e.channel}, due {data['deadline'] or 'no deadline'}"
            + (f", answered {data['answered_at']} ({e.answer})" if e.answer else "")
        )
    return 0


def _enquiry_json(e: enquiries.Enquiry, now: dt.datetime) -> dict[str, Any]:
    state = "answered" if e.answer else "overdue" if e.overdue(now) else "open"
    if e.answer and e.overdue(now):
        state = "late"
    return {
        "enquiry": e.entry,
        "outlet": e.outlet,
        "journalist": e.journalist,
        "channel": e.channel,
        "received_at": store.format_time(e.received_at) if e.received_at else None,
        "deadline": store.format_time(e.deadline) if e.deadline else None,
        "questions": list(e.questions),
        "state": state,
        "answer": e.answer,
        "answered_at": store.format_time(e.answered_at) if e.answered_at else None,
        "answered_by": e.answered_by,
    }
