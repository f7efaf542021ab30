"""Evidence export for auditors: every change to governed documents in a period, with
author, date, files, reason or ticket, approvers (merge commits, and Approved-by /
Reviewed-by trailers reported as claims), signature status checked by git against an
allowed-signers file, and the change-control findings: an author approving their own
change (AUD001), a direct commit to the main branch (AUD002), a change with no reason
or ticket (AUD003), unsigned or unverifiable signatures (SIG001-SIG004). Also lists
every disclosure-scanner allowance in the documents. Exit 0 (1 with
--fail-on-findings when there are findings), 2 on a usage error."""

from __future__ import annotations

import argparse
import sys

from charter import audit, history
from charter.commands import history as gitargs
from charter.commands.common import repository_config
from charter.errors import FatalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD, UTC) or RFC 3339 time")
    parser.add_argument("--until", metavar="DATE", help="last day (inclusive) or RFC 3339 time")
    parser.add_argument("--format", choices=tuple(audit.RENDERERS), default="md", help="default: md")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report here (default: stdout)")
    parser.add_argument("--fail-on-findings", action="store_true", help="exit 1 when there are findings")
    gitargs.add_signers(parser)
    gitargs.add_rev(parser)


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    since = history.parse_moment(args.since, end=False) if args.since else None
    until = history.parse_moment(args.until, end=True) if args.until else None
    if since and until and since > until:
        raise FatalError(f"--since {args.since!r} is after --until {args.until!r}")
    signers = gitargs.signers(args)
    report = audit.audit(config, since=since, until=until, rev=args.rev, allowed_signers=signers,
                         signatures=signers is not None or config.signing_required)
    if report is None:
        gitargs.require_history(None, config.root)
        return 2
    if report.shallow:
        print(f"charter: warning: {history.UNSHALLOW_HINT}", file=sys.stderr)
    gitargs.write(args.output, audit.RENDERERS[args.format](report))
    if report.findings:
        count = f"{len(report.findings)} finding(s) in {len(report.records)} change(s)"
        print(f"charter: {count}", file=sys.stderr)
    return 1 if args.fail_on_findings and report.findings else 0
