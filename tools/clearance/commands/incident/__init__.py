"""Run an incident or an exercise from the command line: open it from a protocol, log
what happens, draft statements, approve or reject them, publish (only with complete
approvals), assess regulatory obligations and record notifications, see what is
waiting and what is due, close it and create the review."""

from __future__ import annotations

import argparse

from clearance.commands.common import repository_config
from clearance.commands.incident.actions import HANDLERS
from clearance.commands.incident.arguments import LOG_TYPES, SUBCOMMANDS, add_arguments
from clearance.errors import UsageError
from clearance.incidents import legal, store
from clearance.incidents import session as session_mod

__all__ = ["HANDLERS", "LOG_TYPES", "SUBCOMMANDS", "add_arguments", "run"]


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
