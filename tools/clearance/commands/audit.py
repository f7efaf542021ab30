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
import csv
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clearance import history
from clearance.errors import FatalError

if TYPE_CHECKING:
    from clearance.audit import AuditReport

# This module is imported before the command runs, so it imports only what starting
# git needs: the configuration, the audit and the engine behind them take ~0.1 s to
# import, which run() spends while git already reads the history.
FORMATS = ("md", "json", "csv")  # the keys of clearance.report.audit.RENDERERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD, UTC) or RFC 3339 time")
    parser.add_argument("--until", metavar="DATE", help="last day (inclusive) or RFC 3339 time")
    parser.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report here (default: stdout)")
    parser.add_argument("--fail-on-findings", action="store_true", help="exit 1 when there are findings")
    # as clearance.commands.history.add_signers and add_rev, which importing would load
    # the configuration (tests/audit_test.py holds them together)
    parser.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="SSH allowed-signers file to verify signatures against (keep it outside the audited "
        "branch); each signer is mapped to a person through signing_keys and emails",
    )
    parser.add_argument("--rev", default="HEAD", help="the main branch to audit (default: HEAD)")


def run(args: argparse.Namespace) -> int:
    started = start_early(args)
    try:
        from clearance import audit
        from clearance.commands import history as gitargs
        from clearance.commands.common import repository_config

        config = repository_config(args)
        since = history.parse_moment(args.since, end=False) if args.since else None
        until = history.parse_moment(args.until, end=True) if args.until else None
        if since and until and since > until:
            raise FatalError(f"--since {args.since!r} is after --until {args.until!r}")
        signers = gitargs.signers(args)
    except BaseException:
        if started is not None:
            started.cancel()
        raise
    from clearance.report import audit as reporter

    report = audit.audit(
        config,
        since=since,
        until=until,
        rev=args.rev,
        allowed_signers=signers,
        signatures=signers is not None or config.signing_required,
        render=args.format,
        row=reporter.ROWS[args.format],
        started=started,
    )
    if report is None:
        gitargs.require_history(None, config.root)
        return 2
    if report.shallow:
        print(f"clearance: warning: {history.UNSHALLOW_HINT}", file=sys.stderr)
    text = reporter.RENDERERS[args.format](report)
    gitargs.write(args.output, text)
    if args.output and args.output != "-":
        print(f"clearance: wrote {_written(report, args.format, text)} to {args.output}", file=sys.stderr)
    if report.findings:
        count = f"{len(report.findings)} finding(s) in {len(report.records)} change(s)"
        print(f"clearance: {count}", file=sys.stderr)
    return 1 if args.fail_on_findings and report.findings else 0


def _written(report: AuditReport, fmt: str, text: str) -> str:
    """How much went into the file: changes (commits), and for CSV its rows too, one
    per file changed, so the figure matches what a spreadsheet shows."""
    changes = f"{len(report.records)} change(s)"
    if fmt != "csv":
        return changes
    rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1  # less the header
    return f"{changes} ({rows} row(s), one per file changed)"


def start_early(args: argparse.Namespace) -> history.PendingLog | None:
    """The ``git log`` the audit will most likely need, started before the
    configuration is read: git then works while Python imports and loads. A guess
    (the repository root as the configuration would find it; signatures only when
    --allowed-signers is given): ``audit.audit`` uses it only if it matches what it
    needs, and a repository that requires signing starts again. None when there is
    nothing sensible to start; errors are left for the normal path to report."""
    if args.rev.startswith("-"):
        return None
    root = Path(args.root) if args.root else _find_root(Path.cwd())
    signers = Path(args.allowed_signers) if args.allowed_signers else None
    if not root.is_dir() or (signers is not None and not signers.is_file()):
        return None
    try:
        return history.start(
            root.resolve(),
            rev=args.rev,
            signatures=signers is not None,
            allowed_signers=signers if signers is not None else Path(os.devnull),
        )
    except FatalError:
        return None


def _find_root(start: Path) -> Path:
    """``clearance.config.find_root``, without importing the configuration module."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "clearance.yaml").is_file():
            return folder
    return start
