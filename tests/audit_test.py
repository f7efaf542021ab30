"""clearance audit, history and show: the evidence export and as-of views, end to end
through the CLI in real temporary git repositories with fixed authors and dates."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Run
from history_test import ALICE, BOB, CAROL, Git, governance, isolated_git  # noqa: F401

CLI = Callable[..., Run]


@pytest.fixture
def story(tmp_path: Path) -> dict[str, Any]:
    """A governance repository with one change of every kind an auditor cares about."""
    repo = Git(tmp_path / "gov")
    governance(repo)
    shas: dict[str, Any] = {"repo": repo}
    shas["bootstrap"] = repo.commit("Bootstrap the governance repository", date="2026-03-01T09:00:00Z")

    # A proper change: Bob writes it with a reason and ticket, Alice merges it.
    repo.checkout("tighten", create=True)
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text().replace(
        "Version one", "Version two"))
    shas["good"] = repo.commit(
        "Tighten the disclosure policy\n\nLegal asked for stricter wording after the drill.\n\n"
        "Ticket: GOV-12", author=BOB, date="2026-03-02T10:00:00Z")
    repo.checkout("main")
    shas["good_merge"] = repo.merge("tighten", "Merge pull request #7 from example/tighten", author=ALICE)

    # Carol writes and merges her own change, with nothing but a subject.
    repo.checkout("self", create=True)
    repo.write("policies/roles/counsel.yaml", (repo.path / "policies/roles/counsel.yaml").read_text()
               .replace("Reviews policy changes.", "Reviews every policy change."))
    shas["self"] = repo.commit("update", author=CAROL, date="2026-03-03T10:00:00Z")
    repo.checkout("main")
    shas["self_merge"] = repo.merge("self", "Merge branch 'self'", author=CAROL)

    # Bob claims his own approval in a trailer; Alice merges.
    repo.checkout("claim", create=True)
    repo.write("protocols/chains/policy-change.yaml", (repo.path / "protocols/chains/policy-change.yaml")
               .read_text().replace("P2D", "P3D"))
    shas["claim"] = repo.commit("Give counsel three days\n\nRefs: GOV-13\nApproved-by: Bob Berg <bob@example.com>",
                                author=BOB, date="2026-03-04T10:00:00Z")
    repo.checkout("main")
    shas["claim_merge"] = repo.merge("claim", "Merge branch 'claim'", author=ALICE)

    # A direct commit of a rename, and a commit outside governed folders.
    repo.run("mv", "policies/disclosure.md", "policies/public-disclosure.md")
    shas["rename"] = repo.commit("Rename the disclosure policy for GOV-14", date="2026-03-05T10:00:00Z")
    repo.write("README.md", "hello\n")
    shas["readme"] = repo.commit("Add a readme", date="2026-03-06T10:00:00Z")
    return shas


def _audit(cli: CLI, story: dict[str, Any], *args: str) -> Run:
    return cli("--root", str(story["repo"].path), "audit", *args)


def test_json_evidence_names_approvers_and_findings(cli: CLI, story: dict[str, Any]) -> None:
    run = _audit(cli, story, "--format", "json")
    assert run.code == 0, run.err
    data = run.json()
    changes = {c["commit"]: c for c in data["changes"]}
    # merges themselves are not changes; the readme is not governed
    assert set(changes) == {story[k] for k in ("bootstrap", "good", "self", "claim", "rename")}
    assert data["head"] == story["readme"]

    good = changes[story["good"]]
    assert good["author"] == {"name": "Bob Berg", "email": "bob@example.com", "person": "bob"}
    assert good["via"] == "pull-request" and good["merge"] == story["good_merge"]
    assert good["approvals"] == [{"name": "Alice Aalto", "email": "alice@example.com", "person": "alice",
                                  "source": "merge", "commit": story["good_merge"], "claim": False}]
    assert good["tickets"] == ["GOV-12", "PR #7"]
    assert good["reason"] == "Legal asked for stricter wording after the drill."
    assert good["files"] == [{"status": "M", "path": "policies/disclosure.md", "old_path": None}]
    assert good["findings"] == []
    assert good["committed"] == "2026-03-02T10:00:00+00:00"

    rules = {sha: sorted(f["rule"] for f in c["findings"]) for sha, c in changes.items()}
    assert rules[story["bootstrap"]] == ["AUD002", "AUD003"]
    assert rules[story["self"]] == ["AUD001", "AUD003"]
    assert rules[story["claim"]] == ["AUD001"]
    assert rules[story["rename"]] == ["AUD002"]

    claim = changes[story["claim"]]
    assert [(a["person"], a["source"], a["claim"]) for a in claim["approvals"]] == [
        ("alice", "merge", False), ("bob", "Approved-by", True)]
    own = next(f for f in claim["findings"] if f["rule"] == "AUD001")
    assert "bob is named in Approved-by" in own["message"]
    selfie = next(f for f in changes[story["self"]]["findings"] if f["rule"] == "AUD001")
    assert "carol merged their own change" in selfie["message"]
    assert story["self_merge"][:12] in selfie["message"]
    assert changes[story["rename"]]["files"] == [
        {"status": "R", "path": "policies/public-disclosure.md", "old_path": "policies/disclosure.md"}]
    assert changes[story["rename"]]["tickets"] == ["GOV-14"]

    assert data["allowances"] == [{
        "path": "policies/public-disclosure.md", "detector": "email", "match": "press@example.com",
        "by": "carol", "reason": "Our public press address.", "last_commit": story["rename"],
        "last_author": "Alice Aalto <alice@example.com>", "last_date": "2026-03-05T10:00:00+00:00"}]
    assert data["summary"]["findings"] == {"AUD001": 2, "AUD002": 2, "AUD003": 2}
    assert "6 finding(s) in 5 change(s)" in run.err


def test_period_filters_by_commit_date(cli: CLI, story: dict[str, Any]) -> None:
    run = _audit(cli, story, "--format", "json", "--since", "2026-03-02", "--until", "2026-03-03")
    assert [c["commit"] for c in run.json()["changes"]] == [story["self"], story["good"]]
    run = _audit(cli, story, "--format", "json", "--since", "2026-03-05T10:00:01Z")
    assert run.json()["changes"] == []


def test_csv_has_one_row_per_file(cli: CLI, story: dict[str, Any]) -> None:
    run = _audit(cli, story, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.out)))
    bootstrap = [r for r in rows if r["commit"] == story["bootstrap"]]
    assert len(bootstrap) == 8  # every governed file of the bootstrap commit (not clearance.yaml)
    assert {r["via"] for r in bootstrap} == {"direct"}
    assert all("AUD002" in r["findings"] for r in bootstrap)
    good = next(r for r in rows if r["commit"] == story["good"])
    assert good["approvals"] == f"alice [merged {story['good_merge'][:12]}]"
    assert good["tickets"] == "GOV-12; PR #7"


def test_markdown_report_and_output_file(cli: CLI, story: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out" / "evidence.md"
    run = _audit(cli, story, "--output", str(target), "--fail-on-findings")
    assert run.code == 1 and run.out == ""
    text = target.read_text("utf-8")
    assert text.startswith("# Audit evidence: Fixture Co")
    assert f"| `{story['good'][:12]}` | 2026-03-02T10:00:00+00:00 | bob |" in text
    assert "| AUD001 |" in text and "## Disclosure allowances" in text
    assert "press@example.com" in text


def test_output_file_says_how_many_changes_it_wrote(cli: CLI, story: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    run = _audit(cli, story, "--format", "json", "-o", str(target))
    assert run.code == 0 and run.out == ""
    changes = json.loads(target.read_text("utf-8"))["changes"]
    assert len(changes) == 5
    assert f"clearance: wrote {len(changes)} change(s) to {target}\n" in run.err

    target = tmp_path / "evidence.csv"
    run = _audit(cli, story, "--format", "csv", "-o", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"))))
    commits = {row["commit"] for row in rows}
    assert len(commits) == 5 and len(rows) > 5  # the bootstrap commit added several files
    assert f"clearance: wrote {len(commits)} change(s) ({len(rows)} row(s), one per file changed) to {target}" in (
        run.err
    )
    # on stdout the count would be noise for whoever reads the report
    assert "wrote" not in _audit(cli, story, "--format", "csv").err
    assert "wrote" not in _audit(cli, story, "--format", "csv", "-o", "-").err


def test_history_follows_the_rename(cli: CLI, story: dict[str, Any]) -> None:
    root = str(story["repo"].path)
    run = cli("--root", root, "history", "policies/public-disclosure.md", "--format", "json")
    assert run.code == 0, run.err
    assert [(c["commit"], c["status"]) for c in run.json()["changes"]] == [
        (story["rename"], "R"), (story["good"], "M"), (story["bootstrap"], "A")]
    text = cli("--root", root, "history", "policies/public-disclosure.md")
    assert "policies/disclosure.md -> policies/public-disclosure.md" in text.out
    missing = cli("--root", root, "history", "policies/nothing.md")
    assert missing.code == 2 and "no history" in missing.err


def test_show_as_of_across_the_rename(cli: CLI, story: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    root = story["repo"].path
    monkeypatch.chdir(root)
    # the day of the bootstrap: version one, under its old name
    run = cli("show", "policies/public-disclosure.md", "--as-of", "2026-03-01", "--format", "json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["commit"] == story["bootstrap"] and data["path_then"] == "policies/disclosure.md"
    assert "Version one of the disclosure policy." in data["text"]
    # the end of 2026-03-03: the merged version two, still under the old name
    run = cli("show", "policies/public-disclosure.md", "--as-of", "2026-03-03")
    assert "Version two of the disclosure policy." in run.out
    assert "then named policies/disclosure.md" in run.err and story["self_merge"][:12] in run.err
    # a time between the good commit (on a branch) and its merge: main still said version one
    merged_at = story["repo"].run("show", "-s", "--format=%cI", story["good_merge"]).strip()
    run = cli("show", "policies/public-disclosure.md", "--as-of", "2026-03-02T10:00:00Z")
    assert "Version one" in run.out, merged_at
    # after the rename, by the new name; the old name no longer exists then
    run = cli("show", "policies/public-disclosure.md", "--as-of", "2026-03-05T10:00:00Z", "--format", "json")
    assert run.json()["path_then"] == "policies/public-disclosure.md"
    # asked by the old name: the same document, as it stood then
    old = cli("show", "policies/disclosure.md", "--as-of", "2026-03-01", "--format", "json").json()
    assert old["path_then"] == "policies/disclosure.md" and "Version one" in old["text"]
    history = cli("history", "policies/disclosure.md", "--format", "json").json()["changes"]
    assert [(c["commit"], c["status"]) for c in history] == [
        (story["rename"], "R"), (story["good"], "M"), (story["bootstrap"], "A")]
    gone = cli("show", "policies/never.md", "--as-of", "2026-03-06")
    assert gone.code == 2 and "no history" in gone.err
    early = cli("show", "policies/public-disclosure.md", "--as-of", "2026-02-01")
    assert early.code == 2 and "no commit on the main branch" in early.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit", "--since", "last week"), "is not a date"),
        (("audit", "--since", "2026-03-05", "--until", "2026-03-01"), "is after --until"),
        (("audit", "--allowed-signers", "/nonexistent/file"), "no such file"),
        (("show", "policies/public-disclosure.md", "--as-of", "2026-03-01T10:00"), "UTC offset"),
    ],
)
def test_bad_arguments_are_usage_errors(cli: CLI, story: dict[str, Any], args: tuple[str, ...],
                                        message: str) -> None:
    run = cli("--root", str(story["repo"].path), *args)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err


def test_outside_git_is_a_clear_error(cli: CLI, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "clearance.yaml").write_text("organisation: {name: X}\n")
    for args in (("audit",), ("verify",), ("history", "x.md"), ("show", "x.md")):
        run = cli("--root", str(plain), *args)
        assert run.code == 2 and "not inside a git work tree" in run.err, args


def test_squash_merges_from_the_code_host_are_not_direct(cli: CLI, tmp_path: Path) -> None:
    repo = Git(tmp_path / "gov")
    governance(repo)
    repo.commit("Bootstrap\n\nInitial import agreed in GOV-1.")
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "More.\n")
    sha = repo.commit("Clarify the disclosure policy (#42)\n\nAsked for by counsel.", author=BOB,
                      committer=("GitHub", "noreply@github.com"))
    data = cli("--root", str(repo.path), "audit", "--format", "json").json()
    squash = next(c for c in data["changes"] if c["commit"] == sha)
    assert squash["via"] == "squash" and squash["findings"] == [] and squash["tickets"] == ["#42"]


def test_runs_on_this_repository(cli: CLI) -> None:
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists() or os.environ.get("CLEARANCE_SKIP_SELF_AUDIT"):
        pytest.skip("not a git checkout")
    run = cli("--root", str(root), "audit", "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["head"]


def test_output_to_a_device_writes_through_it(cli: CLI, story: dict[str, Any], tmp_path: Path) -> None:
    """-o /dev/null must never replace the device with a regular file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    import threading

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text("utf-8")))
    reader.start()
    run = _audit(cli, story, "--format", "csv", "--output", str(fifo))
    reader.join(timeout=30)
    assert run.code == 0 and fifo.is_fifo()
    assert got and got[0].startswith("commit,committed,")
    assert _audit(cli, story, "--output", os.devnull).code == 0
    assert Path(os.devnull).is_char_device()


