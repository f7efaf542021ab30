"""Issue 24: each mistake a crisis-communication and privacy reviewer found in the
reference content is caught by a rule that fails on the old content, and the current
content passes.

Each test copies this repository's content into a temporary folder, puts one mistake
back the way a person would (deleting the follow-up entry that fixed it, restoring the
old template from tests/data/content_old, editing YAML by hand) and runs the real
``clearance check``. Only the rules of this issue are asserted: a copy outside git
also reports signature and provenance findings that are not the point here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, edit, run_cli

ROOT = Path(__file__).resolve().parents[1]
OLD = DATA / "content_old"
OURS = ("CLM", "AWR", "SEV", "EXR", "NTC", "TPW", "ACK")
EXPORT = "2026-10-14-viral-export-link-exercise"
JUNE = "2026-06-17-tabletop-confirmed-breach-public"
NOVEMBER = "2026-11-04-tabletop-executive-misconduct-allegation"


def copy(tmp_path: Path, *incidents: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "clearance.yaml", root / "clearance.yaml")
    shutil.copytree(ROOT / "policies", root / "policies")
    shutil.copytree(ROOT / "protocols", root / "protocols")
    shutil.copytree(ROOT / "training", root / "training")
    for incident in incidents:
        shutil.copytree(ROOT / "incidents" / incident, root / "incidents" / incident)
    return root


def findings(root: Path) -> list[dict[str, Any]]:
    run = run_cli("--root", str(root), "check", "--format", "json")
    assert run.code in (0, 1), run.err
    return [f for f in run.json()["findings"] if str(f["rule"]).startswith(OURS)]


def findings_all(root: Path) -> list[dict[str, Any]]:
    run = run_cli("--root", str(root), "check", "--format", "json")
    assert run.code in (0, 1), run.err
    return list(run.json()["findings"])


def rules(found: list[dict[str, Any]]) -> list[str]:
    return sorted(f["rule"] for f in found)


def log(root: Path, incident: str) -> Path:
    return root / "incidents" / incident / "log"


def drop(root: Path, incident: str, *entries: str) -> None:
    for entry in entries:
        (log(root, incident) / f"{entry}.yaml").unlink()


def test_the_current_content_passes(tmp_path: Path) -> None:
    root = copy(tmp_path, *(p.name for p in (ROOT / "incidents").iterdir() if p.is_dir()))
    assert findings(root) == []


# 1. Claims against the record -------------------------------------------------------


def test_customer_email_claiming_a_notification_not_yet_made(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    drop(root, EXPORT, "20261207T173624Z-xp8rlx")  # the correction that records it
    found = [f for f in findings(root) if f["rule"] == "CLM001"]
    assert len(found) == 1
    message = found[0]["message"]
    assert "publication 20261014T124000Z-7mk4iq" in message
    assert "reported the incident to our lead data protection authority" in message
    assert "notification" in message and "20261015T113000Z-n16ylm" in message  # the entry that came later
    assert found[0]["path"].endswith("20261014T124000Z-7mk4iq.yaml")
    assert "correction --corrects 20261014T124000Z-7mk4iq" in found[0]["hint"]


def test_claim_that_customers_were_told_before_any_customer_notice(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    drop(
        root, EXPORT, "20261014T124000Z-7mk4iq", "20261207T173624Z-xp8rlx"
    )  # the customer email's publication
    found = [f for f in findings(root) if f["rule"] == "CLM001"]
    # The resolution statement of 15 October says 'We have told every affected customer'.
    assert any("20261015T150000Z-nq3x2a" in f["message"] and "customers-told" in f["message"] for f in found)


def test_claim_written_by_hand_in_a_new_incident_is_checked_at_approval(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    folder = log(root, EXPORT)
    # A hand-written draft that claims the regulator was told, approved at once: the
    # only notification in the log comes a day later.
    (folder / "20261014T130000Z-aaaaaa.yaml").write_text(
        "kind: log-entry\ntype: draft\nat: '2026-10-14T13:00:00Z'\nby: mira-castellanos\nchannel: x\n"
        "text: We have informed the ICO and the relevant regulators have been notified.\n",
        "utf-8",
    )
    (folder / "20261014T130500Z-bbbbbb.yaml").write_text(
        "kind: log-entry\ntype: approval\nat: '2026-10-14T13:05:00Z'\nby: rafael-quintero\n"
        "draft: 20261014T130000Z-aaaaaa\nrole: legal-counsel\nstep: legal\nsha256: " + "0" * 64 + "\n",
        "utf-8",
    )
    found = [f for f in findings(root) if f["rule"] == "CLM001" and "aaaaaa" in f["message"]]
    assert len(found) == 1
    assert "approval 20261014T130500Z-bbbbbb" in found[0]["message"]
    assert "clearance incident notify" in found[0]["hint"]


def test_a_count_is_confirmed_only_by_a_record_of_that_number(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    # Without the scribe's correction (1,240, not 12,400) the newsroom update's
    # '1,240 contacts' rests on nothing but a figure passed by voice.
    drop(root, EXPORT, "20261014T102500Z-lvv107")
    found = [f for f in findings(root) if f["rule"] == "CLM001" and "affected-count" in f["message"]]
    assert any("20261014T103200Z-xkmiyh" in f["message"] and "1,240 contacts" in f["message"] for f in found)
    # A facts entry with that number, logged before the approvals, confirms it.
    (log(root, EXPORT) / "20261014T102600Z-ffffff.yaml").write_text(
        "kind: log-entry\ntype: facts\nat: '2026-10-14T10:26:00Z'\nby: viktor-halvorsen\n"
        "source: security case file, row count of the export\nfacts:\n  affected:\n    total: 1240\n",
        "utf-8",
    )
    assert [f for f in findings(root) if f["rule"] == "CLM001" and "affected-count" in f["message"]] == []


# 2. Clocks from the earliest evidence -----------------------------------------------


def test_gdpr_clock_started_at_the_decision_not_at_the_evidence(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    drop(root, EXPORT, "20261207T173622Z-hs234n")  # the restated assessment
    found = [f for f in findings(root) if f["rule"] == "AWR001"]
    assert len(found) == 1
    assert found[0]["path"].endswith("20261014T101500Z-lf6zgq.yaml")
    assert "gdpr#art-33" in found[0]["message"] and "20261014T092500Z-pgnx8q" in found[0]["message"]
    assert "--clock-start 2026-10-14T09:25:00Z" in found[0]["hint"]


def test_a_later_clock_start_with_a_rationale_naming_the_evidence_passes(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    restated = log(root, EXPORT) / "20261207T173622Z-hs234n.yaml"
    edit(restated, "clock_start: '2026-10-14T09:25:00Z'", "clock_start: '2026-10-14T10:10:00Z'")
    assert [f for f in findings(root) if f["rule"] == "AWR001"] == []  # its rationale names 09:25
    edit(restated, "20261014T092500Z-pgnx8q", "the first observation")
    assert rules(findings(root)) == ["AWR001"]


# 3. Severity against the protocol's criteria ----------------------------------------


@pytest.mark.parametrize(
    ("incident", "escalation", "evidence"),
    [
        (JUNE, "20261207T173712Z-iyne72", "20260617T130000Z-qumpmh"),  # leak-site post
        (NOVEMBER, "20261207T174231Z-7lafqq", "20261104T132500Z-4e3l4v"),  # national newspaper
    ],
)
def test_tabletops_that_stayed_below_their_criteria(
    tmp_path: Path, incident: str, escalation: str, evidence: str
) -> None:
    root = copy(tmp_path, incident)
    path = log(root, incident) / f"{escalation}.yaml"
    # An escalation that does not say which entry called for it does not settle it.
    edit(path, evidence, "an earlier observation")
    found = [f for f in findings(root) if f["rule"] == "SEV001"]
    assert len(found) == 1
    assert found[0]["path"].endswith(f"{evidence}.yaml")
    assert "sev1" in found[0]["message"] and "sev2" in found[0]["message"]
    path.unlink()
    assert [f["rule"] for f in findings(root) if f["rule"] == "SEV001"] == ["SEV001"]


def test_personal_data_declared_sev2_is_under_classified(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    edit(
        root / "incidents" / JUNE / "incident.yaml",
        "exercise: true",
        "exercise: true\ndata_classes: [employee-data]",
    )
    drop(root, JUNE, "20261207T173712Z-iyne72")
    found = [f for f in findings(root) if f["rule"] == "SEV001"]
    assert len(found) == 1 and "employee-data" in found[0]["message"]


def test_misconduct_protocol_without_hr_in_its_chains(tmp_path: Path) -> None:
    root = copy(tmp_path)
    shutil.copy(
        OLD / "protocols/playbooks/executive-misconduct-allegation.yaml", root / "protocols/playbooks"
    )
    found = [f for f in findings(root) if f["rule"] == "SEV002"]
    assert {f["message"].split(" ")[1] for f in found} == {"sev1", "sev2", "sev3", "sev4"}
    assert all("'hr-lead'" in f["message"] for f in found)


# 4. Exercises that exercise ---------------------------------------------------------


def test_role_change_burst_is_not_participation(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    for path in log(root, JUNE).glob("*.yaml"):
        text = path.read_text("utf-8")
        if "type: correction" in text and "burst of role changes" in text:
            path.unlink()
    found = [f for f in findings(root) if f["rule"] == "EXR001"]
    assert len(found) == 1
    assert "23 role changes by hana-kowalczyk within 44 seconds" in found[0]["message"]
    assert "assign people who never drafted, approved, decided or observed anything" in found[0]["message"]
    assert "beatriz-lobo (customer-liaison)" in found[0]["message"]


def test_tabletop_without_a_draft_through_its_chain(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    # Take away one approval of the follow-up draft: the chain is no longer complete.
    approvals = [p for p in log(root, JUNE).glob("20261207T1737*.yaml") if "type: approval" in p.read_text()]
    assert approvals
    approvals[0].unlink()
    assert "EXR002" in rules(findings(root))


def test_review_without_the_required_sections(tmp_path: Path) -> None:
    root = copy(tmp_path, NOVEMBER)
    review = root / "incidents" / NOVEMBER / "review.md"
    edit(review, "## Stakeholder feedback", "## Feedback")
    edit(review, "## Impact", "## Effects")
    found = [f for f in findings(root) if f["rule"] == "EXR003"]
    assert len(found) == 1
    assert "'impact'" in found[0]["message"] and "'stakeholder feedback'" in found[0]["message"]


def test_stakeholder_feedback_without_sources(tmp_path: Path) -> None:
    root = copy(tmp_path, EXPORT)
    review = root / "incidents" / EXPORT / "review.md"
    text = review.read_text("utf-8")
    start = text.index("## Stakeholder feedback")
    end = text.index("## ", start + 3)
    review.write_text(
        text[:start]
        + "## Stakeholder feedback\n\n- Customers were mostly calm.\n- Journalists moved on.\n\n"
        + text[end:],
        "utf-8",
    )
    found = [f for f in findings(root) if f["rule"] == "EXR005"]
    assert len(found) == 1 and found[0]["path"].endswith("review.md")


def test_action_item_not_picked_up_by_the_next_review(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    review = root / "incidents" / JUNE / "review.md"
    edit(review, "  status: done\n  documents: [protocol/confirmed-breach-public]\n", "  status: open\n")
    found = [f for f in findings(root) if f["rule"] == "EXR004"]
    assert len(found) == 1  # found from the item's words: 'the confirmed-breach protocol'
    assert "confirmed-breach-public" in found[0]["message"] and "2026-10-20" in found[0]["message"]
    # Carried forward by the protocol's review: said so in the protocol.
    edit(
        root / "protocols/playbooks/confirmed-breach-public.yaml",
        "  last: '2026-10-20'\n",
        f"  last: '2026-10-20'\n  actions: ['{JUNE}-review#A1']\n",
    )
    assert [f for f in findings(root) if f["rule"] == "EXR004"] == []


# 6. Templates -----------------------------------------------------------------------


def test_old_customer_email_lacks_the_notice_laws_elements(tmp_path: Path) -> None:
    root = copy(tmp_path)
    shutil.copy(OLD / "protocols/templates/customer-email-data-incident.md", root / "protocols/templates")
    found = [f for f in findings(root) if f["rule"] == "NTC001"]
    text = "\n".join(f["message"] for f in found)
    for law in (
        "us-ca-civil-code-1798-82#residents",
        "us-ny-gbl-899-aa#residents",
        "hipaa-breach-notification#164-404",
        "gdpr#art-34",
    ):
        assert law in text
    for element in (
        "'title'",
        "'date-range'",
        "'credit-agencies'",
        "'ftc'",
        "'attorney-general'",
        "'contact-procedures'",
        "'dpo'",
    ):
        assert element in text


@pytest.mark.parametrize(
    ("template", "rule", "words"),
    [
        ("apology", "TPW001", "That's on us"),
        ("apology", "TPW002", "admission language"),
        ("holding-newsroom", "TPW001", "We take this seriously"),
        ("internal-all-staff-notice", "TPW002", "keep every record"),
        ("internal-all-staff-notice", "TPW002", "phishing"),
    ],
)
def test_old_templates_fail_the_wording_rules(tmp_path: Path, template: str, rule: str, words: str) -> None:
    root = copy(tmp_path)
    shutil.copy(OLD / f"protocols/templates/{template}.md", root / "protocols/templates")
    found = [f for f in findings(root) if f["rule"] == rule and template in f["path"]]
    assert any(words in f["message"] for f in found), found


def test_item_1_05_without_its_item_8_01_variant(tmp_path: Path) -> None:
    root = copy(tmp_path)
    (root / "protocols/templates/sec-8k-item-8-01.md").unlink()
    for protocol in ("confirmed-breach-public", "viral-data-exposure-allegation"):
        edit(root / f"protocols/playbooks/{protocol}.yaml", "- sec-8k-item-8-01\n", "")
    found = [f for f in findings(root) if f["rule"] == "TPW003"]
    assert sorted(f["message"].split("'")[1] for f in found) == [
        "confirmed-breach-public",
        "viral-data-exposure-allegation",
    ]


def test_a_bad_pattern_in_the_notice_list_is_reported_not_raised(tmp_path: Path) -> None:
    root = copy(tmp_path)
    edit(
        root / "policies/individual-notices.md",
        "patterns: ['\\{\\{ ?dpo_contact ?\\}\\}']",
        "patterns: ['(unclosed']",
    )
    found = findings(root)
    assert any(f["rule"] == "NTC002" and f["path"] == "policies/individual-notices.md" for f in found)


# 5. Training and read acknowledgements ----------------------------------------------


def test_training_coverage_by_role(tmp_path: Path) -> None:
    root = copy(tmp_path)
    assert [f for f in findings_all(root) if f["rule"].startswith("ACK")] == []
    batch = root / "training/acknowledgements/2026-11-30-lms-export.yaml"
    # The learning system's export lost one row: that person is named, under each role they hold.
    text = batch.read_text("utf-8")
    start = text.index("  - person: sunniva-aas\n")
    end = text.index("  - person:", start + 1)
    batch.write_text(text[:start] + text[end:], "utf-8")
    found = [f for f in findings_all(root) if f["rule"] == "ACK002"]
    roles = sorted(f["message"].split("'")[1] for f in found)
    assert roles == ["legal-counsel", "privacy-officer"]
    assert all("sunniva-aas" in f["message"] and "(due 2026-11-14)" in f["message"] for f in found)


def test_acknowledging_a_version_that_never_existed(tmp_path: Path) -> None:
    root = copy(tmp_path)
    record = root / "training/acknowledgements/2026-12-07-board-induction.yaml"
    edit(record, "    version: '2026-10-15'\n", "    version: '2026-11-01'\n")
    found = [f for f in findings_all(root) if f["rule"] == "ACK001"]
    assert len(found) == 1 and "current version is 2026-10-15" in found[0]["message"]


def test_self_recorded_acknowledgement_committed_by_someone_else(tmp_path: Path) -> None:
    root = copy(tmp_path)
    git = ["git", "-C", str(root)]
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ["PATH"]}

    def commit(who: str, email: str, *paths: str) -> None:
        subprocess.run([*git, "add", *paths], check=True, env=env)
        subprocess.run(
            [*git, "-c", f"user.name={who}", "-c", f"user.email={email}", "commit", "-q", "-m", "add"],
            check=True,
            env={
                **env,
                "GIT_AUTHOR_DATE": "2026-12-07T12:00:00Z",
                "GIT_COMMITTER_DATE": "2026-12-07T12:00:00Z",
            },
        )

    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    own = "training/acknowledgements/2026-12-07-delphine-arceneaux.yaml"
    (root / own).unlink()
    commit("Maintainer", "maintainer@example.com", ".")
    # Her own record, committed by her: accepted.
    shutil.copy(ROOT / own, root / own)
    commit("Delphine Arceneaux", "delphine.arceneaux@example.com", own)
    assert [f for f in findings_all(root) if f["rule"] == "ACK003"] == []
    # A record for someone else, written as if it were their own: refused.
    other = "training/acknowledgements/2026-12-07-jonah-whitcombe.yaml"
    text = (ROOT / own).read_text("utf-8").replace("delphine-arceneaux", "jonah-whitcombe")
    (root / other).write_text(text.replace("Delphine Arceneaux", "Jonah Whitcombe"), "utf-8")
    commit("Delphine Arceneaux", "delphine.arceneaux@example.com", other)
    found = [f for f in findings_all(root) if f["rule"] == "ACK003"]
    assert len(found) == 1 and found[0]["path"] == other
    assert "delphine.arceneaux@example.com" in found[0]["message"]


def test_bad_patterns_in_criteria_and_wording_rules_are_findings_with_a_place(tmp_path: Path) -> None:
    root = copy(tmp_path)
    edit(
        root / "protocols/playbooks/executive-misconduct-allegation.yaml",
        "    - '\\b(?:lawsuit",
        "    - '(unclosed\\b(?:lawsuit",
    )
    edit(
        root / "policies/statement-wording.md",
        "    companion:\n      - '\\bItem 8\\.01\\b'",
        "    companion:\n      - '(?:)'",
    )
    found = {f["rule"]: f for f in findings(root)}
    assert found["SEV003"]["path"] == "protocols/playbooks/executive-misconduct-allegation.yaml"
    assert "does not compile" in found["SEV003"]["message"]
    assert found["TPW004"]["path"] == "policies/statement-wording.md"
    assert "empty string" in found["TPW004"]["message"]


def test_hand_written_nonsense_in_the_new_fields_is_a_schema_error_never_a_crash(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    edit(
        root / "protocols/playbooks/confirmed-breach-public.yaml",
        "    data_classes: [customer-personal-data, employee-data, payment-data, health-data]",
        "    data_classes: 7",
    )
    edit(
        root / "protocols/playbooks/confirmed-breach-public.yaml",
        "    observations:\n",
        "    observations: {a: b}\n    unused:\n",
    )
    edit(
        root / "policies/individual-notices.md",
        "    templates: [customer-email-data-incident]\n    elements:",
        "    templates: 3\n    elements:",
    )
    edit(
        root / "policies/statement-wording.md",
        "    forbid:\n      - '\\bwe take",
        "    forbid: 12\n    unused:\n      - '\\bwe take",
    )
    edit(
        root / "policies/training-and-exercises.md",
        "  within: P30D\n  what: training",
        "  within: soon\n  what: training",
    )
    edit(
        root / "policies/data-classes/regulatory-statements.yaml",
        "        - type: notification\n          channel_types: [regulator-portal]",
        "        - type: notification\n          channel_types: regulator-portal",
    )
    batch = root / "training/acknowledgements/2026-12-07-board-induction.yaml"
    edit(batch, "  - person: arjun-bhatt", "  - 5\n  - person: arjun-bhatt")
    run = run_cli("--root", str(root), "check", "--format", "json")
    assert run.code == 1, run.err  # findings, not an internal error (3)
    assert "Traceback" not in run.err
    schema = [f for f in run.json()["findings"] if f["rule"] == "SCH001"]
    paths = {f["path"] for f in schema}
    assert {
        "protocols/playbooks/confirmed-breach-public.yaml",
        "policies/individual-notices.md",
        "policies/statement-wording.md",
        "policies/data-classes/regulatory-statements.yaml",
        "training/acknowledgements/2026-12-07-board-induction.yaml",
    } <= paths


def test_review_late_or_missing(tmp_path: Path) -> None:
    root = copy(tmp_path, JUNE)
    review = root / "incidents" / JUNE / "review.md"
    # First closed on Wednesday 17 June: five working days run to Wednesday 24 June; the
    # December follow-up that reopened and closed it again does not move that.
    edit(review, "held_on: '2026-06-19'", "held_on: '2026-06-25'")
    found = [f for f in findings(root) if f["rule"] == "EXR006"]
    assert len(found) == 1 and "due by 2026-06-24" in found[0]["message"]
    edit(review, "held_on: '2026-06-25'", "held_on: '2026-06-24'")
    assert [f for f in findings(root) if f["rule"] == "EXR006"] == []
    review.unlink()
    found = [f for f in findings(root) if f["rule"] == "EXR006"]
    assert len(found) == 1 and found[0]["path"] == f"incidents/{JUNE}/incident.yaml"
    assert f"clearance incident review {JUNE}" in found[0]["hint"]
