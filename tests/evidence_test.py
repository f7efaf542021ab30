"""clearance evidence: incident and changes packs, read back from the PDF as a person
would (pdftotext, pdftoppm, pdffonts from Debian's poppler-utils), in real git
repositories with several committers; classification canaries planted in restricted
documents and entries; the manifest verified against a checkout, and failing after
tampering with one log entry, a forged manifest and a rewritten history."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit_test import story  # noqa: F401
from conftest import Run, edit, run_cli
from history_test import ALICE, CAROL, isolated_git  # noqa: F401
from readme_test import INES, Copy, reference_copy

CLI = Callable[..., Run]
INCIDENT = "2026-10-14-viral-export-link-exercise"
LOG = f"incidents/{INCIDENT}/log"


def _pdf_missing() -> str | None:
    """Why PDFs cannot be made or read back here, or None."""
    if not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfinfo")):
        return "poppler-utils is not installed"
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"WeasyPrint cannot load Debian's Pango ({exc})"
    return None


@pytest.fixture(scope="module")
def pdf_tools() -> None:
    """Skips a PDF test where 'make pdf-tools' could not install what it needs; under
    CI=true (where the Makefile installs them) that is a failure instead."""
    missing = _pdf_missing()
    if missing and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{missing}; CI runs the evidence PDF tests")
    if missing:
        pytest.skip(f"{missing} (make pdf-tools installs it)")

# Canaries: one word each, planted only in documents or entries above 'confidential'.
CANARY_POLICY = "Zephyrcanary"  # title of a restricted policy the incident cites
CANARY_ENTRY = "Quuxcanary"  # text of a hand-written log entry classified restricted
CANARY_REVIEW = "Vorpalcanary"  # a finding in a review classified restricted
CANARY_CLASS = "Glimmercanary"  # title of the restricted data class a draft declares
CANARIES = (CANARY_POLICY, CANARY_ENTRY, CANARY_REVIEW, CANARY_CLASS)


def flat(text: str) -> str:
    """Text without any whitespace: a table cell may wrap a word anywhere."""
    return re.sub(r"\s+", "", text)


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def evidence(copy: Copy | Path, *args: str) -> Run:
    root = copy.root if isinstance(copy, Copy) else copy
    return run_cli("--root", str(root), "evidence", *args)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of this repository with canaries planted above 'confidential' in the
    reference incident (committed, as a person would), and its packs."""
    copy = reference_copy(tmp_path_factory.mktemp("evidence"))
    root = copy.root
    # the policy the first observation cites becomes restricted, under a canary title
    policy = root / "policies" / "monitoring-and-escalation.md"
    edit(policy, "classification: internal", "classification: restricted")
    text = policy.read_text("utf-8")
    policy.write_text(re.sub(r"^title: .*$", f"title: {CANARY_POLICY} escalation", text, count=1, flags=re.M))
    classes = root / "policies" / "data-classes" / "internal-code-names.yaml"
    edit(classes, "title: Internal code names", f"title: {CANARY_CLASS} names")
    review = root / "incidents" / INCIDENT / "review.md"
    edit(review, "classification: confidential", "classification: restricted")
    edit(review, "The first holding statement", f"{CANARY_REVIEW}: the first holding statement")
    # hand-written entries, as someone would add them without the CLI
    (root / LOG / "20261016T100000Z-canry1.yaml").write_text(
        "kind: log-entry\ntype: observation\nat: '2026-10-16T10:00:00Z'\nby: viktor-halvorsen\n"
        f"classification: restricted\ntext: {CANARY_ENTRY} forensic detail of the attacker.\n", "utf-8")
    (root / LOG / "20261016T100500Z-canry2.yaml").write_text(
        "kind: log-entry\ntype: draft\nat: '2026-10-16T10:05:00Z'\nby: mira-castellanos\nchannel: x\n"
        "text: A draft nobody published.\ndata_classes: [internal-code-names]\n", "utf-8")
    copy.commit("Plant classification canaries for the evidence tests", INES, "2026-10-17T10:00:00+00:00")
    out = root.parent / "out"
    out.mkdir()
    runs = {
        "json": evidence(copy, "incident", INCIDENT, "-o", str(out / "c.json")),
        "zip": evidence(copy, "incident", INCIDENT, "-o", str(out / "c.zip")),
    }
    return {"copy": copy, "out": out, "runs": runs}