def test_gitlab_merge_requests_and_another_branch(cli: CLI, tmp_path: Path) -> None:
    repo = Git(tmp_path / "gov")
    governance(repo)
    repo.commit("Bootstrap\n\nAgreed in GOV-1.")
    repo.checkout("edit", create=True)
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "More.\n")
    edit = repo.commit("Clarify the scope\n\nCounsel asked for it.", author=BOB)
    repo.checkout("main")
    merge = repo.merge("edit", "Merge branch 'edit' into 'main'\n\nClarify the scope\n\n"
                       "See merge request governance/handbook!12\n\nApproved-by: Carol Chen <carol@example.com>")
    repo.checkout("other", create=True, start=f"{merge}~1")
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "Other.\n")
    other = repo.commit("Unrelated branch work\n\nFor GOV-9.")
    repo.checkout("main")

    data = cli("--root", str(repo.path), "audit", "--format", "json").json()
    change = next(c for c in data["changes"] if c["commit"] == edit)
    assert change["via"] == "pull-request" and change["tickets"] == ["MR governance/handbook!12"]
    assert [(a["person"], a["source"]) for a in change["approvals"]] == [
        ("alice", "merge"), ("carol", "Approved-by")]
    assert change["findings"] == []
    assert other not in {c["commit"] for c in data["changes"]}

    on_other = cli("--root", str(repo.path), "audit", "--format", "json", "--rev", "other").json()
    assert on_other["head"] == other
    assert {c["commit"] for c in on_other["changes"]} == {other, data["changes"][-1]["commit"]}
    bad = cli("--root", str(repo.path), "audit", "--rev", "no-such-branch")
    assert bad.code == 2 and "git log failed" in bad.err


