"""The whole crisis, as a team would run it, in one real git repository: two
escalations, a de-escalation, a withdrawn draft, concurrent logging on three branches,
a crash in the middle of a command — `clearance check` has no error at any point, and
`close` succeeds only when every gate is met."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.incidents import store
from incidents_status_test import INCIDENT, Crisis, open_crisis

CLEARANCE = str(Path(sys.executable).parent / "clearance")


@pytest.fixture
def crisis(tmp_path: Path) -> Crisis:
    return open_crisis(tmp_path)


def merge(crisis: Crisis, branch: str, when: str) -> None:
    crisis.git("checkout", "-q", "main")
    crisis.git("merge", "--no-edit", "-q", branch, who="cleo", when=when)
    assert crisis.git("status", "--porcelain") == ""


def crash(crisis: Crisis, who: str, *args: str, fault: str) -> subprocess.CompletedProcess[str]:
    crisis.git("config", "user.email", f"{who}@fixture.example")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARANCE_", "GIT_"))}
    env.update({"HOME": str(crisis.root.parent), store.FAULT_ENV: fault})
    return subprocess.run(
        [CLEARANCE, "incident", *args], cwd=crisis.root, env=env, capture_output=True, text=True, check=False
    )


def refusal(crisis: Crisis, who: str, now: str) -> str:
    result = crisis("close", INCIDENT, who=who, now=now)
    assert result.code == 1, result.out
    return result.err


def test_a_full_crisis_ends_clean_and_closes_only_when_every_gate_is_met(
    crisis: Crisis, tmp_path: Path
) -> None:
    # Escalation 1, a first statement through the sev2 chain (legal needs two).
    crisis.ok(
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev2",
        "--rationale",
        "trending",
        who="cleo",
        now="2026-03-14T09:05:00Z",
    )
    first, sha = crisis.draft(
        "x", "We are looking into reports about our app.", "sam", "2026-03-14T09:10:00Z", tmp_path
    )
    crisis.approve(first, sha, "pr", "priya", "2026-03-14T09:12:00Z")
    crisis.approve(first, sha, "legal", "lena", "2026-03-14T09:13:00Z")
    crisis.approve(first, sha, "legal", "luis", "2026-03-14T09:14:00Z")
    crisis.ok("publish", INCIDENT, first, who="sam", now="2026-03-14T09:15:00Z")
    abandoned, _ = crisis.draft("x", "The app is fine.", "sam", "2026-03-14T09:20:00Z", tmp_path)
    assert crisis.errors() == []

    # Three branches at once: the scribe's notes, the lead and the deputy both escalating.
    crisis.git("checkout", "-q", "-b", "scribe", "main")
    for minute in ("30", "35"):
        crisis.ok(
            "log",
            INCIDENT,
            "observation",
            "--text",
            f"Note :{minute}",
            who="sam",
            now=f"2026-03-14T09:{minute}:00Z",
        )
    crisis.git("checkout", "-q", "-b", "lead", "main")
    crisis.ok(
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "on TV",
        who="cleo",
        now="2026-03-14T09:31:00Z",
    )
    crisis.git("checkout", "-q", "-b", "deputy", "main")
    crisis.ok(
        "log",
        INCIDENT,
        "escalation",
        "--severity",
        "sev1",
        "--rationale",
        "TV",
        who="carl",
        now="2026-03-14T09:32:00Z",
    )
    crisis.ok("log", INCIDENT, "decision", "--text", "Brief the CEO", who="carl", now="2026-03-14T09:33:00Z")
    for branch, minute in (("scribe", "40"), ("lead", "41"), ("deputy", "42")):
        merge(crisis, branch, f"2026-03-14T09:{minute}:00+00:00")
    assert crisis.errors() == []
    status = crisis.status("2026-03-14T09:45:00Z")
    assert status["severity"] == "sev1"  # escalation 2, logged twice, is one escalation
    assert status["conflicts"] == []

    # A de-escalation killed right after its entry landed; the retry writes nothing more.
    args = (
        "log",
        INCIDENT,
        "de-escalation",
        "--severity",
        "sev2",
        "--rationale",
        "calmer",
        "--now",
        "2026-03-14T11:00:00Z",
    )
    killed = crash(crisis, "cleo", *args, fault="after-write:1")
    assert killed.returncode == store.FAULT_EXIT, killed.stderr
    assert crisis.errors() == []
    again = crisis.ok(*args[:-2], who="cleo", now="2026-03-14T11:00:00Z")
    assert "already 'sev2'" in again
    assert crisis.status("2026-03-14T11:05:00Z")["severity"] == "sev2"

    # Closing: refused until every gate is met, each refusal naming what to log.
    assert "closes from 'stable'" in refusal(crisis, "cleo", "2026-03-14T12:00:00Z")
    crisis.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "Quiet",
        who="cleo",
        now="2026-03-14T12:00:00Z",
    )
    err = refusal(crisis, "cleo", "2026-03-14T12:01:00Z")
    assert f"draft {abandoned} awaits approval" in err and "never assessed" in err and "resolution" in err
    crisis.ok(
        "log",
        INCIDENT,
        "withdraw",
        "--draft",
        abandoned,
        "--rationale",
        "overtaken",
        who="sam",
        now="2026-03-14T12:02:00Z",
    )
    assert "awaits approval" not in refusal(crisis, "cleo", "2026-03-14T12:03:00Z")
    crisis.ok(
        "assess", INCIDENT, "gdpr#art33", "--applies", "yes", "--clock-start", "2026-03-14T09:00:00Z",
        "--rationale", "customer emails", who="lena", now="2026-03-14T12:04:00Z",
    )  # fmt: skip
    crisis.ok(
        "assess", INCIDENT, "nis2#notification", "--applies", "yes", "--clock-start", "2026-03-14T09:00:00Z",
        "--rationale", "significant", who="lena", now="2026-03-14T12:04:00Z",
    )  # fmt: skip
    for key in ("dora", "hipaa", "sec-8k", "gdpr#art34", "nis2#early-warning"):
        crisis.ok(
            "assess",
            INCIDENT,
            key,
            "--applies",
            "no",
            "--rationale",
            "out of scope",
            who="lena",
            now="2026-03-14T12:05:00Z",
        )
    err = refusal(crisis, "cleo", "2026-03-14T12:07:00Z")
    assert "obligation gdpr#art33 applies" in err and "obligation nis2#notification applies" in err, err
    crisis.ok(
        "notify",
        INCIDENT,
        "gdpr#art33",
        "--recipient",
        "DPC",
        "--reference",
        "DPC-1",
        who="lena",
        now="2026-03-14T12:08:00Z",
    )
    not_theirs = crisis(
        "log", INCIDENT, "obligation-override", "--obligation", "nis2#notification", "--rationale", "drill",
        who="sam", now="2026-03-14T12:09:00Z",
    )  # fmt: skip
    assert not_theirs.code == 1 and "'legal-counsel'" in not_theirs.err
    crisis.ok(
        "log", INCIDENT, "obligation-override", "--obligation", "nis2#notification", "--rationale",
        "the CSIRT was told by phone; counsel keeps the note", who="lena", now="2026-03-14T12:10:00Z",
    )  # fmt: skip
    err = refusal(crisis, "cleo", "2026-03-14T12:11:00Z")
    assert "obligation nis2#final-report applies" in err  # it follows the notice that applied
    crisis.ok(
        "log", INCIDENT, "obligation-override", "--obligation", "nis2#final-report", "--rationale",
        "the final report is tracked by the security team's case", who="lena", now="2026-03-14T12:11:00Z",
    )  # fmt: skip
    err = refusal(crisis, "cleo", "2026-03-14T12:11:30Z")
    assert "obligation" not in err and "no resolution statement" in err
    crisis.ok(
        "log",
        INCIDENT,
        "resolution-decision",
        "--rationale",
        "the rumour died down",
        who="cleo",
        now="2026-03-14T12:12:00Z",
    )
    assert "may not close" in refusal(crisis, "sam", "2026-03-14T12:13:00Z")
    crisis.ok("close", INCIDENT, who="cleo", now="2026-03-14T12:14:00Z")
    assert crisis.errors() == []
    status = crisis.status("2026-03-14T13:00:00Z")
    assert status["status"] == "closed" and status["to_close"] == []
    late = crisis("log", INCIDENT, "observation", "--text", "one more", who="sam", now="2026-03-14T13:00:00Z")
    assert late.code == 1 and "reopen" in late.err
    incident_yaml = (crisis.root / "incidents" / INCIDENT / "incident.yaml").read_text("utf-8")
    assert "status:" not in incident_yaml and "severity: sev3" in incident_yaml
    assert json.loads(json.dumps(status))["severity"] == "sev2"
