"""Legal hold (issue 23): counsel places an incident under hold; while it holds, check
(HLD001), the pre-commit hook and verify (HLD003) refuse or report any deletion or move
of a file in its folder, of a document it cites and of a path in its scope. Each test
tries it the way a person would: git rm, git mv, a plain rm, a whole folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import acting_as, run_cli
from site_test import git, make_repo

INCIDENT = "ex-2026-01"
FOLDER = f"incidents/{INCIDENT}"
CITED_TEMPLATE = "protocols/templates/holding.md"  # the incident's draft names it
CITED_CHANNEL = "protocols/channels/x.yaml"
UNRELATED = "policies/xss.md"


def _place(root: Path, *extra: str, who: str = "bo-example") -> str:
    with acting_as(root, who):
        done = run_cli(
            "--root", str(root), "hold", "place", INCIDENT, "--rationale", "litigation anticipated",
            "--now", "2026-06-01T10:00:00Z", *extra,
        )  # fmt: skip
    assert done.code == 0, done.err
    return done.out.split()[-1]


def _commit_all(root: Path, message: str, when: str = "2026-06-01T10:01:00+00:00") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=when, author=("Bo Example", "bo@example.org"))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture repository with counsel marked legal and a hold committed by Bo."""
    root = make_repo(tmp_path_factory.mktemp("hold"))
    role = root / "policies" / "roles" / "counsel.yaml"
    role.write_text(role.read_text("utf-8") + "legal: true\n", "utf-8")
    _commit_all(root, "Counsel is the legal role", "2026-05-31T09:00:00+00:00")
    _place(root, "--path", "policies/attachments/")
    _commit_all(root, "Legal hold on the takeover exercise")
    return root


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    return root


def _rules(root: Path) -> list[dict[str, str]]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    return [f for f in result.json()["findings"] if f["rule"].startswith("HLD")]


@contextlib.contextmanager
def inside(root: Path) -> Iterator[None]:
    """Run as pre-commit does: from the work tree."""
    before = Path.cwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def _hook(root: Path) -> tuple[int, str]:
    with inside(root):
        done = run_cli("hook", "append-only")
    return done.code, done.out + done.err


# ----------------------------------------------------------------- placing a hold


def test_only_counsel_places_a_hold_as_themselves(repo: Path) -> None:
    with acting_as(repo, "ada-example"):
        done = run_cli(
            "--root",
            str(repo),
            "hold",
            "release",
            INCIDENT,
            "--rationale",
            "no",
            "--now",
            "2026-06-02T10:00:00Z",
        )
    assert done.code == 1 and "not a member of a legal role" in done.err
    with acting_as(repo, "ada-example"):
        done = run_cli(
            "--root", str(repo), "hold", "release", INCIDENT, "--as", "bo-example", "--rationale", "no",
            "--now", "2026-06-02T10:00:00Z",
        )  # fmt: skip
    assert done.code == 1 and "recorded only by the person taking it" in done.err


def test_the_hold_is_listed_with_what_it_protects(repo: Path) -> None:
    done = run_cli("--root", str(repo), "hold", "list")
    assert done.code == 0, done.err
    assert f"{INCIDENT}: under legal hold by bo-example" in done.out
    assert CITED_TEMPLATE in done.out and CITED_CHANNEL in done.out and "policies/attachments" in done.out
    assert UNRELATED not in done.out


def test_a_clean_work_tree_under_hold_has_no_findings(repo: Path) -> None:
    assert _rules(repo) == []


# ----------------------------------------------------------------- check


@pytest.mark.parametrize(
    ("how", "path"),
    [
        ("rm", f"{FOLDER}/review.md"),
        ("git rm", f"{FOLDER}/log/20260504T091000Z-aaaa.yaml"),
        ("git mv", CITED_TEMPLATE),
        ("rm", CITED_CHANNEL),
        ("git rm", "policies/attachments/secret-plan.txt"),
    ],
)
def test_check_refuses_deleting_or_moving_a_held_file(repo: Path, how: str, path: str) -> None:
    if how == "rm":
        (repo / path).unlink()
    elif how == "git rm":
        git(repo, "rm", "-q", path)
    else:
        git(repo, "mv", path, path.replace(".md", "-old.md"))
    found = _rules(repo)
    assert [f["rule"] for f in found] == ["HLD001"], found
    assert path in found[0]["message"] and "under legal hold" in found[0]["message"]
    assert found[0]["path"].startswith(f"{FOLDER}/log/")


def test_check_leaves_unheld_files_and_edits_alone(repo: Path) -> None:
    git(repo, "rm", "-q", UNRELATED)
    template = repo / CITED_TEMPLATE
    template.write_text(template.read_text("utf-8") + "\nEdited under hold: allowed.\n", "utf-8")
    assert _rules(repo) == []


