"""clearance.index: documents by kind and id, references from schema annotations, and
the recording view every rule reads through (what the speed wing's reuse rests on)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clearance import config, engine
from clearance.index import Index, Reads, tokens_of
from conftest import DATA

INCIDENT = "2026-03-02-exercise-leak-claim"


@pytest.fixture
def index(tmp_path: Path) -> Index:
    target = tmp_path / "repo"
    shutil.copytree(DATA / "minimal", target)
    return engine.load_repository(config.load(target)).index


def test_lookups_by_kind_and_id(index: Index) -> None:
    assert index.get("role", "crisis-lead") is not None
    assert index.get("role", "no-such-role") is None
    people = {doc.id for doc in index.of_kind("person")}
    assert people == {"ada-lim", "ben-okafor", "chen-wu", "dara-nolan"}
    assert set(index.ids("person")) == people


def test_entries_come_oldest_first_by_event_time(index: Index) -> None:
    entries = index.incident_entries(INCIDENT)
    times = [str(e.data["at"]) for e in entries]
    assert len(entries) == 6 and times == sorted(times)


def test_every_reference_resolves_or_is_dangling(index: Index) -> None:
    refs = index.references
    assert refs, "the minimal repository cross-references its documents"
    for ref in refs:
        target = index.resolve(ref)
        assert target is None or target.kind == ref.kind or ref.kind in ("clause", "obligation")


def test_a_duplicate_id_is_a_finding_naming_both_files(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    shutil.copytree(DATA / "minimal", target)
    shutil.copy(target / "policies/roles/crisis-lead.yaml", target / "policies/roles/crisis-lead-copy.yaml")
    index = engine.load_repository(config.load(target)).index
    [finding] = index.findings
    assert finding.rule == "IDX001"
    # the later file in discovery order is the duplicate; the finding points at both
    assert {finding.location.path, finding.related[0].path} == {
        "policies/roles/crisis-lead.yaml",
        "policies/roles/crisis-lead-copy.yaml",
    }


def test_the_view_records_every_lookup(index: Index) -> None:
    view = Reads(index)
    view.get("role", "crisis-lead")
    view.of_kind("person")
    view.incident_entries(INCIDENT)
    assert {("doc", "role", "crisis-lead"), ("kind", "person"), ("entries", INCIDENT)} <= view.tokens


def test_the_view_refuses_bulk_reads(index: Index) -> None:
    view = Reads(index)
    for bulk in ("documents", "references", "by_kind", "parts", "findings"):
        with pytest.raises(RuntimeError):
            getattr(view, bulk)


def test_a_derived_table_passes_on_what_it_read(index: Index) -> None:
    """Rules declare nothing: a shared table built once records its own reads, and
    every unit that uses it, even after it was built, depends on them."""
    builds = []

    def members(view: Index) -> set[str]:
        builds.append(1)
        return {m for role in view.of_kind("role") for m in role.data.get("members") or ()}

    first, second = Reads(index), Reads(index)
    assert first.derived("members", members) == second.derived("members", members)
    assert len(builds) == 1
    assert ("kind", "role") in first.tokens and ("kind", "role") in second.tokens


def test_tokens_of_a_document_meet_the_lookups_it_can_change(index: Index) -> None:
    view = Reads(index)
    view.get("role", "crisis-lead")
    role = index.summary("policies/roles/crisis-lead.yaml")
    other = index.summary("policies/roles/legal-counsel.yaml")
    assert role is not None and other is not None
    assert view.tokens & tokens_of(role)
    assert not view.tokens & tokens_of(other)  # editing another role cannot change this lookup
