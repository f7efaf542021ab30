"""End-to-end incident workflow through the CLI, in a private copy of a small fixture
repository: opening, logging, drafting, approving, publishing, overriding, deadlines,
status, closing and the review."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Run, acting_as, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"
SHA = re.compile(r"sha256 ([0-9a-f]{64})")
ID = re.compile(r"(\d{8}T\d{6}Z-[a-z0-9]{6})")


class Desk:
    """Runs ``clearance incident ...`` against one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, *args: str, who: str | None = None, now: str | None = None) -> Run:
        extra = [*(("--as", who) if who else ()), *(("--now", now) if now else ())]
        if args[:1] == ("approve",) and "--sha256" not in args and len(args) > 2:
            extra += ["--sha256", self.sha_of(args[1], args[2])]  # approvers name the text (issue 15)
        with acting_as(self.root, who):  # decisions are taken by git user.email's person
            return run_cli("--root", str(self.root), "incident", *args, *extra)

    def sha_of(self, incident: str, draft: str) -> str:
        """The sha256 of a draft's text, as 'clearance incident show' prints it."""
        for path in sorted((self.root / "incidents" / incident / "log").glob("*.yaml")):
            if path.stem == draft or path.stem.endswith("-" + draft) or path.stem.startswith(draft):
                data = yaml.safe_load(path.read_text("utf-8"))
                if data.get("type") == "draft":
                    return hashlib.sha256(str(data["text"]).encode("utf-8")).hexdigest()
        return "0" * 64

    def ok(self, *args: str, who: str | None = None, now: str | None = None) -> str:
        result = self(*args, who=who, now=now)
        assert result.code == 0, result.err
        return result.out

    def entry(self, *args: str, who: str | None = None, now: str | None = None) -> str:
        match = ID.search(self.ok(*args, who=who, now=now))
        assert match
        return match.group(1)

    def status(self, now: str) -> dict[str, Any]:
        result = self("status", INCIDENT, "--format", "json", now=now)
        assert result.code == 0, result.err
        return json.loads(result.out)

    def check(self, *extra: str) -> Run:
        return run_cli("--root", str(self.root), "check", *extra)

    def open(self, severity: str = "sev3", exercise: bool = True) -> None:
        self.ok(
            "new",
            "--protocol",
            "social-media-crisis",
            "--severity",
            severity,
            "--title",
            "App outage rumour",
            "--detected",
            "2026-03-14T08:40:00Z",
            "--started",
            "2026-03-14T08:00:00Z",
            "--role",
            "crisis-lead=cleo",
            *(["--exercise"] if exercise else []),
            who="cleo",
            now="2026-03-14T09:00:00Z",
        )

    def holding(self, now: str = "2026-03-14T09:10:00Z", who: str = "sam") -> tuple[str, str]:
        out = self.ok(
            "draft",
            INCIDENT,
            "--channel",
            "x",
            "--template",
            "holding",
            "--set",
            "topic=reports about our app",
            "--set",
            "update_time=15:00 UTC",
            who=who,
            now=now,
        )
        match, sha = ID.search(out), SHA.search(out)
        assert match and sha
        return match.group(1), sha.group(1)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    yield Desk(root)


def log_entries(desk: Desk) -> list[str]:
    return sorted(p.name for p in (desk.root / "incidents" / INCIDENT / "log").glob("*.yaml"))


# --- opening and who is acting ---------------------------------------------------------


def test_new_opens_an_incident_from_a_protocol(desk: Desk) -> None:
    desk.open(exercise=False)
    text = (desk.root / "incidents" / INCIDENT / "incident.yaml").read_text("utf-8")
    assert "protocol: social-media-crisis" in text
    # The status is derived from the log, never written into incident.yaml.
    assert "status:" not in text
    assert "declared: '2026-03-14T09:00:00Z'" in text
    assert len(log_entries(desk)) == 1
    assert desk.check().code == 0


def test_new_refuses_an_unencrypted_coordination_channel(desk: Desk) -> None:
    result = desk(
        "new",
        "--protocol",
        "social-media-crisis",
        "--severity",
        "sev3",
        "--title",
        "X",
        "--channel",
        "office-chat",
        who="cleo",
    )
    assert result.code == 1
    assert "'office-chat' is not end-to-end encrypted" in result.err
    assert list(desk.root.glob("incidents/*")) == []  # nothing created (the folder may not exist)


