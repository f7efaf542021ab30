"""A document's text as it stood on the main branch at the end of a date (or at an
RFC 3339 time), and the commit it came from; follows renames. The text goes to
stdout, the provenance line to stderr (or both as JSON with --format json).
Exit 0, 2 when the document did not exist then or on a usage error."""

from __future__ import annotations

import argparse
import sys

from clearance import audit
from clearance.commands.common import repository_config
from clearance.commands.history import repo_path, require_history, warn_shallow
from clearance.errors import FatalError
from clearance.history import History, parse_moment
from clearance.report import trail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the document (its current or last name)")
    parser.add_argument("--as-of", metavar="DATE",
                        help="YYYY-MM-DD (end of that day, UTC) or an RFC 3339 time (default: HEAD)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    moment = parse_moment(args.as_of, end=True) if args.as_of else None
    history = require_history(History.load(config.root), config.root)
    warn_shallow(history)
    path = repo_path(args.path, config.root)
    snapshot = audit.as_of(history, path, moment)
    if isinstance(snapshot, str):
        raise FatalError(snapshot)
    as_of = moment.isoformat() if moment else None
    trail.snapshot(path, snapshot, as_of, args.format, sys.stdout, sys.stderr)
    return 0