def test_deleting_the_whole_incident_folder_is_still_refused(repo: Path) -> None:
    git(repo, "rm", "-q", "-r", FOLDER)
    code, said = _hook(repo)
    assert code == 1 and "incident.yaml" in said and "under legal hold" in said


# ----------------------------------------------------------------- the hook


def test_the_pre_commit_hook_refuses_a_staged_deletion_or_move(repo: Path) -> None:
    git(repo, "mv", CITED_CHANNEL, "protocols/channels/x-old.yaml")
    code, said = _hook(repo)
    assert code == 1, said
    assert f"{CITED_CHANNEL}: {CITED_CHANNEL} moved to protocols/channels/x-old.yaml" in said


def test_the_hook_lets_other_deletions_through(repo: Path) -> None:
    git(repo, "rm", "-q", UNRELATED)
    assert _hook(repo) == (0, "")


def test_after_release_the_files_may_go(repo: Path) -> None:
    with acting_as(repo, "bo-example"):
        done = run_cli(
            "--root", str(repo), "hold", "release", INCIDENT, "--rationale", "claim settled",
            "--now", "2026-06-03T10:00:00Z",
        )  # fmt: skip
    assert done.code == 0, done.err
    _commit_all(repo, "Release the hold", "2026-06-03T10:01:00+00:00")
    git(repo, "rm", "-q", CITED_CHANNEL)
    assert _hook(repo) == (0, "")
    assert run_cli("--root", str(repo), "hold", "list").out.startswith("no incident is under legal hold")


# ----------------------------------------------------------------- verify


def test_verify_reports_a_held_file_deleted_in_history(repo: Path) -> None:
    git(repo, "rm", "-q", CITED_TEMPLATE)
    _commit_all(repo, "Tidy old templates", "2026-06-02T10:00:00+00:00")
    done = run_cli("--root", str(repo), "verify", "--format", "json")
    assert done.code == 1, done.out + done.err
    found = [f for f in done.json()["findings"] if f["rule"] == "HLD003"]
    assert len(found) == 1, done.out
    assert found[0]["path"] == CITED_TEMPLATE and "'Tidy old templates'" in found[0]["message"]


def test_verify_ignores_deletions_before_the_hold_and_after_its_release(repo: Path) -> None:
    with acting_as(repo, "bo-example"):
        done = run_cli(
            "--root", str(repo), "hold", "release", INCIDENT, "--rationale", "claim settled",
            "--now", "2026-06-03T10:00:00Z",
        )  # fmt: skip
    assert done.code == 0, done.err
    _commit_all(repo, "Release the hold", "2026-06-03T10:01:00+00:00")
    git(repo, "rm", "-q", CITED_TEMPLATE)
    _commit_all(repo, "Tidy old templates", "2026-06-04T10:00:00+00:00")
    done = run_cli("--root", str(repo), "verify", "--format", "json")
    assert not [f for f in done.json()["findings"] if f["rule"] == "HLD003"], done.out


def test_a_warm_cache_never_hides_a_later_deletion(repo: Path) -> None:
    assert _rules(repo) == []  # the clean run is remembered (the cache of 'clearance check')
    assert _rules(repo) == []
    git(repo, "rm", "-q", CITED_CHANNEL)
    assert [f["rule"] for f in _rules(repo)] == ["HLD001"]


def test_status_and_the_handbook_show_the_hold(repo: Path) -> None:
    args = ("--root", str(repo), "incident", "status", INCIDENT, "--now", "2026-06-02T10:00:00Z")
    text = run_cli(*args)
    assert text.code == 0, text.err
    assert text.out.startswith("LEGAL HOLD by bo-example")
    data = run_cli(*args, "--format", "json").json()
    assert data["legal_hold"]["by"] == "bo-example" and CITED_TEMPLATE in data["legal_hold"]["documents"]
    from site_test import build

    assert build(repo).returncode == 0
    page = (repo / "site" / "incidents" / INCIDENT / "index.html").read_text("utf-8")
    assert "Legal hold" in page and "Under legal hold since" in page


def test_a_hold_written_by_hand_by_someone_outside_the_legal_roles_is_an_error(repo: Path) -> None:
    """HLD002: ada (comms lead) writes a hold entry herself instead of counsel."""
    entry = repo / FOLDER / "log" / "20260601T120000Z-hand.yaml"
    entry.write_text(
        "kind: log-entry\ntype: hold-release\nat: '2026-06-01T12:00:00Z'\nby: ada-example\nrationale: tidy up\n",
        "utf-8",
    )
    found = _rules(repo)
    assert [f["rule"] for f in found] == ["HLD002"], found
    assert "'ada-example', who is not a member of a legal role" in found[0]["message"]
    # and it releases nothing: the held files stay held, in check and in the hook
    git(repo, "rm", "-q", CITED_CHANNEL)
    assert sorted(f["rule"] for f in _rules(repo)) == ["HLD001", "HLD002"]
    git(repo, "add", "-A")
    code, said = _hook(repo)
    assert code == 1 and "under legal hold" in said
