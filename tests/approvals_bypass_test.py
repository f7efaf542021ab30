"""Issue 15: the ways around approvals that worked before, each tried as a person would,
in a real git repository with several committers and real SSH keys (ssh-keygen).

Every test here failed on the code before the change: ``--as`` recorded approvals for
others, hand-written approvals passed ``check``, working-tree role edits counted for
``publish``, and suppressions and configuration switched enforcement off."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from clearance import signing
from clearance.incidents import approvals
from conftest import Run, acting_as, fixture_git, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"
PEOPLE = ("cleo", "sam", "priya", "lena", "paul", "dan", "carl")


class Repo:
    def __init__(self, root: Path, keys: Path) -> None:
        self.root = root
        self.keys = keys

    def git(self, *args: str, who: str = "cleo", when: str = "2026-03-14T08:00:00+00:00") -> str:
        return fixture_git(self.root, *args, who=who, when=when)

    def commit(self, who: str, when: str, message: str = "record") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who, when=when)
        return self.git("rev-parse", "HEAD").strip()

    def act(self, who: str, *args: str, now: str, key: bool = True, as_: str | None = None) -> Run:
        extra = ["--now", now, *(["--key", str(self.keys / who)] if key and args[0] in _SIGNED else [])]
        extra += ["--as", as_] if as_ else []
        with acting_as(self.root, who):
            return run_cli("--root", str(self.root), "incident", *args, *extra)

    def ok(self, who: str, *args: str, now: str, **kw: object) -> str:
        result = self.act(who, *args, now=now, **kw)  # type: ignore[arg-type]
        assert result.code == 0, result.err
        return result.out

    def check(self, *extra: str) -> Run:
        return run_cli("--root", str(self.root), "check", "--no-cache", "--format", "json", *extra)

    def findings(self, rule: str) -> list[dict[str, object]]:
        return [f for f in self.check().json()["findings"] if f["rule"] == rule]

    def log(self) -> Path:
        return self.root / "incidents" / INCIDENT / "log"

    def draft(self) -> tuple[str, str]:
        out = self.ok(
            "sam", "draft", INCIDENT, "--channel", "x", "--template", "holding",
            "--set", "topic=reports about our app", "--set", "update_time=15:00 UTC",
            now="2026-03-14T09:10:00Z",
        )  # fmt: skip
        ident = out.split()[1]
        sha = out.split("sha256 ")[1].split()[0]
        return ident, sha


_SIGNED = ("approve", "reject", "publish", "notify")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    keys = tmp_path / "keys"
    keys.mkdir()
    for who in PEOPLE:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(keys / who)], check=True
        )
        person = root / "policies" / "people" / f"{who}.yaml"
        public = (keys / f"{who}.pub").read_text("utf-8").split()
        person.write_text(person.read_text("utf-8") + f"signing_keys: ['{public[0]} {public[1]}']\n", "utf-8")
    config = root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "signing: {decisions: required}\n", "utf-8")
    made = Repo(root, keys)
    made.git("init", "-q", "-b", "main")
    made.commit("cleo", "2026-03-14T08:00:00+00:00", "Registers")
    made.ok(
        "cleo", "new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title",
        "App outage rumour", "--detected", "2026-03-14T08:40:00Z", now="2026-03-14T09:00:00Z",
    )  # fmt: skip
    made.commit("cleo", "2026-03-14T09:00:30+00:00", "Open")
    return made


def approve_all(repo: Repo, draft: str, sha: str) -> None:
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    repo.ok(
        "lena", "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha, now="2026-03-14T09:12:00Z"
    )
    repo.commit("lena", "2026-03-14T09:12:30+00:00")


def test_signed_approvals_by_their_people_publish_and_verify(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    approve_all(repo, draft, sha)
    repo.ok("sam", "publish", INCIDENT, draft, now="2026-03-14T09:13:00Z")
    repo.commit("sam", "2026-03-14T09:13:30+00:00")
    entries = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(repo.log().glob("*.yaml"))]
    decisions = [e for e in entries if e["type"] in ("approval", "publication")]
    assert len(decisions) == 3 and all("BEGIN SSH SIGNATURE" in e["signature"] for e in decisions)
    result = repo.check()
    assert [f for f in result.json()["findings"] if f["severity"] == "error"] == [], result.out


def test_as_someone_else_is_refused_for_a_decision(repo: Repo) -> None:
    draft, sha = repo.draft()
    result = repo.act(
        "priya", "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha,
        now="2026-03-14T09:11:00Z", as_="lena",
    )  # fmt: skip
    assert result.code == 1
    assert "--as 'lena'" in result.err and "'priya'" in result.err and "decision" in result.err
    assert not [p for p in repo.log().glob("*.yaml") if "approval" in p.read_text("utf-8")]


def test_approve_without_the_hash_is_refused(repo: Repo) -> None:
    draft, _ = repo.draft()
    result = repo.act("priya", "approve", INCIDENT, draft, "--step", "pr", now="2026-03-14T09:11:00Z")
    assert result.code == 2 and "approve needs --sha256" in result.err
    assert f"clearance incident show {INCIDENT}" in result.err


def test_show_prints_the_text_its_hash_and_who_may_still_approve(repo: Repo) -> None:
    draft, sha = repo.draft()
    out = repo.ok("priya", "show", INCIDENT, draft, now="2026-03-14T09:11:00Z")
    assert f"sha256 {sha}" in out and "reports about our app" in out
    [legal] = [line for line in out.splitlines() if line.startswith("step legal (legal-counsel, quorum 1)")]
    assert "approved by nobody yet" in legal and "lena" in legal and "sam" not in legal


def test_a_hand_written_approval_committed_by_the_author_is_an_error(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    forged = {
        "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:12:00Z", "by": "lena",
        "draft": draft, "role": "legal-counsel", "step": "legal", "sha256": sha,
    }  # fmt: skip
    (repo.log() / "20260314T091200Z-forged.yaml").write_text(yaml.safe_dump(forged), "utf-8")
    commit = repo.commit("sam", "2026-03-14T09:12:30+00:00", "approval")
    [bound] = repo.findings("APR007")
    assert "'lena'" in str(bound["message"]) and commit[:12] in str(bound["message"])
    assert "sam@fixture.example" in str(bound["message"])
    [unsigned] = repo.findings("APR008")
    assert "'lena'" in str(unsigned["message"]) and commit[:12] in str(unsigned["message"])


def test_a_signature_by_someone_elses_key_does_not_count(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    forged = {
        "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:12:00Z", "by": "lena",
        "draft": draft, "role": "legal-counsel", "step": "legal", "sha256": sha,
    }  # fmt: skip
    key = signing.resolve_key(str(repo.keys / "sam"), repo.root)
    forged["signature"] = signing.sign(signing.payload(INCIDENT, forged), key)
    (repo.log() / "20260314T091200Z-forged.yaml").write_text(yaml.safe_dump(forged), "utf-8")
    repo.commit("lena", "2026-03-14T09:12:30+00:00")  # even committed under lena's address
    [bad] = repo.findings("APR008")
    assert "does not verify" in str(bad["message"]) and "'lena'" in str(bad["message"])
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:13:00Z")
    assert result.code == 1 and "step 'legal'" in result.err and "does not verify" in result.err


def test_uncommitted_role_edits_never_count_for_publish(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    role = repo.root / "policies" / "roles" / "legal-counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("members:\n", "members:\n  - dan\n", 1), "utf-8")
    refused = repo.act(
        "dan", "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha, now="2026-03-14T09:12:00Z"
    )
    assert refused.code == 1 and "in the committed role register" in refused.err
    _signed_approval(repo, "dan", draft, sha, "2026-03-14T09:12:00Z", "legal-counsel", "legal")  # by hand
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:13:00Z")
    assert result.code == 1
    assert "'dan' was not a member of role 'legal-counsel' in the committed register" in result.err


def test_a_grant_in_the_same_commit_as_the_approval_does_not_count(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    role = repo.root / "policies" / "roles" / "legal-counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("members:\n", "members:\n  - dan\n", 1), "utf-8")
    _signed_approval(repo, "dan", draft, sha, "2026-03-14T09:12:00Z", "legal-counsel", "legal")
    commit = repo.commit("dan", "2026-03-14T09:12:30+00:00", "dan joins legal and approves")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:13:00Z")
    repo.commit("priya", "2026-03-14T09:13:30+00:00")
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:14:00Z")
    assert result.code == 1 and "'dan' was not a member of role 'legal-counsel'" in result.err
    assert commit[:12] in result.err


def test_an_approval_dated_before_the_draft_does_not_count(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.ok(
        "lena", "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha,
        "--at", "2026-03-14T09:05:00Z", now="2026-03-14T09:12:00Z",
    )  # fmt: skip
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:13:00Z")
    assert result.code == 1 and "'lena' approved at 2026-03-14T09:05:00+00:00, before the draft" in result.err


def test_at_in_the_future_is_refused(repo: Repo) -> None:
    result = repo.act(
        "cleo", "log", INCIDENT, "observation", "--text", "later", "--at", "2099-01-01T00:00:00Z",
        now="2026-03-14T09:30:00Z",
    )  # fmt: skip
    assert result.code == 2 and "in the future" in result.err


def test_a_file_name_that_disagrees_with_at_is_an_error(repo: Repo) -> None:
    entry = {
        "kind": "log-entry",
        "type": "observation",
        "at": "2026-03-14T09:20:00Z",
        "by": "cleo",
        "text": "x",
    }
    (repo.log() / "20260314T093000Z-abcdef.yaml").write_text(yaml.safe_dump(entry), "utf-8")
    repo.commit("cleo", "2026-03-14T09:31:00+00:00")
    [wrong] = repo.findings("APR010")
    assert "20260314T093000Z" in str(wrong["message"])


def test_inline_suppression_of_an_approval_rule_is_itself_an_error(repo: Repo) -> None:
    draft, sha = repo.draft()
    publication = {
        "kind": "log-entry", "type": "publication", "at": "2026-03-14T09:13:00Z", "by": "sam",
        "draft": draft, "channel": "x", "sha256": sha,
    }  # fmt: skip
    text = "# clearance: ignore[APR001] approved by phone\n" + yaml.safe_dump(publication)
    (repo.log() / "20260314T091300Z-nophon.yaml").write_text(text, "utf-8")
    report = repo.check().json()
    rules = {f["rule"] for f in report["findings"]}
    assert {"SUP002", "APR001"} <= rules and report["suppressed"] == []
    [sup] = [f for f in report["findings"] if f["rule"] == "SUP002"]
    assert "'APR001'" in sup["message"]


@pytest.mark.parametrize("level", ["off", "warning"])
def test_configuration_cannot_switch_an_enforcement_rule_off(repo: Repo, level: str) -> None:
    config = repo.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + f"rules:\n  APR001: {level}\n", "utf-8")
    result = run_cli("--root", str(repo.root), "check")
    assert result.code == 2 and "rule 'APR001' cannot be set to" in result.err
    assert "clearance.yaml:" in result.err


def test_switching_signed_decisions_off_again_is_an_error(repo: Repo) -> None:
    config = repo.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8").replace("signing: {decisions: required}\n", ""), "utf-8")
    repo.commit("cleo", "2026-03-14T09:20:00+00:00", "no more signing")
    [off] = repo.findings("APR011")
    assert "stay required" in str(off["message"])


def test_an_allowance_never_lets_a_never_class_through(repo: Repo) -> None:
    classes = list((repo.root / "policies").rglob("*.yaml"))
    never = [p for p in classes if "rule: never" in p.read_text("utf-8")]
    if not never:
        pytest.skip("fixture has no 'never' data class")
    data = yaml.safe_load(never[0].read_text("utf-8"))
    terms = (data.get("detectors") or {}).get("terms") or []
    if not terms:
        pytest.skip("the 'never' class has no term to write")
    term = str(terms[0])
    incident = repo.root / "incidents" / INCIDENT / "incident.yaml"
    incident.write_text(
        incident.read_text("utf-8")
        + f"allow:\n  - match: {term!r}\n    by: sam\n    reason: it is fine really\n",
        "utf-8",
    )
    body = repo.root.parent / "statement.txt"
    body.write_text(f"We are looking into {term}.", "utf-8")
    out = repo.ok("sam", "draft", INCIDENT, "--channel", "x", "--file", str(body), now="2026-03-14T09:10:00Z")
    draft = out.split()[1]
    verdict_text = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:30:00Z")
    assert verdict_text.code == 1 and "may never be disclosed" in verdict_text.err
    assert approvals.sha256_text("x")  # the module is importable without a scanner install


def _signed_approval(repo: Repo, who: str, draft: str, sha: str, at: str, role: str, step: str) -> Path:
    """An approval written by hand but properly signed with ``who``'s own key."""
    entry = {
        "kind": "log-entry", "type": "approval", "at": at, "by": who, "draft": draft,
        "role": role, "step": step, "sha256": sha,
    }  # fmt: skip
    key = signing.resolve_key(str(repo.keys / who), repo.root)
    entry["signature"] = signing.sign(signing.payload(INCIDENT, entry), key)
    stamp = at.replace("-", "").replace(":", "")
    path = repo.log() / f"{stamp}-{who[:3]}aaa.yaml"
    path.write_text(yaml.safe_dump(entry), "utf-8")
    return path


