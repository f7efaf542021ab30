"""clearance verify: append-only incident logs, backdating, checkpoints and signatures,
each tampering case in a real temporary git repository, detected with the right
commit."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run
from history_test import ALICE, BOB, CAROL, MALLORY, Git, entry, governance, isolated_git  # noqa: F401

CLI = Callable[..., Run]


@pytest.fixture
def logged(tmp_path: Path) -> Git:
    """Governance plus an incident log with two landed entries."""
    repo = Git(tmp_path / "gov")
    governance(repo)
    entry(repo, "20260301T090000Z-aaaa01", "First observation.")
    entry(repo, "20260301T091000Z-aaaa02", "Second observation.")
    repo.commit("Open the exercise\n\nRefs: EX-1")
    return repo


def _verify(cli: CLI, repo: Git, *args: str) -> Run:
    return cli("--root", str(repo.path), "verify", *args)


def test_clean_history_with_a_concurrent_merge_passes(cli: CLI, logged: Git) -> None:
    start = logged.head()
    logged.checkout("scribe-a", create=True)
    entry(logged, "20260301T093000Z-bbbb01", "From the scribe.")
    logged.commit("Log from scribe A", author=BOB)
    logged.checkout("scribe-b", create=True, start=start)
    entry(logged, "20260301T093100Z-cccc01", "From the liaison.")
    logged.commit("Log from scribe B", author=CAROL)
    logged.checkout("main")
    logged.merge("scribe-a", "Merge scribe A")
    logged.merge("scribe-b", "Merge scribe B")
    assert len(list((logged.path / "incidents/ex-1/log").iterdir())) == 4
    run = _verify(cli, logged)
    assert run.code == 0, run.out + run.err
    assert "verified 5 commits: no findings" in run.out


@pytest.mark.parametrize("action", ["modify", "delete", "rename"])
def test_tampering_with_a_landed_entry_names_the_commit(cli: CLI, logged: Git, action: str) -> None:
    landed = logged.head()
    target = "incidents/ex-1/log/20260301T090000Z-aaaa01.yaml"
    entry(logged, "20260301T100000Z-dddd01", "An honest later entry.")
    logged.commit("Honest entry", author=BOB)
    if action == "modify":
        logged.write(target, (logged.path / target).read_text().replace("First", "Doctored"))
    elif action == "delete":
        logged.remove(target)
    else:
        logged.run("mv", target, "incidents/ex-1/log/20260301T090000Z-zzzz99.yaml")
    tamper = logged.commit("Tidy the log", author=MALLORY)
    entry(logged, "20260301T110000Z-eeee01", "Later still.")
    logged.commit("Another honest entry", author=BOB)

    run = _verify(cli, logged)
    assert run.code == 1
    lines = [line for line in run.out.splitlines() if "VER001" in line]
    assert len(lines) == 1, run.out
    line = lines[0]
    verb = {"modify": "modified", "delete": "deleted", "rename": "renamed (to"}[action]
    assert line.startswith(f"{target}:1:1: VER001 commit {tamper[:12]} (Mallory Moss <mallory@example.com>")
    assert f"{verb}" in line and f"landed in {landed[:12]}" in line and "'Tidy the log'" in line

    data = _verify(cli, logged, "--format", "json").json()
    assert [(f["rule"], f["commit"], f["path"]) for f in data["findings"]] == [("VER001", tamper, target)]


def test_an_evil_merge_that_rewrites_an_entry_is_caught(cli: CLI, logged: Git) -> None:
    target = "incidents/ex-1/log/20260301T091000Z-aaaa02.yaml"
    logged.checkout("side", create=True)
    entry(logged, "20260301T093000Z-bbbb01", "Side entry.")
    logged.commit("Side entry", author=BOB)
    logged.checkout("main")
    logged.run("merge", "-q", "--no-ff", "--no-commit", "side")
    logged.write(target, (logged.path / target).read_text().replace("Second", "Rewritten"))
    merge = logged.commit("Merge side", author=MALLORY)
    run = _verify(cli, logged)
    assert run.code == 1
    assert f"{target}:1:1: VER001 merge commit {merge[:12]} (Mallory Moss" in run.out


def test_backdated_commit_is_flagged(cli: CLI, logged: Git) -> None:
    entry(logged, "20260301T100000Z-dddd01", "Fine.")
    logged.commit("Fine", date="2026-03-05T12:00:00Z")
    entry(logged, "20260301T100100Z-dddd02", "Sneaky.")
    backdated = logged.commit("Pretend this came earlier", author=MALLORY, date="2026-03-05T13:00:00Z",
                              committer_date="2026-03-04T08:00:00Z")
    run = _verify(cli, logged)
    assert run.code == 1
    assert f"commit {backdated[:12]}: VER002 committer date 2026-03-04T08:00:00+00:00" in run.out
    assert "Mallory Moss" in run.out
    assert run.out.count("VER002") == 1


def test_checkpoint_must_stay_an_ancestor(cli: CLI, logged: Git) -> None:
    checkpoint = logged.head()
    entry(logged, "20260301T100000Z-dddd01", "More.")
    logged.commit("More")
    assert _verify(cli, logged, "--checkpoint", checkpoint).code == 0
    assert _verify(cli, logged, "--checkpoint", checkpoint[:10]).code == 0
    # rewrite history: the recorded checkpoint is replaced by an amended commit
    logged.run("reset", "-q", "--hard", "HEAD~1")
    logged.run("commit", "-q", "--amend", "-m", "Open the exercise (rewritten)",
               env={"GIT_COMMITTER_DATE": "2026-03-09T00:00:00Z"})
    run = _verify(cli, logged, "--checkpoint", checkpoint)
    assert run.code == 1
    assert f"commit {checkpoint[:12]}: VER003 checkpoint {checkpoint} still exists but is no longer an " \
           "ancestor of HEAD" in run.out
    unknown = _verify(cli, logged, "--checkpoint", "0123456789abcdef0123456789abcdef01234567")
    assert unknown.code == 1 and "is not in this repository at all" in unknown.out


def test_shallow_clone_cannot_be_verified(cli: CLI, logged: Git, tmp_path: Path) -> None:
    entry(logged, "20260301T100000Z-dddd01", "More.")
    logged.commit("More")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{logged.path}", str(clone)], check=True)
    run = cli("--root", str(clone), "verify")
    assert run.code == 2 and "git fetch --unshallow" in run.err
    audit = cli("--root", str(clone), "audit", "--format", "json")
    assert audit.code == 0 and "git fetch --unshallow" in audit.err and audit.json()["shallow"] is True


# -- signatures ------------------------------------------------------------------------


def _keygen(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (folder / f"{name}.pub").read_text().strip()


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {name: _keygen(folder, name) for name in ("alice", "bob", "mallory", "stranger")}


def _signers(tmp_path: Path, keys: dict[str, tuple[Path, str]], *entries: tuple[str, str]) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text("".join(f"{principal} {keys[name][1]}\n" for principal, name in entries))
    return path


def test_signatures_good_unknown_and_unsigned(cli: CLI, tmp_path: Path, keys: dict[str, tuple[Path, str]]) -> None:
    repo = Git(tmp_path / "gov")
    # alice and bob have their keys in the directory; the stranger's key is allowed but
    # belongs to nobody; mallory's key is in no allowed-signers file.
    governance(repo, signing_required=True, keys={"alice": keys["alice"][1], "bob": keys["bob"][1]})
    good = repo.commit("Bootstrap\n\nAgreed in GOV-1.", sign_with=keys["alice"][0])
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Two.\n")
    unknown = repo.commit("Edit by an unknown key", author=BOB, sign_with=keys["mallory"][0])
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Three.\n")
    unsigned = repo.commit("Unsigned edit", author=BOB)
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Four.\n")
    stranger = repo.commit("Signed by an allowed key of nobody", author=BOB, sign_with=keys["stranger"][0])
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Five.\n")
    borrowed = repo.commit("Bob's commit signed with Alice's key", author=BOB, sign_with=keys["alice"][0])
    repo.write("README.md", "not governed\n")
    repo.commit("Unsigned but not governed")

    signers = _signers(tmp_path, keys, ("alice@example.com", "alice"), ("bob@example.com", "bob"),
                       ("someone@example.com", "stranger"))
    run = _verify(cli, repo, "--allowed-signers", str(signers))
    assert run.code == 1
    found = {(line.split(": ", 1)[0], line.split()[2]) for line in run.out.splitlines() if "SIG" in line}
    assert found == {
        (f"commit {unknown[:12]}", "SIG002"),
        (f"commit {unsigned[:12]}", "SIG001"),
        (f"commit {stranger[:12]}", "SIG003"),
        (f"commit {borrowed[:12]}", "SIG004"),
    }, run.out
    assert good[:12] not in run.out
    assert "not in the allowed signers" in run.out

    # the audit shows the same evidence per change, with the signer mapped to a person
    data = cli("--root", str(repo.path), "audit", "--format", "json", "--allowed-signers", str(signers)).json()
    by_sha = {c["commit"]: c for c in data["changes"]}
    assert by_sha[good]["signer"] == "alice" and by_sha[good]["signature"].startswith("good signature")
    assert by_sha[unsigned]["signature"] == "unsigned"
    assert [f["rule"] for f in by_sha[unknown]["findings"] if f["rule"].startswith("SIG")] == ["SIG002"]

    # the same history against a file that trusts mallory: her commit is no longer unknown
    # to git, but her key still belongs to no person in the directory
    trusting = _signers(tmp_path, keys, ("alice@example.com", "alice"), ("mallory@example.com", "mallory"))
    run = _verify(cli, repo, "--allowed-signers", str(trusting))
    assert f"commit {unknown[:12]}: SIG003" in run.out


def test_without_signing_required_unsigned_commits_pass(cli: CLI, tmp_path: Path,
                                                         keys: dict[str, tuple[Path, str]]) -> None:
    repo = Git(tmp_path / "gov")
    governance(repo, keys={"alice": keys["alice"][1]})
    repo.commit("Bootstrap", sign_with=keys["alice"][0])
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Two.\n")
    repo.commit("Unsigned edit", author=BOB)
    signers = _signers(tmp_path, keys, ("alice@example.com", "alice"))
    run = _verify(cli, repo, "--allowed-signers", str(signers))
    assert run.code == 0, run.out
    # no allowed-signers file and no requirement: signatures are not read at all
    assert _verify(cli, repo).code == 0


def test_this_repository_never_rewrote_a_landed_entry(cli: CLI) -> None:
    """The project keeps the promise it makes: its own exercises' logs are append-only.
    A sweeping edit (a rename, a search-and-replace) that touches a landed entry fails
    here before it lands."""
    root = Path(__file__).resolve().parents[1]
    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=root, capture_output=True, text=True, check=False
    )
    if shallow.returncode != 0:
        pytest.fail(f"this test needs the project's git checkout: {shallow.stderr.strip()}")
    if shallow.stdout.strip() == "true":
        pytest.skip("a shallow clone has no history to verify (git fetch --unshallow)")
    run = cli("--root", str(root), "verify")
    assert run.code == 0, run.out + run.err
    assert "no findings" in run.out
