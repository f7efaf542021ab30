"""Two people log to the same incident on two branches of a real git repository: the
merge has no conflict, loses nothing, and the log reads in event-time order."""

from __future__ import annotations

import shutil
from pathlib import Path

from clearance import config, engine
from clearance.index import parse_time
from conftest import acting_as, fixture_git, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
INCIDENT = "2026-03-14-app-outage-rumour"


def git(root: Path, *args: str, when: str = "2026-03-14T10:00:00+00:00", author: str = "cleo") -> str:
    return fixture_git(root, *args, who=author, when=when, name=author.title())

def clearance(root: Path, *args: str, who: str, now: str, typist: str | None = None) -> None:
    """Run as ``typist`` (default: ``who``) would on their machine; ``--as who``."""
    with acting_as(root, typist or who):
        result = run_cli("--root", str(root), "incident", *args, "--as", who, "--now", now)
    assert result.code == 0, result.err


def test_two_branches_log_to_one_incident_and_merge_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    git(root, "init", "-q", "-b", "main")
    clearance(
        root,
        "new",
        "--protocol",
        "social-media-crisis",
        "--severity",
        "sev3",
        "--title",
        "App outage rumour",
        who="cleo",
        now="2026-03-14T09:00:00Z",
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Open the incident")

    git(root, "checkout", "-q", "-b", "scribe")
    for minute in (5, 15, 25):
        clearance(
            root,
            "log",
            INCIDENT,
            "observation",
            "--text",
            f"Scribe note at :{minute:02d}",
            who="sam",
            now=f"2026-03-14T09:{minute:02d}:00Z",
        )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Scribe's notes", when="2026-03-14T09:30:00+00:00", author="sam")

    git(root, "checkout", "-q", "main")
    for minute in (10, 15, 20):  # 09:15 on both branches: same second, different files
        clearance(
            root,
            "log",
            INCIDENT,
            "decision",
            "--text",
            f"Lead decision at :{minute:02d}",
            who="cleo",
            now=f"2026-03-14T09:{minute:02d}:00Z",
        )
    clearance(
        root,
        "log",
        INCIDENT,
        "talking-points",
        "--point",
        "We are investigating",
        who="priya",
        now="2026-03-14T09:22:00Z",
        typist="cleo",  # cleo records priya's lines: a scribe's record (recorded_by cleo)
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Lead's decisions", when="2026-03-14T09:31:00+00:00")

    git(root, "merge", "--no-edit", "-q", "scribe", when="2026-03-14T09:40:00+00:00")
    assert git(root, "status", "--porcelain") == ""
    assert "CONFLICT" not in git(root, "log", "-1", "--format=%s")

    files = sorted(p.name for p in (root / "incidents" / INCIDENT / "log").glob("*.yaml"))
    assert len(files) == 1 + 3 + 3 + 1  # declaration, scribe, lead, talking points
    repo = engine.load_repository(config.load(root))
    entries = repo.index.incident_entries(INCIDENT)
    texts = [e.data.get("text") or e.data.get("points") for e in entries]
    # The two 09:15 entries share a second; between them the file name decides.
    assert {texts[3], texts[4]} == {"Scribe note at :15", "Lead decision at :15"}
    assert texts[1:3] + texts[5:] == [
        "Scribe note at :05",
        "Lead decision at :10",
        "Lead decision at :20",
        ["We are investigating"],
        "Scribe note at :25",
    ]
    times = [parse_time(e.data["at"]) for e in entries]
    assert times == sorted(t for t in times if t is not None)
    check = run_cli("--root", str(root), "check")
    assert check.code == 0, check.out
