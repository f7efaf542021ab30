"""Every command's help ends with an example, including nested actions."""

from __future__ import annotations

import argparse

import pytest

from clearance.cli import COMMANDS, build_parser
from conftest import run_cli


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


ALL = _commands(build_parser(everything=True))


def test_every_registered_command_is_reachable() -> None:
    assert {path[0] for path in ALL} == {name for name, *_ in COMMANDS}
    assert ("hook", "append-only") in ALL
    assert ("init",) in ALL


def test_top_level_help_has_an_example() -> None:
    result = run_cli("--help")
    assert result.code == 0
    assert "example: clearance check" in result.out
    for name, *_ in COMMANDS:
        assert name in result.out


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_each_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.code == 0, result.err
    example = [line for line in result.out.splitlines() if line.startswith("example: ")]
    assert example, f"'clearance {' '.join(path)} --help' gives no example"
    assert f"clearance {path[0]}" in example[0]
