"""clearance.history in real temporary git repositories with fixed authors and dates.

Also home of the small git helpers (``Git``, ``governance``) that the audit, verify
and codeowners tests import."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.history import History, parse_moment

ALICE = ("Alice Aalto", "alice@example.com")
BOB = ("Bob Berg", "bob@example.com")
CAROL = ("Carol Chen", "carol@example.com")
MALLORY = ("Mallory Moss", "mallory@example.com")
BASE = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(name, raising=False)


class Git:
    """A real repository driven through the git CLI with fixed identities and dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = BASE
        path.mkdir(parents=True, exist_ok=True)
        self.run("init", "-q", "-b", "main")
        self.run("config", "user.name", "Fixture Default")
        self.run("config", "user.email", "default@example.com")

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True,
            env={**os.environ, **(env or {})}, check=False,
        )
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    def tick(self, minutes: int = 10) -> str:
        self.clock += dt.timedelta(minutes=minutes)
        return self.clock.isoformat()

    def _env(self, author: tuple[str, str], date: str | None, committer: tuple[str, str] | None,
             committer_date: str | None) -> dict[str, str]:
        if date is not None:  # later default dates continue from an explicit one
            self.clock = max(self.clock, dt.datetime.fromisoformat(date))
        when = date or self.tick()
        who = committer or author
        return {
            "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1], "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1],
            "GIT_COMMITTER_DATE": committer_date or when,
        }

    def commit(
        self,
        message: str,
        *,
        author: tuple[str, str] = ALICE,
        date: str | None = None,
        committer: tuple[str, str] | None = None,
        committer_date: str | None = None,
        sign_with: Path | None = None,
        allow_empty: bool = False,
    ) -> str:
        self.run("add", "-A")
        signing = (["-c", "gpg.format=ssh", "-c", f"user.signingkey={sign_with}"] if sign_with else [])
        self.run(*signing, "commit", "-q", "--no-verify", *(["-S"] if sign_with else []),
                 *(["--allow-empty"] if allow_empty else []), "-m", message,
                 env=self._env(author, date, committer, committer_date))
        return self.head()

    def merge(self, branch: str, message: str, *, author: tuple[str, str] = ALICE,
              sign_with: Path | None = None) -> str:
        signing = (["-c", "gpg.format=ssh", "-c", f"user.signingkey={sign_with}"] if sign_with else [])
        self.run(*signing, "merge", "-q", "--no-ff", *(["-S"] if sign_with else []), "-m", message, branch,
                 env=self._env(author, None, None, None))
        return self.head()

    def checkout(self, branch: str, *, create: bool = False, start: str | None = None) -> None:
        self.run("checkout", "-q", *(["-b"] if create else []), branch, *([start] if start else []))

    def head(self) -> str:
        return self.run("rev-parse", "HEAD").strip()


def governance(repo: Git, *, signing_required: bool = False, keys: dict[str, str] | None = None) -> None:
    """A tiny but complete governance repository: two roles, three people with
    code-host handles (and optional signing keys), a change chain, a policy, an
    incident. Written, not committed."""
    keys = keys or {}
    repo.write("clearance.yaml", f"""
        organisation: {{name: Fixture Co, domain: example.com}}
        signing: {{required: {'true' if signing_required else 'false'}}}
        """)
    people = (("alice", ALICE, "@alice-a"), ("bob", BOB, "@bob-b"), ("carol", CAROL, "@carol-c"))
    for pid, (name, email), handle in people:
        key_lines = f"signing_keys: [{keys[pid]!r}]\n" if pid in keys else ""
        repo.write(f"policies/people/{pid}.yaml", f"""
            kind: person
            id: {pid}
            title: {name}
            owner: comms-lead
            status: active
            classification: internal
            name: {name}
            emails: [{email}]
            code_host: "{handle}"
            """ + key_lines)
    repo.write("policies/roles/comms-lead.yaml", """
        kind: role
        id: comms-lead
        title: Communications lead
        owner: comms-lead
        status: active
        classification: internal
        responsibilities: [Owns every public statement.]
        members: [alice]
        """)
    repo.write("policies/roles/counsel.yaml", """
        kind: role
        id: counsel
        title: Counsel
        owner: comms-lead
        status: active
        classification: internal
        responsibilities: [Reviews policy changes.]
        members: [carol, bob]
        """)
    repo.write("protocols/chains/policy-change.yaml", """
        kind: approval-chain
        id: policy-change
        title: Policy change
        owner: counsel
        status: active
        classification: internal
        purpose: Any change to a policy.
        steps:
          - {id: counsel, role: counsel, quorum: 1, sla: P2D}
        """)
    repo.write("policies/disclosure.md", """
        ---
        kind: policy
        id: disclosure
        title: Disclosure
        owner: comms-lead
        status: active
        classification: internal
        summary: Never publish customer data.
        change_chain: policy-change
        clauses:
          - {id: d-1, text: No statement names a customer.}
        allow:
          - {detector: email, match: press@example.com, by: carol, reason: Our public press address.}
        ---
        Version one of the disclosure policy.
        """)
    repo.write("incidents/ex-1/incident.yaml", """
        kind: incident
        id: ex-1
        title: Exercise one
        owner: comms-lead
        classification: internal
        status: active
        """)


