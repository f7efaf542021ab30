"""Validate every governance document under the content folders: strict loading,
schemas, cross-references and governance rules. Exit 0 when no errors are found,
1 when there are errors (or warnings with --strict), 2 on a usage or configuration
error."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clearance import checks, report
from clearance import config as config_mod
from clearance.commands.common import repository_config
from clearance.errors import UsageError
from clearance.incremental import run as incremental


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="report only findings in these files or folders"
    )
    parser.add_argument(
        "--format", choices=report.FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--show-suppressed", action="store_true", help="list suppressed findings (always done now)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="ignore the document cache kept in .git/clearance/ (it is used only in git work trees)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for loading (default: one per core; 1 disables)",
    )


def run(args: argparse.Namespace) -> int:
    config = repository_config(args)
    config_mod.require_content(config)
    root = config.root.resolve()
    selected: list[str] = []
    extra: list[Path] = []
    for raw in args.paths:
        path = Path(raw)
        absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if not absolute.exists():
            raise UsageError(f"{raw}: no such file or directory")
        if absolute != root and root not in absolute.parents:
            raise UsageError(f"{raw}: outside the repository {str(root)!r}")
        rel = absolute.relative_to(root).as_posix()
        selected.append("" if rel == "." else rel)
        if absolute.is_file():
            extra.append(absolute)
    if "" in selected:
        selected = []
    if args.jobs < 0:
        raise UsageError(f"--jobs must be 0 (automatic) or more, not {args.jobs}")
    jobs = args.jobs or (os.cpu_count() or 1)
    cache = not args.no_cache and (root / ".git").is_dir()
    result = incremental.check(config, selected, strict=args.strict, extra=extra, jobs=jobs, cache=cache)
    report.emit(
        args.format,
        result.findings,
        rules=checks.catalogue() if args.format == "sarif" else {},  # only SARIF lists them
        suppressed=result.suppressed,  # every remaining suppression is shown, in every format
        checked=len(result.repository.documents),
    )
    return result.exit_code()
