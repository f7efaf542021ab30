"""What `clearance incident status` tells a crisis lead, in a real git repository where
each person acts as themselves (git user.email) and commits what they log: the hash
of each pending draft and who may still approve it, times in one zone in text and
JSON, public updates counted only on public channel kinds, and one due time for the
next update after an escalation; plus the notify and withdraw gates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Run, fixture_git, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"
ID = re.compile(r"(\d{8}T\d{6}Z-[a-z0-9]{6})")
SHA = re.compile(r"sha256 ([0-9a-f]{64})")
CUSTOMER_EMAIL = """kind: channel
id: customer-email
title: Email to customers
owner: crisis-lead
status: active
classification: internal
audience: public
type: email
"""


class Crisis:
    """A governance repository in git where each command runs as the person named."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, who: str = "cleo", when: str = "2026-03-01T10:00:00+00:00") -> str:
        return fixture_git(self.root, *args, who=who, when=when)

    def __call__(self, *args: str, who: str, now: str) -> Run:
        self.git("config", "user.email", f"{who}@fixture.example")
        result = run_cli("--root", str(self.root), "incident", *args, "--now", now)
        if result.code == 0:  # what a person logs, they commit
            self.git("add", "-A")
            if self.git("status", "--porcelain"):
                self.git(
                    "commit", "-q", "-m", f"{args[0]} by {who}", who=who, when=now.replace("Z", "+00:00")
                )
        return result

    def ok(self, *args: str, who: str, now: str) -> str:
        result = self(*args, who=who, now=now)
        assert result.code == 0, result.err
        return result.out

    def status(self, now: str, *extra: str) -> dict[str, Any]:
        result = run_cli(
            "--root", str(self.root), "incident", "status", INCIDENT, "--format", "json", "--now", now, *extra
        )
        assert result.code == 0, result.err
        return json.loads(result.out)

    def draft(self, channel: str, text: str, who: str, now: str, tmp: Path) -> tuple[str, str]:
        source = tmp / f"draft-{now[11:13]}{now[14:16]}.txt"
        source.write_text(text, "utf-8")
        out = self.ok("draft", INCIDENT, "--channel", channel, "--file", str(source), who=who, now=now)
        found, sha = ID.search(out), SHA.search(out)
        assert found and sha
        return found.group(1), sha.group(1)

    def approve(self, draft: str, sha: str, step: str, who: str, now: str) -> None:
        self.ok("approve", INCIDENT, draft, "--step", step, "--sha256", sha, who=who, now=now)

    def errors(self) -> list[str]:
        result = run_cli("--root", str(self.root), "check", "--format", "json")
        found = json.loads(result.out)["findings"]
        # errors about the incident record (the fixture's registers are other rules' business)
        return [
            f"{f['path']}: {f['rule']} {f['message']}"
            for f in found
            if f["severity"] == "error" and f["path"].startswith("incidents/")
        ]


@pytest.fixture
def crisis(tmp_path: Path) -> Crisis:
    return open_crisis(tmp_path)


def open_crisis(tmp_path: Path) -> Crisis:
    """The fixture repository in git with its registers committed and the incident open at sev3."""
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    (root / "protocols" / "channels" / "customer-email.yaml").write_text(CUSTOMER_EMAIL, "utf-8")
    desk = Crisis(root)
    desk.git("init", "-q", "-b", "main")
    desk.git("add", "-A")
    desk.git("commit", "-q", "-m", "Registers")
    desk.ok(
        "new",
        "--protocol",
        "social-media-crisis",
        "--severity",
        "sev3",
        "--title",
        "App outage rumour",
        "--detected",
        "2026-03-14T08:40:00Z",
        who="cleo",
        now="2026-03-14T09:00:00Z",
    )
    return desk