def _bench_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "audit_bench", Path(__file__).resolve().parents[1] / "bench" / "audit_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same_reports(root: Path) -> dict[str, Any]:
    """The streamed report (rows rendered while git streams, as the command does)
    renders exactly as the one built from the loaded history; the JSON rows written
    directly are what json.dumps makes of as_dict()."""
    from clearance import audit, config
    from clearance.report import audit as reporter

    cfg = config.load(root)
    streamed = audit.audit(cfg)
    history, repo = audit.load(cfg)
    assert streamed is not None and history is not None
    loaded = audit.build_report(history, repo)
    for fmt, render in reporter.RENDERERS.items():
        prerendered = audit.audit(cfg, render=fmt, row=reporter.ROWS[fmt])
        assert prerendered is not None
        assert render(prerendered) == render(loaded) == render(streamed), fmt
    for record in loaded.records:
        assert reporter._json_change(record) == json.dumps(record.as_dict(), ensure_ascii=False)
    for finding in loaded.findings:
        assert reporter._json_finding(finding) == json.dumps(finding.as_dict(), ensure_ascii=False)
    assert json.loads(reporter.render_json(loaded))["summary"]["changes"] == len(loaded.records)
    return {"history": history, "report": streamed}


def test_streamed_audit_equals_the_loaded_one(story: dict[str, Any], tmp_path: Path) -> None:
    _same_reports(story["repo"].path)
    generated = tmp_path / "generated"
    _bench_module().generate(generated, 240, 60)
    result = _same_reports(generated)
    history = result["history"]
    assert len(history.commits) == 240
    # the on-the-fly introducers agree with the graph walk for every commit
    from clearance.audit.trail import _Introducers

    streaming = _Introducers()
    for commit in history.commits:
        merge = streaming.see(commit)
        assert merge is not None and merge.sha == history.introduced_by(commit.sha).sha
    vias = {r.via for r in result["report"].records}
    assert vias == {"direct", "pull-request"}