def test_new_refuses_a_duplicate_and_unknown_protocol(desk: Desk) -> None:
    desk.open()
    again = desk(
        "new",
        "--protocol",
        "social-media-crisis",
        "--severity",
        "sev3",
        "--title",
        "App outage rumour",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    assert again.code == 1 and "already exists" in again.err
    unknown = desk(
        "new", "--protocol", "social-media-crisi", "--severity", "sev3", "--title", "T", who="cleo"
    )
    assert unknown.code == 2 and "did you mean 'social-media-crisis'?" in unknown.err


def test_the_id_takes_the_utc_date_of_detection_not_of_today(desk: Desk) -> None:
    base = ["new", "--protocol", "social-media-crisis", "--severity", "sev3"]
    late = desk.ok(
        *base, "--title", "Late night post", "--detected", "2026-03-14T23:30:00-05:00",
        who="cleo", now="2026-03-17T09:00:00Z",
    )  # fmt: skip
    assert "opened incident 2026-03-15-late-night-post " in late
    text = (desk.root / "incidents" / "2026-03-15-late-night-post" / "incident.yaml").read_text("utf-8")
    assert "detected: '2026-03-14T23:30:00-05:00'" in text and "declared: '2026-03-17T09:00:00Z'" in text
    # The same title detected the same day is the same incident: refused, with the way out.
    again = desk(
        *base, "--title", "Late night post", "--detected", "2026-03-15T02:00:00Z",
        who="cleo", now="2026-03-17T09:05:00Z",
    )  # fmt: skip
    assert again.code == 1
    assert "incident '2026-03-15-late-night-post' already exists ('Late night post')" in again.err
    assert "--slug late-night-post-2" in again.err
    second = desk.ok(
        *base, "--title", "Late night post", "--detected", "2026-03-15T02:00:00Z",
        "--slug", "late-night-post-2", who="cleo", now="2026-03-17T09:05:00Z",
    )  # fmt: skip
    assert "opened incident 2026-03-15-late-night-post-2 " in second
    nameless = desk(*base, "--title", "!!!", who="cleo", now="2026-03-17T09:06:00Z")
    assert nameless.code == 2 and "--title '!!!' has no letters or digits" in nameless.err
    assert desk.check().code == 0


def test_unknown_actor_is_a_clear_error(desk: Desk) -> None:
    result = desk(
        "new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title", "T", who="cloe"
    )
    assert result.code == 2
    assert "--as 'cloe' is not a known person (did you mean 'cleo'?)" in result.err
    assert "Traceback" not in result.err


def test_actor_from_clearance_yaml(desk: Desk) -> None:
    config = desk.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "actor: cleo\n", "utf-8")
    desk.open()
    text = (desk.root / "incidents" / INCIDENT / "log").glob("*.yaml").__next__().read_text("utf-8")
    assert "by: cleo" in text


def test_actor_from_git_user_email(desk: Desk) -> None:
    subprocess.run(["git", "init", "-q", str(desk.root)], check=True)
    subprocess.run(["git", "-C", str(desk.root), "config", "user.email", "Lena@Fixture.example"], check=True)
    desk.open()
    out = desk.ok("log", INCIDENT, "observation", "--text", "Seen on X", now="2026-03-14T09:01:00Z")
    name = ID.search(out)
    assert name
    assert "by: lena" in (desk.root / "incidents" / INCIDENT / "log" / f"{name.group(1)}.yaml").read_text(
        "utf-8"
    )
    subprocess.run(["git", "-C", str(desk.root), "config", "user.email", "stranger@else.example"], check=True)
    result = desk("log", INCIDENT, "observation", "--text", "again")
    assert result.code == 2 and "'stranger@else.example' matches no person" in result.err


def test_times_without_offset_are_rejected(desk: Desk) -> None:
    desk.open()
    result = desk("log", INCIDENT, "observation", "--text", "x", "--at", "2026-03-14T09:05:00", who="sam")
    assert result.code == 2
    assert "has no UTC offset" in result.err and "2026-03-14T09:05:00Z" in result.err
    assert len(log_entries(desk)) == 1


def test_every_subcommand_has_help_with_an_example() -> None:
    for action in (
        "new",
        "log",
        "draft",
        "approve",
        "reject",
        "publish",
        "assess",
        "notify",
        "status",
        "close",
        "review",
    ):
        result = run_cli("incident", action, "--help")
        assert result.code == 0
        assert "example: clearance incident " + action in result.out, action


# --- drafting ------------------------------------------------------------------------------------


def test_template_placeholders_are_checked(desk: Desk) -> None:
    desk.open()
    base = ["draft", INCIDENT, "--channel", "x", "--template", "holding"]
    unknown = desk(*base, "--set", "topik=x", "--set", "update_time=15:00", who="sam")
    assert (
        unknown.code == 2
        and "'topik' is not a placeholder of template 'holding' (did you mean 'topic'?)" in unknown.err
    )
    assert "missing --set topic=" in unknown.err
    too_long = desk(*base, "--set", "topic=" + "a" * 61, "--set", "update_time=15:00", who="sam")
    assert too_long.code == 2 and "'topic' is 61 characters; at most 60" in too_long.err
    bad_type = desk(*base, "--set", "topic=x", "--set", "update_time=soon", who="sam")
    assert bad_type.code == 2 and "'update_time' = 'soon' is not a time" in bad_type.err
    channel = desk(
        "draft",
        INCIDENT,
        "--channel",
        "crisis-room",
        "--template",
        "holding",
        "--set",
        "topic=x",
        "--set",
        "update_time=15:00",
        who="sam",
    )
    assert channel.code == 2 and "is written for x, website, not 'crisis-room'" in channel.err
    assert len(log_entries(desk)) == 1


