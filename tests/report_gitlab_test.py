"""GitLab Code Quality output: the fields GitLab reads, severities mapped, and
fingerprints that are unique within a report and survive lines moving."""

from __future__ import annotations

import io
import json
from typing import Any

from clearance import report
from clearance.model import Finding, Location, Severity


def emit(findings: list[Finding]) -> list[dict[str, Any]]:
    out = io.StringIO()
    report.emit("gitlab", findings, rules={}, stream=out)
    data: list[dict[str, Any]] = json.loads(out.getvalue())
    return data


def test_fields_and_severities() -> None:
    issues = emit([
        Finding("REF001", Severity.ERROR, "unknown role 'counsel'", Location("policies/a.md", 7, 3),
                "did you mean 'legal-counsel'?"),
        Finding("REV001", Severity.WARNING, "review is overdue", Location("policies/b.md", 2, 1)),
        Finding("REV002", Severity.INFO, "review falls due soon", Location("policies/c.md", 2, 1)),
    ])
    assert [i["severity"] for i in issues] == ["major", "minor", "info"]
    first = issues[0]
    assert first["check_name"] == "REF001"
    assert first["description"] == "REF001 unknown role 'counsel' (hint: did you mean 'legal-counsel'?)"
    assert first["location"] == {"path": "policies/a.md", "lines": {"begin": 7}}
    assert first["type"] == "issue" and first["categories"] == ["Bug Risk"]
    assert issues[1]["categories"] == ["Style"]


def test_fingerprints_are_unique_and_ignore_line_moves() -> None:
    same = [Finding("TPL002", Severity.WARNING, "placeholder 'x' unused", Location("t.md", line, 1))
            for line in (3, 9)]
    before = emit(same)
    assert len({i["fingerprint"] for i in before}) == 2
    moved = emit([Finding(f.rule, f.severity, f.message, Location("t.md", f.location.line + 5, 1)) for f in same])
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in before]
    other = emit([Finding("TPL002", Severity.WARNING, "placeholder 'y' unused", Location("t.md", 3, 1))])
    assert other[0]["fingerprint"] != before[0]["fingerprint"]


def test_no_findings_is_an_empty_list() -> None:
    assert emit([]) == []
    assert "gitlab" in report.FORMATS