def test_a_removed_member_cannot_backdate_an_approval_into_their_old_membership(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    role = repo.root / "policies" / "roles" / "legal-counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("  - lena\n", ""), "utf-8")
    repo.commit("cleo", "2026-03-14T09:20:00+00:00", "Lena leaves legal")
    # signed by lena herself, committed by her, dated 09:12 while she was still a member
    _signed_approval(repo, "lena", draft, sha, "2026-03-14T09:12:00Z", "legal-counsel", "legal")
    commit = repo.commit("lena", "2026-03-14T09:25:00+00:00", "late approval")
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:30:00Z")
    assert result.code == 1 and "'lena' was not a member of role 'legal-counsel'" in result.err
    assert commit[:12] in result.err and "step 'legal'" in result.err


def test_a_later_grant_does_not_make_an_earlier_approval_count(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    _signed_approval(repo, "dan", draft, sha, "2026-03-14T09:12:00Z", "legal-counsel", "legal")
    repo.commit("dan", "2026-03-14T09:12:30+00:00", "dan approves although not in legal")
    role = repo.root / "policies" / "roles" / "legal-counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("members:\n", "members:\n  - dan\n", 1), "utf-8")
    repo.commit("cleo", "2026-03-14T09:20:00+00:00", "dan joins legal")
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:30:00Z")
    assert result.code == 1 and "'dan' was not a member of role 'legal-counsel'" in result.err


@pytest.mark.parametrize("action", ["publish", "notify", "reject"])
def test_no_decision_is_recorded_as_someone_else(repo: Repo, action: str) -> None:
    draft, _sha = repo.draft()
    args = {
        "publish": ("publish", INCIDENT, draft),
        "notify": ("notify", INCIDENT, "gdpr#art33", "--recipient", "DPC"),
        "reject": ("reject", INCIDENT, draft, "--step", "legal", "--reason", "no"),
    }[action]
    result = repo.act("cleo", *args, now="2026-03-14T09:12:00Z", as_="lena")
    assert result.code == 1 and "--as 'lena'" in result.err and "'cleo'" in result.err


def test_a_scribe_records_words_never_decisions(repo: Repo) -> None:
    out = repo.ok("cleo", "log", INCIDENT, "observation", "--text", "Lena says legal is fine",
                  now="2026-03-14T09:12:00Z", as_="lena")  # fmt: skip
    [name] = [p for p in repo.log().glob("*.yaml") if "Lena says" in p.read_text("utf-8")]
    data = yaml.safe_load(name.read_text("utf-8"))
    assert out.startswith("logged observation")
    assert data["by"] == "lena" and data["recorded_by"] == "cleo" and data["on_behalf_of"] == "lena"
    repo.commit("cleo", "2026-03-14T09:13:00+00:00", "scribe notes")
    assert repo.findings("APR007") == []  # the scribe committed their own record
    draft, sha = repo.draft()
    forged = {
        "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:14:00Z", "by": "lena",
        "recorded_by": "cleo", "on_behalf_of": "lena", "draft": draft, "role": "legal-counsel",
        "step": "legal", "sha256": sha,
    }  # fmt: skip
    (repo.log() / "20260314T091400Z-scribe.yaml").write_text(yaml.safe_dump(forged), "utf-8")
    repo.commit("cleo", "2026-03-14T09:14:30+00:00", "scribe records an approval")
    [scribe] = repo.findings("APR009")
    assert "'lena'" in str(scribe["message"]) and "'cleo'" in str(scribe["message"])


def test_a_signed_entry_edited_after_signing_does_not_verify(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    [path] = [p for p in repo.log().glob("*.yaml") if "type: approval" in p.read_text("utf-8")]
    path.write_text(
        path.read_text("utf-8").replace("step: pr", "step: legal").replace("pr-lead", "legal-counsel")
    )
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    [bad] = repo.findings("APR008")
    assert "does not verify" in str(bad["message"]) and "'priya'" in str(bad["message"])


def test_a_key_added_in_the_same_commit_as_the_signed_entry_does_not_count(
    repo: Repo, tmp_path: Path
) -> None:
    """Someone who can write the register adds their own key to lena's entry and signs as
    her in the same commit: the key was not lena's before that commit."""
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    person = repo.root / "policies" / "people" / "lena.yaml"
    sam_public = " ".join((repo.keys / "sam.pub").read_text("utf-8").split()[:2])
    person.write_text(
        person.read_text("utf-8").replace("signing_keys: ['", f"signing_keys: ['{sam_public}', '")
    )
    entry = {
        "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:12:00Z", "by": "lena",
        "draft": draft, "role": "legal-counsel", "step": "legal", "sha256": sha,
    }  # fmt: skip
    entry["signature"] = signing.sign(
        signing.payload(INCIDENT, entry), signing.resolve_key(str(repo.keys / "sam"), repo.root)
    )
    (repo.log() / "20260314T091200Z-lenaaa.yaml").write_text(yaml.safe_dump(entry), "utf-8")
    repo.commit("lena", "2026-03-14T09:12:30+00:00")
    [bad] = repo.findings("APR008")
    assert "does not verify" in str(bad["message"])


def _on_terminal(repo: Repo, who: str, args: list[str], answer: str) -> tuple[int, str]:
    """Run the installed command on a pseudo-terminal, as a person would type it."""
    import pty
    import select
    import sys

    email = f"{who}@fixture.example"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email", "GIT_CONFIG_VALUE_0": email,
    }  # fmt: skip
    leader, follower = pty.openpty()
    command = [str(Path(sys.executable).parent / "clearance"), "--root", str(repo.root), "incident", *args]
    proc = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    sent = False
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not sent and b"to approve exactly this text" in seen:
            os.write(leader, answer.encode() + b"\n")
            sent = True
    os.close(leader)
    return proc.wait(timeout=30), seen.decode("utf-8", "replace")


def test_approve_on_a_terminal_shows_the_text_and_records_the_confirmation(repo: Repo) -> None:
    draft, sha = repo.draft()
    args = [
        "approve",
        INCIDENT,
        draft,
        "--step",
        "pr",
        "--now",
        "2026-03-14T09:11:00Z",
        "--key",
        str(repo.keys / "priya"),
    ]
    code, shown = _on_terminal(repo, "priya", args, "not-it")
    assert code == 1 and "reports about our app" in shown and sha in shown and "not confirmed" in shown
    code, shown = _on_terminal(repo, "priya", args, sha[:8])
    assert code == 0, shown
    [path] = [p for p in repo.log().glob("*.yaml") if "type: approval" in p.read_text("utf-8")]
    data = yaml.safe_load(path.read_text("utf-8"))
    assert data["sha256"] == sha and "shown on a terminal" in data["confirmed"] and "signature" in data


@pytest.fixture
def unsigned_repo(tmp_path: Path) -> Repo:
    """The fixture repository before anyone required signed decisions: no keys."""
    root = tmp_path / "plain"
    shutil.copytree(DATA, root)
    made = Repo(root, tmp_path / "nokeys")
    made.git("init", "-q", "-b", "main")
    made.commit("cleo", "2026-03-14T08:00:00+00:00", "Registers")
    made.ok(
        "cleo", "new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title",
        "App outage rumour", "--detected", "2026-03-14T08:40:00Z", now="2026-03-14T09:00:00Z",
    )  # fmt: skip
    made.commit("cleo", "2026-03-14T09:00:30+00:00", "Open")
    return made


def test_without_the_setting_unsigned_decisions_are_warnings_saying_what_they_lack(
    unsigned_repo: Repo,
) -> None:
    repo = unsigned_repo
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    repo.ok(
        "priya",
        "approve",
        INCIDENT,
        draft,
        "--step",
        "pr",
        "--sha256",
        sha,
        now="2026-03-14T09:11:00Z",
        key=False,
    )
    repo.commit("priya", "2026-03-14T09:11:30+00:00")
    report = repo.check().json()
    [warning] = [f for f in report["findings"] if f["rule"] == "APR013"]
    assert warning["severity"] == "warning" and "'priya' is not signed" in warning["message"]
    assert not [f for f in report["findings"] if f["rule"].startswith("APR") and f["severity"] == "error"]


def test_decisions_before_the_setting_are_legacy_warnings_and_later_ones_must_be_signed(
    unsigned_repo: Repo,
) -> None:
    repo = unsigned_repo
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    for who, step in (("priya", "pr"), ("lena", "legal")):
        repo.ok(
            who,
            "approve",
            INCIDENT,
            draft,
            "--step",
            step,
            "--sha256",
            sha,
            now="2026-03-14T09:11:00Z",
            key=False,
        )
    repo.commit("cleo", "2026-03-14T09:12:00+00:00", "the lead commits everyone's approvals")  # not theirs
    config = repo.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "signing: {decisions: required}\n", "utf-8")
    since = repo.commit("cleo", "2026-03-14T09:13:00+00:00", "Require signed decisions")
    report = repo.check().json()
    [legacy] = [f for f in report["findings"] if f["rule"] == "APR012"]
    assert legacy["severity"] == "warning" and since[:12] in legacy["message"]
    assert "lena: committed by cleo@fixture.example, unsigned" in legacy["message"]
    assert not [f for f in report["findings"] if f["severity"] == "error" and f["rule"].startswith("APR")]
    # from now on an unsigned decision is an error, and publish refuses to count it
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:20:00Z", key=False)
    assert result.code == 1 and "no signing key" in result.err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_every_remaining_suppression_is_shown_in_every_format(repo: Repo, fmt: str) -> None:
    person = repo.root / "policies" / "people" / "zed.yaml"
    person.write_text(
        "kind: person\n# clearance: ignore[PPL002] joins a role next week\nid: zed\ntitle: Zed\n"
        "owner: crisis-lead\nstatus: active\nclassification: internal\nname: Zed\n"
        "emails: [zed@fixture.example]\n",
        "utf-8",
    )
    result = run_cli("--root", str(repo.root), "check", "--no-cache", "--format", fmt)
    assert "PPL002" in result.out and "joins a role next week" in result.out, result.out
    if fmt == "json":
        [shown] = result.json()["suppressed"]
        assert shown["rule"] == "PPL002" and shown["reason"] == "joins a role next week"


def test_without_the_setting_uncommitted_approvals_written_for_others_do_not_count(
    unsigned_repo: Repo,
) -> None:
    repo = unsigned_repo
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00")
    for who, role, step in (("priya", "pr-lead", "pr"), ("lena", "legal-counsel", "legal")):
        entry = {
            "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:12:00Z", "by": who,
            "draft": draft, "role": role, "step": step, "sha256": sha,
        }  # fmt: skip
        (repo.log() / f"20260314T091200Z-{who[:3]}bbb.yaml").write_text(yaml.safe_dump(entry), "utf-8")
    result = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:13:00Z", key=False)
    assert result.code == 1 and "'lena' is neither signed nor committed by 'lena'" in result.err


def test_the_rule_against_waivers_cannot_be_waived_either(repo: Repo) -> None:
    config = repo.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "rules:\n  SUP002: off\n", "utf-8")
    result = run_cli("--root", str(repo.root), "check")
    assert result.code == 2 and "rule 'SUP002' cannot be set to 'off'" in result.err
