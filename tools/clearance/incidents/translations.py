"""Statements in more than one language.

A translation is a draft of its own: ``translation_of`` names the original draft and
``language`` its language. Being a draft, it is scanned when written and approved on its
own text hash by its chain like any other; on top of that (rules in
:mod:`clearance.checks.translations`):

- TRN001: it is published only with the original or after it (the original published
  at or before the translation's publication).
- TRN002: one of its approvals (on its hash, before its publication) is by a member of
  the approving role whose person record lists the translation's language.
- TRN003: its text fits the channel's limit for that language (``max_length_by_language``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clearance.incidents import approvals
from clearance.index import Index, parse_time
from clearance.model import Document


@dataclass(frozen=True)
class Problem:
    rule: str
    entry: Document
    field: str
    message: str
    hint: str


def _published(entries: Sequence[Document]) -> dict[str, Document]:
    """Each draft's first publication, by draft id."""
    found: dict[str, Document] = {}
    for entry in entries:
        if entry.data.get("type") != "publication":
            continue
        draft = str(entry.data.get("draft"))
        at = parse_time(entry.data.get("at"))
        first = found.get(draft)
        if first is None or (at is not None and at < (parse_time(first.data.get("at")) or at)):
            found[draft] = entry
    return found


def speaks(index: Index, person: object, language: str) -> bool:
    doc = index.get("person", person) if isinstance(person, str) else None
    spoken = doc.data.get("languages") if doc is not None else None
    if not isinstance(spoken, list):
        return False
    primary = language.split("-")[0]
    return any(isinstance(s, str) and s in (language, primary) for s in spoken)


def problems(index: Index, entries: Sequence[Document]) -> list[Problem]:
    drafts = {approvals.entry_id(e): e for e in entries if e.data.get("type") == "draft"}
    published = _published(entries)
    out: list[Problem] = []
    for ident, draft in drafts.items():
        original = draft.data.get("translation_of")
        language = draft.data.get("language")
        if not isinstance(original, str):
            continue
        lang = str(language) if isinstance(language, str) else ""
        out.extend(_limit(index, draft, lang))
        publication = published.get(ident)
        if publication is None:
            continue
        at = parse_time(publication.data.get("at")) or dt.datetime.max.replace(tzinfo=dt.UTC)
        first = published.get(original)
        first_at = parse_time(first.data.get("at")) if first is not None else None
        if first_at is None or first_at > at:
            when = f"only at {first_at.isoformat()}" if first_at else "never"
            out.append(
                Problem(
                    "TRN001",
                    publication,
                    "draft",
                    f"translation {ident} ({lang or 'no language'}) published before its original "
                    f"{original}, which was published {when}",
                    "publish the original first, or both together",
                )
            )
        sha = approvals.sha256_text(str(draft.data.get("text", "")))
        fluent = [
            e
            for e in entries
            if e.data.get("type") == "approval"
            and e.data.get("draft") == ident
            and e.data.get("sha256") == sha
            and (parse_time(e.data.get("at")) or at) <= at
            and lang
            and speaks(index, e.data.get("by"), lang)
            and e.data.get("by") in approvals.members(index, str(e.data.get("role")))
        ]
        if not fluent:
            out.append(
                Problem(
                    "TRN002",
                    publication,
                    "draft",
                    f"translation {ident} was published without an approval of its text by someone who "
                    f"reads {lang or 'its language (none given)'}",
                    "a member of the approving role with the language on their person record "
                    "(languages:) approves the translation's own hash",
                )
            )
    return out


def _limit(index: Index, draft: Document, language: str) -> list[Problem]:
    channel = index.get("channel", str(draft.data.get("channel")))
    limits = channel.data.get("max_length_by_language") if channel is not None else None
    if not isinstance(limits, dict) or not language:
        return []
    limit = limits.get(language, limits.get(language.split("-")[0]))
    text = str(draft.data.get("text", ""))
    if not isinstance(limit, int) or len(text) <= limit:
        return []
    return [
        Problem(
            "TRN003",
            draft,
            "text",
            f"{language} text is {len(text)} characters; channel {channel.id if channel else '?'!r} allows "
            f"{limit} in {language}",
            "shorten the translation (a correction entry withdraws this draft)",
        )
    ]


def mark(session: Any, incident: str, original: str | None, language: str | None) -> None:
    """``incident draft --translation-of DRAFT --language LANG``: the draft written is a
    translation of ``original`` (resolved like any draft id, a prefix or a suffix)."""
    from clearance.errors import UsageError
    from clearance.incidents.session import resolve_entry

    if original is None:
        if language is not None:
            session.translation = {"language": language}
        return
    if language is None:
        raise UsageError("--translation-of needs --language, the translation's language (BCP 47: fr, pt-BR)")
    found = resolve_entry(session.entries(incident), original, "draft")
    if found.data.get("translation_of"):
        raise UsageError(f"{original!r} is itself a translation; translate the original draft")
    session.translation = {"translation_of": approvals.entry_id(found), "language": language}