def test_text_shows_each_pending_drafts_hash_and_who_may_still_approve(
    crisis: Crisis, tmp_path: Path
) -> None:
    draft, sha = crisis.draft(
        "x", "We are looking into reports about our app.", "sam", "2026-03-14T09:10:00Z", tmp_path
    )
    crisis.approve(draft, sha, "pr", "priya", "2026-03-14T09:12:00Z")
    text = run_cli(
        "--root", str(crisis.root), "incident", "status", INCIDENT, "--now", "2026-03-14T09:13:00Z"
    ).out
    assert f"sha256 {sha}" in text
    legal = next(line for line in text.splitlines() if "step legal" in line)
    assert "may still approve: lars, lena, luis" in legal
    # pr is satisfied; nobody who already approved, and never the author, is offered
    assert "step pr " not in text and "may still approve: paul, priya" not in text
    status = crisis.status("2026-03-14T09:13:00Z")
    [waiting] = status["waiting"]
    assert waiting["sha256"] == sha
    assert [s["may_still_approve"] for s in waiting["steps"]] == [["lars", "lena", "luis"]]
    # At sev2 legal needs two approvals: the one who approved is no longer offered.
    crisis.ok(
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev2",
        "--rationale",
        "trending",
        who="cleo",
        now="2026-03-14T09:14:00Z",
    )
    crisis.approve(draft, sha, "legal", "lena", "2026-03-14T09:15:00Z")
    [waiting] = crisis.status("2026-03-14T09:16:00Z")["waiting"]
    legal = next(s for s in waiting["steps"] if s["step"] == "legal")
    assert legal["needed"] == 1 and legal["approved_by"] == ["lena"]
    assert legal["may_still_approve"] == ["lars", "luis"]
    text = run_cli(
        "--root", str(crisis.root), "incident", "status", INCIDENT, "--now", "2026-03-14T09:16:00Z"
    ).out
    assert "approved by lena; may still approve: lars, luis" in text


def test_json_says_its_time_zone_and_follows_tz(crisis: Crisis) -> None:
    utc = crisis.status("2026-03-14T09:13:00Z")
    assert utc["timezone"] == "UTC" and utc["now"] == "2026-03-14T09:13:00+00:00"
    york = crisis.status("2026-03-14T09:13:00Z", "--tz", "America/New_York")
    assert york["timezone"] == "America/New_York"
    assert york["now"] == "2026-03-14T05:13:00-04:00"
    text = run_cli(
        "--root",
        str(crisis.root),
        "incident",
        "status",
        INCIDENT,
        "--tz",
        "America/New_York",
        "--now",
        "2026-03-14T09:13:00Z",
    ).out
    assert "Sat 2026-03-14 05:13 EDT" in text


def _publish(crisis: Crisis, channel: str, text: str, now: tuple[str, str, str, str], tmp: Path) -> str:
    draft, sha = crisis.draft(channel, text, "sam", now[0], tmp)
    crisis.approve(draft, sha, "pr", "priya", now[1])
    crisis.approve(draft, sha, "legal", "lena", now[2])
    crisis.ok("publish", INCIDENT, draft, who="sam", now=now[3])
    return draft


def test_a_customer_email_is_not_a_public_update(crisis: Crisis, tmp_path: Path) -> None:
    times = ("2026-03-14T09:10:00Z", "2026-03-14T09:11:00Z", "2026-03-14T09:12:00Z", "2026-03-14T09:13:00Z")
    _publish(crisis, "customer-email", "Dear customer, the app works again.", times, tmp_path)
    status = crisis.status("2026-03-14T10:00:00Z")
    assert status["metrics"]["public_statements"] == 0
    assert status["next_update"] is None
    times = ("2026-03-14T09:20:00Z", "2026-03-14T09:21:00Z", "2026-03-14T09:22:00Z", "2026-03-14T09:23:00Z")
    _publish(crisis, "x", "We are looking into reports about our app.", times, tmp_path)
    status = crisis.status("2026-03-14T10:00:00Z")
    assert status["metrics"]["public_statements"] == 1
    assert status["next_update"]["due"] == "2026-03-15T09:23:00+00:00"  # sev3: every day


