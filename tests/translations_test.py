"""Statements in more than one language (issue 23): a translation is a draft of its own,
linked to the original, approved on its own hash by someone who reads its language, and
published only with or after the original; channel limits apply per language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from clearance.incidents.approvals import sha256_text
from conftest import run_cli
from site_test import make_repo

INCIDENT = "ex-2026-01"
ORIGINAL = "20260504T092000Z-bbbb"  # published on X at 09:40
LOG = f"incidents/{INCIDENT}/log"
FRENCH = (
    "Nous avons connaissance de messages sur notre compte X et nous enquêtons. Plus d'informations bientôt."
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("translations"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    person = root / "policies" / "people" / "cy-example.yaml"
    person.write_text(person.read_text("utf-8") + "languages: [fr, en]\n", "utf-8")
    return root


def _translate(root: Path, text: str = FRENCH, *extra: str) -> str:
    source = root.parent / "fr.txt"
    source.write_text(text, "utf-8")
    done = run_cli(
        "--root", str(root), "incident", "draft", INCIDENT, "--channel", "x", "--file", str(source),
        "--translation-of", ORIGINAL[-4:], "--language", "fr", "--as", "ada-example",
        "--at", "2026-05-04T09:41:00Z", *extra,
    )  # fmt: skip
    assert done.code == 0, done.err
    return done.out.split()[1]


def _entry(root: Path, name: str, **data: object) -> None:
    (root / LOG / f"{name}.yaml").write_text(yaml.safe_dump({"kind": "log-entry", **data}), "utf-8")


def _approve(
    root: Path, draft: str, who: str = "cy-example", at: str = "2026-05-04T09:43:00Z", text: str = FRENCH
) -> None:
    _entry(root, "20260504T094300Z-trap", type="approval", at=at, by=who, draft=draft, role="counsel",
           step="legal", sha256=sha256_text(text))  # fmt: skip


def _publish(root: Path, draft: str, at: str = "2026-05-04T09:45:00Z", text: str = FRENCH) -> None:
    stamp = at.replace("-", "").replace(":", "")[:15] + "Z"
    _entry(root, f"{stamp}-trpb", type="publication", at=at, by="ada-example", draft=draft, channel="x",
           sha256=sha256_text(text))  # fmt: skip


def _rules(root: Path) -> list[dict[str, str]]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    return [f for f in result.json()["findings"] if f["rule"].startswith("TRN")]


def test_a_translation_is_a_draft_of_its_own_linked_to_the_original(repo: Path) -> None:
    draft = _translate(repo)
    data = yaml.safe_load(next((repo / LOG).glob(f"{draft}.yaml")).read_text("utf-8"))
    assert data["type"] == "draft" and data["translation_of"] == ORIGINAL and data["language"] == "fr"
    assert data["text"] == FRENCH and data["sha256"] == sha256_text(FRENCH)


def test_approved_by_a_reader_of_the_language_and_published_after_the_original(repo: Path) -> None:
    draft = _translate(repo)
    _approve(repo, draft)
    _publish(repo, draft)
    assert _rules(repo) == []


def test_published_before_the_original_is_an_error(repo: Path) -> None:
    draft = _translate(repo)
    _approve(repo, draft, at="2026-05-04T09:30:00Z")
    _publish(repo, draft, at="2026-05-04T09:39:00Z")
    found = _rules(repo)
    assert [f["rule"] for f in found] == ["TRN001"], found
    assert "published only at 2026-05-04T09:40:00+00:00" in found[0]["message"]


def test_an_approval_by_someone_without_the_language_does_not_count(repo: Path) -> None:
    draft = _translate(repo)
    _approve(repo, draft, who="bo-example")  # counsel, but no French on record
    _publish(repo, draft)
    found = _rules(repo)
    assert [f["rule"] for f in found] == ["TRN002"] and "reads fr" in found[0]["message"]


def test_an_approval_of_other_words_does_not_count(repo: Path) -> None:
    draft = _translate(repo)
    _approve(repo, draft, text=FRENCH + " ")  # the hash of another text
    _publish(repo, draft)
    assert [f["rule"] for f in _rules(repo)] == ["TRN002"]


def test_the_channel_limit_for_the_language_applies(repo: Path) -> None:
    channel = repo / "protocols" / "channels" / "x.yaml"
    channel.write_text(channel.read_text("utf-8") + "max_length_by_language: {fr: 60}\n", "utf-8")
    draft = _translate(repo)
    found = _rules(repo)
    assert [f["rule"] for f in found] == ["TRN003"], found
    assert found[0]["path"] == f"{LOG}/{draft}.yaml" and f"is {len(FRENCH)} characters" in found[0]["message"]


def test_translating_needs_a_language_and_an_original(repo: Path) -> None:
    source = repo.parent / "fr.txt"
    source.write_text(FRENCH, "utf-8")
    base = ("--root", str(repo), "incident", "draft", INCIDENT, "--channel", "x", "--file", str(source),
            "--as", "ada-example")  # fmt: skip
    done = run_cli(*base, "--translation-of", ORIGINAL)
    assert done.code == 2 and "--translation-of needs --language" in done.err
    done = run_cli(*base, "--translation-of", "zzzz", "--language", "fr")
    assert done.code != 0 and "Traceback" not in done.err
