"""Helpers every subcommand shares: finding the repository and its configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from clearance import config as config_mod
from clearance.checks import settings
from clearance.errors import UsageError


def repository_config(args: argparse.Namespace) -> config_mod.Config:
    if args.root:
        root = Path(args.root)
        if not root.is_dir():
            raise UsageError(f"--root {args.root!r} is not a directory")
    else:
        root = config_mod.find_root(Path.cwd())
    config = config_mod.load(root.resolve())
    settings.require_valid_rules(config)
    return config
