"""clearance codeowners: generated from owner roles and change chains, deterministic,
and --check failing with a diff when the committed file is stale."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run
from history_test import Git, governance, isolated_git  # noqa: F401

CLI = Callable[..., Run]


@pytest.fixture
def gov(tmp_path: Path) -> Path:
    repo = Git(tmp_path / "gov")
    governance(repo)
    return repo.path


def test_github_file_from_owners_and_change_chain(cli: CLI, gov: Path) -> None:
    run = cli("--root", str(gov), "codeowners")
    assert run.code == 0, run.err
    text = (gov / ".github/CODEOWNERS").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("# Generated")]
    # the policy: its owner (comms-lead: alice), then its change chain's step role
    # (counsel: carol, bob, in member order)
    assert "/policies/disclosure.md @alice-a @carol-c @bob-b" in lines
    # the chain document is owned by counsel only
    assert "/protocols/chains/policy-change.yaml @carol-c @bob-b" in lines
    # incidents are never listed file by file (see test_incidents_are_one_folder_rule)
    assert not any(line.startswith("/incidents/") for line in lines)
    sections = [line for line in lines if line.startswith("# ") and not line.startswith("# /")]
    assert sections[-2:] == ["# Policies", "# Protocols"]
    paths = [line.split()[0] for line in lines if line.startswith("/")]
    assert paths == sorted(paths)
    # deterministic: a second run writes the same bytes and --check passes
    assert cli("--root", str(gov), "codeowners").code == 0
    assert (gov / ".github/CODEOWNERS").read_text("utf-8") == text
    check = cli("--root", str(gov), "codeowners", "--check")
    assert check.code == 0 and "up to date" in check.err and check.out == ""
    umask = os.umask(0)
    os.umask(umask)
    assert (gov / ".github/CODEOWNERS").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_check_prints_a_diff_when_stale(cli: CLI, gov: Path) -> None:
    assert cli("--root", str(gov), "codeowners").code == 0
    role = gov / "policies/roles/counsel.yaml"
    role.write_text(role.read_text().replace("members: [carol, bob]", "members: [carol]"))
    run = cli("--root", str(gov), "codeowners", "--check")
    assert run.code == 1
    assert ".github/CODEOWNERS:1:1: CODEOWNERS is stale" in run.err
    assert "--- .github/CODEOWNERS (committed)" in run.out
    assert "-/policies/disclosure.md @alice-a @carol-c @bob-b" in run.out
    assert "+/policies/disclosure.md @alice-a @carol-c" in run.out


def test_check_fails_when_missing(cli: CLI, gov: Path) -> None:
    run = cli("--root", str(gov), "codeowners", "--check")
    assert run.code == 1 and "CODEOWNERS missing" in run.err
    assert "+/policies/disclosure.md" in run.out


def test_gitlab_sections_and_stdout(cli: CLI, gov: Path) -> None:
    run = cli("--root", str(gov), "codeowners", "--syntax", "gitlab", "--output", "-")
    assert run.code == 0
    assert "\n[Policies]\n/policies/disclosure.md @alice-a @carol-c @bob-b\n" in run.out
    assert "[Protocols]" in run.out
    assert not (gov / "CODEOWNERS").exists()
    assert cli("--root", str(gov), "codeowners", "--syntax", "gitlab").code == 0
    assert (gov / "CODEOWNERS").read_text("utf-8") == run.out


def test_missing_handles_and_roles_are_warned_and_commented(cli: CLI, gov: Path) -> None:
    person = gov / "policies/people/alice.yaml"
    person.write_text(person.read_text().replace('code_host: "@alice-a"\n', ""))
    run = cli("--root", str(gov), "codeowners", "--output", "-")
    assert run.code == 0
    assert run.err.count("member 'alice' of role 'comms-lead' has no code_host handle") == 1
    assert "policies/disclosure.md, policies/people/alice.yaml, policies/people/bob.yaml and 3 more: " \
        "member 'alice'" in run.err
    assert "# /policies/people/alice.yaml: no owner with a code-host handle" in run.out
    assert "/policies/disclosure.md @carol-c @bob-b" in run.out


def test_paths_are_anchored_at_the_git_top_level(cli: CLI, tmp_path: Path) -> None:
    repo = Git(tmp_path / "mono")
    sub = Git.__new__(Git)
    sub.path, sub.clock = repo.path / "governance", repo.clock
    governance(sub)
    run = cli("--root", str(sub.path), "codeowners", "--output", "-")
    assert "/governance/policies/disclosure.md @alice-a @carol-c @bob-b" in run.out


def test_spaces_in_paths_are_escaped(cli: CLI, gov: Path) -> None:
    (gov / "policies/disclosure.md").rename(gov / "policies/public disclosure.md")
    run = cli("--root", str(gov), "codeowners", "--output", "-")
    assert "/policies/public\\ disclosure.md @alice-a" in run.out


PROTOCOL = """kind: protocol
id: leak
title: Leak claim
owner: comms-lead
status: active
classification: internal
scenario: A leak claim spreads.
triggers: [{id: t, metric: mentions per hour, threshold: 100, window: PT1H, speed: fast}]
severities: [{level: sev1, criteria: [Confirmed], chain: policy-change}]
raci: [{activity: Approve, responsible: [counsel], accountable: comms-lead}]
steps: [{id: s, title: Hold, role: comms-lead, within: PT15M}]
"""


def test_incidents_are_one_folder_rule(cli: CLI, gov: Path) -> None:
    """Opening an incident mid-crisis must not make CODEOWNERS stale (its check would
    then block every commit): the incidents folder is one rule, owned by the members
    of the roles that own the protocols."""
    (gov / "protocols/playbooks").mkdir(parents=True)
    (gov / "protocols/playbooks/leak.yaml").write_text(PROTOCOL)
    assert cli("--root", str(gov), "codeowners").code == 0
    text = (gov / ".github/CODEOWNERS").read_text("utf-8")
    assert "\n# Incidents\n/incidents/ @alice-a\n" in text
    assert "ex-1" not in text
    new = gov / "incidents/2026-12-01-new/incident.yaml"
    new.parent.mkdir(parents=True)
    new.write_text((gov / "incidents/ex-1/incident.yaml").read_text().replace("ex-1", "2026-12-01-new"))
    assert cli("--root", str(gov), "codeowners", "--check").code == 0
