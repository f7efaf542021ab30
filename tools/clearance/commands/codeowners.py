"""Generate CODEOWNERS from each document's owner role and the approval chain that
governs changes to it (policy 'change_chain'), using the members' code_host handles.
Deterministic. With --check, exit 1 and print a unified diff when the committed file
is stale. Default output: .github/CODEOWNERS (github) or CODEOWNERS (gitlab, with
[Section] headers)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clearance import audit
from clearance.commands.common import repository_config
from clearance.commands.history import write

DEFAULT_OUTPUT = {"github": ".github/CODEOWNERS", "gitlab": "CODEOWNERS"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when the file is stale")
    parser.add_argument("--syntax", choices=tuple(DEFAULT_OUTPUT), default="github")
    parser.add_argument("--output", metavar="PATH",
                        help="file to write or check, relative to the repository root ('-' for stdout)")


def _git_prefix(root: Path) -> str:
    """The Clearance root's path inside its git work tree (CODEOWNERS paths start at
    the work tree's top), found without running git."""
    resolved = root.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / ".git").exists():
            rel = resolved.relative_to(folder).as_posix()
            return "" if rel == "." else rel
    return ""


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    repo = audit.documents(config)  # owners, roles, people and chains; log entries have no owner
    owners = audit.codeowners(repo, syntax=args.syntax, prefix=_git_prefix(config.root))
    for warning in owners.warnings:
        print(f"clearance: warning: {warning}", file=sys.stderr)
    output = args.output or DEFAULT_OUTPUT[args.syntax]
    if output == "-":
        sys.stdout.write(owners.text)
        return 0
    target = Path(output) if Path(output).is_absolute() else config.root / output
    if args.check:
        current = target.read_text("utf-8") if target.is_file() else ""
        if current == owners.text:
            print(f"{output}: up to date", file=sys.stderr)
            return 0
        if not target.is_file():
            print(f"{output}:1:1: CODEOWNERS missing; run 'clearance codeowners' and commit it",
                  file=sys.stderr)
        else:
            print(f"{output}:1:1: CODEOWNERS is stale; run 'clearance codeowners' and commit it",
                  file=sys.stderr)
        sys.stdout.write(audit.unified_diff(current, owners.text, output))
        return 1
    write(str(target), owners.text)
    print(f"wrote {output}", file=sys.stderr)
    return 0