def test_channel_length_limit_is_enforced(desk: Desk, tmp_path: Path) -> None:
    desk.open()
    text = tmp_path / "long.txt"
    text.write_text("w" * 281, "utf-8")
    result = desk("draft", INCIDENT, "--channel", "x", "--file", str(text), who="sam")
    assert result.code == 1 and "281 characters; channel 'x' allows at most 280" in result.err
    text.write_text("w" * 280 + "\n", "utf-8")
    assert desk("draft", INCIDENT, "--channel", "x", "--file", str(text), who="sam").code == 0


def test_draft_from_stdin(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.open()
    monkeypatch.setattr("sys.stdin", io.StringIO("We are looking into reports.\n"))
    out = desk.ok(
        "draft", INCIDENT, "--channel", "website", "--file", "-", who="sam", now="2026-03-14T09:05:00Z"
    )
    draft_id = ID.search(out)
    assert draft_id
    path = desk.root / "incidents" / INCIDENT / "log" / f"{draft_id.group(1)}.yaml"
    assert "text: We are looking into reports." in path.read_text("utf-8")


# --- approvals ----------------------------------------------------------------------------------------


def test_self_approval_is_refused(desk: Desk) -> None:
    desk.open()
    # Priya (pr-lead) writes the draft; she cannot approve the pr step herself.
    draft, _ = desk.holding(who="priya")
    result = desk("approve", INCIDENT, draft, "--step", "pr", who="priya", now="2026-03-14T09:11:00Z")
    assert result.code == 1 and "separation of duties: 'priya' wrote this draft" in result.err
    assert desk.status("2026-03-14T09:12:00Z")["waiting"][0]["steps"][0]["may_still_approve"] == ["paul"]


def test_wrong_role_is_refused(desk: Desk) -> None:
    desk.open()
    draft, _ = desk.holding()
    result = desk("approve", INCIDENT, draft, "--step", "legal", who="paul", now="2026-03-14T09:11:00Z")
    assert result.code == 1 and "'paul' is not a member of role 'legal-counsel'" in result.err


def test_approval_of_different_text_is_refused(desk: Desk) -> None:
    desk.open()
    draft, sha = desk.holding()
    other = "0" * 64
    result = desk("approve", INCIDENT, draft, "--step", "pr", "--sha256", other, who="priya")
    assert result.code == 1 and "is not the text of draft" in result.err
    assert (
        desk(
            "approve",
            INCIDENT,
            draft,
            "--step",
            "pr",
            "--sha256",
            sha,
            who="priya",
            now="2026-03-14T09:12:00Z",
        ).code
        == 0
    )


def test_a_hash_prefix_is_refused_with_where_to_copy_the_full_hash(desk: Desk) -> None:
    desk.open()
    draft, sha = desk.holding()
    log = f"incidents/{INCIDENT}/log/{draft}.yaml"
    before = log_entries(desk)
    for given, what in (
        (sha[:12], "is only the first 12 characters of the draft's hash"),
        (sha[:63], "is only the first 63 characters of the draft's hash"),
        ("not-a-hash", "is not a sha256 (64 hexadecimal digits)"),
    ):
        result = desk("approve", INCIDENT, draft, "--step", "pr", "--sha256", given, who="priya")
        assert result.code == 2 and "Traceback" not in result.err
        assert (
            f"--sha256 {given!r} {what}; the full 64-character sha256 is required: copy it from the "
            f"'sha256' line 'clearance incident draft' printed, or from 'sha256:' in {log}"
        ) in result.err
        assert f"sha256: {sha}" in (desk.root / log).read_text("utf-8")  # it is there to copy
    assert log_entries(desk) == before
    upper = desk("approve", INCIDENT, draft, "--step", "pr", "--sha256", sha.upper(), who="priya")
    assert upper.code == 0, upper.err


def test_publication_before_approval_is_refused_and_allowed_after(desk: Desk) -> None:
    desk.open()
    draft, sha = desk.holding()
    early = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:11:00Z")
    assert early.code == 1
    assert "step 'pr' (role 'pr-lead', quorum 1" in early.err and "step 'legal'" in early.err
    desk.ok(
        "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, who="priya", now="2026-03-14T09:15:00Z"
    )
    half = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:16:00Z")
    assert half.code == 1 and "step 'pr'" not in half.err and "step 'legal'" in half.err
    desk.ok(
        "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha, who="lena", now="2026-03-14T09:20:00Z"
    )
    # Publication dated before the last approval is still refused.
    backdated = desk(
        "publish", INCIDENT, draft, "--at", "2026-03-14T09:19:00Z", who="sam", now="2026-03-14T09:21:00Z"
    )
    assert backdated.code == 1 and "approved after the publication time" in backdated.err
    desk.ok(
        "publish",
        INCIDENT,
        draft,
        "--link",
        "https://x.com/fixture/status/1",
        who="sam",
        now="2026-03-14T09:21:00Z",
    )
    again = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:22:00Z")
    assert again.code == 1 and "already published" in again.err
    assert desk.check().code == 0


def test_rejection_cancels_earlier_approvals_and_later_approvals_count(desk: Desk) -> None:
    desk.open(severity="sev2")  # sev2 uses statement-major: legal needs two approvers
    draft, _ = desk.holding()
    desk.ok("approve", INCIDENT, draft, "--step", "pr", who="priya", now="2026-03-14T09:12:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lena", now="2026-03-14T09:13:00Z")
    desk.ok(
        "reject",
        INCIDENT,
        draft,
        "--step",
        "legal",
        "--reason",
        "too vague",
        who="luis",
        now="2026-03-14T09:14:00Z",
    )
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lars", now="2026-03-14T09:15:00Z")
    refused = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:16:00Z")
    assert refused.code == 1
    assert (
        "rejected by 'luis'" in refused.err and "'lena' approved before the standing rejection" in refused.err
    )
    waiting = desk.status("2026-03-14T09:16:00Z")["waiting"][0]["steps"]
    assert [(s["step"], s["needed"], s["rejected_by"]) for s in waiting] == [("legal", 1, "luis")]
    # The rejecting lawyer approves the revised view: two approvals after the rejection.
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="luis", now="2026-03-14T09:17:00Z")
    desk.ok("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:18:00Z")
    assert desk.check().code == 0


