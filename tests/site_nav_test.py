"""The handbook's sections and navigation, end to end: the plugin refuses a site with
no content folders, leaves out the sections an audience has nothing in, and says how
many incidents it withholds without naming any of them.

Real `mkdocs build` runs over the fixture of site_test.py in a real git repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.site import nav
from clearance.site.pages import PageSpec, withheld_incidents
from site_test import article, build, git, make_repo, site_files

# Everything that identifies the fixture's two incidents: ids, titles, summaries, the
# review, dates, severities, statuses and the protocol they ran under.
INCIDENT_TRACES = (
    "ex-2026-01",
    "cf-2026-02",
    "Exercise account takeover",
    "CANARYINCIDENTTITLE16",
    "A drill of the account takeover protocol",
    "CANARYINCIDENTSUMMARY17",
    "Review of the account takeover exercise",
    "2026-05-04",
    "2026-05-10",
    "2026-05-20",
    "sev1",
    "sev2",
    "triage",
    "account-takeover",
)
WITHHELD = "classified above this audience"


def primary_nav(html: str) -> tuple[list[str], list[str]]:
    """The titles and link targets of a page's site navigation."""
    start = html.index('<nav class="md-nav md-nav--primary"')
    part = html[start : html.index("<article", start)]
    titles = re.findall(r'md-ellipsis">\s*([^<]*?)\s*<', part, re.S)
    return titles, re.findall(r'href="([^"]*)"', part)


def pages_saying(site: Path, text: str) -> set[str]:
    return {path.relative_to(site).as_posix() for path, data in site_files(site) if text.encode() in data}


# -------------------------------------------------------------- no content folders


