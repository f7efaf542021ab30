"""List every rule Clearance applies, with its id, default severity and description."""

from __future__ import annotations

import argparse
import json
import sys

from clearance import checks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    catalogue = checks.catalogue()
    if args.format == "json":
        rows = [
            {"id": r.id, "severity": str(r.severity), "description": r.description}
            for r in catalogue.values()
        ]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for rule in catalogue.values():
        sys.stdout.write(f"{rule.id}  {rule.severity!s:8} {rule.description}\n")
    return 0