def test_streamed_audit_falls_back_when_git_order_is_not_topological(git_repo_backdated: Path) -> None:
    result = _same_reports(git_repo_backdated)
    assert any(r.commit.subject == "backdated child" for r in result["report"].records)


@pytest.fixture
def git_repo_backdated(tmp_path: Path) -> Path:
    repo = Git(tmp_path / "gov")
    governance(repo)
    repo.commit("Bootstrap", date="2026-03-05T00:00:00Z")
    repo.checkout("side", create=True)
    repo.write("policies/disclosure.md", (repo.path / "policies/disclosure.md").read_text() + "x\n")
    repo.commit("backdated child", author=BOB, date="2026-03-02T00:00:00Z")
    repo.checkout("main")
    repo.write("protocols/chains/policy-change.yaml",
               (repo.path / "protocols/chains/policy-change.yaml").read_text().replace("P2D", "P4D"))
    repo.commit("main work", date="2026-03-10T00:00:00Z")
    repo.merge("side", "Merge side")
    return repo.path


def test_hostile_text_renders_as_the_plain_encoders_would(tmp_path: Path) -> None:
    """Quotes, backslashes, control characters, pipes, non-ASCII and separators in
    names, messages, trailers and file names: every format of the streamed report
    equals the one rendered afterwards, and JSON rows equal json.dumps."""
    repo = Git(tmp_path / "gov")
    governance(repo)
    repo.commit("Bootstrap | with \\ and \"quotes\"\n\nBody \x01 ctrl, tab\there, é ✓ \u2028 GOV-1")
    repo.checkout("topic", create=True)
    repo.write("policies/odd | name \\ é.md", "x\n")
    repo.commit(
        "Add an oddly named file #12\n\nBecause: \"why\" \\ not.\n\n"
        "Approved-by: Ünïcode \"Q\" Person <q@example.com>\nReviewed-by: no email at all\nTicket: ABC-9",
        author=("Dän \"D\" O'Neil", "dan@example.com"),
    )
    repo.run("mv", "policies/disclosure.md", "policies/dis closure.md")
    repo.commit("Rename\n\nSee merge request group/proj!3", author=BOB)
    repo.checkout("main")
    repo.merge("topic", "Merge pull request #5 from x/topic\n\nApproved-by: Bob Berg <bob@example.com>")
    result = _same_reports(repo.path)
    text = "\n".join(r.commit.subject for r in result["report"].records)
    assert "\\" in text and '"' in text and "|" in text


