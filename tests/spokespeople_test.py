"""Spokespeople (issue 23): the person register records who may speak on which channels
and topics, with media training dates; from a channel's ``spokespeople_from`` date a
publication by anyone who is not a current spokesperson for it is refused (incident
publish) and reported (SPK001); lapsed training shows on the dashboard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import acting_as, run_cli
from site_test import article, build, git, make_repo

INCIDENT = "ex-2026-01"
PUBLICATION = "incidents/ex-2026-01/log/20260504T094000Z-eeee.yaml"  # ada-example on X, 2026-05-04


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("spokespeople"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    _append(root / "protocols" / "channels" / "x.yaml", "spokespeople_from: '2026-05-01'\n")
    return root


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def _speaker(root: Path, person: str, trained: str, channels: str = "[x]") -> None:
    _append(
        root / "policies" / "people" / f"{person}.yaml",
        f"spokesperson:\n  channels: {channels}\n  topics: [account security]\n  media_training: '{trained}'\n",
    )


def _commit(root: Path, who: str, when: str) -> None:
    """Commit the work tree as ``who`` (each decision is committed by the person taking it)."""
    email = {"ada-example": "ada@example.org", "bo-example": "bo@example.org", "cy-example": "cy@example.org"}
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"{who} logs", date=when, author=(who, email[who]))


def _rules(root: Path) -> list[dict[str, str]]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    return [f for f in result.json()["findings"] if f["rule"] == "SPK001"]


def test_a_publication_by_someone_who_is_no_spokesperson_is_reported(repo: Path) -> None:
    found = _rules(repo)
    assert len(found) == 1 and found[0]["path"] == PUBLICATION
    assert "'ada-example' is not a spokesperson for channel 'x'" in found[0]["message"]


def test_a_current_spokesperson_for_the_channel_may_publish(repo: Path) -> None:
    _speaker(repo, "ada-example", "2026-01-10")
    assert _rules(repo) == []


def test_a_spokesperson_for_other_channels_may_not(repo: Path) -> None:
    _speaker(repo, "ada-example", "2026-01-10", channels="[crisis-room]")
    assert len(_rules(repo)) == 1


def test_lapsed_media_training_counts_as_none(repo: Path) -> None:
    _speaker(repo, "ada-example", "2025-03-01")  # current until 2026-03-01
    found = _rules(repo)
    assert len(found) == 1 and "media training (2025-03-01) lapsed on 2026-03-01" in found[0]["message"]


def test_publications_before_the_channel_required_spokespeople_stand(repo: Path) -> None:
    channel = repo / "protocols" / "channels" / "x.yaml"
    channel.write_text(channel.read_text("utf-8").replace("2026-05-01", "2026-06-01"), "utf-8")
    assert _rules(repo) == []


def test_incident_publish_refuses_a_non_spokesperson(repo: Path) -> None:
    _speaker(repo, "ada-example", "2026-01-10")
    source = repo.parent / "update.txt"
    source.write_text("Our X account is secure again. Thank you for your patience.", "utf-8")
    with acting_as(repo, "ada-example"):
        drafted = run_cli("--root", str(repo), "incident", "draft", INCIDENT, "--channel", "x",
                          "--file", str(source), "--at", "2026-05-04T10:00:00Z")  # fmt: skip
    assert drafted.code == 0, drafted.err
    _commit(repo, "ada-example", "2026-05-04T10:01:00+00:00")
    draft, sha = drafted.out.split()[1], drafted.out.split("sha256 ")[1].split()[0]
    for who, step in (("bo-example", "comms"), ("cy-example", "legal")):
        with acting_as(repo, who):
            done = run_cli("--root", str(repo), "incident", "approve", INCIDENT, draft, "--step", step,
                           "--sha256", sha, "--at", "2026-05-04T10:05:00Z")  # fmt: skip
        assert done.code == 0, done.err
        _commit(repo, who, "2026-05-04T10:06:00+00:00")
    log = repo / "incidents" / INCIDENT / "log"
    before = set(log.iterdir())
    with acting_as(repo, "cy-example"):
        refused = run_cli(
            "--root", str(repo), "incident", "publish", INCIDENT, draft, "--at", "2026-05-04T10:10:00Z"
        )
    assert refused.code == 1 and "'cy-example' is not a spokesperson for channel 'x'" in refused.err
    assert set(log.iterdir()) == before
    with acting_as(repo, "ada-example"):
        done = run_cli(
            "--root", str(repo), "incident", "publish", INCIDENT, draft, "--at", "2026-05-04T10:10:00Z"
        )
    assert done.code == 0, done.err


def test_the_dashboard_shows_lapsed_training(repo: Path) -> None:
    channel = repo / "protocols" / "channels" / "x.yaml"  # no requirement: the build has no error
    channel.write_text(channel.read_text("utf-8").replace("spokespeople_from: '2026-05-01'\n", ""), "utf-8")
    _speaker(repo, "ada-example", "2025-03-01")
    _speaker(repo, "cy-example", "2026-01-10")
    assert build(repo).returncode == 0
    page = article((repo / "site" / "dashboard" / "index.html").read_text("utf-8"))
    section = page[page.index("Spokespeople") :]
    assert "lapsed" in section and "Ada Example" in section.split("</table>")[0]
    assert "Cy Example" not in section.split("</table>")[0]
