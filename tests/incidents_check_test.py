"""The APR rules of ``clearance check``: records written by hand (not through the CLI)
are held to the same approval rules as ``clearance incident publish``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from clearance.incidents import approvals, store
from conftest import run_cli
from incidents_workflow_test import INCIDENT, Desk

DATA = Path(__file__).parent / "data" / "incidents" / "repo"


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    return Desk(root)


def set_today(desk: Desk, day: str) -> None:
    config = desk.root / "clearance.yaml"
    lines = [line for line in config.read_text("utf-8").splitlines() if not line.startswith("today:")]
    config.write_text("\n".join([*lines, f"today: '{day}'", ""]), "utf-8")


def write(desk: Desk, **data: Any) -> str:
    entry_id, _ = store.append_entry(desk.root, INCIDENT, {"kind": "log-entry", **data})
    return entry_id


def findings(desk: Desk, rule: str) -> list[dict[str, Any]]:
    result = run_cli("--root", str(desk.root), "check", "--format", "json")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    rows = data["findings"] if isinstance(data, dict) else data
    return [f for f in rows if f["rule"] == rule]


TEXT = "We are aware of reports about our app and are looking into it."


def draft(desk: Desk, by: str = "sam") -> str:
    return write(
        desk,
        type="draft",
        at="2026-03-14T09:10:00Z",
        by=by,
        text=TEXT,
        channel="website",
        sha256=approvals.sha256_text(TEXT),
    )


def test_hand_written_publication_without_approvals_is_an_error(desk: Desk) -> None:
    desk.open()
    ref = draft(desk)
    write(
        desk,
        type="approval",
        at="2026-03-14T09:11:00Z",
        by="priya",
        draft=ref,
        role="pr-lead",
        step="pr",
        sha256=approvals.sha256_text(TEXT),
    )
    write(
        desk,
        type="publication",
        at="2026-03-14T09:12:00Z",
        by="sam",
        draft=ref,
        channel="website",
        sha256=approvals.sha256_text(TEXT),
    )
    [finding] = findings(desk, "APR001")
    assert finding["severity"] == "error"
    assert "step 'legal' (role 'legal-counsel'" in finding["message"]
    assert "step 'pr'" not in finding["message"]
    assert finding["path"].startswith(f"incidents/{INCIDENT}/log/") and finding["line"] > 1
    assert run_cli("--root", str(desk.root), "check").code == 1


def test_publication_of_other_text_than_approved_is_an_error(desk: Desk) -> None:
    desk.open()
    ref = draft(desk)
    for who, role, step in (("priya", "pr-lead", "pr"), ("lena", "legal-counsel", "legal")):
        write(
            desk,
            type="approval",
            at="2026-03-14T09:11:00Z",
            by=who,
            draft=ref,
            role=role,
            step=step,
            sha256=approvals.sha256_text(TEXT),
        )
    write(
        desk,
        type="publication",
        at="2026-03-14T09:12:00Z",
        by="sam",
        draft=ref,
        channel="website",
        sha256=approvals.sha256_text(TEXT + " Edited after approval."),
    )
    [finding] = findings(desk, "APR001")
    assert "is not the draft's text" in finding["message"]


def test_approvals_that_cannot_count_are_flagged(desk: Desk) -> None:
    desk.open()
    ref = draft(desk, by="priya")
    sha = approvals.sha256_text(TEXT)
    write(
        desk,
        type="approval",
        at="2026-03-14T09:11:00Z",
        by="priya",
        draft=ref,
        role="pr-lead",
        step="pr",
        sha256=sha,
    )
    write(
        desk,
        type="approval",
        at="2026-03-14T09:11:00Z",
        by="sam",
        draft=ref,
        role="legal-counsel",
        step="legal",
        sha256=sha,
    )
    write(
        desk,
        type="approval",
        at="2026-03-14T09:11:00Z",
        by="lena",
        draft=ref,
        role="legal-counsel",
        step="legal",
        sha256="f" * 64,
    )
    messages = sorted(f["message"] for f in findings(desk, "APR002"))
    assert messages == [
        "this approval does not count: 'lena' decided on text that differs from the draft's",
        "this approval does not count: 'priya' approved their own draft (separation of duties)",
        "this approval does not count: 'sam' was not a member of role 'legal-counsel' at the time",
    ]


def test_override_not_reviewed_in_time_is_a_warning(desk: Desk) -> None:
    desk.open()
    ref, _ = desk.holding()
    desk.ok(
        "publish",
        INCIDENT,
        ref,
        "--override-reason",
        "spreading fast",
        who="cleo",
        now="2026-03-14T09:12:00Z",
    )
    set_today(desk, "2026-03-14")
    assert findings(desk, "APR004") == []
    assert findings(desk, "APR001") == []
    set_today(desk, "2026-03-16")
    [late] = findings(desk, "APR004")
    assert (
        "due for review by 'legal-counsel' before 2026-03-15T09:12:00+00:00: not reviewed" in late["message"]
    )


def test_training_rule_names_people_without_a_recent_exercise(desk: Desk) -> None:
    set_today(desk, "2026-04-01")
    [before] = findings(desk, "APR005")
    assert before["severity"] == "warning"
    assert "5 of 5 people" in before["message"] and "sam (never)" in before["message"]
    desk.open(exercise=True)  # cleo declares, and is assigned crisis-lead
    desk.ok("log", INCIDENT, "observation", "--text", "noted", who="sam", now="2026-03-14T09:05:00Z")
    desk.ok("log", INCIDENT, "decision", "--text", "hold", who="priya", now="2026-03-14T09:06:00Z")
    [after] = findings(desk, "APR005")
    assert "2 of 5 people" in after["message"]
    assert "carl (never)" in after["message"] and "paul (never)" in after["message"]
    assert "sam" not in after["message"] and "cleo" not in after["message"]
    set_today(desk, "2026-10-01")  # more than six months later: the exercise no longer counts
    [stale] = findings(desk, "APR005")
    assert "5 of 5 people" in stale["message"] and "sam (last 2026-03-14)" in stale["message"]


def test_real_incidents_do_not_count_as_exercises(desk: Desk) -> None:
    set_today(desk, "2026-04-01")
    desk.open(exercise=False)
    [finding] = findings(desk, "APR005")
    assert "cleo (never)" in finding["message"]


def test_people_who_leave_a_role_later_keep_their_past_approvals(desk: Desk, tmp_path: Path) -> None:
    from incidents_merge_test import git

    git(desk.root, "init", "-q", "-b", "main")
    git(desk.root, "add", "-A")
    git(desk.root, "commit", "-q", "-m", "Roles as they were", when="2026-03-14T08:00:00+00:00")
    def commit(who: str, when: str) -> None:  # each person commits what they recorded
        git(desk.root, "add", "-A")
        git(desk.root, "commit", "-q", "-m", f"{who} records", when=when, author=who)

    desk.open()
    commit("cleo", "2026-03-14T09:00:30+00:00")
    ref, _ = desk.holding()
    commit("sam", "2026-03-14T09:10:30+00:00")
    desk.ok("approve", INCIDENT, ref, "--step", "pr", who="priya", now="2026-03-14T09:11:00Z")
    commit("priya", "2026-03-14T09:11:30+00:00")
    desk.ok("approve", INCIDENT, ref, "--step", "legal", who="lena", now="2026-03-14T09:12:00Z")
    commit("lena", "2026-03-14T09:12:30+00:00")
    desk.ok("publish", INCIDENT, ref, who="sam", now="2026-03-14T09:13:00Z")
    commit("sam", "2026-03-14T10:00:00+00:00")
    role = desk.root / "policies" / "roles" / "legal-counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("  - lena\n", ""), "utf-8")
    git(desk.root, "commit", "-q", "-am", "Lena moves to another team", when="2026-04-01T10:00:00+00:00")
    assert findings(desk, "APR001") == [] and findings(desk, "APR002") == []
    # The check's cache holds that result; it depends on the history, so a history in
    # which she never held the role must not be answered from the cache.
    assert (desk.root / ".git" / "clearance" / "state.sqlite").is_file()
    set_today(desk, "2026-04-02")  # a fixed date: the open incident's findings do not expire
    git(desk.root, "commit", "-q", "-am", "Fix the date", when="2026-04-02T09:00:00+00:00")
    before = findings(desk, "APR001")
    assert findings(desk, "APR001") == before  # now answered from the cache
    git(desk.root, "checkout", "-q", "--orphan", "rewritten")
    git(desk.root, "commit", "-q", "-m", "History without her", when="2026-04-02T10:00:00+00:00")
    [rewritten] = findings(desk, "APR001")
    # the rewritten history neither lists her in the role nor has her commit her approval
    assert before == [] and "'lena'" in rewritten["message"] and "step 'legal'" in rewritten["message"]
    git(desk.root, "checkout", "-q", "main")
    assert findings(desk, "APR001") == []
    # Without the history there is no evidence she was a member: the publication fails.
    plain = tmp_path / "plain"
    shutil.copytree(desk.root, plain, ignore=shutil.ignore_patterns(".git"))
    [finding] = findings(Desk(plain), "APR001")
    assert "'lena' was not a member of role 'legal-counsel'" in finding["message"]


def test_hand_written_draft_over_the_channel_limit_is_an_error(desk: Desk) -> None:
    desk.open()
    long = "w" * 281
    write(desk, type="draft", at="2026-03-14T09:10:00Z", by="sam", text=long, channel="x")
    [finding] = findings(desk, "APR006")
    assert finding["message"] == "draft is 281 characters; channel 'x' allows at most 280"


def test_publication_on_another_channel_than_the_draft_is_an_error(desk: Desk) -> None:
    desk.open()
    ref = draft(desk)  # written for the website
    sha = approvals.sha256_text(TEXT)
    for who, role, step in (("priya", "pr-lead", "pr"), ("lena", "legal-counsel", "legal")):
        write(
            desk,
            type="approval",
            at="2026-03-14T09:11:00Z",
            by=who,
            draft=ref,
            role=role,
            step=step,
            sha256=sha,
        )
    write(desk, type="publication", at="2026-03-14T09:12:00Z", by="sam", draft=ref, channel="x", sha256=sha)
    [finding] = findings(desk, "APR001")
    assert "approved for channel 'website', not 'x'" in finding["message"]


def test_publication_naming_an_entry_that_is_not_a_draft_is_an_error(desk: Desk) -> None:
    desk.open()
    note = write(desk, type="observation", at="2026-03-14T09:05:00Z", by="sam", text="Seen on X")
    write(
        desk,
        type="publication",
        at="2026-03-14T09:12:00Z",
        by="sam",
        draft=note,
        channel="x",
        sha256=approvals.sha256_text("Seen on X"),
    )
    [finding] = findings(desk, "APR001")
    assert f"no draft {note!r} in this incident" in finding["message"]


REPOSITORY = Path(__file__).parent.parent


def test_the_repositorys_exercises_pass_every_approval_rule_and_have_a_status() -> None:
    result = run_cli("--root", str(REPOSITORY), "check", "--format", "json")
    assert result.code == 0, result.out
    found = [f for f in json.loads(result.out)["findings"] if f["rule"].startswith("APR")]
    # decisions recorded before signing was required are reported, never as errors (issue 15)
    assert [f for f in found if f["rule"] != "APR012"] == []
    assert found and all(f["severity"] != "error" for f in found)
    exercises = [
        path.parent.name
        for path in sorted((REPOSITORY / "incidents").glob("*/incident.yaml"))
        if "exercise: true" in path.read_text("utf-8")
    ]
    assert exercises
    for incident in exercises:
        status = run_cli("--root", str(REPOSITORY), "incident", "status", incident, "--format", "json")
        assert status.code == 0, status.err
        report = json.loads(status.out)
        assert report["exercise"] is True and "time_to_declare_seconds" in report["metrics"]
        text = run_cli("--root", str(REPOSITORY), "incident", "status", incident, "--tz", "UTC")
        assert text.code == 0 and "Regulatory deadlines:" in text.out and "Metrics:" in text.out
