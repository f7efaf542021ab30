"""Notices to the people affected meet each law's required elements.

A policy's ``notice_elements`` lists, per obligation (a notice law of the register),
the templates that serve as that notice and the elements the law requires, each as
patterns in the scanner's claim syntax (``clearance.scan.claims``) of which the
template's text must match one. A template missing an element is an error naming the
law and the element (NTC001).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from clearance.checks import Context, register
from clearance.model import Finding, Severity
from clearance.scan.claims import compile_claim_pattern


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


def _compiled(sources: object) -> list[re.Pattern[str]]:
    found = []
    for source in sources if isinstance(sources, list) else ():
        try:
            found.append(compile_claim_pattern(str(source)))
        except re.error:
            continue  # NTC002 reports it
    return found


@register(
    ("NTC001", Severity.ERROR, "notice template lacks an element the notice law requires"),
    ("NTC002", Severity.ERROR, "notice element pattern does not compile"),
)
def notice_elements(ctx: Context) -> Iterator[Finding]:
    """Judged from the policy: it names its templates, which it looks up one by one, so
    a template depends on nothing and only the policies naming a template read it (a
    template's unit reading every policy would be checked again at any policy's edit)."""
    for policy in ctx.subjects("policy"):
        for position, law in enumerate(_items(policy.data.get("notice_elements"))):
            if not isinstance(law, Mapping):
                continue
            for number, element in enumerate(_items(law.get("elements"))):
                if not isinstance(element, Mapping):
                    continue
                for p_index, source in enumerate(_items(element.get("patterns"))):
                    try:
                        compile_claim_pattern(str(source))
                    except re.error as exc:
                        yield ctx.finding(
                            "NTC002",
                            policy.where(
                                ("notice_elements", position, "elements", number, "patterns", p_index)
                            ),
                            f"pattern does not compile: {exc}",
                        )
                patterns = _compiled(element.get("patterns"))
                if not patterns:
                    continue
                for name in _items(law.get("templates")):
                    template = ctx.get("template", name) if isinstance(name, str) else None
                    if template is None or template.data.get("status") == "retired":
                        continue
                    body = template.body or ""
                    if any(p.search(body) for p in patterns):
                        continue
                    yield ctx.finding(
                        "NTC001",
                        template,
                        f"notice under {law.get('obligation')} ({law.get('cite')}) lacks "
                        f"{element.get('says')} (element {element.get('id')!r})",
                        f"add it to the body; the required elements are listed in {policy.path} "
                        f"(notice_elements[{position}])",
                        (policy.where(("notice_elements", position, "elements", number)),),
                    )
