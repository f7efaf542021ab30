"""Checks for pre-commit, offline and fast: 'append-only' refuses a commit that
modifies, deletes or renames an incident log entry that is already committed;
'trailing-whitespace' and 'end-of-file' fix files in place; 'large-files' refuses
big new files; 'yaml-text' refuses YAML that is not UTF-8 text or hides binary
values. Exit 0 when all is well, 1 when something was found or fixed (pre-commit
then shows the list and, for fixes, asks you to stage them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from clearance import hooks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hook", metavar="HOOK", required=True)

    def action(name: str, help_text: str, example: str, files: bool = True) -> argparse.ArgumentParser:
        sub = actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if files:
            sub.add_argument("files", nargs="*", metavar="FILE", help="files (pre-commit passes them)")
        return sub

    action(
        "append-only",
        "refuse staged changes that modify, delete or rename a committed incident log entry, or "
        "that delete or move a file under legal hold",
        "clearance hook append-only",
        files=False,
    ).add_argument("files", nargs="*", metavar="FILE", help=argparse.SUPPRESS)
    action(
        "trailing-whitespace",
        "remove spaces and tabs at the end of lines (fixes files in place)",
        "clearance hook trailing-whitespace README.md docs/index.md",
    )
    action(
        "end-of-file",
        "make files end with exactly one newline (fixes files in place)",
        "clearance hook end-of-file README.md",
    )
    large = action(
        "large-files",
        "refuse new files over a size limit (only files staged as added, unless --enforce-all)",
        "clearance hook large-files --max-kb 500 --enforce-all README.md docs/index.md",
    )
    large.add_argument(
        "--max-kb", type=int, default=hooks.DEFAULT_MAX_KB, help=f"limit (default {hooks.DEFAULT_MAX_KB})"
    )
    large.add_argument("--enforce-all", action="store_true", help="check every given file, added or not")
    action(
        "yaml-text",
        "refuse YAML that is not UTF-8 text or carries !!binary values",
        "clearance hook yaml-text clearance.yaml mkdocs.yml",
    )


def run(args: argparse.Namespace) -> int:
    here = Path.cwd()
    if args.hook == "append-only":
        from clearance.incidents import hold  # documents load only for a deletion or a move

        problems = hooks.append_only(here) + hold.staged_problems(here)
    elif args.hook == "trailing-whitespace":
        problems = hooks.trailing_whitespace(args.files)
    elif args.hook == "end-of-file":
        problems = hooks.end_of_file(args.files)
    elif args.hook == "large-files":
        problems = hooks.large_files(args.files, here, max_kb=args.max_kb, enforce_all=args.enforce_all)
    else:
        problems = hooks.yaml_text(args.files)
    for line in problems:
        print(line)
    return 1 if problems else 0