@pytest.fixture(scope="module")
def pdfs(ref: dict[str, Any], pdf_tools: None) -> dict[str, Any]:
    """The reference incident's pack as PDF, for 'confidential' and for 'restricted'."""
    copy, out = ref["copy"], ref["out"]
    for name, audience in (("c.pdf", "confidential"), ("r.pdf", "restricted")):
        run = evidence(copy, "incident", INCIDENT, "--audience", audience, "-o", str(out / name))
        ref["runs"][name] = run
        assert run.code == 0, run.err
    return ref


def test_packs_are_written(ref: dict[str, Any]) -> None:
    for name, run in ref["runs"].items():
        assert run.code == 0, (name, run.err)
        assert "Traceback" not in run.err
    assert "wrote incident pack for 2026-10-14-viral-export-link-exercise" in ref["runs"]["json"].err
    assert "item(s) withheld for audience 'confidential'" in ref["runs"]["json"].err


def test_pdf_has_the_chronology_statements_and_approvals(pdfs: dict[str, Any]) -> None:
    ref = pdfs
    text = flat(pdftext(ref["out"] / "c.pdf"))
    for expected in (
        # cover: organisation, incident, build commit
        "Example Organisation", INCIDENT, ref["copy"].commits[-1],
        # chronology, in words, with the people who logged it
        "Alert fired: mentions of the organisation at 610", "mira-castellanos",
        "Status triage → active (severity sev1)",
        # a published statement's full text, its hash and each approval
        "We're aware of posts claiming customer details were shared online and are looking into it now.",
        "eeeb5b0551ebfb13ff876c1bb6df1ec0958a27cfa55d85a7c4f0254fbc7a1c1c",
        "2026-10-14 09:13:00Z approved by delphine-arceneaux (pr-lead / step pr) · text hash matches · "
        "counts toward the chain · signature: not signed",
        "2026-10-14 09:15:00Z approved by rafael-quintero (legal-counsel / step legal)",
        "every required approval was given before publication",
        # the rejection with its reason
        "Rationale: The file does hold customer contact details",
        # regulatory assessment and its state; the notification
        "gdpr#art-33", "met", "EXERCISE-DPA-2026-0014",
        # metrics computed from the log
        "Time to first public statement", "Page 1 of",
    ):
        assert flat(expected) in text, expected


def test_every_deadline_and_state_in_the_json_is_in_the_pdf(pdfs: dict[str, Any]) -> None:
    text = flat(pdftext(pdfs["out"] / "c.pdf"))
    data = json.loads((pdfs["out"] / "c.json").read_text("utf-8"))
    applying = [o for o in data["obligations"] if o["applies"] != "no"]
    assert applying, "the reference incident has obligations that apply"
    for o in applying:
        assert flat(o["obligation"]) in text and flat(o["state"]) in text
        if o["due"]:
            assert flat(o["due"]) in text, o
    for o in data["obligations"]:
        if o["applies"] == "no":  # grouped by regulation, each reason given
            assert flat(o["rationale"])[:60] in text, o


def test_chronology_is_in_event_order(pdfs: dict[str, Any]) -> None:
    ref = pdfs
    text = flat(pdftext(ref["out"] / "c.pdf"))
    chronology = text[text.index(flat("7. Chronology")):]
    stamps = re.findall(r"(2026-10-1\d\d\d:\d\d:\d\dZ)", chronology)  # dates run into times once flat
    assert len(stamps) > 50 and stamps == sorted(stamps)


def test_nothing_withheld_is_named_and_everything_withheld_is_counted(pdfs: dict[str, Any]) -> None:
    ref = pdfs
    confidential = pdftext(ref["out"] / "c.pdf")
    for canary in (*CANARIES, "monitoring-and-escalation", "internal-code-names"):
        assert canary.lower() not in flat(confidential).lower(), canary
    withheld = flat(confidential[confidential.index("9. Withheld"):])
    for kind in ("logentries1", "citedpolicyclauses", "dataclasses", "reviews1"):
        assert kind in withheld.replace("Count", ""), kind
    # the same repository at 'restricted' names them all: the test above can fail
    restricted = flat(pdftext(ref["out"] / "r.pdf"))
    for canary in (CANARY_ENTRY, CANARY_REVIEW, "monitoring-and-escalation#3", "internal-code-names"):
        assert canary in restricted, canary
    assert "Nothingwaswithheld" in restricted


