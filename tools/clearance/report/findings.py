"""The only code that prints findings: text, JSON, SARIF 2.1.0, GitHub annotations,
GitLab Code Quality."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from clearance import __version__
from clearance.model import Finding, Rule, Severity

FORMATS = ("text", "json", "sarif", "github", "gitlab")
JSON_SCHEMA_VERSION = 1
_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"


def summary(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [
        f"{counts.get(s, 0)} {s}{'s' if counts.get(s, 0) != 1 else ''}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    ]
    files = len({f.location.path for f in findings})
    return f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}"


def _use_colour(stream: TextIO) -> bool:
    import os

    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def text(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    suppressed: Sequence[tuple[Finding, str]] = (),
    checked: int | None = None,
) -> None:
    colour = _use_colour(stream)
    current = None
    for finding in findings:
        if finding.location.path != current:
            if current is not None:
                stream.write("\n")
            current = finding.location.path
        sev = str(finding.severity)
        if colour:
            sev = f"{_COLOURS.get(finding.severity, '')}{sev}{_RESET}"
        stream.write(f"{finding.location}: {finding.rule} {sev}: {finding.message}\n")
        if finding.hint:
            stream.write(f"    hint: {finding.hint}\n")
        for related in finding.related:
            stream.write(f"    see: {related}\n")
    if suppressed:
        stream.write("\nSuppressed findings:\n")
        for finding, reason in suppressed:
            stream.write(f"{finding.location}: {finding.rule} {finding.message}\n    reason: {reason}\n")
    what = f"checked {checked} documents: " if checked is not None else ""
    line = f"{what}{summary(findings)}" if findings else f"{what}no findings"
    if findings or checked is not None:
        if findings:
            stream.write("\n")
        stream.write(line + "\n")


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": str(finding.severity),
        "message": finding.message,
        "path": finding.location.path,
        "line": finding.location.line,
        "column": finding.location.col,
        "hint": finding.hint,
        "related": [{"path": r.path, "line": r.line, "column": r.col} for r in finding.related],
    }


def as_json(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    suppressed: Sequence[tuple[Finding, str]] = (),
    checked: int | None = None,
) -> None:
    counts = Counter(str(f.severity) for f in findings)
    payload = {
        "version": JSON_SCHEMA_VERSION,
        "tool": {"name": "clearance", "version": __version__},
        "summary": {
            "documents": checked,
            "errors": counts.get("error", 0),
            "warnings": counts.get("warning", 0),
            "infos": counts.get("info", 0),
        },
        "findings": [_finding_json(f) for f in findings],
        "suppressed": [{**_finding_json(f), "reason": reason} for f, reason in suppressed],
    }
    json.dump(payload, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def sarif(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    rules: dict[str, Rule],
    suppressed: Sequence[tuple[Finding, str]] = (),
) -> None:
    rule_ids = sorted(rules)
    position = {rule_id: i for i, rule_id in enumerate(rule_ids)}

    def result(finding: Finding, reason: str | None = None) -> dict[str, Any]:
        message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
        item: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": _SARIF_LEVEL.get(finding.severity, "note"),
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.location.path, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": finding.location.line,
                            "startColumn": finding.location.col,
                        },
                    }
                }
            ],
        }
        if finding.rule in position:
            item["ruleIndex"] = position[finding.rule]
        if finding.related:
            item["relatedLocations"] = [
                {
                    "id": n,
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.path, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": r.line, "startColumn": r.col},
                    },
                }
                for n, r in enumerate(finding.related)
            ]
        if reason is not None:
            item["suppressions"] = [{"kind": "inSource", "justification": reason}]
        return item

    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "clearance",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule_id,
                                "name": rule_id,
                                "shortDescription": {"text": rules[rule_id].description},
                                "defaultConfiguration": {
                                    "level": _SARIF_LEVEL.get(rules[rule_id].severity, "none")
                                },
                            }
                            for rule_id in rule_ids
                        ],
                    }
                },
                "results": [result(f) for f in findings] + [result(f, reason) for f, reason in suppressed],
            }
        ],
    }
    json.dump(log, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def _escape_github(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(
    findings: Sequence[Finding], stream: TextIO, suppressed: Sequence[tuple[Finding, str]] = ()
) -> None:
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    shown = [(f, None) for f in findings] + [(f, reason) for f, reason in suppressed]
    for f, reason in shown:
        message = f.message + (f" (hint: {f.hint})" if f.hint else "")
        if reason is not None:  # every suppression stays visible, in every format
            message = f"suppressed: {message} (reason: {reason})"
        props = (
            f"file={_escape_github(f.location.path, prop=True)},line={f.location.line},"
            f"col={f.location.col},title={_escape_github(f.rule, prop=True)}"
        )
        level = "notice" if reason is not None else levels.get(f.severity, "notice")
        stream.write(f"::{level} {props}::{_escape_github(message)}\n")
    stream.write(f"{summary(findings) if findings else 'no findings'}\n")


_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def gitlab(
    findings: Sequence[Finding], stream: TextIO, suppressed: Sequence[tuple[Finding, str]] = ()
) -> None:
    """GitLab Code Quality (a subset of the Code Climate issue format). Fingerprints
    leave out the line, so a finding keeps its identity when lines above it move.
    Suppressed findings are listed as 'info' issues saying so, with their reason."""
    seen: Counter[str] = Counter()
    issues = []
    shown = [(f, None) for f in findings] + [(f, reason) for f, reason in suppressed]
    for f, reason in shown:
        key = f"{f.rule}\0{f.location.path}\0{f.message}"
        seen[key] += 1
        digest = hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()
        issues.append(
            {
                "type": "issue",
                "check_name": f.rule,
                "description": ("suppressed: " if reason is not None else "")
                + f"{f.rule} {f.message}"
                + (f" (hint: {f.hint})" if f.hint else "")
                + (f" (reason: {reason})" if reason is not None else ""),
                "categories": ["Bug Risk" if f.severity >= Severity.ERROR else "Style"],
                "severity": "info" if reason is not None else _GITLAB_SEVERITY.get(f.severity, "info"),
                "fingerprint": digest,
                "location": {"path": f.location.path, "lines": {"begin": f.location.line}},
            }
        )
    json.dump(issues, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def emit(
    fmt: str,
    findings: Sequence[Finding],
    *,
    rules: dict[str, Rule],
    suppressed: Sequence[tuple[Finding, str]] = (),
    checked: int | None = None,
    stream: TextIO | None = None,
) -> None:
    out = stream or sys.stdout
    if fmt == "json":
        as_json(findings, out, suppressed=suppressed, checked=checked)
    elif fmt == "sarif":
        sarif(findings, out, rules=rules, suppressed=suppressed)
    elif fmt == "github":
        github(findings, out, suppressed)
    elif fmt == "gitlab":
        gitlab(findings, out, suppressed)
    else:
        text(findings, out, suppressed=suppressed, checked=checked)
