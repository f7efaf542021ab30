"""Pages that read well: real builds of the leaky fixture with log entries added the
way people add them (by the person the entry names, in a commit of their own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_test import add_entry, article, build, make_repo, site_files

STATEMENT = """## Resolved: what happened

**What happened.** A contractor's export link was shared by mistake.

- the link is closed
- affected customers were told, e.g. jane.doe@example.net

<script>alert(1)</script>
"""


def _entry(root: Path, name: str, body: str) -> None:
    path = root / "incidents" / "ex-2026-01" / "log" / f"{name}.yaml"
    path.write_text(body, "utf-8")
    add_entry(root, path)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("pages"))
    text = "\n".join(f"  {line}" if line else "" for line in STATEMENT.splitlines())
    _entry(
        root,
        "20260504T100000Z-hhhh",
        "kind: log-entry\ntype: draft\nat: '2026-05-04T10:00:00Z'\nby: ada-example\nchannel: x\n"
        f"data_classes: [customer-data]\ntext: |\n{text}\n",
    )
    _entry(
        root,
        "20260504T101000Z-iiii",
        "kind: log-entry\ntype: notification\nat: '2026-05-04T10:10:00Z'\nby: cy-example\n"
        "obligation: breach-law#notify-authority\nrecipient: Supervisory authority of Fixtureland\n"
        "reference: CASE-0042\nchannel: crisis-room\n",
    )
    # not --strict: the new draft is (rightly) reported as waiting for its approvals
    result = build(root, audience="internal")
    assert result.returncode == 0, result.stderr
    return root / "site"


def test_a_statement_renders_its_markdown_sanitised(site: Path) -> None:
    page = article((site / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    assert "<strong>What happened.</strong>" in page
    assert "<h4>Resolved: what happened</h4>" in page
    assert "<li>the link is closed</li>" in page
    assert "**What happened" not in page and "## Resolved" not in page
    assert "<script" not in page and "alert(1)" not in page.replace("&lt;script&gt;alert(1)", "")
    # The statement's heading stays out of the page's table of contents.
    assert 'id="resolved-what-happened"' not in page


def test_notifications_say_who_was_notified_in_the_right_columns(site: Path) -> None:
    page = article((site / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    section = page[page.index('id="notifications"') :]
    table = section[: section.index("</table>")]
    headers = re.findall(r"<th[^>]*>(.*?)</th>", table)
    assert headers == ["When", "Obligation", "Recipient", "Recipient is", "Channel", "Reference", "By"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table, re.DOTALL)
    row = dict(zip(headers, cells, strict=False))
    assert "Supervisory authority of Fixtureland" in row["Recipient"]
    assert row["Recipient is"] == "regulator"
    assert "Crisis room" in row["Channel"] and row["Reference"] == "CASE-0042"
    assert "Cy Example" in row["By"]


def test_affected_people_are_told_apart_from_regulators() -> None:
    from clearance.site.pictures import recipient_kind

    assert recipient_kind(
        "California residents whose unencrypted personal information was acquired", "x"
    ) == ("affected people")
    assert recipient_kind("Affected individuals", "") == "affected people"
    assert recipient_kind("California Attorney General", "") == "regulator"
    assert recipient_kind("Information Commissioner's Office (ICO)", "") == "regulator"
    assert recipient_kind("", "Lead supervisory authority") == "regulator"


def test_data_classes_of_the_drafts_appear_on_the_incident(site: Path) -> None:
    """incident.yaml lists none; a draft touches customer data (the scanner finds the
    e-mail address, so the draft must declare it): the incident page says so."""
    page = article((site / "incidents" / "ex-2026-01" / "index.html").read_text("utf-8"))
    row = page[page.index("Data classes involved") :]
    row = row[: row.index("</tr>")]
    assert "Customer" in row and "(in a draft)" in row and "–" not in row


def test_no_page_has_an_empty_header_cell_or_a_raw_diagram(site: Path) -> None:
    for path, data in site_files(site):
        if path.suffix != ".html":
            continue
        text = data.decode("utf-8")
        assert not re.search(r"<th[^>]*>\s*</th>", text), path
        assert "flowchart" not in text and "CLEARANCESVG" not in text, path
    index = (site / "search" / "search_index.json").read_text("utf-8")
    assert "flowchart" not in index and "CLEARANCESVG" not in index
    # The pictures' labels are not search text either (the tables say the same).
    assert "Long quiet gaps are shortened" not in index and "<svg" not in index


def test_referenced_by_lists_each_document_once(site: Path) -> None:
    for path, data in site_files(site):
        if path.suffix != ".html":
            continue
        text = article(data.decode("utf-8"))
        if 'id="referenced-by"' not in text:
            continue
        listing = text[text.index('id="referenced-by"') :]
        listing = listing[: listing.index("</ul>")]
        links = re.findall(r'href="([^"]+)"', listing)
        assert len(links) == len(set(links)), (path, links)


def test_the_dashboard_shows_each_open_incidents_next_deadline(site: Path) -> None:
    page = article((site / "dashboard" / "index.html").read_text("utf-8"))
    assert "<th>Next deadline</th>" in page
    row = page[page.index("Exercise account takeover") :]
    row = row[: row.index("</tr>")]
    assert "none open" in row or " due " in row
