"""History respects classification over time: a commit subject shows only when every
document the commit touched was visible to the audience at that commit.

Each case is a real git repository (tests/data/site/leaky) with real `mkdocs build`
runs. A commit whose subject carries a canary touches a confidential document and
two visible pages; a later commit, on its own, deletes the confidential document,
moves it out of the content folders, rewrites it as a public one, renames it, or
re-classifies it as public. Judged by today's classification only, the old subject
would then appear on the visible pages and in the search index of the public and
internal sites."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from site_test import add_entry, article, build, git, make_repo, site_files

SECRET = "policies/canary-confidential.md"
SUBJECT = "CANARYHISTSUBJECT31 price the merger at 4.2bn"
LATER = "CANARYHISTLATER32"


def _touch(path: Path, line: str) -> None:
    path.write_text(path.read_text("utf-8") + f"\n{line}\n", "utf-8")


def _repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path)
    _touch(root / SECRET, "Revised pricing.")
    _touch(root / "policies" / "social-media.md", "Reviewed again.")
    _touch(root / "docs" / "index.md", "See also the glossary.")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", SUBJECT, date="2026-03-05T10:00:00+00:00")
    return root


def _public_version(text: str) -> str:
    return text.replace("classification: confidential", "classification: public")


def _delete(root: Path) -> None:
    git(root, "rm", "-q", SECRET)


def _move_out(root: Path) -> None:
    (root / "archive").mkdir()
    git(root, "mv", SECRET, "archive/canary-confidential.md")


def _rewrite(root: Path) -> None:
    # A different document in its place: nothing of the old text is left, so git
    # records the old file as deleted and a new one as added.
    git(root, "rm", "-q", SECRET)
    (root / "policies" / "pricing-note.md").write_text(
        "---\nkind: policy\nid: pricing-note\ntitle: Pricing note\nowner: comms-lead\nstatus: active\n"
        "classification: public\nsummary: Where prices are published.\nreview: {every: P1Y, last: '2026-01-10'}\n"
        "change_chain: statement-chain\n"
        "clauses:\n  - id: '1'\n    text: Prices are published on the website.\n---\nA public note.\n",
        "utf-8",
    )
    git(root, "add", "-A")


def _rename(root: Path) -> None:
    git(root, "mv", SECRET, "policies/canary-renamed.md")


def _reclassify(root: Path) -> None:
    path = root / SECRET
    path.write_text(_public_version(path.read_text("utf-8")), "utf-8")
    git(root, "add", "-A")


CASES = {
    "delete": _delete,
    "move-out": _move_out,
    "rewrite": _rewrite,
    "rename": _rename,
    "reclassify": _reclassify,
}


def _assert_withheld(site: Path, pages: list[str]) -> None:
    for path, data in site_files(site):
        for canary in (b"CANARYHISTSUBJECT31", LATER.encode()):
            assert canary not in data, f"{canary!r} in {path}"
    for page in pages:
        text = article((site / page).read_text("utf-8"))
        assert "(subject withheld)" in text, page
    index = json.loads((site / "search" / "search_index.json").read_text("utf-8"))
    assert all("CANARYHIST" not in doc["text"] for doc in index["docs"])


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_subject_stays_withheld_whatever_later_happens_to_the_document(
    tmp_path: Path, operation: str
) -> None:
    root = _repo(tmp_path)
    CASES[operation](root)
    git(
        root,
        "commit",
        "-q",
        "-m",
        f"{LATER} {operation} the pricing document",
        date="2026-03-06T10:00:00+00:00",
    )
    result = build(root, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    # The home page is public and changed in the canary's commit.
    _assert_withheld(root / "site", ["index.html"])
    result = build(root, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    _assert_withheld(root / "site", ["index.html", "policies/social-media/index.html"])
    # A commit that touched only what internal readers see keeps its subject.
    policy = article((root / "site" / "policies" / "social-media" / "index.html").read_text("utf-8"))
    assert "Initial handbook" in policy


def test_the_confidential_site_shows_the_subject(tmp_path: Path) -> None:
    """The same commit, for an audience that could see everything it touched."""
    root = _repo(tmp_path)
    _reclassify(root)
    git(root, "commit", "-q", "-m", f"{LATER} reclassify", date="2026-03-06T10:00:00+00:00")
    result = build(root, "--strict", audience="confidential")
    assert result.returncode == 0, result.stderr
    policy = article((root / "site" / "policies" / "social-media" / "index.html").read_text("utf-8"))
    assert SUBJECT in policy


def test_a_document_classified_higher_today_withholds_its_old_subjects(tmp_path: Path) -> None:
    """Public when committed, restricted now: today's level counts too."""
    root = make_repo(tmp_path)
    channel = root / "protocols" / "channels" / "x.yaml"
    _touch(root / "docs" / "index.md", "Follow us on X.")
    _touch(channel, "# handle checked")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "CANARYHISTRAISED33 channel handle", date="2026-03-05T10:00:00+00:00")
    text = channel.read_text("utf-8").replace("classification: public", "classification: internal")
    channel.write_text(text, "utf-8")
    git(root, "commit", "-q", "-am", "Channel list is internal now", date="2026-03-06T10:00:00+00:00")
    result = build(root, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    for path, data in site_files(root / "site"):
        assert b"CANARYHISTRAISED33" not in data, path


def test_every_page_has_history_hand_written_and_incident_folders(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    entry = root / "incidents" / "ex-2026-01" / "log" / "20260504T100000Z-gggg.yaml"
    entry.write_text(
        "kind: log-entry\ntype: observation\nat: '2026-05-04T10:00:00Z'\nby: ada-example\n"
        "text: Mentions back to normal.\n",
        "utf-8",
    )
    add_entry(root, entry)  # committed by Ada, as "Log: observation"
    result = build(root, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    home = article((site / "index.html").read_text("utf-8"))
    assert 'id="history"' in home and "Initial handbook" in home
    incident = article((site / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    # Commits that added only a log entry are in the incident's history, newest first.
    rows = [row for row in incident.split("<tr>") if "Ada Example" in row and "Log: observation" in row]
    assert rows, incident[-3000:]
    assert "Log: approval" in incident and "Log: publication" in incident


def test_history_reads_past_classifications_in_one_git_process(tmp_path: Path) -> None:
    """The classification at a commit is read with one git cat-file for the build."""
    from clearance.history import History

    root = _repo(tmp_path)
    _reclassify(root)
    git(root, "commit", "-q", "-m", "reclassify", date="2026-03-06T10:00:00+00:00")
    history = History.load(root)
    assert history is not None
    head = history.commits[0].sha
    before = history.commits[1].sha
    found = history.read_many([(head, SECRET), (before, SECRET), (head, "nope.md")])
    assert b"classification: public" in (found[(head, SECRET)] or b"")
    assert b"classification: confidential" in (found[(before, SECRET)] or b"")
    assert found[(head, "nope.md")] is None
    assert history.dirty() == set()
    (root / SECRET).write_text("changed", "utf-8")
    assert history.dirty() == {SECRET}
    subprocess.run(["git", "checkout", "-q", "--", SECRET], cwd=root, check=True)


def _log_entry(root: Path, name: str, at: str, text: str) -> None:
    path = root / "incidents" / "ex-2026-01" / "log" / f"{name}.yaml"
    path.write_text(
        f"kind: log-entry\ntype: observation\nat: '{at}'\nby: ada-example\ntext: {text}\n",
        "utf-8",
    )
    add_entry(root, path)


def test_merges_into_an_incident_are_in_its_history_and_judged_by_what_they_bring(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    # A branch that only logs: its merge subject is shown on the incident page.
    git(root, "checkout", "-q", "-b", "logging")
    _log_entry(root, "20260504T100000Z-mmmm", "2026-05-04T10:00:00Z", "Quiet again.")
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge the logging branch",
        "logging",
        date="2026-05-04T10:05:00+00:00",
    )
    # A branch that logs and edits a confidential document: its merge subject is not.
    git(root, "checkout", "-q", "-b", "pricing")
    _log_entry(root, "20260504T101000Z-nnnn", "2026-05-04T10:10:00Z", "Pricing question raised.")
    _touch(root / SECRET, "Pricing answer.")
    git(root, "commit", "-q", "-am", "Answer", date="2026-05-04T10:12:00+00:00")
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "CANARYMERGE34 pricing",
        "pricing",
        date="2026-05-04T10:15:00+00:00",
    )
    result = build(root, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    incident = article((root / "site" / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    assert "Merge the logging branch" in incident
    assert incident.count("Log: observation") == 2
    for path, data in site_files(root / "site"):
        assert b"CANARYMERGE34" not in data, path
    result = build(root, "--strict", audience="confidential")
    assert result.returncode == 0, result.stderr
    incident = article((root / "site" / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    assert "CANARYMERGE34 pricing" in incident
