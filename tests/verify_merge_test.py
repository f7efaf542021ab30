"""Issue 15, item 6: ``clearance verify`` notices a merge whose result lacks a landed log
entry (the combined diff of such a merge shows nothing), and checks the signed
checkpoint tags a CI run leaves, so a rewritten history is found without anyone
passing a hash by hand. Real git repositories, real SSH keys."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

ENTRY = "kind: log-entry\ntype: observation\nat: '2026-03-14T09:{m}:00Z'\nby: cleo\ntext: note {m}\n"


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.when = 0

    def __call__(self, *args: str) -> str:
        self.when += 1
        stamp = f"2026-03-14T10:{self.when:02d}:00+00:00"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_AUTHOR_NAME": "Cleo", "GIT_AUTHOR_EMAIL": "cleo@fixture.example",
            "GIT_COMMITTER_NAME": "Cleo", "GIT_COMMITTER_EMAIL": "cleo@fixture.example",
            "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root.parent),
        }  # fmt: skip
        done = subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def entry(self, minute: int) -> str:
        rel = f"incidents/2026-03-14-x/log/20260314T09{minute:02d}00Z-abc{minute:03d}.yaml"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ENTRY.format(m=f"{minute:02d}"), "utf-8")
        return rel


@pytest.fixture
def git(tmp_path: Path) -> Git:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "clearance.yaml").write_text("content: [incidents]\n", "utf-8")
    made = Git(root)
    made("init", "-q", "-b", "main")
    made.entry(1)
    made("add", "-A")
    made("commit", "-q", "-m", "first entry")
    return made


def verify(root: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli("--root", str(root), "verify", "--format", "json", *extra)
    return result.code, result.json()["findings"] if result.out.strip() else []


def test_a_merge_that_drops_a_landed_entry_is_reported(git: Git) -> None:
    git("checkout", "-q", "-b", "side")
    git.entry(2)
    git("add", "-A")
    git("commit", "-q", "-m", "side entry")
    git("checkout", "-q", "main")
    dropped = git.entry(3)
    git("add", "-A")
    git("commit", "-q", "-m", "main entry")
    git("merge", "-q", "--no-commit", "--no-ff", "side")
    git("rm", "-q", dropped)  # the merge result silently loses main's entry
    git("commit", "-q", "-m", "Merge side")
    merge = git("rev-parse", "HEAD").strip()
    assert git("show", "--cc", "--name-only", "--format=", "HEAD").strip() == ""  # the combined diff: nothing
    code, findings = verify(git.root)
    assert code == 1
    [found] = [f for f in findings if f["rule"] == "VER004"]
    assert found["path"] == dropped and merge[:12] in str(found["message"])


def test_a_clean_merge_is_not_reported(git: Git) -> None:
    git("checkout", "-q", "-b", "side")
    git.entry(2)
    git("add", "-A")
    git("commit", "-q", "-m", "side entry")
    git("checkout", "-q", "main")
    git.entry(3)
    git("add", "-A")
    git("commit", "-q", "-m", "main entry")
    git("merge", "-q", "--no-edit", "side")
    assert verify(git.root) == (0, [])


@pytest.fixture
def signer(git: Git, tmp_path: Path) -> Path:
    key = tmp_path / "ci"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci", "-f", str(key)], check=True)
    git("config", "gpg.format", "ssh")
    git("config", "user.signingkey", str(key))
    git("config", "user.email", "ci@fixture.example")
    git("config", "user.name", "CI")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'ci@fixture.example namespaces="git" {key.with_suffix(".pub").read_text()}', "utf-8")
    return allowed


def test_a_signed_checkpoint_tag_catches_a_rewrite_without_a_hash(git: Git, signer: Path) -> None:
    result = run_cli("--root", str(git.root), "verify", "--tag-checkpoint", "--allowed-signers", str(signer))
    assert result.code == 0 and "tagged clearance-checkpoint/" in result.out
    assert verify(git.root, "--allowed-signers", str(signer)) == (0, [])
    git("commit", "-q", "--amend", "-m", "first entry, reworded")  # history rewritten
    code, findings = verify(git.root, "--allowed-signers", str(signer))
    assert code == 1 and [f["rule"] for f in findings] == ["VER003"]
    assert "clearance-checkpoint/" in str(findings[0]["message"])


def test_an_unsigned_checkpoint_tag_is_reported(git: Git, signer: Path) -> None:
    git("tag", "-a", "-m", "looks official", "clearance-checkpoint/20260314T120000Z")
    code, findings = verify(git.root, "--allowed-signers", str(signer))
    assert code == 1 and [f["rule"] for f in findings] == ["VER005"]


def test_tag_checkpoint_without_a_signing_key_fails_clearly(git: Git) -> None:
    result = run_cli("--root", str(git.root), "verify", "--tag-checkpoint")
    assert result.code != 0 and "could not create the signed checkpoint tag" in result.err
    assert "Traceback" not in result.err


def test_verify_reports_entry_times_the_history_contradicts(git: Git) -> None:
    incident = git.root / "incidents" / "2026-03-14-x" / "incident.yaml"
    incident.write_text("kind: incident\nid: 2026-03-14-x\ntimestamps:\n  detected: '2026-03-14T09:00:00Z'\n")
    log = git.root / "incidents" / "2026-03-14-x" / "log"
    (log / "20990101T000000Z-future.yaml").write_text(
        ENTRY.replace("2026-03-14T09:{m}:00Z", "2099-01-01T00:00:00Z")
    )
    (log / "20260313T090000Z-before.yaml").write_text(ENTRY.replace("2026-03-14T09:{m}", "2026-03-13T09:00"))
    git("add", "-A")
    git("commit", "-q", "-m", "entries with impossible times")
    code, findings = verify(git.root)
    messages = {
        str(f["path"]).rsplit("/", 1)[1]: str(f["message"]) for f in findings if f["rule"] == "VER006"
    }
    assert code == 1
    assert "after commit" in messages["20990101T000000Z-future.yaml"]
    assert "before the incident was detected" in messages["20260313T090000Z-before.yaml"]
