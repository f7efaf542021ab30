"""Privileged log entries (issue 23): prepared at counsel's direction, held only by the
legal audience. Canaries planted in privileged entries (text, rationale, the commit
subject that added them) must be absent from every other handbook build, from
``incident status`` for a person outside the legal roles, from evidence packs for other
audiences and from audit rows; ``check`` requires counsel to hold a legal role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from site_test import build, git, make_repo, site_files

PRIV = "PRIVCANARYQZ"  # every privileged canary starts with it
OBS = "incidents/ex-2026-01/log/20260504T094500Z-pv01.yaml"
ASSESS = "incidents/ex-2026-01/log/20260504T095500Z-pv02.yaml"


def _privileged(root: Path, *, counsel: str = "bo-example") -> None:
    """Mark the fixture's counsel role as legal and add two privileged entries, each
    committed by the person it names; one commit subject carries a canary too."""
    config = root / "clearance.yaml"
    # the review's wording rules are judged elsewhere; this fixture is about privilege
    config.write_text(config.read_text("utf-8") + '  EXR005: "off"\n', "utf-8")
    role = root / "policies" / "roles" / "counsel.yaml"
    role.write_text(role.read_text("utf-8") + "legal: true\n", "utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Counsel is the legal role", date="2026-05-01T09:00:00+00:00")
    (root / OBS).write_text(
        "kind: log-entry\ntype: observation\nat: '2026-05-04T09:45:00Z'\nby: bo-example\n"
        f"text: {PRIV}OBSERVATION the takeover looks material for the filing.\n"
        f"privileged:\n  counsel: {counsel}\n  direction: {PRIV}DIRECTION to advise on materiality\n",
        "utf-8",
    )
    (root / ASSESS).write_text(
        "kind: log-entry\ntype: assessment\nat: '2026-05-04T09:55:00Z'\nby: bo-example\n"
        "obligation: breach-law#notify-authority\napplies: false\n"
        f"rationale: {PRIV}RATIONALE counsel's view on the exposure.\n"
        f"privileged: {{counsel: {counsel}, direction: to advise on notification}}\n",
        "utf-8",
    )
    for path, when, subject in (
        (OBS, "2026-05-04T09:46:00+00:00", f"{PRIV}SUBJECT counsel's materiality note"),
        (ASSESS, "2026-05-04T09:56:00+00:00", "Log: assessment"),
    ):
        git(root, "add", path)
        git(root, "commit", "-q", "-m", subject, date=when, author=("Bo Example", "bo@example.org"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("privileged"))
    _privileged(root)
    return root


def _found(site: Path) -> list[str]:
    return [str(path) for path, data in site_files(site) if PRIV.lower().encode() in data.lower()]


@pytest.mark.parametrize("audience", ["public", "internal", "confidential", "restricted"])
def test_no_other_audience_holds_a_privileged_entry(repo: Path, audience: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = build(repo, "--site-dir", str(site), audience=audience)
    assert result.returncode == 0, result.stderr
    assert site.is_dir()
    assert _found(site) == [], f"privileged canary in the {audience} build"


def test_the_legal_audience_reads_privileged_entries(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = build(repo, "--site-dir", str(site), audience="legal")
    assert result.returncode == 0, result.stderr
    found = _found(site)
    assert any("ex-2026-01" in path for path in found), found
    # and it is still everything the restricted audience reads: the restricted incident
    assert (site / "incidents" / "cf-2026-02").is_dir()


def test_the_restricted_build_still_shows_the_incident_without_the_entries(
    repo: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    assert build(repo, "--site-dir", str(site), audience="restricted").returncode == 0
    page = (site / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8")
    assert "Exercise account takeover" in page
    assert "pv01" not in page and "pv02" not in page


def test_status_for_a_reader_outside_the_legal_roles_withholds_privileged_words(repo: Path) -> None:
    args = ("--root", str(repo), "incident", "status", "ex-2026-01", "--now", "2026-05-04T12:00:00Z")
    other = run_cli(*args, "--as", "ada-example", "--format", "json")
    assert other.code == 0, other.err
    assert PRIV not in other.out
    assert other.json()["privileged_withheld"] == 2
    text = run_cli(*args, "--as", "ada-example")
    assert PRIV not in text.out and "2 privileged entries withheld" in text.out
    counsel = run_cli(*args, "--as", "bo-example", "--format", "json")
    assert counsel.code == 0, counsel.err
    assert f"{PRIV}RATIONALE" in counsel.out and "privileged_withheld" not in counsel.json()


def test_an_evidence_pack_for_another_audience_counts_privileged_entries_without_naming_them(
    repo: Path, tmp_path: Path
) -> None:
    base = ("--root", str(repo), "evidence", "incident", "ex-2026-01", "--format", "json")
    restricted = run_cli(*base, "--audience", "restricted", "-o", str(tmp_path / "r.json"))
    assert restricted.code == 0, restricted.err
    data = (tmp_path / "r.json").read_text("utf-8")
    assert PRIV not in data and "pv01" not in data and "pv02" not in data
    assert json.loads(data)["withheld"] and "privileged entries" in data
    duty = next(
        o for o in json.loads(data)["obligations"] if o["obligation"] == "breach-law#notify-authority"
    )
    assert duty["rationale"] == "privileged entry" and duty["assessed_by"] == "bo-example"
    legal = run_cli(*base, "--audience", "legal", "-o", str(tmp_path / "l.json"))
    assert legal.code == 0, legal.err
    assert f"{PRIV}OBSERVATION" in (tmp_path / "l.json").read_text("utf-8")


def test_check_requires_counsel_to_hold_a_legal_role(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _privileged(root, counsel="ada-example")  # ada holds comms-lead, not counsel
    result = run_cli("--root", str(root), "check", "--format", "json")
    found = [f for f in result.json()["findings"] if f["rule"] == "PRV001"]
    assert result.code == 1 and len(found) == 2, result.out
    assert "'ada-example' is not a member of 'counsel'" in found[0]["message"]
    assert found[0]["path"].startswith("incidents/ex-2026-01/log/")


def test_without_a_legal_role_no_privileged_entry_is_valid(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _privileged(root)
    role = root / "policies" / "roles" / "counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("legal: true\n", ""), "utf-8")
    result = run_cli("--root", str(root), "check", "--format", "json")
    messages = [f["message"] for f in result.json()["findings"] if f["rule"] == "PRV001"]
    assert len(messages) == 2 and all("no role is marked 'legal: true'" in m for m in messages)


def test_a_privileged_marking_written_by_hand_is_validated(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _privileged(root)
    (root / OBS).write_text((root / OBS).read_text("utf-8").replace("  direction:", "  directoin:"), "utf-8")
    result = run_cli("--root", str(root), "check", "--format", "json")
    assert any(f["rule"] == "SCH001" and f["path"] == OBS for f in result.json()["findings"]), result.out


def test_audit_rows_say_privileged_entry_and_nothing_of_it(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    done = run_cli("--root", str(repo), "audit", "--format", "json", "-o", str(out))
    assert done.code in (0, 1), done.err
    text = out.read_text("utf-8")
    assert PRIV not in text
    rows = [r for r in json.loads(text)["changes"] if any(f["path"] == OBS for f in r["files"])]
    assert len(rows) == 1 and rows[0]["subject"] == "privileged entry", rows
    assert rows[0]["author"]["email"] == "bo@example.org"


def test_the_cli_marks_an_entry_privileged_only_with_counsel(tmp_path: Path) -> None:
    import yaml

    root = make_repo(tmp_path)
    _privileged(root)
    log = root / "incidents" / "ex-2026-01" / "log"
    before = set(log.iterdir())
    base = (
        "--root",
        str(root),
        "incident",
        "log",
        "ex-2026-01",
        "observation",
        "--at",
        "2026-05-04T09:58:00Z",
    )
    refused = run_cli(*base, "--text", "n", "--privileged", "to advise", "--as", "ada-example")
    assert refused.code == 2 and "'ada-example' is not a member of a legal role (counsel)" in refused.err
    refused = run_cli(
        *base, "--text", "n", "--privileged", "x", "--counsel", "ada-example", "--as", "bo-example"
    )
    assert refused.code == 2 and set(log.iterdir()) == before
    done = run_cli(*base, "--text", f"{PRIV}CLI note", "--privileged", "to advise on exposure", "--as", "ada-example",
                   "--counsel", "cy-example")  # fmt: skip
    assert done.code == 0, done.err
    (written,) = set(log.iterdir()) - before
    data = yaml.safe_load(written.read_text("utf-8"))
    assert data["privileged"] == {"counsel": "cy-example", "direction": "to advise on exposure"}
    assert data["by"] == "ada-example"
    check = run_cli("--root", str(root), "check", "--format", "json")
    assert not [f for f in check.json()["findings"] if f["rule"].startswith("PRV")]


def test_publishing_a_privileged_draft_is_an_error(tmp_path: Path) -> None:
    """PRV002: a draft marked privileged, published by hand: publishing waives privilege."""
    root = make_repo(tmp_path)
    _privileged(root)
    log = root / "incidents" / "ex-2026-01" / "log"
    (log / "20260504T095700Z-pd01.yaml").write_text(
        "kind: log-entry\ntype: draft\nat: '2026-05-04T09:57:00Z'\nby: bo-example\nchannel: x\n"
        "text: Counsel's suggested wording.\nprivileged: {counsel: bo-example, direction: to draft for review}\n",
        "utf-8",
    )
    (log / "20260504T095800Z-pd02.yaml").write_text(
        "kind: log-entry\ntype: publication\nat: '2026-05-04T09:58:00Z'\nby: ada-example\n"
        "draft: 20260504T095700Z-pd01\nchannel: x\nsha256: '" + "0" * 64 + "'\n",
        "utf-8",
    )
    found = [
        f
        for f in run_cli("--root", str(root), "check", "--format", "json").json()["findings"]
        if f["rule"] == "PRV002"
    ]
    assert len(found) == 1 and found[0]["path"].endswith("pd02.yaml"), found
    assert "publishing waives privilege" in found[0]["message"]


def test_incident_show_of_a_privileged_draft_is_for_counsel_only(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _privileged(root)
    source = tmp_path / "note.txt"
    source.write_text(f"{PRIV}DRAFT wording counsel is weighing.", "utf-8")
    done = run_cli("--root", str(root), "incident", "draft", "ex-2026-01", "--channel", "x", "--file", str(source),
                   "--privileged", "to review the wording", "--as", "bo-example", "--at", "2026-05-04T09:58:00Z")  # fmt: skip
    assert done.code == 0, done.err
    draft = done.out.split()[1]
    other = run_cli("--root", str(root), "incident", "show", "ex-2026-01", draft, "--as", "ada-example")
    assert other.code == 2 and "privileged entry" in other.err and PRIV not in other.out + other.err
    counsel = run_cli("--root", str(root), "incident", "show", "ex-2026-01", draft, "--as", "bo-example")
    assert counsel.code == 0 and f"{PRIV}DRAFT" in counsel.out
