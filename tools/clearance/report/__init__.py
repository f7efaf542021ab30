"""The reporting layer: the only code that prints.

Commands build typed results (findings, audit rows, incident status, verification) and
hand them to a reporter here; one module per kind of result, one function per format.
"""

from __future__ import annotations

from clearance.report.findings import (
    FORMATS,
    JSON_SCHEMA_VERSION,
    as_json,
    emit,
    github,
    gitlab,
    sarif,
    summary,
    text,
)

__all__ = [
    "FORMATS",
    "JSON_SCHEMA_VERSION",
    "as_json",
    "emit",
    "github",
    "gitlab",
    "sarif",
    "summary",
    "text",
]