def test_quorum_needs_distinct_people(desk: Desk) -> None:
    desk.open(severity="sev2")
    draft, _ = desk.holding()
    desk.ok("approve", INCIDENT, draft, "--step", "pr", who="priya", now="2026-03-14T09:12:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lena", now="2026-03-14T09:13:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lena", now="2026-03-14T09:14:00Z")
    result = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:16:00Z")
    assert result.code == 1 and "has 1 valid approval(s)" in result.err


def test_escalation_adds_the_steps_of_the_higher_severity(desk: Desk) -> None:
    desk.open(severity="sev2")
    draft, _ = desk.holding()
    for who, step, minute in (("priya", "pr", 11), ("lena", "legal", 12), ("luis", "legal", 13)):
        desk.ok("approve", INCIDENT, draft, "--step", step, who=who, now=f"2026-03-14T09:{minute}:00Z")
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--severity",
        "sev1",
        who="cleo",
        now="2026-03-14T09:14:00Z",
    )
    result = desk("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:15:00Z")
    assert result.code == 1 and "step 'lead' (role 'crisis-lead'" in result.err
    desk.ok("approve", INCIDENT, draft, "--step", "lead", who="carl", now="2026-03-14T09:16:00Z")
    desk.ok("publish", INCIDENT, draft, who="sam", now="2026-03-14T09:17:00Z")
    # incident.yaml keeps the severity at opening; the current one comes from the log.
    assert "severity: sev2" in (desk.root / "incidents" / INCIDENT / "incident.yaml").read_text("utf-8")
    assert desk.status("2026-03-14T09:18:00Z")["severity"] == "sev1"
    assert desk.check().code == 0


def test_data_class_adds_its_disclosure_chain(desk: Desk, tmp_path: Path) -> None:
    desk.open()
    text = tmp_path / "t.txt"
    text.write_text("Affected customers can reach us on our support line.", "utf-8")
    out = desk.ok(
        "draft",
        INCIDENT,
        "--channel",
        "website",
        "--file",
        str(text),
        "--data-class",
        "customer-personal-data",
        who="sam",
        now="2026-03-14T09:10:00Z",
    )
    assert "step 'dpo' from role 'data-protection-officer' (data class customer-personal-data)" in out
    draft = ID.search(out)
    assert draft
    for who, step in (("priya", "pr"), ("lena", "legal")):
        desk.ok("approve", INCIDENT, draft.group(1), "--step", step, who=who, now="2026-03-14T09:11:00Z")
    refused = desk("publish", INCIDENT, draft.group(1), who="sam", now="2026-03-14T09:12:00Z")
    assert refused.code == 1 and "step 'dpo'" in refused.err
    desk.ok("approve", INCIDENT, draft.group(1), "--step", "dpo", who="dora", now="2026-03-14T09:13:00Z")
    desk.ok("publish", INCIDENT, draft.group(1), who="sam", now="2026-03-14T09:14:00Z")


def test_data_class_that_may_never_be_disclosed_is_refused_before_anything_is_written(
    desk: Desk, tmp_path: Path
) -> None:
    desk.open()
    before = log_entries(desk)
    text = tmp_path / "t.txt"
    text.write_text("The Bluefin cluster is being patched.", "utf-8")
    refused = desk(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:10:00Z"
    )
    assert refused.code == 1
    assert "may never be published or recorded; nothing was written" in refused.err
    assert "term Bl" in refused.err and "Bluefin" not in refused.err  # only the masked hit
    assert log_entries(desk) == before
    declared = desk(
        "draft",
        INCIDENT,
        "--channel",
        "website",
        "--file",
        str(text),
        "--data-class",
        "security-details",
        who="sam",
        now="2026-03-14T09:10:00Z",
    )
    assert declared.code == 1 and "declared with --data-class" in declared.err
    assert log_entries(desk) == before


PAYMENT = """kind: data-class
id: payment-data
title: Payment data
owner: legal-counsel
status: active
classification: internal
sensitivity: critical
examples:
  - A card number
detectors:
  builtin: [payment-card]
disclosure:
  rule: never
"""


