"""Positive and negative example documents for every kind. Each negative example
states on its first YAML line the rule, line and message it must produce."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clearance import loading, schemas
from conftest import DATA

EXAMPLES = DATA / "examples"
VALID = sorted(EXAMPLES.glob("valid-*"))
INVALID = sorted(EXAMPLES.glob("invalid-*"))
EXPECT = re.compile(r'# expect: (?P<rule>[A-Z]+\d{3}) (?P<line>\d+) "(?P<message>.+)"')


def load(path: Path):  # type: ignore[no-untyped-def]
    return loading.load_file(path, path.name)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_examples(path: Path) -> None:
    doc = load(path)
    assert schemas.kind_finding(doc) is None
    assert schemas.validate(doc) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_examples_report_their_stated_error(path: Path) -> None:
    expect = EXPECT.search(path.read_text("utf-8"))
    assert expect, f"{path.name} must state '# expect: RULE LINE \"message\"'"
    doc = load(path)
    findings = schemas.validate(doc)
    located = [(f.rule, f.location.line) for f in findings]
    assert (expect["rule"], int(expect["line"])) in located, [
        str(f.location) + " " + f.message for f in findings
    ]
    message = expect["message"].replace('\\"', '"')
    assert any(message in f.message for f in findings), [f.message for f in findings]


def test_every_kind_has_positive_and_negative_examples() -> None:
    for kind in schemas.KINDS:
        assert (EXAMPLES / f"valid-{kind}.yaml").exists() or (EXAMPLES / f"valid-{kind}.md").exists(), kind
        assert list(EXAMPLES.glob(f"invalid-{kind}-*")), kind


def test_every_schema_is_well_formed_2020_12_with_titles() -> None:
    from jsonschema import Draft202012Validator

    for path in sorted(schemas.schema_dir().glob("*.schema.json")):
        schema = json.loads(path.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == schemas.BASE_URI + path.name
        assert schema.get("title") and schema.get("description"), path.name


def test_reference_annotations_are_found_generically() -> None:
    paths = dict(schemas.reference_paths("protocol"))
    assert paths[("owner",)] == "role"
    assert paths[("severities", "*", "chain")] == "approval-chain"
    assert paths[("raci", "*", "responsible", "*")] == "role"
    assert paths[("steps", "*", "cites", "*")] == "clause"
    entry = dict(schemas.reference_paths("log-entry"))
    assert entry[("draft",)] == "log-entry" and entry[("obligation",)] == "obligation"
    # every kind's owner field is a role reference, through the shared header
    for kind in schemas.KINDS:
        if kind != "log-entry":
            assert dict(schemas.reference_paths(kind))[("owner",)] == "role", kind


def test_impossible_dates_fail_format_checking() -> None:
    doc = loading.load_text(
        "kind: channel\nid: x\ntitle: X\nowner: r\nstatus: active\nclassification: public\n"
        "audience: public\ntype: social\nreview: {every: P1Y, last: 2026-02-30}\n",
        "x.yaml",
    )
    assert [(f.location.line, f.message) for f in schemas.validate(doc)] == [
        (9, '"2026-02-30" is not a valid date')
    ]
