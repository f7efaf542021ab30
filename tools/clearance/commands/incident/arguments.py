"""The options of ``clearance incident`` and its actions: one parser per action, each
with an example (tests/cli_help_test.py runs every example as written)."""

from __future__ import annotations

import argparse
import datetime as dt

from clearance.errors import UsageError
from clearance.incidents import legal, logbook
from clearance.incidents import session as session_mod

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


def _key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        metavar="PATH",
        help="SSH key to sign this decision with (default: git user.signingkey); see 'clearance keys'",
    )
