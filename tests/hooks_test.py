"""The pre-commit checks behind 'clearance hook': the append-only guard in real
temporary git repositories, and the hygiene fixers and checks on real files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from clearance import hooks
from conftest import run_cli

ENTRY = "incidents/2026-03-14-leaked-memo/log/20260314T091500Z-a1b2.yaml"
OTHER = "incidents/2026-03-14-leaked-memo/log/20260314T093000Z-c3d4.yaml"
INCIDENT = "incidents/2026-03-14-leaked-memo/incident.yaml"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Example",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Example",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2026-03-14T10:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-03-14T10:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return done.stdout


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose HEAD holds an incident with two landed log entries."""
    repo = tmp_path / "governance"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, INCIDENT, "kind: incident\nid: 2026-03-14-leaked-memo\n")
    write(repo, ENTRY, "kind: log-entry\ntype: observation\ntext: first\n")
    write(repo, OTHER, "kind: log-entry\ntype: observation\ntext: second\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Log the first entries")
    monkeypatch.chdir(repo)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    return repo


def test_adding_log_entries_and_editing_other_files_pass(logged: Path) -> None:
    write(logged, "incidents/2026-03-14-leaked-memo/log/20260314T100000Z-e5f6.yaml", "kind: log-entry\n")
    write(logged, INCIDENT, "kind: incident\nid: 2026-03-14-leaked-memo\nstatus: active\n")
    git(logged, "add", "-A")
    assert hooks.append_only(logged) == []
    result = run_cli("hook", "append-only")
    assert result.code == 0, result.out


def test_modifying_a_landed_entry_is_refused(logged: Path) -> None:
    write(logged, ENTRY, "kind: log-entry\ntype: observation\ntext: rewritten\n")
    git(logged, "add", ENTRY)
    result = run_cli("hook", "append-only")
    assert result.code == 1
    assert f"{ENTRY}: modified a committed incident log entry" in result.out
    assert "log a correction entry" in result.out
    assert OTHER not in result.out


def test_deleting_a_landed_entry_is_refused(logged: Path) -> None:
    git(logged, "rm", "-q", OTHER)
    result = run_cli("hook", "append-only")
    assert result.code == 1
    assert f"{OTHER}: deleted a committed incident log entry" in result.out


def test_renaming_a_landed_entry_is_refused(logged: Path) -> None:
    renamed = ENTRY.replace("a1b2", "zzzz")
    git(logged, "mv", ENTRY, renamed)
    problems = hooks.append_only(logged)
    assert problems == [
        f"{ENTRY}: renamed a committed incident log entry to {renamed}; log entries are append-only: "
        f"restore it (git restore --staged --worktree -- {ENTRY}) and log a correction entry that names it instead"
    ]


def test_only_staged_changes_count(logged: Path) -> None:
    # pre-commit stashes what is not staged, so an unstaged edit is not the commit's
    write(logged, ENTRY, "kind: log-entry\ntext: edited but not staged\n")
    assert hooks.append_only(logged) == []


def test_a_repository_without_commits_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, ENTRY, "kind: log-entry\n")
    git(repo, "add", "-A")
    monkeypatch.chdir(repo)
    assert run_cli("hook", "append-only").code == 0


def test_entries_below_a_subfolder_are_guarded(logged: Path) -> None:
    nested = f"governance/{ENTRY}"
    write(logged, nested, "kind: log-entry\n")
    git(logged, "add", "-A")
    git(logged, "commit", "-q", "-m", "Nested clearance root")
    git(logged, "rm", "-q", nested)
    assert [p.split(":")[0] for p in hooks.append_only(logged)] == [nested]


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = run_cli("hook", "append-only")
    assert result.code == 2
    assert "clearance: error: git" in result.err


