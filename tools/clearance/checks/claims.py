"""Claims against the record: a statement that says something the incident log can
confirm ("we have notified the regulator", "every affected customer has been told") is
approved and published only once the log holds the entry that makes it true.

The claims are the scanner's (``detectors.claims`` on a data class, see
``clearance.scan.claims``); a claim's ``confirmed_by`` names the entries that confirm
it. A claim without ``confirmed_by`` is a claim the record cannot confirm (such as "no
personal data was affected") and is left to its approval chain.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.checks import Context, register
from clearance.incidents import state
from clearance.model import Document, Finding, Severity
from clearance.scan.claims import Claim, claims_of, find_claims
from clearance.scan.normalise import normalise


def _items(value: object) -> list[Any]:
    """A list field's items; anything else (a hand-written scalar or map) is none: the
    schema reports it."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Confirmation:
    """One kind of log entry that makes a claim true."""

    type: str
    says: str
    channel_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    same_number: bool = False

    def matches(self, entry: Document, channel_type: str | None, number: str | None = None) -> bool:
        data = entry.data
        if data.get("type") != self.type:
            return False
        if self.same_number and (number is None or number not in numbers_in(entry)):
            return False
        if self.channels and data.get("channel") not in self.channels:
            return False
        if self.channel_types and channel_type not in self.channel_types:
            return False
        if self.obligations:
            obligation = str(data.get("obligation") or "")
            if not any(fnmatch.fnmatchcase(obligation, p) for p in self.obligations):
                return False
        return True


@dataclass(frozen=True)
class CheckableClaim:
    claim: Claim
    confirmations: tuple[Confirmation, ...]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def checkable_claims(docs: Sequence[Document]) -> list[CheckableClaim]:
    """The claims the data classes declare with the entries that confirm them."""
    found: list[CheckableClaim] = []
    for doc in docs:
        claims, _ = claims_of(doc)  # bad patterns are the dataclasses family's findings
        spec = doc.data.get("detectors")
        items = spec.get("claims") if isinstance(spec, Mapping) else None
        by_name = {str(item.get("name")): item for item in _items(items) if isinstance(item, Mapping)}
        for claim in claims:
            raw = by_name.get(claim.name, {}).get("confirmed_by")
            confirmations = tuple(
                Confirmation(
                    str(c.get("type")),
                    str(c.get("says") or c.get("type")),
                    _strings(c.get("channel_types")),
                    _strings(c.get("channels")),
                    _strings(c.get("obligations")),
                    c.get("same_number") is True,
                )
                for c in (raw if isinstance(raw, list) else ())
                if isinstance(c, Mapping) and isinstance(c.get("type"), str)
            )
            if confirmations:
                found.append(CheckableClaim(claim, confirmations))
    return found


@dataclass(frozen=True)
class ClaimInDraft:
    claim: CheckableClaim
    quote: str
    number: str | None = None  # the count the claim states (group 'count'), digits only


_NUMBER = re.compile(r"\d[\d,.\u00a0\u202f ]*\d|\d")


def _digits(text: str) -> str:
    return re.sub(r"[^\d]", "", text)


def numbers_in(entry: Document) -> set[str]:
    """Every number an entry states, digits only (1,240 and 1240 alike)."""
    found: set[str] = set()
    texts = [str(entry.data.get(key) or "") for key in ("text", "rationale")]
    facts = entry.data.get("facts")
    if isinstance(facts, Mapping):
        stack: list[object] = [facts]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                stack.extend(item.values())
            else:
                texts.append(str(item))
    for text in texts:
        found.update(_digits(m.group(0)) for m in _NUMBER.finditer(text))
    return found


def claims_in(text: str, claims: Sequence[CheckableClaim]) -> list[ClaimInDraft]:
    """Each claim the text makes, once, with the words that make it."""
    norm = normalise(text).text
    plain = {c.claim: c for c in claims}
    seen: dict[str, ClaimInDraft] = {}
    for start, end, claim in find_claims([c.claim for c in claims], norm):
        number = None
        for pattern in claim.patterns:
            match = pattern.match(norm, start)
            if match is not None and "count" in pattern.groupindex and match.group("count"):
                number = _digits(match.group("count"))
                break
        key = f"{claim.data_class}/{claim.name}/{number}"
        if key not in seen:
            seen[key] = ClaimInDraft(plain[claim], norm[start:end], number)
    return list(seen.values())


