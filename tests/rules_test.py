"""Every rule: a minimal repository that triggers it (asserting rule, file and line)
and the clean minimal repository that does not."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from clearance import checks
from conftest import Run, edit, run_cli

Mutation = Callable[[Path], None]
INCIDENT = "incidents/2026-03-02-exercise-leak-claim"
LOG = f"{INCIDENT}/log"


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def findings(repo: Path, *extra: str) -> Run:
    return run_cli("--root", str(repo), "check", "--format", "json", *extra)


def replace(rel: str, old: str, new: str) -> Mutation:
    return lambda repo: edit(repo / rel, old, new)


def write(rel: str, text: str) -> Mutation:
    def apply(repo: Path) -> None:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, "utf-8")

    return apply


def move(src: str, dst: str) -> Mutation:
    def apply(repo: Path) -> None:
        (repo / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(repo / src, repo / dst)

    return apply


PERSON = """kind: person
id: eve-ross
title: Eve Ross
owner: crisis-lead
status: active
classification: internal
name: Eve Ross
emails: [eve-ross@example.com]
"""

# (rule, mutation, file where the finding must be, text on the finding's line)
CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "REF001",
        replace("protocols/playbooks/leak-claim.yaml", "templates: [holding-x]", "templates: [holding-y]"),
        "protocols/playbooks/leak-claim.yaml",
        "templates: [holding-y]",
    ),
    (
        "REF001",
        replace("policies/roles/legal-counsel.yaml", "owner: crisis-lead", "owner: crisis-led"),
        "policies/roles/legal-counsel.yaml",
        "owner: crisis-led",
    ),
    (
        "REF001",
        replace("policies/disclosure.md", 'cites: ["disclosure#sd-1"]', 'cites: ["disclosure#sd-9"]'),
        "policies/disclosure.md",
        "cites:",
    ),
    (
        "REF001",
        replace(
            f"{LOG}/20260302T113000Z-aaaa04.yaml",
            "corrects: 20260302T090000Z-aaaa01",
            "corrects: 20260302T090000Z-zzzz99",
        ),
        f"{LOG}/20260302T113000Z-aaaa04.yaml",
        "corrects:",
    ),
    (
        "REF002",
        replace("protocols/chains/holding-statement.yaml", "status: active", "status: retired"),
        "protocols/templates/holding-x.md",
        "chain: holding-statement",
    ),
    (
        "LAY001",
        move("policies/roles/crisis-lead.yaml", "protocols/roles/crisis-lead.yaml"),
        "protocols/roles/crisis-lead.yaml",
        "kind: role",
    ),
    (
        "LAY002",
        replace(f"{INCIDENT}/incident.yaml", "id: 2026-03-02-exercise-leak-claim", "id: 2026-03-02-other"),
        f"{INCIDENT}/incident.yaml",
        "id: 2026-03-02-other",
    ),
    (
        "LAY003",
        move(f"{LOG}/20260302T120000Z-aaaa05.yaml", f"{LOG}/closing.yaml"),
        f"{LOG}/closing.yaml",
        "kind: log-entry",
    ),
    (
        "REV001",
        replace("policies/disclosure.md", "last: 2026-06-01", "last: 2025-01-01"),
        "policies/disclosure.md",
        "review:",
    ),
    (
        "REV002",
        replace("policies/disclosure.md", "last: 2026-06-01", "last: 2025-12-10"),
        "policies/disclosure.md",
        "review:",
    ),
    (
        "REV003",
        replace("protocols/playbooks/leak-claim.yaml", "review: {every: P1Y, last: 2026-06-01}\n", ""),
        "protocols/playbooks/leak-claim.yaml",
        "id: leak-claim",
    ),
    (
        "REV004",
        replace("policies/disclosure.md", "last: 2026-06-01", "last: 2027-01-01"),
        "policies/disclosure.md",
        "review:",
    ),
    (
        "PPL001",
        replace("policies/roles/legal-counsel.yaml", "members: [chen-wu, dara-nolan]", "members: []"),
        "policies/roles/legal-counsel.yaml",
        "members: []",
    ),
    (
        "PPL002",
        write("policies/people/eve-ross.yaml", PERSON),
        "policies/people/eve-ross.yaml",
        "id: eve-ross",
    ),
    (
        "PPL003",
        replace(
            "policies/people/dara-nolan.yaml",
            "emails: [dara-nolan@example.com]",
            "emails: [chen-wu@example.com]",
        ),
        "policies/people/dara-nolan.yaml",
        "emails:",
    ),
    (
        "PPL004",
        replace("policies/people/dara-nolan.yaml", "example: true", "placeholder: true"),
        "policies/people/dara-nolan.yaml",
        "placeholder: true",
    ),
    (
        "CHN001",
        replace("protocols/chains/personal-data-statement.yaml", "quorum: 1", "quorum: 2"),
        "protocols/chains/personal-data-statement.yaml",
        "role: legal-counsel",
    ),
    (
        "CHN002",
        replace("protocols/chains/policy-change.yaml", "{id: lead,", "{id: legal,"),
        "protocols/chains/policy-change.yaml",
        "role: crisis-lead",
    ),
    (
        "CHN003",
        replace(
            "protocols/chains/holding-statement.yaml", "review_by: legal-counsel", "review_by: crisis-lead"
        ),
        "protocols/chains/holding-statement.yaml",
        "review_by:",
    ),
    (
        "CHN004",
        replace("protocols/chains/policy-change.yaml", "role: crisis-lead", "role: legal-counsel"),
        "protocols/chains/policy-change.yaml",
        "{id: lead",
    ),
    (
        "PRO001",
        replace("protocols/playbooks/leak-claim.yaml", "{level: sev2,", "{level: sev1,"),
        "protocols/playbooks/leak-claim.yaml",
        "Claim unverified",
    ),
    (
        "PRO002",
        replace("protocols/playbooks/leak-claim.yaml", "within: PT15M", "within: PT2M"),
        "protocols/playbooks/leak-claim.yaml",
        "within: PT2M",
    ),
    (
        "PRO003",
        replace(
            "protocols/playbooks/leak-claim.yaml", "window: PT1H, speed: fast", "window: PT1H, speed: slow"
        ),
        "protocols/playbooks/leak-claim.yaml",
        "triggers:",
    ),
    (
        "PRO004",
        replace(
            "protocols/playbooks/leak-claim.yaml", "coordination_channel: war-room", "coordination_channel: x"
        ),
        "protocols/playbooks/leak-claim.yaml",
        "coordination_channel: x",
    ),
    (
        "PRO005",
        replace("protocols/playbooks/leak-claim.yaml", ", update_every: PT30M}", "}"),
        "protocols/playbooks/leak-claim.yaml",
        "{level: sev1",
    ),
    (
        "TPL001",
        replace(
            "protocols/templates/holding-x.md",
            "by {{ next_update }}",
            "by {{ next_update }} via {{ channel_name }}",
        ),
        "protocols/templates/holding-x.md",
        "We are aware",
    ),
    (
        "TPL002",
        replace(
            "protocols/templates/holding-x.md",
            "placeholders:\n",
            "placeholders:\n  - {name: unused, type: text, max_length: 5, description: Never used}\n",
        ),
        "protocols/templates/holding-x.md",
        "name: unused",
    ),
    (
        "TPL003",
        replace("protocols/templates/holding-x.md", "max_length: 60", "max_length: 600"),
        "protocols/templates/holding-x.md",
        "channels: [x]",
    ),
    (
        "TPL004",
        replace(
            "protocols/templates/holding-x.md",
            "placeholders:\n",
            "placeholders:\n  - {name: topic, type: text, max_length: 5, description: Twice}\n",
        ),
        "protocols/templates/holding-x.md",
        "What people are reporting",
    ),
    (
        "TPL005",
        replace(
            "protocols/templates/holding-x.md",
            "We are aware of reports about {{ topic }} and are looking into them now. "
            "We will share what we know by {{ next_update }}.",
            "",
        ),
        "protocols/templates/holding-x.md",
        "id: holding-x",
    ),
    (
        "POL001",
        replace("policies/disclosure.md", "  - id: sd-2", "  - id: 'sd-1'"),
        "policies/disclosure.md",
        "id: 'sd-1'",
    ),
    (
        "POL002",
        replace("policies/disclosure.md", "This policy keeps customer data out of public statements.", ""),
        "policies/disclosure.md",
        "id: disclosure",
    ),
    (
        "DCL001",
        replace(
            "policies/data-classes/customer-personal-data.yaml",
            r"regex: 'CUST-\d{6}'",
            "regex: 'CUST-(\\d{6}'",
        ),
        "policies/data-classes/customer-personal-data.yaml",
        "regex:",
    ),
    (
        "DCL002",
        replace(
            "policies/data-classes/customer-personal-data.yaml",
            "      regex: 'CUST-\\d{6}'\n      example: CUST-123456",
            "      regex: '(a+)+$'\n      example: aaa",
        ),
        "policies/data-classes/customer-personal-data.yaml",
        "regex:",
    ),
    (
        "DCL003",
        replace(
            "policies/data-classes/customer-personal-data.yaml", "example: CUST-123456", "example: CUST-12"
        ),
        "policies/data-classes/customer-personal-data.yaml",
        "example: CUST-12",
    ),
    (
        "DCL004",
        replace(
            "policies/data-classes/customer-personal-data.yaml", "terms: [Bluebird]", "terms: [Bluebird, bb]"
        ),
        "policies/data-classes/customer-personal-data.yaml",
        "terms:",
    ),
    (
        "INC001",
        replace(f"{LOG}/20260302T090400Z-aaaa02.yaml", "to: active", "to: closed"),
        f"{LOG}/20260302T090400Z-aaaa02.yaml",
        "to: closed",
    ),
    (
        "INC002",
        replace(f"{INCIDENT}/incident.yaml", "status: closed", "status: stable"),
        f"{INCIDENT}/incident.yaml",
        "status: stable",
    ),
    (
        "INC003",
        replace(
            f"{INCIDENT}/incident.yaml", "declared: 2026-03-02T09:04:00Z", "declared: 2026-03-02T08:04:00Z"
        ),
        f"{INCIDENT}/incident.yaml",
        "declared:",
    ),
    (
        "INC004",
        replace(f"{INCIDENT}/incident.yaml", "coordination_channel: war-room", "coordination_channel: x"),
        f"{INCIDENT}/incident.yaml",
        "coordination_channel: x",
    ),
    (
        "INC005",
        replace(
            f"{INCIDENT}/incident.yaml",
            "{role: legal-counsel, person: chen-wu}",
            "{role: legal-counsel, person: ben-okafor}",
        ),
        f"{INCIDENT}/incident.yaml",
        "ben-okafor",
    ),
    (
        "IDX001",
        lambda repo: shutil.copy(repo / "policies/roles/crisis-lead.yaml", repo / "policies/roles/copy.yaml"),
        "policies/roles/crisis-lead.yaml",
        "id: crisis-lead",
    ),
    (
        "SCH001",
        replace("policies/roles/crisis-lead.yaml", "classification: internal", "classification: secret"),
        "policies/roles/crisis-lead.yaml",
        "classification: secret",
    ),
    (
        "SCH001",
        replace("policies/roles/crisis-lead.yaml", "members:", "membres:"),
        "policies/roles/crisis-lead.yaml",
        "membres:",
    ),
    (
        "SCH002",
        replace("policies/roles/crisis-lead.yaml", "kind: role", "kind: rol"),
        "policies/roles/crisis-lead.yaml",
        "kind: rol",
    ),
    (
        "SCH002",
        replace("policies/roles/crisis-lead.yaml", "kind: role\n", ""),
        "policies/roles/crisis-lead.yaml",
        "id: crisis-lead",
    ),
    (
        "SUP001",
        replace("policies/disclosure.md", "status: active", "status: active  # clearance: ignore[REV001]"),
        "policies/disclosure.md",
        "clearance: ignore",
    ),
    (
        "LD006",
        replace("policies/disclosure.md", "status: active", "status: active\nstatus: draft"),
        "policies/disclosure.md",
        "status: draft",
    ),
]


def test_minimal_repository_is_clean(minimal_repo: Path) -> None:
    result = findings(minimal_repo)
    assert result.code == 0, result.out
    assert result.json()["findings"] == []
    assert result.json()["summary"]["documents"] == 23


@pytest.mark.parametrize(
    ("rule", "mutate", "rel", "needle"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_is_reported_at_the_right_place(
    minimal_repo: Path, rule: str, mutate: Mutation, rel: str, needle: str
) -> None:
    mutate(minimal_repo)
    result = findings(minimal_repo)
    line = line_of(minimal_repo / rel, needle)
    hits = [f for f in result.json()["findings"] if f["rule"] == rule]
    assert any(f["path"] == rel and f["line"] == line for f in hits), (
        f"expected {rule} at {rel}:{line}, got {[(f['rule'], f['path'], f['line']) for f in result.json()['findings']]}"
    )
    severity = checks.catalogue()[rule].severity
    assert result.code == (1 if str(severity) == "error" else 0)


def test_every_rule_is_exercised_by_some_test() -> None:
    """A rule id that no test file mentions is a rule nobody has seen fire."""
    corpus = "\n".join(p.read_text("utf-8") for p in Path(__file__).parent.glob("*_test.py"))
    missing = [rule for rule in checks.catalogue() if rule not in corpus]
    assert not missing, f"rules no test mentions: {missing}"


def test_did_you_mean_hint(minimal_repo: Path) -> None:
    edit(
        minimal_repo / "protocols/playbooks/leak-claim.yaml",
        "templates: [holding-x]",
        "templates: [holding-xx]",
    )
    hit = next(f for f in findings(minimal_repo).json()["findings"] if f["rule"] == "REF001")
    assert hit["hint"] == "did you mean 'holding-x'?"


def test_symlink_leaving_the_repository(minimal_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: role\n")
    os.symlink(outside, minimal_repo / "policies/roles/linked.yaml")
    result = findings(minimal_repo)
    hit = [f for f in result.json()["findings"] if f["rule"] == "LD016"]
    assert [(f["path"], f["line"]) for f in hit] == [("policies/roles/linked.yaml", 1)]
    assert result.code == 1


def test_inline_suppression_with_reason(minimal_repo: Path) -> None:
    edit(
        minimal_repo / "policies/disclosure.md",
        "last: 2026-06-01}",
        "last: 2025-01-01}  # clearance: ignore[REV001] board review booked for December",
    )
    result = findings(minimal_repo, "--show-suppressed")
    data = result.json()
    assert [f["rule"] for f in data["findings"]] == []
    assert [(f["rule"], f["reason"]) for f in data["suppressed"]] == [
        ("REV001", "board review booked for December")
    ]
    text = run_cli("--root", str(minimal_repo), "check", "--show-suppressed")
    assert "reason: board review booked for December" in text.out


def test_document_level_suppression(minimal_repo: Path) -> None:
    edit(
        minimal_repo / "policies/disclosure.md",
        "last: 2026-06-01}",
        "last: 2025-01-01}\nsuppress:\n  - {rule: REV001, reason: Reviewed at the board; record pending}",
    )
    data = findings(minimal_repo, "--show-suppressed").json()
    assert data["findings"] == [] and data["suppressed"][0]["rule"] == "REV001"


def test_severity_configuration_and_strict(minimal_repo: Path) -> None:
    edit(minimal_repo / "policies/disclosure.md", "last: 2026-06-01", "last: 2025-01-01")
    assert findings(minimal_repo).code == 0  # a warning alone passes
    assert findings(minimal_repo, "--strict").code == 1
    assert findings(minimal_repo, "--strict").json()["findings"][0]["severity"] == "error"
    config = minimal_repo / "clearance.yaml"
    config.write_text(config.read_text() + "rules:\n  REV001: off\n")
    assert findings(minimal_repo, "--strict").json()["findings"] == []
    config.write_text(config.read_text().replace("REV001: off", "REV001: error"))
    assert findings(minimal_repo).code == 1


def test_unknown_rule_in_configuration_is_a_usage_error(minimal_repo: Path) -> None:
    config = minimal_repo / "clearance.yaml"
    config.write_text(config.read_text() + "rules:\n  ZZZ999: off\n")
    result = findings(minimal_repo)
    assert result.code == 2
    assert "clearance.yaml:4:3: unknown rule 'ZZZ999'" in result.err


def test_paths_limit_what_is_reported(minimal_repo: Path) -> None:
    edit(minimal_repo / "policies/disclosure.md", "last: 2026-06-01", "last: 2025-01-01")
    edit(minimal_repo / "protocols/playbooks/leak-claim.yaml", "templates: [holding-x]", "templates: [nope]")
    everything = {f["path"] for f in findings(minimal_repo).json()["findings"]}
    assert everything == {"policies/disclosure.md", "protocols/playbooks/leak-claim.yaml"}
    only = findings(minimal_repo, str(minimal_repo / "protocols"))
    assert {f["path"] for f in only.json()["findings"]} == {"protocols/playbooks/leak-claim.yaml"}