def entry(repo: Git, name: str, text: str) -> str:
    rel = f"incidents/ex-1/log/{name}.yaml"
    repo.write(rel, f"""
        kind: log-entry
        type: observation
        at: 2026-03-01T09:00:00Z
        by: alice
        text: {text}
        """)
    return rel


@pytest.fixture
def git(tmp_path: Path) -> Git:
    return Git(tmp_path / "repo")


# -- tests ----------------------------------------------------------------------------


def test_outside_a_work_tree_is_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert History.load(plain) is None


def test_empty_repository_has_no_commits(git: Git) -> None:
    history = History.load(git.path)
    assert history is not None
    assert history.commits == [] and history.head is None and history.changes("x") == []


def test_changes_follow_renames_newest_first(git: Git) -> None:
    git.write("policies/a.md", "one\n")
    first = git.commit("add a", author=BOB, date="2026-03-01T09:00:00+01:00")
    git.write("policies/a.md", "one\ntwo\nthree\nfour\n")
    second = git.commit("edit a", author=CAROL, date="2026-03-02T10:00:00Z")
    git.run("mv", "policies/a.md", "policies/b.md")
    third = git.commit("rename a to b", date="2026-03-03T10:00:00Z")
    # a new, unrelated file takes the old name: it is not part of b's history
    git.write("policies/a.md", "something else entirely\n")
    git.commit("new a", date="2026-03-04T10:00:00Z")
    git.write("policies/b.md", "one\ntwo\nthree\nfour\nfive\n")
    fifth = git.commit("edit b", date="2026-03-05T10:00:00Z")

    history = History.load(git.path)
    assert history is not None
    changes = history.changes("policies/b.md")
    assert [(c.sha, c.status, c.path, c.old_path) for c in changes] == [
        (fifth, "M", "policies/b.md", None),
        (third, "R", "policies/b.md", "policies/a.md"),
        (second, "M", "policies/a.md", None),
        (first, "A", "policies/a.md", None),
    ]
    oldest = changes[-1]
    assert (oldest.author_name, oldest.author_email, oldest.subject) == (*BOB, "add a")
    assert oldest.date == dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert oldest.date.utcoffset() == dt.timedelta(hours=1)
    last = history.last_change("policies/b.md")
    assert last is not None and last.sha == fifth
    assert [c.subject for c in history.changes("policies/a.md")] == ["new a"]
    assert history.last_change("nope.md") is None
    assert history.shallow is False


def test_trailers_are_parsed_as_git_parses_them(git: Git) -> None:
    git.write("f.txt", "x\n")
    git.commit(
        "subject line\n\nWhy: not a trailer, this paragraph is prose.\n\n"
        "Approved-by: Bob Berg <bob@example.com>\nReviewed-by: Carol Chen\n <carol@example.com>\n"
        "Ticket: GOV-7"
    )
    history = History.load(git.path)
    assert history is not None
    commit = history.commits[0]
    assert commit.trailers == (
        ("Approved-by", "Bob Berg <bob@example.com>"),
        ("Reviewed-by", "Carol Chen <carol@example.com>"),  # folded line unfolded by git
        ("Ticket", "GOV-7"),
    )
    assert commit.trailer("approved-BY") == ["Bob Berg <bob@example.com>"]
    assert commit.reason() == "Why: not a trailer, this paragraph is prose."


def test_hostile_messages_and_file_names_cannot_forge_records(git: Git) -> None:
    git.write("docs/ä weird\tname.md", "x\n")
    git.commit("evil \x1e\x1f\x1d\x1c subject\n\nbody with \x1e record separator\nand M\tfake.md")
    git.write("plain.md", "y\n")
    git.commit("second")
    history = History.load(git.path)
    assert history is not None
    assert [c.subject for c in history.commits] == ["second", "evil \x1e\x1f\x1d\x1c subject"]
    assert [c.path for c in history.commits[1].changes] == ["docs/ä weird\tname.md"]
    assert history.changes("fake.md") == []