def test_json_pack_withholds_the_same(ref: dict[str, Any]) -> None:
    raw = (ref["out"] / "c.json").read_text("utf-8")
    data = json.loads(raw)
    assert data["pack"] == "incident" and data["audience"] == "confidential"
    for canary in (*CANARIES, "monitoring-and-escalation", "internal-code-names"):
        assert canary not in raw, canary
    assert dict(map(tuple, data["withheld"]["counts"]))["log entries"] == 1
    paths = [s["path"] for s in data["manifest"]["sources"]]
    assert not any("canry1" in p or p.endswith("review.md") for p in paths), "withheld sources are not named"


def test_fonts_embedded_page_size_and_page_one_renders(pdfs: dict[str, Any], tmp_path: Path) -> None:
    ref = pdfs
    fonts = subprocess.run(["pdffonts", str(ref["out"] / "c.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]  # fmt: skip
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the 'emb' column
    info = subprocess.run(["pdfinfo", str(ref["out"] / "c.pdf")], capture_output=True, text=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    assert "Author:          Example Organisation" in info and ref["copy"].commits[-1] in info
    # the manifest is a standard PDF attachment: any reader (here poppler) lists it
    listed = subprocess.run(["pdfdetach", "-list", str(ref["out"] / "c.pdf")], capture_output=True, text=True)
    assert "clearance-evidence-manifest.json" in listed.stdout
    letter = tmp_path / "letter.pdf"
    run = evidence(ref["copy"], "incident", INCIDENT, "--paper", "letter", "-o", str(letter))
    assert run.code == 0, run.err
    assert "612 x 792 pts (letter)" in subprocess.run(["pdfinfo", str(letter)], capture_output=True, text=True).stdout
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(letter), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    page = next(tmp_path.glob("p-*1.png"))
    assert page.stat().st_size > 2000


@pytest.mark.parametrize("name", ["c.json", "c.zip"])
def test_every_format_verifies_against_the_checkout(ref: dict[str, Any], name: str) -> None:
    run = evidence(ref["copy"], "verify", str(ref["out"] / name))
    assert run.code == 0, run.out + run.err
    assert "OK: all" in run.out and ref["copy"].commits[-1][:12] in run.out


def _clone(ref: dict[str, Any], tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ref["copy"].root), str(target)], check=True)
    shutil.copy2(ref["copy"].root / "clearance.yaml", target / "clearance.yaml")
    return target


def test_the_pdf_verifies_and_fails_after_tampering_with_one_log_entry(pdfs: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    ref = pdfs
    run = evidence(ref["copy"], "verify", str(ref["out"] / "c.pdf"))
    assert run.code == 0 and "OK: all" in run.out, run.out
    clone = _clone(ref, tmp_path)
    assert evidence(clone, "verify", str(ref["out"] / "c.pdf")).code == 0
    entry = f"{LOG}/20261014T090200Z-8lj46v.yaml"
    edit(clone / entry, "610 in the last hour", "61 in the last hour")
    run = evidence(clone, "verify", str(ref["out"] / "c.pdf"))
    assert run.code == 1
    assert f"{entry}: changed in the working tree since the pack was built (log entries are append-only)" in run.out
    assert "FAILED: 1 difference" in run.out
    # committing the rewrite does not make it pass either
    subprocess.run(["git", "-C", str(clone), "commit", "-qam", "fix a typo"], check=True,
                   env={"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@example.com", "GIT_COMMITTER_NAME": "x",
                        "GIT_COMMITTER_EMAIL": "x@example.com", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert evidence(clone, "verify", str(ref["out"] / "c.pdf")).code == 1
    # a deleted entry is named too
    (clone / f"{LOG}/20261014T090400Z-wu7wj8.yaml").unlink()
    run = evidence(clone, "verify", str(ref["out"] / "c.zip"))
    assert run.code == 1 and "20261014T090400Z-wu7wj8.yaml: deleted from the working tree" in run.out


def test_each_decision_says_whether_its_signature_verifies(ref: dict[str, Any], tmp_path: Path) -> None:
    data = json.loads((ref["out"] / "c.json").read_text("utf-8"))
    decisions = {d["entry"]: d for s in data["statements"] for d in s["decisions"]}
    signed = [e for e in decisions if "BEGIN SSH SIGNATURE" in (ref["copy"].root / LOG / f"{e}.yaml").read_text()]
    assert signed, "the reference incident has signed decisions"
    for entry, decision in decisions.items():
        expected = "verified: " if entry in signed else "not signed"
        assert decision["signature"].startswith(expected), decision
    # a signed approval edited by hand (and committed) no longer verifies, and the pack says so
    clone = _clone(ref, tmp_path)
    path = clone / LOG / f"{signed[0]}.yaml"
    text = path.read_text("utf-8")
    path.write_text(re.sub(r"^step: (\S+)$", r"step: \1x", text, count=1, flags=re.M), "utf-8")
    subprocess.run(["git", "-C", str(clone), "commit", "-qam", "edit"], check=True,
                   env={"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@example.com", "GIT_COMMITTER_NAME": "x",
                        "GIT_COMMITTER_EMAIL": "x@example.com", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})  # fmt: skip
    run = evidence(clone, "incident", INCIDENT, "-o", str(tmp_path / "t.json"))
    assert run.code == 0, run.err
    tampered = json.loads((tmp_path / "t.json").read_text("utf-8"))
    found = {d["entry"]: d for s in tampered["statements"] for d in s["decisions"]}
    assert found[signed[0]]["signature"].startswith("INVALID: does not verify"), found[signed[0]]
    assert not found[signed[0]]["counted"]


def test_a_forged_manifest_fails(ref: dict[str, Any], tmp_path: Path) -> None:
    data = json.loads((ref["out"] / "c.json").read_text("utf-8"))
    source = next(s for s in data["manifest"]["sources"] if s["role"] == "log-entry")
    source["sha256"] = "0" * 64
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data), "utf-8")
    run = evidence(ref["copy"], "verify", str(forged))
    assert run.code == 1
    assert f"{source['path']}: differs from commit" in run.out


def test_a_zip_whose_bundled_file_was_edited_fails(ref: dict[str, Any], tmp_path: Path) -> None:
    with zipfile.ZipFile(ref["out"] / "c.zip") as original:
        names = original.namelist()
        assert "clearance-evidence-manifest.json" in names and "pack.json" in names
        assert f"sources/{LOG}/20261014T090200Z-8lj46v.yaml" in names
        edited = tmp_path / "edited.zip"
        with zipfile.ZipFile(edited, "w") as copy:
            for name in names:
                raw = original.read(name)
                copy.writestr(name, raw.replace(b"610", b"61") if name.endswith("8lj46v.yaml") else raw)
    run = evidence(ref["copy"], "verify", str(edited))
    assert run.code == 1 and "8lj46v.yaml: the bundled copy differs from the manifest" in run.out


def test_a_history_rewrite_fails(ref: dict[str, Any], tmp_path: Path) -> None:
    clone = _clone(ref, tmp_path)
    env = {"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@example.com", "GIT_COMMITTER_NAME": "x",
           "GIT_COMMITTER_EMAIL": "x@example.com", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
    subprocess.run(["git", "-C", str(clone), "commit", "-q", "--amend", "-m", "reworded"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "reflog", "expire", "--expire=now", "--all"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "gc", "-q", "--prune=now"], check=True, env=env)
    run = evidence(clone, "verify", str(ref["out"] / "c.json"))
    assert run.code == 1, run.out
    assert "is not in the history of this checkout's HEAD" in run.out or "which is not in this checkout" in run.out


def test_an_uncommitted_source_is_said_and_fails_verification(ref: dict[str, Any], tmp_path: Path) -> None:
    clone = _clone(ref, tmp_path)
    (clone / LOG / "20261016T110000Z-uncomm.yaml").write_text(
        "kind: log-entry\ntype: observation\nat: '2026-10-16T11:00:00Z'\nby: viktor-halvorsen\ntext: Late.\n")
    run = evidence(clone, "incident", INCIDENT, "-o", str(tmp_path / "u.json"))
    assert run.code == 0 and "built from 1 uncommitted file(s)" in run.err
    verified = evidence(clone, "verify", str(tmp_path / "u.json"))
    assert verified.code == 1 and "uncommitted" in verified.out


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("20261016T120000Z-broken.yaml", "kind: log-entry\ntype: observation\ntype: decision\n", ":3:1: "),
        ("20261016T120000Z-utf16.yaml", "kind: log-entry\n".encode("utf-16").decode("latin-1"), ":1:1: "),
        ("20261016T120000Z-twodocs.yaml", "kind: log-entry\n---\nkind: log-entry\n", ":"),
    ],
)
def test_an_unreadable_log_entry_refuses_the_pack(ref: dict[str, Any], tmp_path: Path, name: str, text: str,
                                                 message: str) -> None:
    """A pack that silently left out an entry nobody could read would not be the record."""
    clone = _clone(ref, tmp_path)
    (clone / LOG / name).write_text(text, "latin-1")
    run = evidence(clone, "incident", INCIDENT, "-o", str(tmp_path / "x.json"))
    assert run.code == 2 and f"{LOG}/{name}{message}" in run.err, run.err
    assert "cannot leave a log entry out" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incident", "2026-10-14-viral-export-link-exercis", "-o", "x.pdf"), "did you mean"),
        (("incident", INCIDENT, "--audience", "internal", "-o", "x.pdf"), "is classified 'confidential'"),
        (("incident", INCIDENT, "-o", "no/such/folder/x.pdf"), "does not exist"),
        (("changes", "--since", "2026-05-01", "--until", "2026-01-01", "-o", "x.pdf"), "is after"),
        (("changes", "--since", "yesterday-ish", "-o", "x.pdf"), "yesterday-ish"),
        (("incident", INCIDENT, "--format", "docx", "-o", "x.docx"), "invalid choice"),
        (("verify", "no-such-pack.pdf"), "no-such-pack.pdf: cannot read"),
    ],
)
def test_bad_input_is_a_usage_error(ref: dict[str, Any], args: tuple[str, ...], message: str) -> None:
    run = evidence(ref["copy"], *args)
    assert run.code == 2, run.out + run.err
    assert message in run.err and "Traceback" not in run.err
    assert not (ref["copy"].root / "x.pdf").exists()


