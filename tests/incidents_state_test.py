"""The incident state machine under pressure: the same change on two branches, twenty
parallel writers, conflicting escalations, two branches closing, hand-written
transitions the machine does not allow — and in every case `clearance check` ends
clean or names the entry to append."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Run, fixture_git, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"
CLEARANCE = Path(sys.executable).parent / "clearance"


def git(root: Path, *args: str, who: str = "cleo", when: str = "2026-03-14T10:00:00+00:00") -> str:
    return fixture_git(root, *args, who=who, when=when)

def desk(root: Path, *args: str, who: str, now: str) -> Run:
    return run_cli("--root", str(root), "incident", *args, "--as", who, "--now", now)


def ok(root: Path, *args: str, who: str, now: str) -> str:
    result = desk(root, *args, who=who, now=now)
    assert result.code == 0, result.err
    return result.out


def commit(root: Path, who: str, message: str, when: str = "2026-03-14T10:00:00+00:00") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, who=who, when=when)


def check(root: Path) -> dict[str, object]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


def rules(root: Path) -> list[str]:
    return [f["rule"] for f in check(root)["findings"]]  # type: ignore[index, union-attr]


def errors(root: Path) -> list[dict[str, str]]:
    """Errors about the incident record (the fixture's registers are other rules' business)."""
    found = check(root)["findings"]
    return [f for f in found if f["severity"] == "error" and f["path"].startswith("incidents/")]  # type: ignore[union-attr]


def status(root: Path, now: str = "2026-03-14T12:00:00Z") -> dict[str, object]:
    result = run_cli("--root", str(root), "incident", "status", INCIDENT, "--format", "json", "--now", now)
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    git(root, "init", "-q", "-b", "main")
    commit(root, "cleo", "Registers", "2026-03-01T10:00:00+00:00")
    ok(
        root,
        "new",
        "--protocol",
        "social-media-crisis",
        "--severity",
        "sev3",
        "--title",
        "App outage rumour",
        "--detected",
        "2026-03-14T08:40:00Z",
        "--role",
        "crisis-lead=cleo",
        who="cleo",
        now="2026-03-14T09:00:00Z",
    )
    commit(root, "cleo", "Open the incident", "2026-03-14T09:00:30+00:00")
    return root


def branch(root: Path, name: str, base: str = "main") -> None:
    git(root, "checkout", "-q", "-b", name, base)


def merge(root: Path, other: str, when: str = "2026-03-14T11:00:00+00:00") -> None:
    git(root, "checkout", "-q", "main")
    git(root, "merge", "--no-edit", "-q", other, when=when)
    assert git(root, "status", "--porcelain") == ""


# --- the same change twice ------------------------------------------------------------


def test_two_branches_logging_the_same_status_change_merge_clean(repo: Path) -> None:
    branch(repo, "lead")
    ok(
        repo,
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    commit(repo, "cleo", "Stable (lead)")
    branch(repo, "deputy", "main")
    ok(
        repo,
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="carl",
        now="2026-03-14T10:02:00Z",
    )
    commit(repo, "carl", "Stable (deputy)")
    merge(repo, "lead")
    merge(repo, "deputy")
    assert len(list((repo / "incidents" / INCIDENT / "log").glob("*.yaml"))) == 3
    assert errors(repo) == []
    assert "INC001" not in rules(repo) and "INC006" not in rules(repo)  # one transition, twice recorded
    assert status(repo)["status"] == "stable"


def test_twenty_parallel_status_changes_write_one_entry(repo: Path) -> None:
    args = [str(CLEARANCE), "incident", "log", INCIDENT, "status-change", "--to", "stable", "--text", "calm"]
    processes = [
        subprocess.Popen([*args, "--as", "cleo"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(20)
    ]
    results = [(p.wait(timeout=300), p.communicate()) for p in processes]
    assert all(code == 0 for code, _ in results), results
    outputs = [out.decode() for _, (out, _err) in results]
    assert sum(o.startswith("logged status-change") for o in outputs) == 1
    assert sum("already 'stable'" in o for o in outputs) == 19
    logs = list((repo / "incidents" / INCIDENT / "log").glob("*.yaml"))
    assert len(logs) == 2  # the declaration and one status change
    assert errors(repo) == []
    assert not list((repo / "incidents").rglob(".clearance-tmp-*"))


# --- severity ---------------------------------------------------------------------------


def test_severity_changes_while_active_and_is_never_silently_ignored(repo: Path) -> None:
    ignored = desk(
        repo,
        "log",
        INCIDENT,
        "decision",
        "--text",
        "worse",
        "--severity",
        "sev1",
        who="cleo",
        now="2026-03-14T09:10:00Z",
    )
    assert ignored.code == 2 and "--severity does not apply to a decision" in ignored.err
    same = desk(
        repo,
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "active",
        "--severity",
        "sev1",
        who="cleo",
        now="2026-03-14T09:10:00Z",
    )
    assert same.code == 1 and "log 2026-03-14-app-outage-rumour escalation --severity sev1" in same.err
    wrong = desk(
        repo,
        "log",
        INCIDENT,
        "de-escalation",
        "--severity",
        "sev1",
        "--rationale",
        "x",
        who="cleo",
        now="2026-03-14T09:10:00Z",
    )
    assert wrong.code == 2 and "is an escalation" in wrong.err
    no_reason = desk(
        repo, "log", INCIDENT, "escalation", "--severity", "sev1", who="cleo", now="2026-03-14T09:10:00Z"
    )
    assert no_reason.code == 2 and "--rationale" in no_reason.err
    ok(
        repo,
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "on TV",
        who="cleo",
        now="2026-03-14T09:10:00Z",
    )
    again = ok(
        repo,
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "on TV",
        who="carl",
        now="2026-03-14T09:11:00Z",
    )
    assert "already 'sev1'" in again
    ok(
        repo,
        "log",
        INCIDENT,
        "de-escalation",
        "--severity",
        "sev2",
        "--rationale",
        "cooling",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    report = status(repo)
    assert report["status"] == "active" and report["severity"] == "sev2"
    assert "stable" not in json.dumps(report["status"])
    text = (repo / "incidents" / INCIDENT / "incident.yaml").read_text("utf-8")
    assert "severity: sev3" in text  # what was fixed at opening
    assert errors(repo) == []


def test_two_branches_escalating_differently_resolve_to_the_later_with_a_warning(repo: Path) -> None:
    branch(repo, "a")
    ok(
        repo,
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "TV",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    commit(repo, "cleo", "sev1")
    branch(repo, "b", "main")
    ok(
        repo,
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev2",
        "--rationale",
        "trending",
        who="carl",
        now="2026-03-14T10:05:00Z",
    )
    commit(repo, "carl", "sev2")
    merge(repo, "a")
    merge(repo, "b")
    found = check(repo)["findings"]
    conflicts = [f for f in found if f["rule"] == "INC006"]  # type: ignore[index, union-attr]
    assert len(conflicts) == 1 and conflicts[0]["severity"] == "warning"
    names = sorted(p.stem for p in (repo / "incidents" / INCIDENT / "log").glob("2026031410*.yaml"))
    assert all(name in conflicts[0]["message"] for name in names)  # it names both entries
    assert errors(repo) == []
    assert status(repo)["severity"] == "sev2"  # the later at: wins


def test_two_branches_each_escalating_to_the_same_level_are_one_escalation(repo: Path) -> None:
    for name, who, minute in (("a", "cleo", "00"), ("b", "carl", "03")):
        branch(repo, name, "main")
        ok(
            repo,
            "log",
            INCIDENT,
            "escalation",
            "--severity",
            "sev1",
            "--rationale",
            "TV",
            who=who,
            now=f"2026-03-14T10:{minute}:00Z",
        )
        commit(repo, who, f"escalate {name}")
    merge(repo, "a")
    merge(repo, "b")
    assert rules(repo).count("INC006") == 0 and errors(repo) == []
    assert status(repo)["severity"] == "sev1"


# --- closing on two branches, hand-written mistakes --------------------------------------


def _ready_to_close(root: Path, now: str) -> None:
    ok(root, "log", INCIDENT, "status-change", "--to", "stable", "--text", "calm", who="cleo", now=now)
    commit(root, "cleo", "Stable")
    for key in (
        "dora#initial",
        "gdpr#art33",
        "gdpr#art34",
        "hipaa#individuals",
        "hipaa#hhs",
        "nis2#early-warning",
        "nis2#notification",
        "nis2#final-report",
        "sec-8k#item-1-05",
    ):
        ok(
            root,
            "assess",
            INCIDENT,
            key,
            "--applies",
            "no",
            "--rationale",
            "no personal data",
            who="lena",
            now=now,
        )
    commit(root, "lena", "Assessed")
    ok(
        root,
        "log",
        INCIDENT,
        "resolution-decision",
        "--rationale",
        "nothing said in public",
        who="cleo",
        now=now,
    )
    commit(root, "cleo", "No resolution statement")


def test_two_branches_closing_merge_clean_and_later_entries_need_a_reopen(repo: Path) -> None:
    _ready_to_close(repo, "2026-03-14T10:00:00Z")
    branch(repo, "a")
    ok(repo, "close", INCIDENT, who="cleo", now="2026-03-14T11:00:00Z")
    commit(repo, "cleo", "close a", "2026-03-14T11:00:30+00:00")
    branch(repo, "b", "main")
    ok(repo, "close", INCIDENT, who="carl", now="2026-03-14T11:02:00Z")
    refused = desk(
        repo, "log", INCIDENT, "observation", "--text", "a late post", who="carl", now="2026-03-14T11:03:00Z"
    )
    assert refused.code == 1 and "reopen" in refused.err
    commit(repo, "carl", "close b", "2026-03-14T11:03:30+00:00")
    branch(repo, "c", "main")
    ok(
        repo,
        "log",
        INCIDENT,
        "observation",
        "--text",
        "still trending",
        who="sam",
        now="2026-03-14T11:30:00Z",
    )
    commit(repo, "sam", "late note", "2026-03-14T11:30:30+00:00")
    merge(repo, "a", "2026-03-14T11:40:00+00:00")
    merge(repo, "b", "2026-03-14T11:41:00+00:00")
    merge(repo, "c", "2026-03-14T11:42:00+00:00")
    assert errors(repo) == []
    found = check(repo)["findings"]
    late = [f for f in found if f["rule"] == "INC007"]  # type: ignore[index, union-attr]
    assert len(late) == 1 and "reopen" in late[0]["hint"] and "--corrects" in late[0]["hint"]
    ident = Path(late[0]["path"]).stem
    ok(
        repo,
        "log",
        INCIDENT,
        "correction",
        "--corrects",
        ident,
        "--text",
        "belongs to the next incident",
        who="sam",
        now="2026-03-14T12:00:00Z",
    )
    assert "INC007" not in rules(repo)
    assert status(repo, "2026-03-14T13:00:00Z")["status"] == "closed"


def test_a_hand_written_skip_is_an_error_that_a_correction_clears(repo: Path) -> None:
    log = repo / "incidents" / INCIDENT / "log"
    (log / "20260314T100000Z-handxx.yaml").write_text(
        "kind: log-entry\ntype: status-change\nat: '2026-03-14T10:00:00Z'\nby: cleo\nfrom: active\nto: closed\n",
        "utf-8",
    )
    found = [f for f in errors(repo) if f["rule"].startswith("INC")]
    assert [f["rule"] for f in found] == ["INC001"]
    assert "--corrects 20260314T100000Z-handxx" in found[0]["hint"]
    ok(
        repo,
        "log",
        INCIDENT,
        "correction",
        "--corrects",
        "handxx",
        "--text",
        "typed by mistake",
        who="cleo",
        now="2026-03-14T10:05:00Z",
    )
    assert errors(repo) == []
    assert status(repo)["status"] == "active"


def test_a_stated_status_in_incident_yaml_is_checked_never_trusted(repo: Path) -> None:
    path = repo / "incidents" / INCIDENT / "incident.yaml"
    path.write_text(path.read_text("utf-8") + "status: closed\n", "utf-8")
    found = errors(repo)
    assert [f["rule"] for f in found] == ["INC002"]
    assert "delete the 'status:' line" in found[0]["hint"]
    assert status(repo)["status"] == "active"


def test_one_branch_closing_and_another_reactivating_resolve_to_the_later_with_a_warning(repo: Path) -> None:
    _ready_to_close(repo, "2026-03-14T10:00:00Z")
    branch(repo, "a")
    ok(repo, "close", INCIDENT, who="cleo", now="2026-03-14T11:00:00Z")
    commit(repo, "cleo", "close", "2026-03-14T11:00:30+00:00")
    branch(repo, "b", "main")
    ok(
        repo,
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "active",
        "--text",
        "it flares up",
        who="carl",
        now="2026-03-14T11:05:00Z",
    )
    commit(repo, "carl", "active again", "2026-03-14T11:05:30+00:00")
    merge(repo, "a", "2026-03-14T11:10:00+00:00")
    merge(repo, "b", "2026-03-14T11:11:00+00:00")
    found = check(repo)["findings"]
    conflicts = [f for f in found if f["rule"] == "INC006"]  # type: ignore[index, union-attr]
    assert len(conflicts) == 1 and conflicts[0]["severity"] == "warning"
    closing = next(p.stem for p in (repo / "incidents" / INCIDENT / "log").glob("20260314T110000Z-*.yaml"))
    assert closing in conflicts[0]["message"]
    assert [f for f in errors(repo) if f["rule"].startswith("INC")] == []
    assert status(repo, "2026-03-14T12:00:00Z")["status"] == "active"  # the later at: wins
