"""Where counsel looks: a real MkDocs build shows a regulation's obligations with the
clock in words, the threshold, the relations and the worked examples as the engine
evaluated them, and an incident's page shows each listed obligation's state."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from site_test import FIXTURE, build, make_repo

REGULATION = """kind: regulation
id: breach-law
title: Fictional breach law
owner: counsel
status: active
classification: public
jurisdiction: EU
citation: Fictional Act 1, Article 2
source: https://example.org/act
verification:
  status: unverified
  note: Reference information; counsel verifies it.
obligations:
  - id: notify-authority
    title: Notify the authority
    cite: Art. 2(1)
    notify: Supervisory authority
    clock_starts: Awareness of the breach
    deadline: {amount: 72, unit: hours, without_undue_delay: true}
    examples:
      - name: Aware on a Friday afternoon
        trigger: '2026-03-13T16:00:00+01:00'
        expect: {due: '2026-03-16T16:00:00+01:00'}
  - id: notify-registry
    title: Tell the registry
    cite: Art. 2(3)
    notify: The registry
    clock_starts: With the notice to the authority
    threshold: {fact: affected.total, gt: 500}
    relations:
      - {type: not-later-than, obligation: notify-authority}
    deadline: {unit: asap}
    examples:
      - name: Ten people
        trigger: '2026-03-13T16:00:00+01:00'
        facts: {affected: {total: 10}}
        expect: {applies: false}
"""


def text_of(page: Path) -> str:
    raw = page.read_text("utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


def test_regulation_and_incident_pages_show_clocks_thresholds_examples_and_states(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture"
    shutil.copytree(FIXTURE, fixture)
    (fixture / "policies" / "regulations" / "breach-law.yaml").write_text(REGULATION, "utf-8")
    root = make_repo(tmp_path, fixture)
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    page = text_of(root / "site" / "registers" / "regulations" / "breach-law" / "index.html")
    assert "Clock without undue delay, at most 72 hours" in page
    assert "Threshold only when affected.total is more than 500" in page
    assert "Relations not later than the notice under notify-authority" in page
    assert "Aware on a Friday afternoon 2026-03-13 16:00 UTC+01:00" in page
    assert "due 2026-03-16 16:00 UTC+01:00 agrees" in page
    assert "Ten people" in page and "does not apply agrees" in page
    incident = text_of(root / "site" / "incidents" / "ex-2026-01" / "index.html")
    assert "Obligations of the listed regulations" in incident
    found = incident[incident.rindex("Obligations of the listed regulations") :][:400]
    assert "notify-authority not-applicable No personal data was exposed in the drill" in found, found
    assert "notify-registry not-applicable breach-law#notify-authority does not apply" in found, found