def test_a_card_number_in_a_draft_never_reaches_the_repository(desk: Desk, tmp_path: Path) -> None:
    (desk.root / "policies" / "data-classes" / "payment-data.yaml").write_text(PAYMENT, "utf-8")
    desk.open()
    card = "4111 1111 1111 1111"
    text = tmp_path / "t.txt"
    text.write_text(f"Refund sent to card {card} today.", "utf-8")
    refused = desk(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:10:00Z"
    )
    assert refused.code == 1 and "1111" in refused.err and card not in refused.err
    noted = desk(
        "log",
        INCIDENT,
        "observation",
        "--text",
        f"Screenshot shows {card}",
        who="sam",
        now="2026-03-14T09:11:00Z",
    )
    assert noted.code == 1 and "the observation entry touches data" in noted.err and card not in noted.err
    talking = desk(
        "log",
        INCIDENT,
        "talking-points",
        "--point",
        f"Card {card} was not ours",
        who="sam",
        now="2026-03-14T09:12:00Z",
    )
    assert talking.code == 1
    for path in desk.root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert card.encode() not in content and card.replace(" ", "").encode() not in content, path


def test_emergency_override_and_its_follow_up(desk: Desk) -> None:
    desk.open()
    draft, _ = desk.holding()
    not_allowed = desk(
        "publish", INCIDENT, draft, "--override-reason", "site down", who="priya", now="2026-03-14T09:11:00Z"
    )
    assert not_allowed.code == 1 and "'priya' may not override" in not_allowed.err
    out = desk.ok(
        "publish",
        INCIDENT,
        draft,
        "--override-reason",
        "misinformation spreading fast",
        who="cleo",
        now="2026-03-14T09:12:00Z",
    )
    assert "emergency override" in out
    status = desk.status("2026-03-14T10:00:00Z")
    [follow] = status["override_reviews"]
    assert follow["review_by"] == "legal-counsel" and follow["due"] == "2026-03-15T09:12:00+00:00"
    assert follow["reason"] == "misinformation spreading fast"
    text = desk("status", INCIDENT, now="2026-03-14T10:00:00Z").out
    assert "Emergency overrides awaiting review:" in text
    # The check accepts the overridden publication; the follow-up is a warning once late.
    checked = desk.check("--format", "json")
    assert checked.code == 0, checked.out
    assert "APR001" not in [f["rule"] for f in json.loads(checked.out)["findings"]]
    wrong = desk(
        "log",
        INCIDENT,
        "override-review",
        "--override",
        follow["override"],
        "--rationale",
        "fine",
        who="priya",
        now="2026-03-14T11:00:00Z",
    )
    assert wrong.code == 1 and "not a member of role 'legal-counsel'" in wrong.err
    desk.ok(
        "log",
        INCIDENT,
        "override-review",
        "--override",
        follow["override"],
        "--rationale",
        "justified: the rumour was doubling every ten minutes",
        who="lena",
        now="2026-03-14T11:00:00Z",
    )
    assert desk.status("2026-03-14T12:00:00Z")["override_reviews"] == []


# --- deadlines, status, close, review ------------------------------------------------------------------


