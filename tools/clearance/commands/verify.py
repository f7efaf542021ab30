"""Append-only verification over all history: names every commit that modified,
deleted or renamed a landed incident log entry (VER001), every commit dated earlier
than its parent (VER002), a recorded checkpoint that is no longer an ancestor of HEAD
(VER003), and with --allowed-signers (or when clearance.yaml requires signing) every
unsigned or unverifiable signature on governed changes, each signer mapped to a known
person (SIG001-SIG004). Exit 0 clean, 1 on any finding, 2 on a usage error or a
shallow clone."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from clearance import audit
from clearance.audit.records import Verification
from clearance.audit.verify import CHECKPOINT_TAGS
from clearance.commands import history as gitargs
from clearance.commands.common import repository_config
from clearance.errors import FatalError
from clearance.history import UNSHALLOW_HINT
from clearance.report import trail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", metavar="SHA", action="append", default=[],
                        help="a previously recorded commit that must still be an ancestor of HEAD "
                        "(repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--tag-checkpoint", action="store_true",
        help="after a run without findings, create a signed tag clearance-checkpoint/<UTC time> at HEAD; "
        "every later run checks every such tag is still an ancestor of HEAD and its signature verifies",
    )
    gitargs.add_signers(parser)
    gitargs.add_rev(parser)


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    signers = gitargs.signers(args)
    history, repo = audit.load(config, signatures=signers is not None or config.signing_required,
                               allowed_signers=signers, rev=args.rev, merges=True)
    history = gitargs.require_history(history, config.root)
    if history.shallow:
        raise FatalError(f"cannot verify: {UNSHALLOW_HINT}")
    findings = audit.verify(
        history, repo, checkpoints=args.checkpoint, keys=signers is not None, tag_signers=signers
    )
    findings += _holds(config, history)
    tagged = None
    if args.tag_checkpoint and not findings and history.head is not None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        tagged = f"{CHECKPOINT_TAGS}{stamp}"
        history.sign_tag(tagged, f"clearance verify: {len(history.commits)} commits, no findings")
    result = Verification(history.head.sha if history.head else None, len(history.commits), findings, tagged)
    trail.verification(result, args.format, sys.stdout)
    return 1 if findings else 0


def _holds(config: Any, history: Any) -> list[Any]:
    """HLD003: deletions and moves of held files after their hold landed (issue 23).
    Documents load only when some log entry is a legal hold."""
    from clearance import engine
    from clearance.incidents import hold

    marked = engine.load_repository(config, kinds={"log-entry"}, mentioning=(hold.HOLD.encode(),))
    if not any(doc.data.get("type") == hold.HOLD for doc in marked.index.documents):
        return []
    index = engine.load_repository(config).index
    return hold.history_findings(config.root.resolve(), index, history.commits)