@pytest.mark.parametrize("content", [b"not a pack at all", b"%PDF-1.7\n garbage", b"PK\x03\x04 broken", b"{}"])
def test_a_file_that_is_no_pack_is_named(ref: dict[str, Any], tmp_path: Path, content: bytes) -> None:
    bogus = tmp_path / "bogus.pdf"
    bogus.write_bytes(content)
    run = evidence(ref["copy"], "verify", str(bogus))
    assert run.code == 2 and f"{bogus}:1:1: not a readable evidence pack" in run.err, run.err


# -- changes pack --------------------------------------------------------------------


def test_changes_pack_lists_exceptions_first(cli: CLI, story: dict[str, Any], tmp_path: Path,  # noqa: F811
                                            pdf_tools: None) -> None:
    repo = story["repo"]
    pack = tmp_path / "changes.pdf"
    run = cli("--root", str(repo.path), "evidence", "changes", "--since", "2026-03-01", "--until", "2026-03-31",
              "-o", str(pack))  # fmt: skip
    assert run.code == 0, run.err
    text = pdftext(pack)
    flat_text = flat(text)
    # summary figures, then exceptions, then every change
    assert text.index("1. Summary") < text.index("2. Exceptions") < text.index("3. Every change")
    exceptions = flat(text[text.index("2. Exceptions"):text.index("3. Every change")])
    assert "AUD001" in exceptions and story["self"][:12] in exceptions  # Carol merged her own change
    assert "AUD002" in exceptions and story["rename"][:12] in exceptions  # a direct commit
    assert story["good"][:12] not in exceptions  # reviewed, with a ticket: no exception
    assert flat("Self-approval (AUD001) 2") in flat_text  # Carol merging her own; Bob approving his own
    assert flat("Tighten the disclosure policy") in flat_text and "GOV-12" in flat_text
    assert "Alice" in flat_text  # the approver of the merged change
    run = cli("--root", str(repo.path), "evidence", "verify", str(pack))
    assert run.code == 0, run.out