def run_exercise(desk: Desk) -> str:
    desk.open()
    desk.ok(
        "log",
        INCIDENT,
        "observation",
        "--text",
        "A journalist asks for comment",
        "--inject",
        "0",
        who="sam",
        now="2026-03-14T09:10:00Z",
    )
    draft, _ = desk.holding(now="2026-03-14T09:12:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "pr", who="priya", now="2026-03-14T09:20:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lena", now="2026-03-14T09:50:00Z")
    desk.ok(
        "publish",
        INCIDENT,
        draft,
        "--link",
        "https://x.com/fixture/status/1",
        who="sam",
        now="2026-03-14T09:55:00Z",
    )
    desk.ok(
        "assess",
        INCIDENT,
        "gdpr#art33",
        "--applies",
        "yes",
        "--clock-start",
        "2026-03-14T08:40:00Z",
        "--rationale",
        "EU customer emails in the screenshot",
        who="lena",
        now="2026-03-14T10:00:00Z",
    )
    desk.ok(
        "assess",
        INCIDENT,
        "sec-8k#item-1-05",
        "--applies",
        "no",
        "--rationale",
        "not material",
        who="lena",
        now="2026-03-14T10:05:00Z",
    )
    desk.ok(
        "assess",
        INCIDENT,
        "nis2#notification",
        "--applies",
        "yes",
        "--clock-start",
        "2026-03-14T08:40:00Z",
        "--rationale",
        "significant incident",
        who="lena",
        now="2026-03-14T10:06:00Z",
    )
    desk.ok(
        "notify",
        INCIDENT,
        "nis2#notification",
        "--recipient",
        "CSIRT",
        "--reference",
        "CSIRT-42",
        who="lena",
        now="2026-03-15T10:00:00Z",
    )
    desk.ok(
        "log",
        INCIDENT,
        "correction",
        "--corrects",
        draft[-6:],
        "--text",
        "Update time was 15:00 GMT",
        who="sam",
        now="2026-03-15T10:05:00Z",
    )
    return draft


def test_status_shows_deadlines_next_update_injects_and_metrics(desk: Desk) -> None:
    run_exercise(desk)
    status = desk.status("2026-03-15T12:00:00Z")
    assert status["exercise"] is True and status["waiting"] == []
    deadlines = {d["obligation"]: d for d in status["deadlines"]}
    assert set(deadlines) == {"gdpr#art33", "nis2#notification", "nis2#final-report"}
    assert deadlines["gdpr#art33"]["due"] == "2026-03-17T08:40:00+00:00"
    assert deadlines["gdpr#art33"]["seconds_left"] == (44 * 60 + 40) * 60
    assert deadlines["nis2#notification"]["state"] == "met"
    assert deadlines["nis2#final-report"]["due"] == "2026-04-15T23:59:59+00:00"
    assert status["next_update"]["due"] == "2026-03-15T09:55:00+00:00"  # sev3: every day
    assert status["next_update"]["seconds_left"] < 0
    injects = status["injects"]
    assert [(i["inject"], i["delivered"], i["pending"]) for i in injects] == [
        (0, True, False),
        (1, False, True),
    ]
    m = status["metrics"]
    assert m["time_to_detect_seconds"] == 40 * 60
    assert m["time_to_declare_seconds"] == 20 * 60
    assert m["time_to_first_public_statement_seconds"] == 55 * 60
    assert m["approval_latency_per_step"]["pr"]["median_seconds"] == 8 * 60
    assert m["approval_latency_per_role"]["legal-counsel"]["max_seconds"] == 38 * 60
    assert m["corrections"] == 1
    assert m["updates_missed"] == 1 and m["deadlines_met"] == 1
    # legal's time target is one hour from the draft: 38 minutes is in time; pr's is 30 minutes: 8 is in time.
    assert m["approval_sla_missed"] == []
    text = desk("status", INCIDENT, "--tz", "Europe/Dublin", now="2026-03-15T12:00:00Z").out
    assert "gdpr#art33" in text and "due Tue 2026-03-17 08:40 GMT, 1d 20h 40m left" in text
    assert "MET, notified Sun 2026-03-15 10:00 GMT" in text
    assert "OVERDUE by 2h 05m" in text  # next public update
    assert "#1 at +PT45M" in text and "[DUE]" in text
    assert desk.check().code == 0


def test_late_approval_step_is_a_warning_with_the_delay(desk: Desk) -> None:
    desk.open()
    draft, _ = desk.holding()
    desk.ok("approve", INCIDENT, draft, "--step", "pr", who="priya", now="2026-03-14T10:25:00Z")
    desk.ok("approve", INCIDENT, draft, "--step", "legal", who="lena", now="2026-03-14T10:26:00Z")
    desk.ok("publish", INCIDENT, draft, who="sam", now="2026-03-14T10:27:00Z")
    result = desk.check()
    assert result.code == 0  # a warning, not an error
    assert "APR003" in result.out and "step 'pr' (pr-lead) was due 2026-03-14T09:40:00+00:00" in result.out
    assert "45 minutes late" in result.out
    metrics = desk.status("2026-03-14T11:00:00Z")["metrics"]
    assert [(m["step"], m["delay_seconds"]) for m in metrics["approval_sla_missed"]] == [
        ("pr", 2700.0),
        ("legal", 960.0),
    ]


OBLIGATIONS = (
    "dora#initial",
    "gdpr#art33",
    "gdpr#art34",
    "hipaa#individuals",
    "hipaa#hhs",
    "nis2#early-warning",
    "nis2#notification",
    "nis2#final-report",
    "sec-8k#item-1-05",
)


def assess_the_rest(desk: Desk, now: str) -> None:
    """Assess every listed obligation nobody assessed yet as not applying."""
    status = desk.status(now)
    done = {d["obligation"] for d in status["deadlines"]}
    for key in OBLIGATIONS:
        if key not in done:
            desk(
                "assess", INCIDENT, key, "--applies", "no", "--rationale", "not in scope", who="lena", now=now
            )


def test_close_refuses_until_every_gate_is_met_and_says_what_to_log(desk: Desk) -> None:
    run_exercise(desk)
    desk.holding(now="2026-03-15T11:00:00Z")
    active = desk("close", INCIDENT, who="cleo", now="2026-03-15T12:00:00Z")
    assert active.code == 1 and "it closes from 'stable'" in active.err  # no silent 'stable'
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-15T12:00:00Z",
    )
    refused = desk("close", INCIDENT, who="cleo", now="2026-03-15T12:01:00Z")
    assert refused.code == 1
    assert "awaits approval" in refused.err and "withdraw --draft" in refused.err
    assert (
        "obligation gdpr#art33 applies" in refused.err
        and "obligation-override --obligation gdpr#art33" in refused.err
    )
    assert "obligation hipaa#hhs (" in refused.err and "never assessed" in refused.err
    assert "no resolution statement" in refused.err
    not_allowed = desk("close", INCIDENT, who="sam", now="2026-03-15T12:01:00Z")
    assert not_allowed.code == 1 and "'sam' may not close" in not_allowed.err
    assert (
        desk("close", INCIDENT, "--override-reason", "done", who="cleo", now="2026-03-15T12:01:00Z").code == 2
    )
    assert "status:" not in (desk.root / "incidents" / INCIDENT / "incident.yaml").read_text("utf-8")
    assert desk.status("2026-03-15T12:02:00Z")["status"] == "stable"
    assert desk.check().code == 0


