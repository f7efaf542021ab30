"""Translations of statements (see :mod:`clearance.incidents.translations`): TRN001
published before the original, TRN002 not approved by someone who reads the language,
TRN003 over the channel's limit for the language."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.incidents import translations
from clearance.index import incident_of
from clearance.model import Finding, Severity


@register(
    ("TRN001", Severity.ERROR, "translation published before its original"),
    ("TRN002", Severity.ERROR, "translation published without an approval by someone who reads its language"),
    ("TRN003", Severity.ERROR, "translation longer than the channel allows in its language"),
)
def translated(ctx: Context) -> Iterator[Finding]:
    incidents = {
        str(incident_of(e))
        for e in ctx.subjects("log-entry")
        if e.data.get("type") == "draft" and "translation_of" in e.data
    }
    mine = {e.path for e in ctx.subjects("log-entry")}
    for ident in sorted(incidents):
        for problem in translations.problems(ctx.index, ctx.index.incident_entries(ident)):
            if problem.entry.path in mine:
                yield ctx.finding(
                    problem.rule, problem.entry.where((problem.field,)), problem.message, problem.hint
                )