def test_changes_pack_counts_a_withheld_change_and_its_exception(cli: CLI, story: dict[str, Any],  # noqa: F811
                                                                 tmp_path: Path) -> None:
    repo = story["repo"]
    repo.write("policies/board.md", """
        ---
        kind: policy
        id: board
        title: Board matters
        owner: comms-lead
        status: active
        classification: confidential
        summary: Board only.
        change_chain: policy-change
        clauses:
          - {id: b-1, text: Board minutes stay with the board.}
        ---
        Board only.
        """)
    secret = repo.commit("Frobcanary acquisition wording", author=CAROL, date="2026-03-07T10:00:00Z")
    out = tmp_path / "c.json"
    run = cli("--root", str(repo.path), "evidence", "changes", "--audience", "internal", "-o", str(out))
    assert run.code == 0, run.err
    raw = out.read_text("utf-8")
    assert "Frobcanary" not in raw and "board.md" not in raw
    data = json.loads(raw)
    assert secret not in [row["commit"] for row in data["rows"]]
    assert f"commit:{secret}" not in [s["path"] for s in data["manifest"]["sources"]]
    counts = dict(map(tuple, data["withheld"]["counts"]))
    assert counts == {"changes": 1, "changes with findings (exceptions)": 1}
    figures = dict(map(tuple, data["figures"]))
    assert figures["Changes withheld from this audience"] == "1"
    # every change counted, the withheld one too: an exception cannot hide behind a classification
    assert int(figures["Changes in the period"]) == len(data["rows"]) + 1
    shown = cli("--root", str(repo.path), "evidence", "changes", "--audience", "confidential", "-o", str(out))
    assert shown.code == 0 and "Frobcanary" in out.read_text("utf-8")


