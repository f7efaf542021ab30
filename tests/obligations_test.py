"""Obligation states fail closed: every obligation of every listed regulation is
unassessed until an assessment, a whole-regulation assessment or a threshold over
logged facts settles it; thresholds, relations between notices, updates that re-open
the next report and tolling change the deadline; an unassessed obligation blocks the
close and is reported by ``clearance check`` (OBL001/OBL002)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from clearance import loading
from clearance.incidents import obligations, store
from clearance.model import Document
from conftest import run_cli
from incidents_workflow_test import DATA, INCIDENT, Desk

ROOT = Path(__file__).resolve().parents[1]
T = dt.datetime.fromisoformat


def register(*ids: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for regulation in ids:
        path = ROOT / "policies" / "regulations" / f"{regulation}.yaml"
        doc = loading.load_text(path.read_text("utf-8"), f"policies/regulations/{regulation}.yaml")
        out.update({f"{regulation}#{ob['id']}": ob for ob in doc.data["obligations"]})
    return out


def hand(name: str, text: str) -> Document:
    """A log entry written by hand, loaded as the tools load one."""
    return loading.load_text("kind: log-entry\nby: lena\n" + text, f"incidents/x/log/{name}.yaml")


def states(table: dict[str, Any], entries: list[Document], listed: list[str]) -> dict[str, Any]:
    return {s.key: s for s in obligations.obligation_states(table, entries, listed)}


NOW = T("2026-03-20T00:00:00Z")


def test_every_listed_obligation_is_unassessed_until_someone_says() -> None:
    found = states(register("gdpr", "nis2"), [], ["gdpr", "nis2"])
    assert set(found) == {k for k in register("gdpr", "nis2")}
    assert {s.state(NOW) for s in found.values()} == {"unassessed"}
    # A regulation nobody listed is not made up either.
    assert not any(k.startswith("dora#") for k in found)


def test_a_whole_regulation_assessment_covers_its_obligations_and_one_obligation_overrides_it() -> None:
    entries = [
        hand(
            "a1",
            "type: assessment\nat: '2026-03-14T09:00:00Z'\nregulation: gdpr\napplies: false\n"
            "rationale: no personal data\n",
        ),
        hand(
            "a2",
            "type: assessment\nat: '2026-03-14T10:00:00Z'\nobligation: gdpr#art-33\napplies: true\n"
            "clock_start: '2026-03-14T08:00:00Z'\nrationale: after all, one customer's email\n",
        ),
    ]
    found = states(register("gdpr"), entries, ["gdpr"])
    assert found["gdpr#art-34"].state(NOW) == "not-applicable"
    assert "no personal data" in found["gdpr#art-34"].reason
    art33 = found["gdpr#art-33"]
    assert art33.applies and art33.due == T("2026-03-17T08:00:00Z")
    assert art33.state(T("2026-03-17T08:00:01Z")) == "overdue"


def test_a_threshold_needs_its_facts_and_names_the_entry_and_source_that_settled_it() -> None:
    whole = hand(
        "a1",
        "type: assessment\nat: '2026-01-10T17:00:00Z'\nregulation: us-co-6-1-716\n"
        "applies: true\nclock_start: '2026-01-10T17:00:00Z'\nrationale: Colorado customers\n",
    )
    found = states(register("us-co-6-1-716"), [whole], ["us-co-6-1-716"])
    assert found["us-co-6-1-716#residents"].applies
    ag = found["us-co-6-1-716#attorney-general"]
    assert ag.state(NOW) == "unassessed" and "affected.US-CO" in ag.reason  # fails closed
    facts = hand(
        "f1",
        "type: facts\nat: '2026-01-11T09:00:00Z'\nsource: CRM query 4711\n"
        "facts:\n  affected:\n    US-CO: 499\n",
    )
    found = states(register("us-co-6-1-716"), [whole, facts], ["us-co-6-1-716"])
    ag = found["us-co-6-1-716#attorney-general"]
    assert ag.state(NOW) == "not-applicable"
    assert "US-CO = 499" in ag.reason and "f1 (CRM query 4711)" in ag.reason
    # A later count replaces the earlier one, key by key.
    recount = hand(
        "f2",
        "type: facts\nat: '2026-01-12T09:00:00Z'\nsource: forensic report\n"
        "facts:\n  affected:\n    US-CO: 512\n",
    )
    ag = states(register("us-co-6-1-716"), [whole, facts, recount], ["us-co-6-1-716"])[
        "us-co-6-1-716#attorney-general"
    ]
    assert ag.applies and "forensic report" in ag.reason


def test_a_count_written_as_text_is_not_compared_as_a_number() -> None:
    whole = hand(
        "a1",
        "type: assessment\nat: '2026-01-10T17:00:00Z'\nregulation: us-wa-rcw-19-255\n"
        "applies: true\nclock_start: '2026-01-10T17:00:00Z'\nrationale: yes\n",
    )
    facts = hand(
        "f1",
        "type: facts\nat: '2026-01-11T09:00:00Z'\nsource: a spreadsheet\n"
        "facts:\n  affected:\n    US-WA: '1,200'\n",
    )
    ag = states(register("us-wa-rcw-19-255"), [whole, facts], ["us-wa-rcw-19-255"])[
        "us-wa-rcw-19-255#attorney-general"
    ]
    assert ag.state(NOW) == "unassessed" and "not comparable" in ag.reason


def test_not_later_than_the_resident_notices() -> None:
    entries = [
        hand(
            "a1",
            "type: assessment\nat: '2026-01-10T14:00:00Z'\nregulation: us-de-12b-102\napplies: true\n"
            "clock_start: '2026-01-10T14:00:00Z'\nrationale: Delaware residents\n",
        ),
        hand("f1", "type: facts\nat: '2026-01-10T15:00:00Z'\nsource: CRM\nfacts: {affected: {US-DE: 900}}\n"),
        hand(
            "n1",
            "type: notification\nat: '2026-02-02T15:00:00Z'\nobligation: us-de-12b-102#residents\n"
            "recipient: residents\n",
        ),
    ]
    ag = states(register("us-de-12b-102"), entries, ["us-de-12b-102"])["us-de-12b-102#attorney-general"]
    assert ag.due == T("2026-02-02T15:00:00Z")
    assert ag.state(T("2026-02-02T15:00:01Z")) == "overdue"  # the residents were told first
    told = hand(
        "n2",
        "type: notification\nat: '2026-02-02T14:00:00Z'\nobligation: us-de-12b-102#attorney-general\n"
        "recipient: AG\n",
    )
    ag = states(register("us-de-12b-102"), [*entries, told], ["us-de-12b-102"])[
        "us-de-12b-102#attorney-general"
    ]
    assert ag.state(NOW) == "met"


def test_each_dora_update_reopens_the_final_report() -> None:
    base = [
        hand(
            "a1",
            "type: assessment\nat: '2026-03-10T11:00:00Z'\nregulation: dora\napplies: true\n"
            "clock_start: '2026-03-10T11:00:00Z'\nrationale: major incident\n",
        ),
        hand(
            "f1",
            "type: facts\nat: '2026-03-10T11:00:00Z'\nsource: desk\nfacts: {member_state: DE, "
            "entity_type: payment-institution, nis2_essential_or_important: false, "
            "aware: '2026-03-10T09:00:00Z', client_financial_interests_affected: false}\n",
        ),
        hand(
            "n1",
            "type: notification\nat: '2026-03-10T13:00:00Z'\nobligation: dora#initial-notification\n"
            "recipient: BaFin\n",
        ),
        hand(
            "n2",
            "type: notification\nat: '2026-03-13T10:00:00Z'\nobligation: dora#intermediate-report\n"
            "recipient: BaFin\n",
        ),
        hand(
            "n3",
            "type: notification\nat: '2026-04-10T10:00:00Z'\nobligation: dora#final-report\n"
            "recipient: BaFin\n",
        ),
    ]
    final = states(register("dora"), base, ["dora"])["dora#final-report"]
    assert final.state(T("2026-04-11T00:00:00Z")) == "met"
    update = hand(
        "n4",
        "type: notification\nat: '2026-04-12T10:00:00Z'\nobligation: dora#intermediate-update\n"
        "recipient: BaFin\n",
    )
    final = states(register("dora"), [*base, update], ["dora"])["dora#final-report"]
    assert final.start == T("2026-04-12T10:00:00Z") and final.notified is None
    assert final.due == T("2026-05-12T23:59:59+02:00")  # end of the day in Germany
    assert final.state(T("2026-04-13T00:00:00Z")) == "open"
    assert states(register("dora"), base, ["dora"])["dora#clients"].state(NOW) == "not-applicable"


def test_a_law_enforcement_delay_tolls_the_clock_until_it_ends() -> None:
    entries = [
        hand(
            "a1",
            "type: assessment\nat: '2026-01-10T20:00:00Z'\nregulation: hipaa-breach-notification\n"
            "applies: true\nclock_start: '2026-01-10T20:00:00Z'\nrationale: PHI\n",
        ),
        hand(
            "f1",
            "type: facts\nat: '2026-01-10T20:00:00Z'\nsource: intake\n"
            "facts: {hipaa_role: covered-entity, affected: {total: 40, US-TX: 40}}\n",
        ),
        hand(
            "t1",
            "type: tolling\nat: '2026-01-20T15:00:00Z'\nregulation: hipaa-breach-notification\n"
            "basis: written\nrationale: FBI letter asks us to delay\n",
        ),
    ]
    found = states(register("hipaa-breach-notification"), entries, ["hipaa-breach-notification"])
    individuals = found["hipaa-breach-notification#164-404"]
    assert individuals.state(T("2026-03-20T00:00:00Z")) == "tolled" and individuals.due is None
    assert found["hipaa-breach-notification#164-406"].state(NOW) == "not-applicable"
    ended = hand(
        "t2",
        "type: tolling\nat: '2026-01-20T15:00:00Z'\nuntil: '2026-02-19T15:00:00Z'\n"
        "regulation: hipaa-breach-notification\nbasis: written\nrationale: FBI letter, 30 days\n",
    )
    individuals = states(
        register("hipaa-breach-notification"), [*entries, ended], ["hipaa-breach-notification"]
    )["hipaa-breach-notification#164-404"]
    assert individuals.due == T("2026-04-10T23:59:59Z")  # 60 days + the 30 days tolled
    assert individuals.state(T("2026-04-11T00:00:00Z")) == "overdue"


def test_a_cycle_in_a_hand_written_register_is_reported_not_looped() -> None:
    table = {
        "r#a": {"id": "a", "title": "A", "notify": "x", "after": "b", "deadline": {"unit": "asap"}},
        "r#b": {"id": "b", "title": "B", "notify": "x", "after": "a", "deadline": {"unit": "asap"}},
    }
    found = states(table, [], ["r"])
    assert {s.state(NOW) for s in found.values()} == {"unassessed"}


# --- through the CLI and 'clearance check' ------------------------------------------


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    return Desk(root)


def rules(desk: Desk, rule: str) -> list[dict[str, Any]]:
    result = run_cli("--root", str(desk.root), "check", "--format", "json")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    return [f for f in (data["findings"] if isinstance(data, dict) else data) if f["rule"] == rule]


def test_an_incident_with_an_unassessed_listed_regulation_cannot_close(desk: Desk) -> None:
    desk.open()
    for regulation in ("gdpr", "sec-8k", "nis2", "dora"):
        desk.ok(
            "assess",
            INCIDENT,
            regulation,
            "--applies",
            "no",
            "--rationale",
            "out of scope",
            who="lena",
            now="2026-03-14T10:00:00Z",
        )
    desk.ok(
        "log",
        INCIDENT,
        "status-change",
        "--to",
        "stable",
        "--text",
        "calm",
        who="cleo",
        now="2026-03-14T11:00:00Z",
    )
    desk.ok(
        "log",
        INCIDENT,
        "resolution-decision",
        "--rationale",
        "nothing was published",
        who="cleo",
        now="2026-03-14T11:01:00Z",
    )
    refused = desk("close", INCIDENT, who="cleo", now="2026-03-14T11:02:00Z")
    assert refused.code == 1
    assert "hipaa#" in refused.err and "never assessed" in refused.err
    assert "gdpr#" not in refused.err  # assessed as a whole regulation
    status = desk.status("2026-03-14T11:02:00Z")
    states_by_key = {o["obligation"]: o["state"] for o in status["obligations"]}
    assert states_by_key["gdpr#art33"] == "not-applicable"
    assert {v for k, v in states_by_key.items() if k.startswith("hipaa#")} == {"unassessed"}
    desk.ok(
        "assess",
        INCIDENT,
        "hipaa",
        "--applies",
        "no",
        "--rationale",
        "no health data",
        who="lena",
        now="2026-03-14T11:03:00Z",
    )
    desk.ok("close", INCIDENT, who="cleo", now="2026-03-14T11:04:00Z")
    assert rules(desk, "OBL001") == []


def test_a_hand_written_close_with_an_unassessed_regulation_is_an_error(desk: Desk) -> None:
    desk.open()
    for regulation in ("gdpr", "sec-8k", "nis2", "dora"):
        desk.ok(
            "assess",
            INCIDENT,
            regulation,
            "--applies",
            "no",
            "--rationale",
            "out of scope",
            who="lena",
            now="2026-03-14T10:00:00Z",
        )
    for at, source, target in (
        ("2026-03-14T11:00:00Z", "triage", "stable"),
        ("2026-03-14T11:05:00Z", "stable", "closed"),
    ):
        store.append_entry(
            desk.root,
            INCIDENT,
            {
                "kind": "log-entry",
                "type": "status-change",
                "at": at,
                "by": "cleo",
                "from": source,
                "to": target,
            },
        )
    found = rules(desk, "OBL001")
    assert len(found) == 1 and "'hipaa'" in found[0]["message"] and found[0]["severity"] == "error"
    assert "clearance incident assess" in found[0]["hint"] and "reopen" in found[0]["hint"]
    assert desk.check().code == 1


def test_an_open_incident_past_its_assessment_time_gets_a_warning(desk: Desk) -> None:
    desk.open()
    config = desk.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "today: '2026-03-14'\n", "utf-8")
    assert rules(desk, "OBL002") == []  # detected this morning: still within the day
    config.write_text(
        config.read_text("utf-8").replace("today: '2026-03-14'", "today: '2026-03-16'"), "utf-8"
    )
    found = rules(desk, "OBL002")
    assert {f["severity"] for f in found} == {"warning"} and len(found) == 5
    assert "open more than PT24H" in found[0]["message"]
    assert rules(desk, "OBL001") == []  # a warning: the incident is still being worked


def test_obl001_cannot_be_switched_off_in_configuration(desk: Desk) -> None:
    config = desk.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "rules: {OBL001: off}\n", "utf-8")
    result = desk.check()
    assert result.code == 2 and "OBL001" in result.err


def test_the_assessment_time_is_configurable(desk: Desk) -> None:
    desk.open()
    config = desk.root / "clearance.yaml"
    config.write_text(
        config.read_text("utf-8") + "today: '2026-03-16'\nobligations: {assess_within: P7D}\n", "utf-8"
    )
    assert rules(desk, "OBL002") == []
    config.write_text(config.read_text("utf-8").replace("P7D", "PT1H"), "utf-8")
    assert rules(desk, "OBL002") and "open more than PT1H" in rules(desk, "OBL002")[0]["message"]
