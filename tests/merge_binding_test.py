"""Issue 15: a log entry that only a merge commit introduced (written while the merge
was open, so no normal commit adds it) is bound to the merge commit's author, not
treated as uncommitted, and ``clearance verify`` reports the merge (VER007). A real
repository with two branches and several committers, real SSH keys (the fixture of
tests/approvals_bypass_test.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from approvals_bypass_test import INCIDENT, Repo
from approvals_bypass_test import repo as repo
from clearance import signing
from conftest import Run, run_cli


def signed_approval(repo: Repo, who: str, draft: str, sha: str, step: str, role: str) -> Path:
    """``who``'s approval, signed with ``who``'s key, written by hand into the log."""
    entry = {
        "kind": "log-entry", "type": "approval", "at": "2026-03-14T09:12:00Z", "by": who, "draft": draft,
        "role": role, "step": step, "sha256": sha,
    }  # fmt: skip
    key = signing.resolve_key(str(repo.keys / who), repo.root)
    entry["signature"] = signing.sign(signing.payload(INCIDENT, entry), key)
    path = repo.log() / f"20260314T091200Z-{who[:3]}mrg.yaml"
    path.write_text(yaml.safe_dump(entry), "utf-8")
    return path


def merge_with(repo: Repo, who: str, when: str, write: object) -> str:
    """A side branch with a commit of its own, merged into main by ``who``; while the
    merge is open, ``write()`` puts an entry into the result."""
    repo.git("checkout", "-q", "-b", "side")
    note = repo.root / "docs-note.md"
    note.write_text("side work\n", "utf-8")
    repo.commit("cleo", "2026-03-14T09:11:00+00:00", "side work")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side", who=who, when=when)
    assert callable(write)
    write()
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Merge side", who=who, when=when)
    return repo.git("rev-parse", "HEAD").strip()


def verify(repo: Repo) -> Run:
    return run_cli("--root", str(repo.root), "verify", "--format", "json")


def test_an_approval_only_a_merge_introduced_is_bound_to_the_merge_author(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00", "draft")
    repo.ok("priya", "approve", INCIDENT, draft, "--step", "pr", "--sha256", sha, now="2026-03-14T09:11:00Z")
    repo.commit("priya", "2026-03-14T09:11:30+00:00", "pr approves")
    # sam (the author) holds lena's key and slips her approval into a merge he commits
    written: list[Path] = []
    merge = merge_with(
        repo, "sam", "2026-03-14T09:12:30+00:00",
        lambda: written.append(signed_approval(repo, "lena", draft, sha, "legal", "legal-counsel")),
    )  # fmt: skip
    rel = written[0].relative_to(repo.root).as_posix()
    assert repo.git("log", "--no-merges", "--format=%H", "--", rel).split() == [], "no normal commit adds it"
    published = repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:30:00Z")
    assert published.code == 1, published.out
    assert f"introduced by merge commit {merge[:12]}" in published.err
    bound = [f for f in repo.findings("APR007") if rel in str(f["path"])]
    assert bound and "sam@fixture.example" in str(bound[0]["message"])
    result = verify(repo)
    assert result.code == 1
    [reported] = [f for f in result.json()["findings"] if f["rule"] == "VER007"]
    assert reported["commit"] == merge and "approval entry" in str(reported["message"])
    assert str(reported["path"]) == rel


def test_the_merge_author_own_entry_is_bound_to_them_and_still_reported(repo: Repo) -> None:
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00", "draft")
    written: list[Path] = []
    merge = merge_with(
        repo, "lena", "2026-03-14T09:12:30+00:00",
        lambda: written.append(signed_approval(repo, "lena", draft, sha, "legal", "legal-counsel")),
    )  # fmt: skip
    rel = written[0].relative_to(repo.root).as_posix()
    assert not [f for f in repo.findings("APR007") if rel in str(f["path"])]
    reported = [f for f in verify(repo).json()["findings"] if f["rule"] == "VER007"]
    assert [f["commit"] for f in reported] == [merge]


def test_entries_merged_from_a_branch_are_bound_to_the_commit_that_added_them(repo: Repo) -> None:
    """The ordinary case stays as it was: lena approves on her branch, cleo merges."""
    draft, sha = repo.draft()
    repo.commit("sam", "2026-03-14T09:10:30+00:00", "draft")
    repo.git("checkout", "-q", "-b", "legal")
    repo.ok("lena", "approve", INCIDENT, draft, "--step", "legal", "--sha256", sha, now="2026-03-14T09:12:00Z")
    repo.commit("lena", "2026-03-14T09:12:30+00:00", "legal approves")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge legal", "legal", who="cleo", when="2026-03-14T09:13:00+00:00")
    assert not repo.findings("APR007")
    result = verify(repo)
    assert not [f for f in result.json()["findings"] if f["rule"] == "VER007"], result.out