def _first_confirmation(
    ctx: Context,
    entries: Sequence[Document],
    claim: CheckableClaim,
    void: frozenset[str],
    number: str | None = None,
) -> Document | None:
    for entry in entries:  # in log order
        if state.entry_id(entry) in void and entry.data.get("type") != "publication":
            continue  # a publication stays out even when a correction says what was wrong with it
        channel = ctx.get("channel", entry.data.get("channel"))
        channel_type = str(channel.data.get("type")) if channel is not None else None
        if any(c.matches(entry, channel_type, number) for c in claim.confirmations):
            return entry
    return None


def _at(entry: Document) -> dt.datetime:
    return state.at_of(entry) or dt.datetime.max.replace(tzinfo=dt.UTC)


@register(
    (
        "CLM001",
        Severity.ERROR,
        "statement approved or published with a claim the incident log did not yet support",
    ),
)
def claims_against_record(ctx: Context) -> Iterator[Finding]:
    incidents = ctx.subjects("incident")
    if not incidents:
        return
    claims = checkable_claims(ctx.index.of_kind("data-class"))
    if not claims:
        return
    for incident in incidents:
        ident = str(incident.id)
        entries = state.ordered(ctx.index.incident_entries(ident))
        void = state.voided(entries)
        withdrawn = {str(e.data.get("draft")) for e in entries if e.data.get("type") == "withdraw"}
        for draft in entries:
            draft_id = state.entry_id(draft)
            if draft.data.get("type") != "draft" or draft_id in void or draft_id in withdrawn:
                continue
            text = draft.data.get("text")
            if not isinstance(text, str):
                continue
            found = claims_in(text, claims)
            if not found:
                continue
            decisions = [
                e
                for e in entries
                if e.data.get("type") in ("approval", "publication") and str(e.data.get("draft")) == draft_id
            ]
            if any(e.data.get("type") == "publication" and state.entry_id(e) in void for e in decisions):
                continue  # a correction of its publication records what was wrong with it
            for item in found:
                yield from _judge(ctx, ident, draft, item, decisions, entries, void)


def _judge(
    ctx: Context,
    ident: str,
    draft: Document,
    item: ClaimInDraft,
    decisions: Sequence[Document],
    entries: Sequence[Document],
    void: frozenset[str],
) -> Iterator[Finding]:
    confirming = _first_confirmation(ctx, entries, item.claim, void, item.number)
    confirmed_at = _at(confirming) if confirming is not None else None
    premature: list[Document] = []
    for entry in decisions:
        eid = state.entry_id(entry)
        if eid in void:
            continue  # corrected: the record says what was wrong with it
        when = _at(entry)
        if confirmed_at is not None and when >= confirmed_at:
            continue
        if entry.data.get("type") == "approval" and _approved_again(entry, decisions, confirmed_at, void):
            continue
        premature.append(entry)
    if not premature:
        return
    # One finding per draft and claim, at the publication if it went out, else the
    # first approval: that is where the untrue sentence left the building.
    published = [e for e in premature if e.data.get("type") == "publication"]
    where = published[0] if published else premature[0]
    kind = str(where.data.get("type"))
    eid = state.entry_id(where)
    wanted = " or ".join(c.says for c in item.claim.confirmations)
    later = (
        f"; the first such entry, {state.entry_id(confirming)}, came at {confirming.data.get('at')}"
        if confirming is not None
        else "; there is none yet"
    )
    claim = item.claim.claim
    message = (
        f"{kind} {eid} ({where.data.get('at')}) of draft {state.entry_id(draft)} says "
        f"{claim.says!r} ({item.quote!r}, claim {claim.data_class}/{claim.name}), but the log held "
        f"no {wanted} before it{later}"
    )
    if published:
        hint = (
            "the statement is out: publish a correction if it misled anyone, and record what was wrong "
            f"by appending a correction of the publication: clearance incident log {ident} correction "
            f"--corrects {eid} --text '...'"
        )
    else:
        hint = (
            f"log the missing entry first (e.g. clearance incident notify {ident} ...), or reword the "
            f"draft; to void a premature approval: clearance incident log {ident} correction "
            f"--corrects {eid} --text '...'"
        )
    related = tuple(e.where(("at",)) for e in premature if e is not where)
    yield ctx.finding("CLM001", where.where(("draft",)), message, hint, (draft.where(("text",)), *related))


def _approved_again(
    approval: Document,
    decisions: Sequence[Document],
    confirmed_at: dt.datetime | None,
    void: frozenset[str],
) -> bool:
    """The same step approved again once the claim had become true."""
    if confirmed_at is None:
        return False
    return any(
        other.data.get("type") == "approval"
        and other.data.get("step") == approval.data.get("step")
        and state.entry_id(other) not in void
        and _at(other) >= confirmed_at
        for other in decisions
    )