def test_changes_pack_binds_each_commit_and_fails_after_a_rewrite(cli: CLI, story: dict[str, Any],  # noqa: F811
                                                                 tmp_path: Path) -> None:
    repo = story["repo"]
    out = tmp_path / "c.zip"
    assert cli("--root", str(repo.path), "evidence", "changes", "-o", str(out)).code == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        commits = [n for n in archive.namelist() if n.startswith("commits/")]
    assert f"commits/{story['good']}" in commits
    assert cli("--root", str(repo.path), "evidence", "verify", str(out)).code == 0
    # rewrite the history: an old change gets a new message (the old objects stay behind)
    repo.run("filter-branch", "-f", "--msg-filter", "sed s/Tighten/Loosen/", "--", "--all",
             env={"FILTER_BRANCH_SQUELCH_WARNING": "1"})  # fmt: skip
    run = cli("--root", str(repo.path), "evidence", "verify", str(out))
    assert run.code == 1 and "is not in the history of this checkout's HEAD" in run.out, run.out


def test_help_names_every_pack() -> None:
    run = run_cli("evidence", "--help")
    assert run.code == 0
    for word in ("incident", "changes", "verify", "--audience"):
        assert word in run.out or word in run_cli("evidence", "incident", "--help").out
    assert ALICE  # the committers come from history_test


def test_timeline_draws_every_entry_in_time_order_and_breaks_long_quiet_stretches() -> None:
    from clearance.evidence.chart import LEFT, RIGHT, WIDTH, timeline
    from clearance.evidence.model import Event

    times = [f"2026-10-14 09:{m:02d}:00Z" for m in range(0, 60, 5)] + ["2026-12-07 17:00:00Z"]
    events = [Event(at, f"e{n}", "observation", "someone", "text") for n, at in enumerate(times)]
    svg = timeline(events, [("gdpr#art-33", "2026-10-17 09:25:00Z")])
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', svg)]
    assert len(xs) == len(events) and xs == sorted(xs)
    assert xs[0] >= LEFT and xs[-1] <= WIDTH - RIGHT
    # the busy hour keeps most of the width though the record spans seven weeks
    assert xs[-2] - xs[0] > (WIDTH - LEFT - RIGHT) / 4
    assert ">51 days</text>" in svg and ">3 days</text>" in svg and "due: gdpr#art-33" in svg
    assert timeline([Event("not a time", "e", "observation", "x", "t")]) == ""


def test_without_weasyprint_a_pdf_is_refused_with_what_to_install(ref: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint is an extra ('clearance[pdf]'): without it the PDF is refused in one
    line and nothing is written, while JSON, zip and verify still work."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    run = evidence(ref["copy"], "incident", INCIDENT, "-o", str(tmp_path / "x.pdf"))
    assert run.code == 2 and "pip install 'clearance[pdf]'" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "x.pdf").exists()
    assert evidence(ref["copy"], "incident", INCIDENT, "-o", str(tmp_path / "x.json")).code == 0
    assert evidence(ref["copy"], "verify", str(tmp_path / "x.json")).code == 0
