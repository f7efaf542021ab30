"""Stakeholder register and sequencing (issue 23): a protocol orders the notices (board
before the public statement, insurer within 48 h of awareness); 'clearance stakeholders
status' and 'incident status' show each as due, overdue, sent or not applicable; STK001
names a public statement that went out before a stakeholder the protocol puts first."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from site_test import make_repo

INCIDENT = "ex-2026-01"  # detected 09:00, declared 09:10, published on X at 09:40 (2026-05-04)
PUBLICATION = "incidents/ex-2026-01/log/20260504T094000Z-eeee.yaml"
SEQUENCE = """stakeholders:
  - {stakeholder: board, before: public-statement}
  - {stakeholder: insurer, notice: circumstances}
"""


def _register(root: Path, sequence: str = SEQUENCE) -> None:
    folder = root / "policies" / "stakeholders"
    folder.mkdir()
    header = "owner: counsel\nstatus: active\nclassification: internal\n"
    (folder / "board.yaml").write_text(
        "kind: stakeholder\nid: board\ntitle: Board\n" + header + "category: board\nnotices:\n"
        "  - {id: briefing, trigger: any sev1 or sev2, within: PT4H, from: declared, channel: call the chair,"
        " sign_off: counsel}\n",
        "utf-8",
    )
    (folder / "insurer.yaml").write_text(
        "kind: stakeholder\nid: insurer\ntitle: Cyber insurer\n" + header + "category: insurer\nnotices:\n"
        "  - {id: circumstances, clause: Condition 7.2, trigger: a possible claim, within: PT48H,"
        " from: detected, channel: broker portal, sign_off: counsel}\n",
        "utf-8",
    )
    protocol = root / "protocols" / "account-takeover.md"
    text = protocol.read_text("utf-8")
    protocol.write_text(
        text.replace(
            "coordination_channel: crisis-room\n", sequence + "coordination_channel: crisis-room\n", 1
        ),
        "utf-8",
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("stakeholders"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    _register(root)
    return root


def _findings(root: Path, prefix: str = "STK") -> list[dict[str, str]]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    return [f for f in result.json()["findings"] if f["rule"].startswith(prefix)]


def _notice(root: Path, *args: str, who: str = "bo-example") -> None:
    done = run_cli("--root", str(root), "stakeholders", *args, "--as", who, "--now", "2026-05-04T10:30:00Z")
    assert done.code == 0, done.err


def _status(root: Path, now: str) -> dict[str, dict[str, object]]:
    done = run_cli("--root", str(root), "stakeholders", "status", INCIDENT, "--format", "json", "--now", now)
    assert done.code == 0, done.err
    return {row["stakeholder"]: row for row in done.json()}


def test_a_statement_before_the_board_heard_is_flagged_at_the_publication(repo: Path) -> None:
    found = _findings(repo)
    assert [f["rule"] for f in found] == ["STK001"], found
    assert found[0]["path"] == PUBLICATION
    assert "'board'" in found[0]["message"] and "no notice was logged" in found[0]["message"]


def test_the_board_briefed_first_clears_it(repo: Path) -> None:
    _notice(
        repo, "notify", INCIDENT, "board", "--at", "2026-05-04T09:35:00Z", "--reference", "chair by phone"
    )
    assert _findings(repo) == []


def test_a_briefing_after_the_statement_is_still_flagged_and_named(repo: Path) -> None:
    _notice(repo, "notify", INCIDENT, "board", "--at", "2026-05-04T09:45:00Z")
    found = _findings(repo)
    assert [f["rule"] for f in found] == ["STK001"] and "the notice was logged later" in found[0]["message"]


def test_not_applicable_before_the_statement_counts_as_decided(repo: Path) -> None:
    _notice(
        repo, "not-applicable", INCIDENT, "board", "--at", "2026-05-04T09:30:00Z", "--rationale", "drill only"
    )
    assert _findings(repo) == []
    assert _status(repo, "2026-05-04T10:00:00Z")["board"]["state"] == "not-applicable"


def test_status_shows_each_notice_due_overdue_or_sent(repo: Path) -> None:
    early = _status(repo, "2026-05-04T09:20:00Z")
    # the board's clock (4 h from declaration, 09:10) is cut short by the statement at 09:40
    assert early["board"]["state"] == "due" and early["board"]["due"] == "2026-05-04T09:40:00+00:00"
    assert early["insurer"]["state"] == "due" and early["insurer"]["due"] == "2026-05-06T09:00:00+00:00"
    late = _status(repo, "2026-05-06T09:01:00Z")
    assert late["insurer"]["state"] == "overdue" and late["board"]["state"] == "overdue"
    _notice(repo, "notify", INCIDENT, "insurer", "--at", "2026-05-04T10:00:00Z", "--reference", "portal #1")
    assert _status(repo, "2026-05-06T09:01:00Z")["insurer"]["state"] == "sent"
    text = run_cli("--root", str(repo), "incident", "status", INCIDENT, "--now", "2026-05-04T11:00:00Z")
    assert "Stakeholder notices (protocol order):" in text.out
    assert "insurer#circumstances: sent at 2026-05-04T10:00:00+00:00" in text.out


def test_a_sequence_agreed_later_does_not_judge_earlier_incidents(pristine: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    _register(
        root, SEQUENCE.replace("before: public-statement}", "before: public-statement, since: '2026-06-01'}")
    )
    assert _findings(root) == []
    assert set(_status(root, "2026-05-04T10:00:00Z")) == {"insurer"}


def test_a_notice_the_stakeholder_does_not_have_is_an_error(repo: Path) -> None:
    protocol = repo / "protocols" / "account-takeover.md"
    protocol.write_text(
        protocol.read_text("utf-8").replace("notice: circumstances", "notice: circumstance"), "utf-8"
    )
    found = [f for f in _findings(repo) if f["rule"] == "STK002"]
    assert len(found) == 1 and "has no notice 'circumstance'" in found[0]["message"]
    assert found[0]["path"] == "protocols/account-takeover.md"


def test_a_notice_recorded_outside_its_sign_off_role_is_a_warning(repo: Path) -> None:
    _notice(repo, "notify", INCIDENT, "board", "--at", "2026-05-04T09:35:00Z", who="ada-example")
    found = _findings(repo)
    assert [f["rule"] for f in found] == ["STK003"] and "'ada-example' is not a member" in found[0]["message"]


def test_unknown_stakeholder_or_notice_is_refused_before_writing(repo: Path) -> None:
    before = sorted((repo / "incidents" / INCIDENT / "log").iterdir())
    done = run_cli("--root", str(repo), "stakeholders", "notify", INCIDENT, "bored", "--as", "bo-example")
    assert done.code == 2 and "no stakeholder 'bored'" in done.err
    done = run_cli(
        "--root",
        str(repo),
        "stakeholders",
        "notify",
        INCIDENT,
        "board",
        "--notice",
        "x",
        "--as",
        "bo-example",
    )
    assert done.code == 1 and "has no notice 'x'" in done.err
    assert sorted((repo / "incidents" / INCIDENT / "log").iterdir()) == before


def test_the_handbook_lists_the_register_and_the_protocol_order(repo: Path) -> None:
    from site_test import build

    (repo / "policies" / "stakeholders" / "insurer.yaml").write_text(
        (repo / "policies" / "stakeholders" / "insurer.yaml")
        .read_text("utf-8")
        .replace("classification: internal", "classification: confidential"),
        "utf-8",
    )
    _notice(repo, "notify", INCIDENT, "board", "--at", "2026-05-04T09:35:00Z")
    assert build(repo).returncode == 0
    site = repo / "site"
    page = (site / "registers" / "stakeholders" / "board" / "index.html").read_text("utf-8")
    assert "call the chair" in page and "PT4H from declared" in page
    protocol = (site / "protocols" / "account-takeover" / "index.html").read_text("utf-8")
    assert "Who hears from us, in order" in protocol and "before the first public statement" in protocol
    assert not (site / "registers" / "stakeholders" / "insurer").exists()  # confidential: not for internal
    assert "Cyber insurer" not in protocol