def test_merges_are_indexed_and_introducers_found(git: Git) -> None:
    git.write("policies/p.md", "1\n")
    root = git.commit("root")
    git.checkout("topic", create=True)
    git.write("policies/q.md", "q\n")
    side = git.commit("side work", author=BOB)
    git.checkout("main")
    git.write("other.txt", "o\n")
    direct = git.commit("direct")
    merge = git.merge("topic", "Merge topic")
    history = History.load(git.path)
    assert history is not None
    assert [c.sha for c in history.mainline()] == [merge, direct, root]
    assert history.by_sha[merge].is_merge and history.by_sha[merge].changes == ()
    introduced = {sha: history.introduced_by(sha) for sha in (root, side, direct, merge)}
    assert {k: v.sha if v else None for k, v in introduced.items()} == {
        root: root, side: merge, direct: direct, merge: merge,
    }
    assert history.changes("policies/q.md")[0].sha == side


def test_root_in_a_subfolder_gets_relative_paths(git: Git) -> None:
    git.write("governance/policies/a.md", "a\n")
    git.write("app/main.py", "print()\n")
    git.commit("both")
    history = History.load(git.path / "governance")
    assert history is not None
    assert [c.path for c in history.commits[0].changes] == ["policies/a.md"]
    assert history.last_change("policies/a.md") is not None


def test_shallow_clone_is_detected(git: Git, tmp_path: Path) -> None:
    for n in range(3):
        git.write("f.txt", f"{n}\n")
        git.commit(f"c{n}")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{git.path}", str(clone)], check=True)
    history = History.load(clone)
    assert history is not None and history.shallow is True and len(history.commits) == 1


