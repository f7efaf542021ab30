"""clearance.config: strict loading of clearance.yaml with located errors, defaults,
and the rules section, which checks.settings judges (unknown rules, enforcement
rules that may not be lowered)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance import config
from clearance.checks import settings
from clearance.errors import FatalError
from clearance.model import Severity


def write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "clearance.yaml").write_text(text, "utf-8")
    return root


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    loaded = config.load(tmp_path)
    assert loaded.content == config.DEFAULT_CONTENT and loaded.rules == {} and loaded.today is None


def test_values_are_read_and_dates_stay_dates(tmp_path: Path) -> None:
    loaded = config.load(
        write(tmp_path, "organisation: {name: Acme, domain: acme.example}\ntoday: 2026-11-26\n")
    )
    assert (loaded.organisation, loaded.domain) == ("Acme", "acme.example")
    assert str(loaded.today) == "2026-11-26"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("organisation: [not, a, mapping]\n", "clearance.yaml:1:"),
        ("today: 2026-11-26\ntoday: 2026-11-27\n", "clearance.yaml:2:"),  # duplicate key
        ("rules: {REV001: loud}\n", "clearance.yaml:1:"),
    ],
)
def test_a_bad_file_is_a_located_error(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(FatalError) as raised:
        config.load(write(tmp_path, text))
    assert where in str(raised.value)


def test_rules_are_judged_by_the_catalogue(tmp_path: Path) -> None:
    loaded = config.load(
        write(tmp_path, "organisation: {name: Acme}\nrules:\n  REV001: off\n  ZZZ999: off\n")
    )
    assert loaded.rules["REV001"] is Severity.OFF
    with pytest.raises(FatalError, match=r"clearance.yaml:4:3: unknown rule 'ZZZ999'"):
        settings.require_valid_rules(loaded)


@pytest.mark.parametrize("level", ["off", "info", "warning"])
def test_an_enforcement_rule_cannot_be_lowered(tmp_path: Path, level: str) -> None:
    loaded = config.load(write(tmp_path, f"rules:\n  APR001: {level}\n"))
    with pytest.raises(FatalError, match=r"clearance.yaml:2:11: rule 'APR001' cannot be set"):
        settings.require_valid_rules(loaded)


def test_raising_an_enforcement_rule_or_setting_another_is_fine(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, "rules:\n  APR001: error\n  REV001: error\n"))
    settings.require_valid_rules(loaded)
    assert loaded.rules == {"APR001": Severity.ERROR, "REV001": Severity.ERROR}
