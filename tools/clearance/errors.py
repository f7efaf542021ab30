"""The one exception root. ``cli.main`` turns these into messages and exit codes."""

from __future__ import annotations


class FatalError(Exception):
    """The tool cannot go on: bad configuration, missing file, unusable environment."""

    exit_code = 2


class UsageError(FatalError):
    """A bad flag, argument or option value."""


class Refused(FatalError):
    """The incident workflow refuses an action (missing approvals, separation of duties,
    a gate not met): exit 1, as a finding would."""

    exit_code = 1
