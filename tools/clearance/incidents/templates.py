"""Filling a response template: every placeholder declared, given, of the right
type and within its length."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from clearance import suggestions
from clearance.errors import UsageError
from clearance.index import parse_time
from clearance.model import Document

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _check_value(name: str, kind: str, value: str) -> str | None:
    if kind == "number" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return "is not a number"
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return "is not a date (YYYY-MM-DD)"
    if kind == "time" and not re.fullmatch(
        r"([01][0-9]|2[0-3]):[0-5][0-9]( ?[A-Z]{2,5}|[+-][0-9]{2}:[0-9]{2}|Z)?", value
    ):
        return "is not a time (HH:MM, optionally with a zone)"
    if kind == "datetime" and parse_time(value) is None:
        return "is not a timestamp with an offset"
    if kind == "url" and not re.fullmatch(r"https?://[^\s]+", value):
        return "is not an http(s) URL"
    if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return "is not an email address"
    if kind == "phone" and not re.fullmatch(r"\+?[0-9][0-9 ().-]{5,}", value):
        return "is not a phone number"
    return None


def fill_template(template: Document, values: Mapping[str, str]) -> str:
    """The template body with placeholders filled; every placeholder checked against
    its declaration (declared, given, type, max length)."""
    declared = {str(p.get("name")): p for p in template.data.get("placeholders") or () if isinstance(p, dict)}
    body = (template.body or "").strip()
    used = list(dict.fromkeys(PLACEHOLDER.findall(body)))
    problems = []
    for name in values:
        if name not in declared:
            problems.append(
                f"{name!r} is not a placeholder of template {template.id!r}"
                + suggestions.hint(name, declared, "its placeholders")
            )
    for name in used:
        if name not in declared:
            problems.append(f"the template body uses {name!r}, which it does not declare")
        elif name not in values:
            spec = declared[name]
            example = f", e.g. --set {name}={spec['example']!r}" if spec.get("example") else ""
            problems.append(f"missing --set {name}=... ({spec.get('description', '')}{example})")
    for name, value in values.items():
        if name not in declared:
            continue
        spec = declared[name]
        if len(value) > int(spec.get("max_length", 10**9)):
            problems.append(f"{name!r} is {len(value)} characters; at most {spec['max_length']}")
        problem = _check_value(name, str(spec.get("type")), value)
        if problem:
            problems.append(f"{name!r} = {value!r} {problem}")
    if problems:
        raise UsageError("cannot fill the template:\n  " + "\n  ".join(problems))
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)
