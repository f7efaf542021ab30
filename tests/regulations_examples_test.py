"""The register's clocks against worked examples: every example in
policies/regulations evaluates to what it says, the issue's done-when cases are
checked here independently of the register's own examples, and an edit that breaks a
clock fails (in the tests and in ``clearance check`` as REG001)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from clearance import loading
from clearance.incidents import examples, obligations
from clearance.model import Document
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
REGISTER = sorted((ROOT / "policies" / "regulations").glob("*.yaml"))
T = dt.datetime.fromisoformat


def load(path: Path, text: str | None = None) -> Document:
    return loading.load_text(
        text if text is not None else path.read_text("utf-8"), str(path.relative_to(ROOT))
    )


def all_examples() -> list[tuple[str, examples.ExampleResult]]:
    out = []
    for path in REGISTER:
        for result in examples.run(load(path)):
            out.append((f"{result.obligation}[{result.position}] {result.name}", result))
    return out


EXAMPLES = all_examples()


def test_every_obligation_in_the_register_has_a_worked_example_and_a_citation() -> None:
    for path in REGISTER:
        doc = load(path)
        assert doc.data["verification"]["status"] in ("unverified", "verified")
        assert (
            "counsel" in doc.data["verification"].get("note", "")
            or doc.data["verification"]["status"] == "verified"
        )
        for ob in doc.data["obligations"]:
            assert ob.get("cite"), f"{path.name}#{ob['id']} has no citation"
            assert ob.get("examples"), f"{path.name}#{ob['id']} has no worked example"
    assert len(EXAMPLES) >= 100


@pytest.mark.parametrize("result", [r for _, r in EXAMPLES], ids=[name for name, _ in EXAMPLES])
def test_worked_example(result: examples.ExampleResult) -> None:
    assert result.ok, result.problems


def table(regulation_id: str) -> dict[str, Any]:
    doc = load(ROOT / "policies" / "regulations" / f"{regulation_id}.yaml")
    return {f"{regulation_id}#{ob['id']}": ob for ob in doc.data["obligations"]}


def entry(name: str, **data: Any) -> Document:
    return Document(f"incidents/x/log/{name}.yaml", {"kind": "log-entry", "by": "lena", **data}, {}, {})


def state_of(regulation_id: str, key: str, *entries: Document) -> obligations.ObligationState:
    found = {s.key: s for s in obligations.evaluate(table(regulation_id), list(entries), [regulation_id])}
    return found[f"{regulation_id}#{key}"]


def assessed(start: str, regulation: str) -> Document:
    return entry(
        "a1",
        type="assessment",
        at=start,
        regulation=regulation,
        applies=True,
        clock_start=start,
        rationale="it applies",
    )


def test_8k_saturday_determination_is_due_thursday_at_the_edgar_cut_off() -> None:
    found = state_of("sec-form-8k", "item-1-05", assessed("2026-01-10T10:00:00-05:00", "sec-form-8k"))
    assert found.due == T("2026-01-15T17:30:00-05:00")
    assert found.due.strftime("%A %H:%M") == "Thursday 17:30"


def test_8k_determination_on_martin_luther_king_day_is_due_friday() -> None:
    found = state_of("sec-form-8k", "item-1-05", assessed("2026-01-19T09:00:00-05:00", "sec-form-8k"))
    assert found.due == T("2026-01-23T17:30:00-05:00")


def test_8k_filing_after_the_cut_off_on_the_last_day_is_late() -> None:
    start = assessed("2026-01-10T10:00:00-05:00", "sec-form-8k")
    late = entry(
        "n1",
        type="notification",
        at="2026-01-15T17:45:00-05:00",
        obligation="sec-form-8k#item-1-05",
        recipient="EDGAR",
    )
    found = state_of("sec-form-8k", "item-1-05", start, late)
    assert found.state(T("2026-01-16T00:00:00-05:00")) == "late"


def test_hipaa_small_breach_is_due_sixty_days_after_the_end_of_the_calendar_year() -> None:
    facts = entry(
        "f1",
        type="facts",
        at="2026-05-20T10:00:00-04:00",
        source="breach log",
        facts={"hipaa_role": "covered-entity", "affected": {"total": 12}},
    )
    start = assessed("2026-05-20T10:00:00-04:00", "hipaa-breach-notification")
    small = state_of("hipaa-breach-notification", "164-408-under-500", start, facts)
    assert small.applies and small.due is not None
    assert small.due.date() == dt.date(2027, 3, 1)
    large = state_of("hipaa-breach-notification", "164-408-500-or-more", start, facts)
    assert large.status == "not-applicable" and "affected.total = 12" in large.reason


def test_dora_classification_after_24_hours_is_not_overdue_the_4_hours_govern() -> None:
    facts = entry(
        "f1",
        type="facts",
        at="2026-03-10T09:00:00+00:00",
        source="incident desk",
        facts={
            "member_state": "IE",
            "entity_type": "payment-institution",
            "nis2_essential_or_important": False,
            "aware": "2026-03-10T09:00:00+00:00",
        },
    )
    start = assessed("2026-03-12T10:00:00+00:00", "dora")  # classified as major 49 h after awareness
    found = state_of("dora", "initial-notification", facts, start)
    assert found.due == T("2026-03-12T14:00:00+00:00")
    assert found.state(T("2026-03-12T10:00:01+00:00")) == "open"
    # Classified within the 24 hours: the 24-hour limit comes first.
    early = state_of("dora", "initial-notification", facts, assessed("2026-03-11T08:00:00+00:00", "dora"))
    assert early.due == T("2026-03-11T09:00:00+00:00")


def test_a_single_california_resident_does_not_trigger_the_attorney_general_notice() -> None:
    facts = entry(
        "f1",
        type="facts",
        at="2026-01-10T09:00:00-08:00",
        source="CRM export",
        facts={"affected": {"US-CA": 1, "total": 1}},
    )
    start = assessed("2026-01-10T09:00:00-08:00", "us-ca-civil-code-1798-82")
    ag = state_of("us-ca-civil-code-1798-82", "attorney-general", start, facts)
    assert ag.status == "not-applicable"
    assert "US-CA = 1" in ag.reason and "more than 500" in ag.reason and "CRM export" in ag.reason
    residents = state_of("us-ca-civil-code-1798-82", "residents", start, facts)
    assert residents.applies and residents.due == T("2026-02-09T23:59:59-08:00")


def test_a_register_edit_that_breaks_a_clock_fails_its_example() -> None:
    path = ROOT / "policies" / "regulations" / "sec-form-8k.yaml"
    text = path.read_text("utf-8")
    broken = text.replace("      cutoff: '17:30'\n", "", 1)  # EDGAR's filing day shown as 23:59
    assert broken != text
    failures = [r for r in examples.run(load(path, broken)) if not r.ok]
    assert any("2026-01-15T23:59:59-05:00" in p for r in failures for p in r.problems)
    five = text.replace("      amount: 4\n", "      amount: 5\n", 1)
    failures = [r for r in examples.run(load(path, five)) if not r.ok]
    assert {r.name for r in failures} >= {"Determination on Saturday 10 January 2026"}


def test_check_reports_a_broken_example_with_its_place(minimal_repo: Path) -> None:
    target = minimal_repo / "policies" / "regulations"
    target.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "policies" / "regulations" / "us-ca-civil-code-1798-82.yaml").read_text("utf-8")
    (target / "ca.yaml").write_text(
        text.replace(
            "threshold: {fact: affected.US-CA, gt: 500}", "threshold: {fact: affected.US-CA, gte: 1}"
        ),
        "utf-8",
    )
    result = run_cli("--root", str(minimal_repo), "check", "--format", "json")
    assert result.code == 1, result.err
    data = json.loads(result.out)
    rows = [f for f in (data["findings"] if isinstance(data, dict) else data) if f["rule"] == "REG001"]
    assert rows and all("ca.yaml" in json.dumps(f) for f in rows)
    assert any("single California resident" in f["message"] for f in rows)


def test_the_register_is_clean_under_check(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "policies", root / "policies")
    (root / "clearance.yaml").write_text("organisation: {name: T}\ncontent: [policies]\n", "utf-8")
    result = run_cli("--root", str(root), "check", "--format", "json")
    data = json.loads(result.out)
    rows = data["findings"] if isinstance(data, dict) else data
    assert [f for f in rows if f["rule"].startswith("REG") or f["rule"].startswith("SCH")] == []


def _rules(root: Path, rule: str) -> list[dict[str, Any]]:
    result = run_cli("--root", str(root), "check", "--format", "json")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    return [f for f in (data["findings"] if isinstance(data, dict) else data) if f["rule"] == rule]


def test_a_notify_step_later_than_the_shortest_listed_clock_is_flagged(minimal_repo: Path) -> None:
    protocol = minimal_repo / "protocols" / "playbooks" / "leak-claim.yaml"
    text = protocol.read_text("utf-8")
    steps = '  - {id: hold, title: Publish the holding statement, role: crisis-lead, within: PT15M, cites: ["disclosure#sd-2"]}\n'
    assert steps in text
    protocol.write_text(
        text.replace(
            steps, steps + "  - {id: notify, title: Notify the authority, role: crisis-lead, within: P5D}\n"
        ),
        "utf-8",
    )
    found = _rules(minimal_repo, "REG002")
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "'notify'" in found[0]["message"] and "gdpr#art-33" in found[0]["message"]
    assert found[0]["line"] == text.count("\n", 0, text.index(steps)) + 2  # the step's line
    # Within the clock: clean. Saying it notifies under nothing listed: clean as well.
    protocol.write_text(protocol.read_text("utf-8").replace("within: P5D", "within: P3D"), "utf-8")
    assert _rules(minimal_repo, "REG002") == []
    protocol.write_text(
        protocol.read_text("utf-8").replace("within: P3D}", "within: P5D, notifies: []}"), "utf-8"
    )
    assert _rules(minimal_repo, "REG002") == []


def test_a_step_that_notifies_under_an_unlisted_regulation_is_an_error(minimal_repo: Path) -> None:
    protocol = minimal_repo / "protocols" / "playbooks" / "leak-claim.yaml"
    text = protocol.read_text("utf-8")
    old = 'within: PT15M, cites: ["disclosure#sd-2"]}'
    protocol.write_text(text.replace(old, old[:-1] + ", notifies: [gdpr#art-99, dora]}"), "utf-8")
    found = _rules(minimal_repo, "REG003")
    assert [f["severity"] for f in found] == ["error", "error"]
    assert "names no obligation" in found[0]["message"] or "names no obligation" in found[1]["message"]
    assert any("does not list" in f["message"] for f in found)


def test_the_reference_protocols_give_short_clocks_their_own_step() -> None:
    # The viral-exposure playbook once had one 'notify within P3D' step beside
    # CERT-In's 6 hours and DORA's 4 hours.
    doc = load(ROOT / "protocols" / "playbooks" / "viral-data-exposure-allegation.yaml")
    steps = {s["id"]: s for s in doc.data["steps"]}
    assert steps["notify-short-clocks"]["within"] == "PT4H"
    assert set(steps["notify-short-clocks"]["notifies"]) >= {"dora", "cert-in-directions", "nis2"}
