"""Mistakes on the command line: a mistyped command, action, option or choice gets
"did you mean ...?", the short list of valid values, and the usage of the (sub)command
it was typed for, with exit 2 and no traceback."""

from __future__ import annotations

import pytest

from conftest import Run, run_cli


def refused(*args: str) -> Run:
    result = run_cli(*args)
    assert result.code == 2, (args, result)
    assert result.out == "" and "Traceback" not in result.err, result.err
    return result


def usage_line(result: Run) -> str:
    return result.err.splitlines()[0]


def test_a_mistyped_option_prints_the_subcommand_usage() -> None:
    result = refused("check", "--fromat", "json")
    assert usage_line(result).startswith("usage: clearance check [-h] [--format")
    assert "COMMAND ..." not in result.err  # not the top-level usage
    assert "unrecognized arguments: --fromat (did you mean '--format'?)" in result.err


def test_a_mistyped_option_of_a_nested_action_prints_that_action_usage() -> None:
    result = refused("incident", "status", "2026-03-14-x", "--fromat", "json")
    assert usage_line(result).startswith("usage: clearance incident status [-h]")
    assert "did you mean '--format'?" in result.err


def test_several_mistyped_options_each_get_a_suggestion() -> None:
    result = refused("check", "--fromat=json", "--strct")
    assert "'--fromat': did you mean '--format'?; '--strct': did you mean '--strict'?" in result.err


def test_a_mistyped_required_option_is_named_not_only_reported_missing() -> None:
    result = refused("incident", "new", "--protcol", "x", "--title", "T", "--severity", "sev2")
    assert usage_line(result).startswith("usage: clearance incident new [-h]")
    assert "the following arguments are required: --protocol (did you mean '--protocol'?)" in result.err


def test_an_option_mistyped_before_the_command_gets_the_top_level_usage() -> None:
    result = refused("--debgu", "rules")
    assert usage_line(result).startswith("usage: clearance [-h]")
    assert "unrecognized arguments: --debgu (did you mean '--debug'?)" in result.err


def test_an_unknown_command_suggests_the_closest_and_lists_them() -> None:
    result = refused("chek")
    # said once, by the program: not 'clearance: error: clearance: ...'
    assert "clearance: error: unknown command 'chek' (did you mean 'check'?)" in result.err
    assert (
        "; commands: check, rules, incident, signals, scan, audit, evidence, history, show, verify, keys, "
        "allowance, codeowners, init, stakeholders, hold, hook\n"
    ) in result.err


def test_an_unknown_incident_action_suggests_the_closest() -> None:
    result = refused("incident", "stauts", "2026-03-14-x")
    assert usage_line(result).startswith("usage: clearance incident [-h] ACTION")
    assert "unknown action 'stauts' (did you mean 'status'?); actions: new, log, draft," in result.err


def test_an_unknown_hook_suggests_the_closest() -> None:
    result = refused("hook", "apend-only")
    assert "unknown hook 'apend-only' (did you mean 'append-only'?); hooks: append-only," in result.err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("check", "--format", "jsno"),
            "argument --format: invalid choice: 'jsno' (did you mean 'json'?); "
            "choose from: text, json, sarif, github, gitlab",
        ),
        (
            ("incident", "log", "2026-03-14-x", "observaton"),
            "argument type: invalid choice: 'observaton' (did you mean 'observation'?); choose from: observation,",
        ),
    ],
)
def test_an_invalid_choice_suggests_the_closest_and_lists_them(args: tuple[str, ...], said: str) -> None:
    assert said in refused(*args).err


def test_nothing_close_still_lists_the_short_list() -> None:
    result = refused("incident", "zzz")
    assert "unknown action 'zzz'; actions: new," in result.err and "did you mean" not in result.err
