"""Template wording: what a template of a stage must say, must not say, or must come
with, declared in data (a policy's ``template_rules``, patterns in the scanner's claim
syntax) so counsel can change the rules without code.

- TPW001: the body says something the rule forbids (outside ``{{ placeholders }}``):
  a cliché such as "we take this seriously", or admission language counsel wants as a
  variable.
- TPW002: the body lacks something the rule requires (a records-preservation
  instruction, a path for reporting phishing).
- TPW003: no other template of a protocol listing this one is the variant the rule
  requires (an Item 8.01 filing beside Item 1.05).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from clearance.checks import Context, register
from clearance.model import Document, Finding, Location, Severity
from clearance.scan.claims import compile_claim_pattern


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _compiled(sources: object) -> list[re.Pattern[str]]:
    found = []
    for source in sources if isinstance(sources, list) else ():
        try:
            pattern = compile_claim_pattern(str(source))
        except re.error:
            continue
        if not pattern.search(""):
            found.append(pattern)
    return found


def _applies(rule: Mapping[str, object], template: Document) -> bool:
    stages = rule.get("stages")
    if isinstance(stages, list) and template.data.get("stage") not in stages:
        return False
    channels = rule.get("channels")
    if isinstance(channels, list) and not set(_items(template.data.get("channels"))) & set(channels):
        return False
    when = _compiled(rule.get("when"))
    return not rule.get("when") or any(p.search(template.body or "") for p in when)


def _line_of(template: Document, offset: int) -> tuple[int, int]:
    body = template.body or ""
    line = body.count("\n", 0, offset)
    col = offset - (body.rfind("\n", 0, offset) + 1)
    return template.body_line + line, col + 1


@register(
    ("TPW001", Severity.ERROR, "template says what its stage's wording rules forbid"),
    ("TPW002", Severity.ERROR, "template lacks what its stage's wording rules require"),
    ("TPW003", Severity.ERROR, "template lacks the variant its wording rules require beside it"),
    ("TPW004", Severity.ERROR, "wording rule pattern that cannot be used"),
)
def wording(ctx: Context) -> Iterator[Finding]:
    for policy in ctx.subjects("policy"):
        for position, rule in enumerate(_items(policy.data.get("template_rules"))):
            if not isinstance(rule, Mapping):
                continue
            for key in ("when", "forbid", "require", "companion"):
                for number, source in enumerate(_items(rule.get(key))):
                    try:
                        empty = compile_claim_pattern(str(source)).search("") is not None
                        problem = "pattern matches the empty string"
                    except re.error as exc:
                        empty, problem = True, f"pattern does not compile: {exc}"
                    if empty:
                        yield ctx.finding(
                            "TPW004",
                            policy.where(("template_rules", position, key, number)),
                            problem,
                            "fix the regular expression; until then the rule ignores it",
                        )
    # Judged from the policy that holds the rules: only a policy with template_rules
    # reads every template, and a template reads no policy (a template's unit reading
    # every policy would be checked again at any policy's edit).
    rules = [
        (policy, position, rule)
        for policy in ctx.subjects("policy")
        for position, rule in enumerate(_items(policy.data.get("template_rules")))
        if isinstance(rule, Mapping)
    ]
    if not rules:
        return
    templates = ctx.index.of_kind("template")
    protocols = ctx.index.of_kind("protocol")
    for template in templates:
        if template.data.get("status") == "retired":
            continue
        body = template.body or ""
        fixed = _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), body)  # offsets kept
        for policy, position, rule in rules:
            if not _applies(rule, template):
                continue
            related = (policy.where(("template_rules", position)),)
            for pattern in _compiled(rule.get("forbid")):
                match = pattern.search(fixed)
                if match is not None:
                    line, col = _line_of(template, match.start())
                    yield ctx.finding(
                        "TPW001",
                        Location(template.path, line, col),
                        f"{match.group(0)!r}: {rule.get('says')} (rule {rule.get('id')!r})",
                        "rewrite it, or make it a {{ placeholder }} whose allowed values counsel chooses",
                        related,
                    )
                    break
            required = _compiled(rule.get("require"))
            if required and not any(p.search(body) for p in required):
                yield ctx.finding(
                    "TPW002",
                    template,
                    f"{rule.get('says')} (rule {rule.get('id')!r})",
                    f"add it to the body; the rule is in {policy.path}",
                    related,
                )
            companions = _compiled(rule.get("companion"))
            if companions:
                yield from _companion(ctx, template, rule, companions, protocols, related)


def _companion(
    ctx: Context,
    template: Document,
    rule: Mapping[str, object],
    companions: list[re.Pattern[str]],
    protocols: list[Document],
    related: tuple[Location, ...],
) -> Iterator[Finding]:
    if any(p.search(template.body or "") for p in companions):
        return  # it is the variant
    for protocol in protocols:
        listed = [str(t) for t in _items(protocol.data.get("templates"))]
        if template.id not in listed:
            continue
        others = [ctx.get("template", name) for name in listed if name != template.id]
        if any(o is not None and any(p.search(o.body or "") for p in companions) for o in others):
            continue
        yield ctx.finding(
            "TPW003",
            template,
            f"protocol {protocol.id!r} lists {template.id!r} but no variant: {rule.get('says')} "
            f"(rule {rule.get('id')!r})",
            f"add the variant template and list it in {protocol.path} beside {template.id!r}",
            related,
        )