def test_trailing_whitespace_is_removed_keeping_line_endings(tmp_path: Path) -> None:
    unix = tmp_path / "a.md"
    unix.write_bytes(b"title  \n\tbody\t\nclean\n")
    dos = tmp_path / "b.yaml"
    dos.write_bytes(b"key: value \r\nother: x\r\n")
    clean = tmp_path / "c.txt"
    clean.write_bytes(b"nothing to do\n")
    result = run_cli("hook", "trailing-whitespace", str(unix), str(dos), str(clean))
    assert result.code == 1
    assert result.out.splitlines() == [f"{unix}: trailing whitespace removed", f"{dos}: trailing whitespace removed"]
    assert unix.read_bytes() == b"title\n\tbody\nclean\n"
    assert dos.read_bytes() == b"key: value\r\nother: x\r\n"
    assert run_cli("hook", "trailing-whitespace", str(unix), str(dos), str(clean)).code == 0


def test_end_of_file_gets_exactly_one_newline(tmp_path: Path) -> None:
    missing = tmp_path / "missing.md"
    missing.write_bytes(b"no newline")
    extra = tmp_path / "extra.md"
    extra.write_bytes(b"text\n\n\n")
    blank = tmp_path / "blank.md"
    blank.write_bytes(b"\n\n")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    dos = tmp_path / "dos.txt"
    dos.write_bytes(b"text\r\n\r\n")
    result = run_cli("hook", "end-of-file", *(str(p) for p in (missing, extra, blank, empty, dos)))
    assert result.code == 1
    assert missing.read_bytes() == b"no newline\n"
    assert extra.read_bytes() == b"text\n"
    assert blank.read_bytes() == b""
    assert empty.read_bytes() == b""
    assert dos.read_bytes() == b"text\r\n"
    assert len(result.out.splitlines()) == 4
    assert run_cli("hook", "end-of-file", str(missing), str(extra), str(dos)).code == 0


def test_large_files_only_when_added(logged: Path) -> None:
    big = logged / "docs" / "scan.pdf"
    big.parent.mkdir()
    big.write_bytes(b"x" * 3 * 1024)
    small = logged / "docs" / "note.txt"
    small.write_bytes(b"small\n")
    git(logged, "add", "-A")
    result = run_cli("hook", "large-files", "--max-kb", "2", "docs/scan.pdf", "docs/note.txt")
    assert result.code == 1
    assert result.out == "docs/scan.pdf: 3 KB is over the 2 KB limit for added files\n"
    git(logged, "commit", "-q", "-m", "Add a scan")
    assert run_cli("hook", "large-files", "--max-kb", "2", "docs/scan.pdf").code == 0
    assert run_cli("hook", "large-files", "--max-kb", "2", "--enforce-all", "docs/scan.pdf").code == 1


def test_yaml_must_be_text(tmp_path: Path) -> None:
    fine = tmp_path / "fine.yaml"
    fine.write_text("title: Résumé\n", "utf-8")
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"a: 1\n\0\0")
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("a: 1\n".encode("utf-16"))
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("a: 1\nb: café\n".encode("latin-1"))
    binary = tmp_path / "binary.yaml"
    binary.write_text("kind: role\nlogo: !!binary |\n  R0lGODlhDAAMAIQAAP\n", "utf-8")
    result = run_cli("hook", "yaml-text", str(fine), str(nul), str(utf16), str(latin1), str(binary))
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{nul}:1:1: contains NUL bytes: binary data, not YAML text",
        f"{utf16}:1:1: encoded as UTF-16 or UTF-32, not UTF-8: save it as UTF-8",
        f"{latin1}:2:7: not UTF-8 text (byte 0xe9)",
        f"{binary}:2:7: '!!binary' value: keep binary files out of YAML",
    ]
    assert run_cli("hook", "yaml-text", str(fine)).code == 0


def test_binary_files_are_never_rewritten(tmp_path: Path) -> None:
    blob = tmp_path / "logo.png"
    original = b"\x89PNG\r\n\x1a\n\0\0 \t\nend"
    blob.write_bytes(original)
    assert run_cli("hook", "trailing-whitespace", str(blob)).code == 0
    assert run_cli("hook", "end-of-file", str(blob)).code == 0
    assert blob.read_bytes() == original


def test_missing_files_are_skipped(tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.yaml")
    for hook in ("trailing-whitespace", "end-of-file", "yaml-text"):
        assert run_cli("hook", hook, gone).code == 0


def test_a_hook_name_is_required() -> None:
    result = run_cli("hook")
    assert result.code == 2
    assert "HOOK" in result.err