def test_close_without_open_items_needs_no_override(desk: Desk) -> None:
    desk.open()
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-14T11:00:00Z",
    )
    for key in OBLIGATIONS:
        desk.ok(
            "assess",
            INCIDENT,
            key,
            "--applies",
            "no",
            "--rationale",
            "out of scope",
            who="lena",
            now="2026-03-14T11:10:00Z",
        )
    desk.ok(
        "log",
        INCIDENT,
        "resolution-decision",
        "--rationale",
        "nothing was said in public",
        who="cleo",
        now="2026-03-14T11:20:00Z",
    )
    desk.ok("close", INCIDENT, who="cleo", now="2026-03-14T12:00:00Z")
    assert desk.status("2026-03-14T13:00:00Z")["status"] == "closed"
    again = desk("close", INCIDENT, who="cleo", now="2026-03-14T12:05:00Z")
    assert again.code == 0  # closing twice is one close
    late = desk("log", INCIDENT, "observation", "--text", "more", who="sam", now="2026-03-14T12:10:00Z")
    assert late.code == 1 and "reopen" in late.err
    desk.ok("log", INCIDENT, "reopen", "--rationale", "new posts", who="cleo", now="2026-03-14T12:20:00Z")
    desk.ok("log", INCIDENT, "observation", "--text", "more", who="sam", now="2026-03-14T12:21:00Z")
    assert desk.status("2026-03-14T13:00:00Z")["status"] == "active"
    assert desk.check().code == 0


def test_review_is_created_with_computed_metrics_and_never_overwritten(desk: Desk) -> None:
    run_exercise(desk)
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-15T11:00:00Z",
    )
    desk.ok("notify", INCIDENT, "gdpr#art33", "--recipient", "DPC", who="lena", now="2026-03-15T11:01:00Z")
    desk.ok(
        "log",
        INCIDENT,
        "obligation-override",
        "--obligation",
        "nis2#final-report",
        "--rationale",
        "drill",
        who="lena",
        now="2026-03-15T11:02:00Z",
    )
    assess_the_rest(desk, "2026-03-15T11:03:00Z")
    desk.ok(
        "log", INCIDENT, "resolution-decision", "--rationale", "drill", who="cleo", now="2026-03-15T11:04:00Z"
    )
    desk.ok("close", INCIDENT, who="cleo", now="2026-03-15T12:00:00Z")
    out = desk.ok("review", INCIDENT, who="cleo", now="2026-03-16T09:00:00Z")
    assert f"incidents/{INCIDENT}/review.md" in out
    review = (desk.root / "incidents" / INCIDENT / "review.md").read_text("utf-8")
    assert "| Time to first public statement | 55m |" in review
    assert "| Corrections | 1 |" in review
    assert "| nis2#notification | 72 hours |" in review and "| met |" in review
    assert "held_on: '2026-03-16'" in review
    again = desk("review", INCIDENT, who="cleo", now="2026-03-16T10:00:00Z")
    assert again.code == 1 and "never overwritten" in again.err
    assert (desk.root / "incidents" / INCIDENT / "review.md").read_text("utf-8") == review
    assert desk.check().code == 0


def test_rejected_draft_is_answered_not_waiting_and_never_late(desk: Desk) -> None:
    desk.open()
    draft, _ = desk.holding()
    desk.ok(
        "reject",
        INCIDENT,
        draft,
        "--step",
        "legal",
        "--reason",
        "denies what we have not ruled out",
        who="lena",
        now="2026-03-14T09:15:00Z",
    )
    status = desk.status("2026-03-15T09:00:00Z")
    assert status["waiting"] == []
    assert status["rejected"] == [
        {
            "draft": draft,
            "channel": "x",
            "author": "sam",
            "rejections": [{"step": "legal", "by": "lena", "reason": "denies what we have not ruled out"}],
        }
    ]
    assert status["metrics"]["approval_sla_missed"] == []
    assert "APR003" not in desk.check().out
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-15T08:00:00Z",
    )
    assess_the_rest(desk, "2026-03-15T08:01:00Z")
    desk.ok(
        "log", INCIDENT, "resolution-decision", "--rationale", "drill", who="cleo", now="2026-03-15T08:02:00Z"
    )
    desk.ok("close", INCIDENT, who="cleo", now="2026-03-15T09:00:00Z")  # a rejected draft is not open


