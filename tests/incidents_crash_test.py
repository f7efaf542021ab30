"""Every incident command killed at each of its write boundaries, in a real git
repository: `clearance check` has no error afterwards, no temporary file is left where
git would see it, and running the same command again finishes the job exactly once.

The store exits the process at once (``os._exit``, no cleanup, like a kill) when
``CLEARANCE_FAULT`` names a boundary: ``before-write:N`` (the N-th file's data is on
disk, not yet under its name) or ``after-write:N`` (the N-th file is in place)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.incidents import store

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"
CLEARANCE = str(Path(sys.executable).parent / "clearance")
OPEN = (
    "new",
    "--protocol",
    "social-media-crisis",
    "--severity",
    "sev3",
    "--title",
    "App outage rumour",
    "--detected",
    "2026-03-14T08:40:00Z",
    "--role",
    "crisis-lead=cleo",
)
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


def run(
    root: Path, *args: str, fault: str | None = None, named: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARANCE_", "GIT_"))}
    env["HOME"] = str(root.parent)
    if fault:
        env[store.FAULT_ENV] = fault
    if named:
        env[store.NAMED_ENV] = "1"
    return subprocess.run([CLEARANCE, *args], cwd=root, env=env, capture_output=True, text=True, check=False)


def clearance(root: Path, *args: str, who: str, now: str) -> str:
    done = run(root, "incident", *args, "--as", who, "--now", now)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_errors(root: Path) -> list[str]:
    done = run(root, "check", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)["findings"]
    return [  # about the incident record: the fixture's registers are other rules' business
        f"{f['path']}: {f['rule']} {f['message']}"
        for f in found
        if f["severity"] == "error" and f["path"].startswith("incidents/")
    ]


def visible_litter(root: Path) -> list[str]:
    """Files git would show that are not incident documents (temporary files)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    paths = [line[3:] for line in done.stdout.splitlines()]
    return [p for p in paths if not p.endswith((".yaml", ".md")) or "/." in p or p.startswith(".")]


def entries(root: Path) -> list[Path]:
    return sorted((root / "incidents" / INCIDENT / "log").glob("*.yaml"))


@pytest.fixture
def base(tmp_path: Path) -> Path:
    root = tmp_path / "base"
    shutil.copytree(DATA, root)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    return root


def _copy(base: Path, name: str) -> Path:
    target = base.parent / name
    shutil.copytree(base, target)
    return target


def _prepare_stable(root: Path) -> None:
    clearance(root, *OPEN, who="cleo", now="2026-03-14T09:00:00Z")
    clearance(
        root,
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-14T10:00:00Z",
    )
    for key in OBLIGATIONS:
        clearance(
            root,
            "assess",
            INCIDENT,
            key,
            "--applies",
            "no",
            "--rationale",
            "out of scope",
            who="lena",
            now="2026-03-14T10:01:00Z",
        )
    clearance(
        root,
        "log",
        INCIDENT,
        "resolution-decision",
        "--rationale",
        "nothing public",
        who="cleo",
        now="2026-03-14T10:02:00Z",
    )


# (name, setup, command, what a finished run leaves: (entries, status))
SCENARIOS = {
    "new": (None, (*OPEN, "--as", "cleo", "--now", "2026-03-14T09:00:00Z"), (1, "active")),
    "status-change": (
        "open",
        (
            "log",
            INCIDENT,
            "status-change",
            "--to",
            "stable",
            "--text",
            "calm",
            "--as",
            "cleo",
            "--now",
            "2026-03-14T10:00:00Z",
        ),
        (2, "stable"),
    ),
    "escalation": (
        "open",
        (
            "log",
            INCIDENT,
            "escalation",
            "--severity",
            "sev1",
            "--rationale",
            "TV",
            "--as",
            "cleo",
            "--now",
            "2026-03-14T10:00:00Z",
        ),
        (2, "active"),
    ),
    "draft": (
        "open",
        (
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
            "--as",
            "sam",
            "--now",
            "2026-03-14T10:00:00Z",
        ),
        (2, "active"),
    ),
    "close": (
        "stable",
        ("close", INCIDENT, "--as", "cleo", "--now", "2026-03-14T11:00:00Z"),
        (2 + 9 + 1 + 1, "closed"),
    ),
}


@pytest.mark.parametrize("named", [False, True], ids=["anonymous-temp", "named-temp"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_kill_at_every_write_boundary_leaves_a_clean_record_and_a_retry_finishes(
    base: Path, name: str, named: bool
) -> None:
    setup, command, (count, final) = SCENARIOS[name]
    if setup == "open":
        clearance(base, *OPEN, who="cleo", now="2026-03-14T09:00:00Z")
    elif setup == "stable":
        _prepare_stable(base)
    boundaries = 0
    for n in range(1, 6):
        for point in ("before-write", "after-write"):
            root = _copy(base, f"{name}-{point}-{n}")
            killed = run(root, "incident", *command, fault=f"{point}:{n}", named=named)
            if killed.returncode == 0:
                continue  # the command writes fewer files than n
            assert killed.returncode == store.FAULT_EXIT, killed.stderr
            boundaries += 1
            assert check_errors(root) == [], f"{point}:{n}"
            assert visible_litter(root) == [], f"{point}:{n}"
            again = run(root, "incident", *command)
            assert again.returncode == 0, f"{point}:{n}: {again.stderr}"
            assert len(entries(root)) == count, f"{point}:{n}"
            assert check_errors(root) == []
            assert visible_litter(root) == []
            status = run(
                root, "incident", "status", INCIDENT, "--format", "json", "--now", "2026-03-14T12:00:00Z"
            )
            assert json.loads(status.stdout)["status"] == final
            shutil.rmtree(root)
    expected = {"new": 4}.get(name, 2)  # new writes incident.yaml and the declaration
    assert boundaries == expected


def test_a_killed_named_writer_leaves_its_temporary_file_only_inside_git_and_it_is_swept(base: Path) -> None:
    clearance(base, *OPEN, who="cleo", now="2026-03-14T09:00:00Z")
    command = ("incident", "log", INCIDENT, "observation", "--text", "x", "--as", "sam")
    killed = run(base, *command, fault="before-write:1", named=True)
    assert killed.returncode == store.FAULT_EXIT
    temp = base / ".git" / "clearance" / "tmp"
    assert len(list(temp.glob(".clearance-tmp-*"))) == 1
    assert visible_litter(base) == []
    assert run(base, *command, named=True).returncode == 0
    assert list(temp.glob(".clearance-tmp-*")) == []