_OLD_TICKET = re.compile(r"(?<![\w/.-])(?:[A-Z][A-Z0-9]+-\d+|GH-\d+|#\d+|![0-9]+)\b")


def test_ticket_pattern_finds_what_the_plain_pattern_finds() -> None:
    from clearance.audit.records import _TICKET

    rng = random.Random(3)
    alphabet = "AGHZa1-9#!/._ \n(é٣"
    samples = ["GH-12 ABC-3 #4 !5 xGOV-1 a/#3 (#7) .!8 -#9 A-1b", "Fix GOV-12, see #3!4"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 14))) for _ in range(20000)]
    for text in samples:
        assert _TICKET.findall(text) == _OLD_TICKET.findall(text), repr(text)


def test_audit_options_are_the_shared_ones() -> None:
    """commands/audit.py spells out --allowed-signers and --rev (importing the shared
    helpers would load the configuration before git starts): they must not drift."""
    from clearance.commands import audit as command
    from clearance.commands import history as gitargs
    from clearance.report import audit as reporter

    assert tuple(reporter.RENDERERS) == command.FORMATS
    ours, shared = argparse.ArgumentParser(), argparse.ArgumentParser()
    command.add_arguments(ours)
    gitargs.add_signers(shared)
    gitargs.add_rev(shared)

    def options(parser: argparse.ArgumentParser) -> dict[str, Any]:
        return {a.dest: (a.option_strings, a.metavar, a.default, a.help) for a in parser._actions
                if a.dest in ("allowed_signers", "rev")}

    assert options(ours) == options(shared) and len(options(ours)) == 2