def test_status_of_a_closed_incident_stops_its_clocks(desk: Desk) -> None:
    run_exercise(desk)
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-15T11:00:00Z",
    )
    for key in ("gdpr#art33", "nis2#final-report"):
        desk.ok(
            "log",
            INCIDENT,
            "obligation-override",
            "--obligation",
            key,
            "--rationale",
            "drill",
            who="lena",
            now="2026-03-15T11:02:00Z",
        )
    assess_the_rest(desk, "2026-03-15T11:03:00Z")
    desk.ok(
        "log", INCIDENT, "resolution-decision", "--rationale", "drill", who="cleo", now="2026-03-15T11:04:00Z"
    )
    desk.ok("close", INCIDENT, who="cleo", now="2026-03-15T12:00:00Z")
    status = desk.status("2026-06-01T00:00:00Z")
    assert status["closed"] == "2026-03-15T12:00:00+00:00"
    assert status["next_update"] is None
    assert [i["pending"] for i in status["injects"]] == [False, True]  # #1 was due before the close
    deadlines = {d["obligation"]: d for d in status["deadlines"]}
    assert deadlines["gdpr#art33"]["seconds_left"] == (44 * 60 + 40) * 60
    text = desk("status", INCIDENT, now="2026-06-01T00:00:00Z").out
    assert "closed Sun 2026-03-15 12:00 UTC, figures stop there" in text
    assert "none: the incident is closed" in text


def test_scanner_finds_data_classes_without_flags(desk: Desk, tmp_path: Path) -> None:
    desk.open()
    text = tmp_path / "t.txt"
    text.write_text("Customer jane.doe@gmail.com says the cluster is down.", "utf-8")
    out = desk.ok(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:10:00Z"
    )
    assert "data classes: customer-personal-data" in out
    assert "step 'dpo'" in out
    draft = ID.search(out)
    assert draft
    entry = (desk.root / "incidents" / INCIDENT / "log" / f"{draft.group(1)}.yaml").read_text("utf-8")
    assert "- customer-personal-data\n" in entry


def test_status_shows_local_times_across_a_dst_change(desk: Desk) -> None:
    desk.open()
    desk.ok(
        "assess",
        INCIDENT,
        "gdpr#art33",
        "--applies",
        "yes",
        "--clock-start",
        "2025-10-24T10:00:00+01:00",
        "--rationale",
        "aware on Friday morning in London",
        who="lena",
        now="2026-03-14T09:30:00Z",
    )
    [deadline] = desk.status("2025-10-25T10:00:00+01:00")["deadlines"]
    assert deadline["due"] == "2025-10-27T09:00:00+00:00"
    assert deadline["seconds_left"] == 48 * 3600  # a day of 25 hours in between still counts 72 real hours
    text = desk("status", INCIDENT, "--tz", "Europe/London", now="2025-10-25T10:00:00+01:00").out
    assert "due Mon 2025-10-27 09:00 GMT, 2d 0h 00m left" in text
    assert "as of Sat 2025-10-25 10:00 BST" in text


def test_status_shows_times_in_the_acting_persons_timezone(desk: Desk) -> None:
    desk.open()
    luis = desk("status", INCIDENT, who="luis", now="2026-03-14T15:00:00Z").out  # America/New_York
    assert "as of Sat 2026-03-14 11:00 EDT" in luis
    nobody = desk("status", INCIDENT, now="2026-03-14T15:00:00Z").out
    assert "as of Sat 2026-03-14 15:00 UTC" in nobody
    bad = desk("status", INCIDENT, "--tz", "Mars/Olympus", now="2026-03-14T15:00:00Z")
    assert bad.code == 2 and "time zone 'Mars/Olympus' is not known" in bad.err


def test_windows_line_endings_in_a_draft_file_are_normalised(desk: Desk, tmp_path: Path) -> None:
    desk.open()
    text = tmp_path / "t.txt"
    text.write_bytes(b"First line.\r\nSecond line.\r\n")
    out = desk.ok(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:10:00Z"
    )
    assert hashlib.sha256(b"First line.\nSecond line.").hexdigest() in out


def test_decisions_cite_real_policy_clauses(desk: Desk) -> None:
    desk.open()
    desk.ok(
        "log",
        INCIDENT,
        "decision",
        "--text",
        "Train everyone",
        "--cite",
        "training#1",
        who="cleo",
        now="2026-03-14T09:05:00Z",
    )
    bad = desk("log", INCIDENT, "decision", "--text", "x", "--cite", "training#2", who="cleo")
    assert (
        bad.code == 2
        and "--cite 'training#2': no such clause" in bad.err
        and "did you mean 'training#1'" in bad.err
    )


def test_incident_allowances_never_remove_the_approvals_a_class_needs(desk: Desk, tmp_path: Path) -> None:
    """An ``allow:`` written into incident.yaml (by anyone with write access, the draft's
    author included) silences the scanner's report; the class's disclosure chain must
    still approve the draft, signed like every approval (issue 15)."""
    desk.open()
    incident = desk.root / "incidents" / INCIDENT / "incident.yaml"
    incident.write_text(
        incident.read_text("utf-8")
        + "allow:\n- match: help@fixture.example\n  by: dora\n  reason: our published support address\n",
        "utf-8",
    )
    text = tmp_path / "t.txt"
    text.write_text("Questions? Write to help@fixture.example.", "utf-8")
    out = desk.ok(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:10:00Z"
    )
    assert "data classes: customer-personal-data" in out and "step 'dpo'" in out
    text.write_text("Questions? Write to jane.doe@gmail.com.", "utf-8")
    out = desk.ok(
        "draft", INCIDENT, "--channel", "website", "--file", str(text), who="sam", now="2026-03-14T09:11:00Z"
    )
    assert "data classes: customer-personal-data" in out and "step 'dpo'" in out