def test_one_git_log_for_the_whole_history(git: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many files and commits: rev-parse once, log once. A real git behind a
    logging shim counts the processes."""
    for n in range(30):
        git.write(f"policies/p{n}.md", f"{n}\n")
        git.commit(f"c{n}")
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    calls = tmp_path / "calls.log"
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout.strip()
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\necho "$1 $2 $3 $4 $5 $6 $7 $8" >> {calls}\nexec {real} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    history = History.load(git.path)
    assert history is not None
    for n in range(30):
        assert history.last_change(f"policies/p{n}.md") is not None
    lines = calls.read_text().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("rev-parse") and " log " in f" {lines[1]} "


def test_as_of_helpers(git: Git) -> None:
    git.write("a.md", "v1\n")
    git.commit("v1", date="2026-03-01T10:00:00Z")
    git.write("a.md", "v2\n")
    second = git.commit("v2", date="2026-03-02T10:00:00Z")
    history = History.load(git.path)
    assert history is not None
    assert history.at(parse_moment("2026-03-01", end=True)).subject == "v1"  # type: ignore[union-attr]
    assert history.at(parse_moment("2026-03-02T09:59:59Z", end=True)).subject == "v1"  # type: ignore[union-attr]
    assert history.at(parse_moment("2026-03-02T10:00:00Z", end=True)).sha == second  # type: ignore[union-attr]
    assert history.at(parse_moment("2026-02-28", end=True)) is None
    assert history.read(second, "a.md") == b"v2\n"


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-03-01T10:00:00"])
def test_bad_moments_are_clear_errors(bad: str) -> None:
    from clearance.errors import FatalError

    with pytest.raises(FatalError, match=r"RFC 3339|UTC offset"):
        parse_moment(bad, end=False)


def iter_lines(text: str) -> Iterator[str]:
    yield from (line for line in text.splitlines() if line.strip())


def test_backdated_branch_commit_still_comes_before_its_parent(git: Git) -> None:
    """git's date order shows a parent before a backdated child; History re-orders."""
    git.write("policies/p.md", "1\n")
    parent = git.commit("parent", date="2026-03-05T00:00:00Z")
    git.checkout("side", create=True)
    git.write("policies/p.md", "2\n")
    backdated = git.commit("backdated child", date="2026-03-02T00:00:00Z")
    git.checkout("main")
    git.write("other.txt", "x\n")
    git.commit("main work", date="2026-03-10T00:00:00Z")
    git.merge("side", "Merge side")
    raw = git.run("log", "--format=%s").split("\n")
    assert raw.index("parent") < raw.index("backdated child")  # git's own order
    history = History.load(git.path)
    assert history is not None
    subjects = [c.subject for c in history.commits]
    assert subjects.index("backdated child") < subjects.index("parent")
    assert [c.sha for c in history.changes("policies/p.md")] == [backdated, parent]


def test_garbage_collection_is_restored_after_loading(git: Git) -> None:
    import gc

    git.write("a.md", "a\n")
    git.commit("a")
    assert gc.isenabled()
    assert History.load(git.path) is not None
    assert gc.isenabled()
    gc.disable()
    try:
        History.load(git.path)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_a_cancelled_pass_stops_git_and_restores_collection(git: Git) -> None:
    import gc

    from clearance.history import start

    for n in range(5):
        git.write("a.md", f"{n}\n")
        git.commit(f"c{n}")
    pending = start(git.path)
    assert pending is not None and not gc.isenabled()
    pending.cancel()
    assert gc.isenabled() and pending.proc.returncode is not None


def test_commit_changes_and_dates_agree_with_the_files_git_listed(git: Git) -> None:
    """``Commit.changes`` is made on first use from ``Commit.files``; the ISO texts
    kept from git are what ``isoformat()`` gives."""
    git.write("policies/a.md", "a\n")
    git.write("policies/b.md", "b\n")
    git.commit("two files", date="2026-03-01T09:00:00+05:30")
    git.run("mv", "policies/a.md", "policies/c.md")
    git.remove("policies/b.md")
    git.commit("rename and delete", date="2026-03-02T09:00:00-07:00", committer_date="2026-03-02T10:00:00Z")
    history = History.load(git.path)
    assert history is not None
    for commit in history.commits:
        assert [(c.status, c.path, c.old_path) for c in commit.changes] == list(commit.files)
        assert all(
            (c.sha, c.author_name, c.author_email, c.date, c.subject)
            == (commit.sha, commit.author_name, commit.author_email, commit.authored, commit.subject)
            for c in commit.changes
        )
        assert commit.changes is commit.changes  # made once
        assert commit.authored_iso == commit.authored.isoformat()
        assert commit.committed_iso == commit.committed.isoformat()
    assert set(history.commits[0].files) == {("R", "policies/c.md", "policies/a.md"), ("D", "policies/b.md", None)}
    assert history.commits[0].authored_iso == "2026-03-02T09:00:00-07:00"


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T09:00:00+00:00",
        "2026-03-01T09:00:00+05:30",
        "2026-03-01T09:00:00-07:00",
        "2026-03-01T09:00:00-00:00",  # reads back as +00:00
        "2026-03-01T09:00:00Z",
        "2026-03-01T09:00:00.5+01:00",
        "2026-03-01 09:00:00+01:00",
        "2026-W09-7T09:00:00+01:00",
    ],
)
def test_iso_text_is_kept_only_when_isoformat_gives_it_back(text: str) -> None:
    from clearance.history import _iso

    moment = dt.datetime.fromisoformat(text)
    assert _iso(text, moment) == moment.isoformat()


def test_a_consumer_attached_late_gets_every_commit_once_in_order(git: Git) -> None:
    from clearance.history import start

    for n in range(12):
        git.write(f"policies/p{n}.md", f"{n}\n")
        git.commit(f"c{n}")
    early: list[str] = []
    pending = start(git.path, on_commit=lambda c: early.append(c.sha))
    assert pending is not None
    history = pending.result()
    assert early == [c.sha for c in history.commits]
    for wait in (True, False):  # attached after git finished, and while it may still run
        pending = start(git.path)
        assert pending is not None
        if wait:
            pending.proc.wait()
            pending._out.join()
        late: list[str] = []
        pending.attach(lambda c, late=late: late.append(c.sha))
        assert [c.sha for c in pending.result().commits] == late == early


def test_a_started_log_knows_what_it_was_started_for(git: Git, tmp_path: Path) -> None:
    from clearance.history import start

    git.write("policies/p.md", "p\n")
    git.commit("p")
    signers = tmp_path / "allowed_signers"
    signers.write_text("")
    pending = start(git.path / "policies" / "..", allowed_signers=signers)
    assert pending is not None
    try:
        assert pending.matches(git.path, allowed_signers=signers)
        assert not pending.matches(git.path, allowed_signers=None)
        assert not pending.matches(git.path, allowed_signers=signers, rev="main")
        assert not pending.matches(git.path, allowed_signers=signers, signatures=True)
        assert not pending.matches(git.path, allowed_signers=signers, merges=True)
        assert not pending.matches(git.path / "policies", allowed_signers=signers)
    finally:
        pending.cancel()