@pytest.mark.parametrize("content", [None, "handbook"])
def test_a_site_without_content_folders_fails_as_clearance_check_does(
    tmp_path: Path, content: str | None
) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# Handbook\n", "utf-8")
    (root / "mkdocs.yml").write_text("site_name: Empty\nplugins: [search, clearance]\n", "utf-8")
    if content is not None:
        (root / "clearance.yaml").write_text(f"content: [{content}]\n", "utf-8")
        (root / "policies").mkdir()  # a default folder, but not one this repository uses
        (root / "policies" / "README.md").write_text("# Not content here\n", "utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "A site and no governance documents")

    check = subprocess.run(
        [sys.executable, "-m", "clearance", "check"], cwd=root, capture_output=True, text=True, check=False
    )
    assert check.returncode == 2, check.stderr
    message = check.stderr.strip().removeprefix("clearance: error: ")
    folders = content or "policies, protocols, incidents"
    assert message == (
        f"{root.resolve()}: none of the content folders ({folders}) exists; run clearance in a "
        "governance repository, pass --root, or start one with 'clearance init'"
    )

    result = build(root)
    assert result.returncode != 0
    assert f"clearance: {message}\n" in result.stderr
    assert not (root / "site").exists()  # not one empty section was written


# ------------------------------------------------------------------ sections


def test_a_public_build_counts_the_withheld_incidents_and_names_none(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    result = build(root, "--strict", audience="public")  # --strict: no link points at a missing page
    assert result.returncode == 0, result.stderr
    site = root / "site"
    # Both incidents are above public: the index says how many, and nothing else.
    incidents = article((site / "incidents" / "index.html").read_text("utf-8"))
    assert "2 incidents are classified above this audience." in incidents
    assert "Nothing published here yet" not in incidents and "<table" not in incidents
    assert pages_saying(site, WITHHELD) == {"incidents/index.html", "search/search_index.json"}
    for path, data in site_files(site):
        for trace in INCIDENT_TRACES:
            assert trace.encode() not in data, f"{trace!r} in {path}"
    assert sorted(p.name for p in (site / "incidents").iterdir()) == ["index.html"]
    # Sections the public has nothing in have no index page and no place in the nav.
    for section in ("policies", "protocols", "chains", "templates", "registers/roles", "registers/people"):
        assert not (site / section).exists(), section
    titles, targets = primary_nav((site / "index.html").read_text("utf-8"))
    assert {"Registers", "Regulations", "Incidents", "Dashboard"} <= set(titles)
    assert not {"Policies", "Protocols", "Approval chains", "Response templates", "Roles"} & set(titles)
    assert not [t for t in targets if t.startswith(("policies", "protocols", "chains", "templates"))]
    registers = article((site / "registers" / "index.html").read_text("utf-8"))
    assert 'href="regulations/"' in registers and 'href="channels/"' in registers
    assert "roles/" not in registers and "people/" not in registers
    # The home page's link to the left-out Protocols section keeps its words.
    home = article((site / "index.html").read_text("utf-8"))
    assert "Start with the protocols or the" in home and 'href="protocols/' not in home


def test_each_audience_is_told_only_how_many_incidents_are_above_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    site = root / "site"
    result = build(root, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    incidents = article((site / "incidents" / "index.html").read_text("utf-8"))
    assert "1 incident is classified above this audience." in incidents
    assert "incidents are classified" not in incidents
    assert 'href="ex-2026-01/"' in incidents
    assert pages_saying(site, WITHHELD) == {"incidents/index.html", "search/search_index.json"}
    for trace in ("cf-2026-02", "CANARYINCIDENTTITLE16", "CANARYINCIDENTSUMMARY17", "CANARYLOGTEXT18"):
        assert not pages_saying(site, trace), trace

    result = build(root, "--strict", audience="restricted")
    assert result.returncode == 0, result.stderr
    assert not pages_saying(site, WITHHELD)  # nothing withheld, nothing said
    titles, _ = primary_nav((site / "index.html").read_text("utf-8"))
    assert {"Policies", "Protocols", "Registers", "Incidents", "Dashboard"} <= set(titles)


def test_a_repository_without_incidents_has_no_incidents_section(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    git(root, "rm", "-r", "-q", "incidents")
    git(root, "commit", "-q", "-m", "No incidents yet")
    result = build(root, "--strict", audience="restricted")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    assert not (site / "incidents").exists()
    titles, targets = primary_nav((site / "index.html").read_text("utf-8"))
    assert "Incidents" not in titles and not [t for t in targets if t.startswith("incidents")]
    assert not pages_saying(site, WITHHELD)
    assert not pages_saying(site, "Nothing published here yet")


def test_a_user_nav_entry_for_a_withheld_page_is_dropped(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text("utf-8")
        + "nav:\n"
        + "  - index.md\n"
        + "  - CANARYNAVTITLE22 plan: policies/canary-policy-rz/index.md\n"
        + "  - Playbooks:\n"
        + "      - protocols/index.md\n"
        + "      - Takeover: protocols/account-takeover/index.md\n"
        + "  - Law: registers/regulations/breach-law/index.md\n",
        "utf-8",
    )
    result = build(root, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    assert not pages_saying(site, "CANARYNAVTITLE22")
    titles, targets = primary_nav((site / "index.html").read_text("utf-8"))
    assert "Law" in titles and "Playbooks" not in titles and "Takeover" not in titles
    assert not [t for t in targets if t.startswith(("policies", "protocols"))]

    result = build(root, "--strict", audience="restricted")
    assert result.returncode == 0, result.stderr
    titles, _ = primary_nav((site / "index.html").read_text("utf-8"))
    assert {"CANARYNAVTITLE22 plan", "Playbooks", "Takeover", "Law"} <= set(titles)


# ------------------------------------------------------------------- units


def test_only_sections_with_an_index_page_enter_the_navigation() -> None:
    plan = [
        PageSpec("policies/index.md", "Policies", "index.md.j2", {}, "policies"),
        PageSpec("registers/index.md", "Registers", "index.md.j2", {}, "registers"),
        PageSpec("registers/channels/index.md", "Channels", "index.md.j2", {}, "channels"),
        PageSpec("dashboard/index.md", "Dashboard", "dashboard.md.j2", {}, None),
    ]
    assert nav.generated(plan) == [
        {"Policies": "policies/index.md"},  # nothing but its index: a link
        {"Registers": ["registers/index.md", {"Channels": ["registers/channels/index.md"]}]},
        {"Dashboard": "dashboard/index.md"},
    ]


def test_withheld_user_nav_entries_go_and_emptied_groups_with_them() -> None:
    user = [
        "index.md",
        {"Secret": "policies/secret/"},
        {"Group": ["policies/secret/index.md", {"Inner": "policies/index.md"}]},
        {"Kept": ["guide.md", "policies/secret/index.md#part"]},
        {"Empty on purpose": []},
        {"Elsewhere": "https://example.org/policies/secret/"},
    ]
    withheld = ["policies/secret/index.md", "policies/index.md"]
    assert nav.combine(user, [], [], withheld) == [
        "index.md",
        {"Kept": ["guide.md"]},
        {"Empty on purpose": []},
        {"Elsewhere": "https://example.org/policies/secret/"},
    ]


def test_the_count_of_withheld_incidents_agrees_with_its_number() -> None:
    assert withheld_incidents(1) == "1 incident is classified above this audience."
    assert withheld_incidents(2) == "2 incidents are classified above this audience."
    assert withheld_incidents(21) == "21 incidents are classified above this audience."


def test_a_section_holding_only_its_index_is_a_link_not_an_empty_group() -> None:
    pages = [
        PageSpec("incidents/index.md", "Incidents", "index.md.j2", {}, "incidents"),
        PageSpec("dashboard/index.md", "Dashboard", "dashboard.md.j2", {}, None),
    ]
    assert nav.generated(pages) == [{"Incidents": "incidents/index.md"}, {"Dashboard": "dashboard/index.md"}]