def test_an_early_log_is_used_only_when_it_matches(story: dict[str, Any]) -> None:
    import gc

    from clearance import audit, config, history
    from clearance.report.audit import render_json

    root = story["repo"].path
    cfg = config.load(root)
    plain = audit.audit(cfg)
    assert plain is not None
    expected = render_json(plain)
    for rev, signatures in (("HEAD", False), ("tighten", False), ("HEAD", True)):
        started = history.start(root, rev=rev, signatures=signatures)
        assert started is not None
        report = audit.audit(cfg, started=started)
        assert report is not None and render_json(report) == expected
        assert started.proc.returncode is not None and gc.isenabled()


def test_signing_required_restarts_the_early_log(cli: CLI, tmp_path: Path) -> None:
    """The command starts git before reading clearance.yaml, guessing no signatures;
    a repository that requires signing gets a log with them."""
    repo = Git(tmp_path / "gov")
    governance(repo, signing_required=True)
    sha = repo.commit("Bootstrap\n\nGOV-1")
    run = cli("--root", str(repo.path), "audit", "--format", "json")
    data = run.json()
    assert data["signatures_checked"] is True
    change = data["changes"][0]
    assert change["commit"] == sha and change["signature"] == "unsigned"
    assert [f["rule"] for f in change["findings"]] == ["AUD002", "SIG001"]


def test_errors_found_after_git_started_stop_it(cli: CLI, story: dict[str, Any]) -> None:
    import gc

    (story["repo"].path / "clearance.yaml").write_text("organisation: [not, a, mapping]\n")
    run = _audit(cli, story)
    assert run.code == 2 and "invalid configuration" in run.err and gc.isenabled()


def test_a_failing_record_stops_git_and_restores_collection(
    story: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from clearance import audit, config
    from clearance.audit import trail

    def broken(self: Any, commit: Any, merge: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(trail._Builder, "add", broken)
    with pytest.raises(RuntimeError, match="boom"):
        audit.audit(config.load(story["repo"].path))
    assert gc.isenabled()


def test_history_rules_take_their_severity_from_the_configuration(cli: CLI, story: dict[str, Any]) -> None:
    """AUD/SIG/VER are rules like any other: clearance.yaml sets their severity, and
    switches off the ones it may (the enforcement rules it may not touch)."""
    before = _audit(cli, story, "--format", "json").json()
    rules = {f["rule"]: f["severity"] for f in before["findings"]}
    assert rules.get("AUD003") == "warning" and rules.get("AUD002") == "error"
    config = story["repo"].path / "clearance.yaml"
    original = config.read_text()
    config.write_text(original + "rules:\n  AUD003: off\n  AUD002: warning\n")
    after = _audit(cli, story, "--format", "json").json()
    judged = {f["rule"]: f["severity"] for f in after["findings"]}
    assert "AUD003" not in judged and judged["AUD002"] == "warning"
    assert all("AUD003" not in [f["rule"] for f in c["findings"]] for c in after["changes"])
    config.write_text(original + "rules:\n  VER001: warning\n")
    refused = cli("--root", str(story["repo"].path), "verify")
    assert refused.code == 2 and "clearance.yaml:" in refused.err and "'VER001' cannot be set" in refused.err
