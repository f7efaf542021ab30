"""List every rule Clearance applies, with its id, default severity and description."""

from __future__ import annotations

import argparse
import sys

from clearance import checks
from clearance.report import trail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    trail.rules(checks.catalogue().values(), args.format, sys.stdout)
    return 0