def test_after_an_escalation_next_update_and_metrics_agree(crisis: Crisis, tmp_path: Path) -> None:
    times = ("2026-03-14T09:20:00Z", "2026-03-14T09:21:00Z", "2026-03-14T09:22:00Z", "2026-03-14T09:23:00Z")
    _publish(crisis, "x", "We are looking into reports about our app.", times, tmp_path)
    crisis.ok(
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "on TV",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    status = crisis.status("2026-03-14T10:30:00Z")
    assert status["severity"] == "sev1"
    # sev1 wants an update every 2 hours, counted from the escalation
    assert status["next_update"]["due"] == "2026-03-14T12:00:00+00:00"
    assert status["metrics"]["updates"][0]["due"] == status["next_update"]["due"]
    crisis.ok(
        "log",
        INCIDENT,
        "de-escalation",
        "--severity",
        "sev2",
        "--rationale",
        "calmer",
        who="cleo",
        now="2026-03-14T10:40:00Z",
    )
    status = crisis.status("2026-03-14T10:45:00Z")
    assert status["severity"] == "sev2"
    assert (
        status["next_update"]["due"] == status["metrics"]["updates"][0]["due"] == "2026-03-14T12:00:00+00:00"
    )
    assert crisis.errors() == []


def test_notify_needs_an_assessment_that_applies(crisis: Crisis) -> None:
    never = crisis(
        "notify", INCIDENT, "gdpr#art33", "--recipient", "DPC", who="lena", now="2026-03-14T10:00:00Z"
    )
    assert (
        never.code == 1
        and "never assessed" in never.err
        and "assess 2026-03-14-app-outage-rumour gdpr#art33" in never.err
    )
    crisis.ok(
        "assess",
        INCIDENT,
        "gdpr#art33",
        "--applies",
        "no",
        "--rationale",
        "no EU data",
        who="lena",
        now="2026-03-14T10:01:00Z",
    )
    no = crisis(
        "notify", INCIDENT, "gdpr#art33", "--recipient", "DPC", who="lena", now="2026-03-14T10:02:00Z"
    )
    assert no.code == 1 and "does not apply" in no.err
    crisis.ok(
        "assess",
        INCIDENT,
        "gdpr#art33",
        "--applies",
        "yes",
        "--clock-start",
        "2026-03-14T10:00:00Z",
        "--rationale",
        "EU customer emails after all",
        who="lena",
        now="2026-03-14T10:03:00Z",
    )
    crisis.ok("notify", INCIDENT, "gdpr#art33", "--recipient", "DPC", who="lena", now="2026-03-14T10:04:00Z")
    assert crisis.errors() == []


def test_a_withdrawn_draft_stops_waiting_and_can_no_longer_be_approved_or_published(
    crisis: Crisis, tmp_path: Path
) -> None:
    draft, sha = crisis.draft("x", "We are looking into it.", "sam", "2026-03-14T09:10:00Z", tmp_path)
    crisis.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-14T09:30:00Z",
    )
    refused = crisis("close", INCIDENT, who="cleo", now="2026-03-14T09:31:00Z")
    assert refused.code == 1 and f"draft {draft} awaits approval" in refused.err
    crisis.ok(
        "log",
        INCIDENT,
        "withdraw",
        "--draft",
        draft[-6:],
        "--rationale",
        "overtaken",
        who="sam",
        now="2026-03-14T09:32:00Z",
    )
    again = crisis.ok(
        "log",
        INCIDENT,
        "withdraw",
        "--draft",
        draft,
        "--rationale",
        "overtaken",
        who="sam",
        now="2026-03-14T09:33:00Z",
    )
    assert "already withdrawn" in again
    assert crisis.status("2026-03-14T09:34:00Z")["waiting"] == []
    late = crisis(
        "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, who="priya", now="2026-03-14T09:35:00Z"
    )
    assert late.code == 1 and "withdrawn" in late.err
    refused = crisis("close", INCIDENT, who="cleo", now="2026-03-14T09:36:00Z")
    assert refused.code == 1 and "awaits approval" not in refused.err
    assert crisis.errors() == []


def test_a_de_escalation_never_postpones_a_promised_update_and_a_new_statement_restarts_the_count(
    crisis: Crisis, tmp_path: Path
) -> None:
    times = ("2026-03-14T09:20:00Z", "2026-03-14T09:21:00Z", "2026-03-14T09:22:00Z", "2026-03-14T09:23:00Z")
    _publish(crisis, "x", "We are looking into reports about our app.", times, tmp_path)
    crisis.ok(
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
    crisis.ok(
        "log",
        INCIDENT,
        "de-escalation",
        "--severity",
        "sev3",
        "--rationale",
        "over",
        who="cleo",
        now="2026-03-14T10:30:00Z",
    )
    status = crisis.status("2026-03-14T10:45:00Z")
    assert status["next_update"]["due"] == "2026-03-14T12:00:00+00:00"  # what sev1 promised stands
    times = ("2026-03-14T11:00:00Z", "2026-03-14T11:01:00Z", "2026-03-14T11:02:00Z", "2026-03-14T11:03:00Z")
    _publish(crisis, "x", "Our app works again; we keep watching.", times, tmp_path)
    status = crisis.status("2026-03-14T11:30:00Z")
    assert [u["state"] for u in status["metrics"]["updates"]] == ["kept", "pending"]
    assert (
        status["next_update"]["due"] == status["metrics"]["updates"][1]["due"] == "2026-03-15T11:03:00+00:00"
    )
