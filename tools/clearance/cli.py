"""Argument parsing and dispatch only. Each subcommand lives in clearance.commands.<name>
with ``add_arguments(parser)`` and ``run(args) -> int``, and is listed once in
:data:`COMMANDS` with the function that imports it."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from clearance import __version__, suggestions
from clearance.errors import FatalError


class CommandModule(Protocol):
    """What each module under clearance.commands provides."""

    __doc__: str | None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class Command:
    """One subcommand. ``load`` imports its module only when the command is used, so a
    quick command such as a pre-commit hook does not pay for the others' imports."""

    name: str
    load: Callable[[], CommandModule]
    help: str
    example: str


def _check() -> CommandModule:
    from clearance.commands import check

    return check


def _rules() -> CommandModule:
    from clearance.commands import rules

    return rules


def _incident() -> CommandModule:
    from clearance.commands import incident

    return incident


def _scan() -> CommandModule:
    from clearance.commands import scan

    return scan


def _signals() -> CommandModule:
    from clearance.commands import signals

    return signals


def _audit() -> CommandModule:
    from clearance.commands import audit

    return audit


def _evidence() -> CommandModule:
    from clearance.commands import evidence

    return evidence


def _history() -> CommandModule:
    from clearance.commands import history

    return history


def _show() -> CommandModule:
    from clearance.commands import show

    return show


def _verify() -> CommandModule:
    from clearance.commands import verify

    return verify


def _keys() -> CommandModule:
    from clearance.commands import keys

    return keys


def _allowance() -> CommandModule:
    from clearance.commands import allowance

    return allowance


def _codeowners() -> CommandModule:
    from clearance.commands import codeowners

    return codeowners


def _init() -> CommandModule:
    from clearance.commands import init

    return init


def _stakeholders() -> CommandModule:
    from clearance.commands import stakeholders

    return stakeholders


def _hold() -> CommandModule:
    from clearance.commands import hold

    return hold


def _hook() -> CommandModule:
    from clearance.commands import hook

    return hook


# Every subcommand, in the order --help lists them.
COMMANDS = (
    Command(
        "check",
        _check,
        "validate the repository and report findings",
        "clearance check --format sarif > clearance.sarif",
    ),
    Command(
        "rules",
        _rules,
        "list every rule with its id, severity and description",
        "clearance rules --format json",
    ),
    Command(
        "incident",
        _incident,
        "run an incident: log, draft, approve, publish, deadlines, status, review",
        "clearance incident status 2026-10-14-viral-export-link-exercise",
    ),
    Command(
        "signals",
        _signals,
        "monitoring exports against protocol triggers (--open opens the incident); media enquiries",
        "clearance signals evaluate tests/data/signals/viral-leak-mentions.csv --open --exercise",
    ),
    Command(
        "scan",
        _scan,
        "scan statements for sensitive data: masked, located hits and the approvals they need",
        "pbpaste | clearance scan -",
    ),
    Command(
        "audit",
        _audit,
        "evidence export: changes, approvers, signatures, change-control findings",
        "clearance audit --since 2026-01-01 --format csv -o audit.csv",
    ),
    Command(
        "evidence",
        _evidence,
        "evidence packs for an auditor or a regulator (PDF, JSON, zip), and verifying them",
        "clearance evidence incident 2026-10-14-viral-export-link-exercise -o pack.pdf",
    ),
    Command(
        "history",
        _history,
        "every change to one document, following renames",
        "clearance history policies/sensitive-data-disclosure.md",
    ),
    Command(
        "show",
        _show,
        "a document's text as of a date, and the commit it came from",
        "clearance show policies/sensitive-data-disclosure.md --as-of 2026-03-02",
    ),
    Command(
        "verify",
        _verify,
        "prove incident logs were never rewritten; check signatures and checkpoints",
        'clearance verify --checkpoint "$(cat ~/q1.checkpoint)" --allowed-signers ~/trusted/allowed_signers',
    ),
    Command(
        "keys",
        _keys,
        "register the SSH key you sign decisions with; list who holds which key",
        "clearance keys list --format allowed-signers",
    ),
    Command(
        "allowance",
        _allowance,
        "an incident's allowances: their hash and approval; approve one for your step (signed)",
        "clearance allowance list 2026-10-14-viral-export-link-exercise",
    ),
    Command(
        "codeowners",
        _codeowners,
        "generate CODEOWNERS from owners and change chains (--check in CI)",
        "clearance codeowners --check",
    ),
    Command(
        "init",
        _init,
        "start a new governance repository from Clearance's reference content",
        "clearance init handbook --org 'Acme Ltd' --domain acme.example --ci github",
    ),
    Command(
        "stakeholders",
        _stakeholders,
        "stakeholder notices: who must hear from us, in what order, by when (due, sent, not applicable)",
        "clearance stakeholders status 2026-10-14-viral-export-link-exercise",
    ),
    Command(
        "hold",
        _hold,
        "legal hold: counsel preserves an incident's folder and the documents it cites",
        "clearance hold list",
    ),
    Command(
        "hook",
        _hook,
        "pre-commit checks: append-only incident logs, whitespace, end of file, large files, YAML text",
        "clearance hook append-only",
    ),
)

EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    _given: Sequence[str] = ()

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("the following arguments are required"):
            # argparse checks these before it reports unknown options: a mistyped
            # required option ('--protcol') is reported as missing, so say what it was
            said = self._option_hints(self._given)
            message += f" ({said})" if said else ""
        self.print_usage(sys.stderr)
        # main() prefixes 'clearance: error:'; a subcommand's parser names itself too
        where = self.prog.partition(" ")[2]
        raise FatalError(f"{where}: {message}" if where else message)

    def _option_hints(self, words: Sequence[str]) -> str:
        """'did you mean ...?' for each unknown --option in ``words``."""
        options = [o for action in self._actions for o in action.option_strings]
        hints = []
        for word in words:
            name = word.partition("=")[0]
            if not name.startswith("--") or any(o.startswith(name) for o in options):
                continue
            match = suggestions.closest(name.lstrip("-"), [o.lstrip("-") for o in options], cutoff=0.7)
            if match:
                hints.append((name, f"did you mean {'--' + match!r}?"))
        if len(hints) == 1:
            return hints[0][1]
        return "; ".join(f"{name!r}: {hint}" for name, hint in hints)

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """An unknown subcommand or choice says what was probably meant, and lists the
        valid values when they are few."""
        if action.choices is None or value in action.choices:
            return
        names = [str(c) for c in action.choices]
        if isinstance(action, argparse._SubParsersAction):
            what = str(action.metavar or "command").lower()
            raise argparse.ArgumentError(
                None, f"unknown {what} {value!r}" + suggestions.hint(value, names, f"{what}s")
            )
        listing = suggestions.hint(value, names, "choose from")
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}" + listing)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._given = list(args) if args is not None else sys.argv[1:]
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and not hasattr(parsed, _EXTRAS_PARSER):
            # the innermost (sub)command with arguments it does not know reports them,
            # with its own usage: it finishes parsing before the commands around it
            setattr(parsed, _EXTRAS_PARSER, self)
        return parsed, extras

    def unrecognized(self, extras: Sequence[str]) -> None:
        said = self._option_hints(extras)
        self.error(f"unrecognized arguments: {' '.join(extras)}" + (f" ({said})" if said else ""))


_EXTRAS_PARSER = "_clearance_extras_parser"


def requested_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv``, skipping the global options."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--root":
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def build_parser(argv: Sequence[str] = (), *, everything: bool = False) -> _Parser:
    """The parser. Only the subcommand named in ``argv`` has its module imported and
    its options added (``everything`` imports all), so a quick command such as a
    pre-commit hook does not pay for the others' imports."""
    parser = _Parser(
        prog="clearance",
        description="Governance as code for crisis communication: validate policies, "
        "protocols and incident logs, scan drafts, compute deadlines, audit history.",
        epilog="example: clearance check\n\nexit codes: 0 clean, 1 findings, 2 usage or "
        "configuration error, 3 internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"clearance {__version__}")
    parser.add_argument("--root", help="repository root (default: nearest folder with clearance.yaml)")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = requested_command(argv)
    for entry in COMMANDS:
        module = entry.load() if everything or entry.name == wanted else None
        command = sub.add_parser(
            entry.name,
            help=entry.help,
            description=((module.__doc__ if module else None) or entry.help).strip(),
            epilog=f"example: {entry.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if module is not None:
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in arguments
    try:
        parser = build_parser(arguments)
        args, extras = parser.parse_known_args(arguments)
        if extras:
            owner: _Parser = getattr(args, _EXTRAS_PARSER, parser)
            owner.unrecognized(extras)
        if not getattr(args, "run", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.run(args))
    except FatalError as exc:
        print(f"clearance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("clearance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except SystemExit as exc:  # argparse --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"clearance: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in Clearance; run again with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
