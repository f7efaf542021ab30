"""clearance.incidents.metrics: figures computed from the log, never typed in. What
counts as a public update, when the next one is due (escalations make it sooner), and
the first-hour figures of the reference exercise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from clearance import config, engine, loading
from clearance.incidents import metrics
from clearance.index import Index
from clearance.model import Document

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = "2026-01-05-cadence"


def _doc(path: str, text: str) -> Document:
    return loading.load_text(text, path)


def _entry(stamp: str, body: str) -> Document:
    name = stamp.replace("-", "").replace(":", "")
    return _doc(
        f"incidents/{INCIDENT}/log/{name}-x{len(body) % 997:03d}.yaml",
        f"kind: log-entry\nat: '{stamp}'\nby: ada\n{body}",
    )


def _world(*entries: Document) -> tuple[Index, Document, list[Document]]:
    protocol = _doc(
        "protocols/playbooks/p.yaml",
        "kind: protocol\nid: p\nseverities:\n"
        "  - {level: sev2, update_every: PT2H}\n  - {level: sev1, update_every: PT1H}\n",
    )
    social = _doc(
        "protocols/channels/social.yaml", "kind: channel\nid: social\ntype: social\naudience: public\n"
    )
    email = _doc(
        "protocols/channels/email.yaml", "kind: channel\nid: email\ntype: email\naudience: customers\n"
    )
    incident = _doc(
        f"incidents/{INCIDENT}/incident.yaml",
        f"kind: incident\nid: {INCIDENT}\nprotocol: p\nseverity: sev2\n"
        "timestamps: {detected: '2026-01-05T08:00:00+00:00'}\n",
    )
    index = Index([protocol, social, email, incident, *entries])
    return index, incident, index.incident_entries(INCIDENT)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_only_public_channels_of_public_kinds_are_updates() -> None:
    index, _, _ = _world()
    assert metrics.is_public_update(index.get("channel", "social"))
    assert not metrics.is_public_update(index.get("channel", "email"))
    assert not metrics.is_public_update(None)


def test_the_next_update_is_due_by_the_cadence_of_the_severity_then() -> None:
    declared = _entry("2026-01-05T08:10:00+00:00", "type: status-change\nfrom: triage\nto: active\n")
    index, incident, entries = _world(declared)
    due = metrics.update_due(index, incident, entries, _at("2026-01-05T09:00:00+00:00"))
    assert due is not None and due[0] == _at("2026-01-05T11:00:00+00:00")


def test_an_escalation_makes_the_update_due_sooner_never_later() -> None:
    declared = _entry("2026-01-05T08:10:00+00:00", "type: status-change\nfrom: triage\nto: active\n")
    up = _entry("2026-01-05T09:30:00+00:00", "type: escalation\nseverity: sev1\nreason: national press\n")
    index, incident, entries = _world(declared, up)
    due = metrics.update_due(index, incident, entries, _at("2026-01-05T09:00:00+00:00"))
    assert due is not None and due[0] == _at("2026-01-05T10:30:00+00:00")  # 09:30 + PT1H beats 11:00
    late = metrics.update_due(index, incident, entries, _at("2026-01-05T07:00:00+00:00"))
    assert late is not None and late[0] == _at("2026-01-05T09:00:00+00:00")  # escalation after the due time


def test_cadence_counts_a_customer_email_as_no_update() -> None:
    declared = _entry("2026-01-05T08:10:00+00:00", "type: status-change\nfrom: triage\nto: active\n")
    first = _entry("2026-01-05T09:00:00+00:00", "type: publication\ndraft: d1\nchannel: social\n")
    email = _entry("2026-01-05T10:00:00+00:00", "type: publication\ndraft: d2\nchannel: email\n")
    index, incident, entries = _world(declared, first, email)
    rows = metrics.cadence(index, incident, entries, _at("2026-01-05T12:00:00+00:00"))
    assert [(row["due"], row["state"]) for row in rows] == [("2026-01-05T11:00:00+00:00", "missed")]
    kept = _entry("2026-01-05T10:45:00+00:00", "type: publication\ndraft: d3\nchannel: social\n")
    index, incident, entries = _world(declared, first, email, kept)
    rows = metrics.cadence(index, incident, entries, _at("2026-01-05T10:50:00+00:00"))
    assert [row["state"] for row in rows] == ["kept", "pending"]


@pytest.fixture(scope="module")
def reference() -> Index:
    return engine.load_repository(config.load(ROOT)).index


def test_the_first_hour_of_the_reference_exercise(reference: Index) -> None:
    """The signals exercise paged 9 minutes and published 14 minutes after the first
    signal met a trigger (its README section and review say so)."""
    ident = "2026-12-07-signals-exercise"
    incident = reference.get("incident", ident)
    assert incident is not None
    figures = metrics.compute(
        reference, incident, reference.incident_entries(ident), [], dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    )
    assert figures["time_to_page_seconds"] == 9 * 60
    assert figures["time_to_first_statement_seconds"] == 14 * 60
    assert figures["public_statements"] == 1
