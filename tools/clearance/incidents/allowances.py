"""Standing allowances, approved by the disclosure chain of the class they let through.

An ``allow:`` entry (in ``incident.yaml``, or on a draft) says that one exact text may
be published although the scanner finds a data class in it. Written by anyone with
write access, it would let a draft's author skip the approvers that class needs, so it
lowers nothing until every step of that class's disclosure chain has approved exactly
that allowance:

- an allowance is identified by its canonical hash (:func:`digest`): the incident, the
  ``match``, the ``detector``, ``by`` and ``reason``; changing any of them is a new
  allowance that needs new approvals;
- the classes it lets through are the classes the scanner finds in its ``match``; a
  hit of another class stays counted;
- each step of each such class's disclosure chain needs ``quorum`` approvals: log
  entries ``type: allowance-approval`` with ``allowance: <hash>``, the step's ``role``
  and ``step``, signed and bound to their committer like every decision (see
  :mod:`clearance.incidents.provenance`), by people who held the role in the committed
  register at the entry's commit and at its ``at:``; the allowance's own ``by`` and the
  author of the draft it is used for never count;
- a class whose disclosure rule is ``never`` takes no allowance at all.

:func:`effective` is what :mod:`clearance.incidents.approvals` applies when it works out
which classes a draft touches; the check rules ALW001-ALW003 report the rest."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clearance.index import Index, parse_time
from clearance.model import Document, Location

if TYPE_CHECKING:
    from clearance.incidents.approvals import Membership
    from clearance.scan import Allowance, Hit
    from clearance.scan.scanner import Scanner

KIND = "allowance-approval"
VERSION = "clearance-allowance-v1"


def digest(incident: str, item: Mapping[str, Any]) -> str:
    """The canonical hash of one ``allow`` item of ``incident``: what approvals name."""
    detector = item.get("detector")
    body = {
        "incident": incident,
        "match": item.get("match"),
        "detector": detector if isinstance(detector, str) and detector else None,
        "by": item.get("by"),
        "reason": item.get("reason"),
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{VERSION}\n{text}\n".encode()).hexdigest()


@dataclass(frozen=True)
class StepState:
    chain: str
    step: str
    role: str
    quorum: int
    approvers: tuple[str, ...]
    ignored: tuple[str, ...]  # approvals of this allowance that do not count, and why

    @property
    def satisfied(self) -> bool:
        return len(self.approvers) >= self.quorum

    def explain(self) -> str:
        text = (
            f"step {self.step!r} of chain {self.chain!r} (role {self.role!r}, quorum {self.quorum}) "
            f"has {len(self.approvers)} approval(s)"
        )
        return text + ("; not counted: " + "; ".join(self.ignored) if self.ignored else "")


@dataclass(frozen=True)
class Standing:
    """One allowance of an incident (or of a draft) and how far its approval got."""

    incident: str
    allowance: Allowance
    item: Mapping[str, Any]
    sha256: str
    classes: tuple[str, ...]  # data classes its match touches: what it lets through
    never: tuple[str, ...]  # of those, classes that take no allowance
    problems: tuple[str, ...]  # unknown class, chain missing
    steps: tuple[StepState, ...]

    @property
    def effective(self) -> bool:
        return not self.never and not self.problems and all(s.satisfied for s in self.steps)

    @property
    def location(self) -> Location:
        return self.allowance.location

    def reasons(self) -> list[str]:
        out = [f"data class {c!r} may never be disclosed: it takes no allowance" for c in self.never]
        out.extend(self.problems)
        out.extend(s.explain() for s in self.steps if not s.satisfied)
        return out


def _class_doc(index: Index, name: str) -> Document | None:
    return index.get("data-class", name)


def _match_classes(index: Index, item: Mapping[str, Any]) -> tuple[str, ...]:
    from clearance import scan

    match = item.get("match")
    if not isinstance(match, str) or not match.strip():
        return ()
    detector = item.get("detector")
    return _scanned(scan.scanner_for(index), match, detector if isinstance(detector, str) else None)


@functools.lru_cache(maxsize=256)
def _scanned(scanner: Scanner, match: str, detector: str | None) -> tuple[str, ...]:
    """The classes of ``match`` (once per scanner: every publication is evaluated)."""
    from clearance.scan import UNCLASSIFIED

    found: set[str] = set()
    for hit in scanner.scan(match):
        if detector and detector not in (hit.detector, hit.name, *hit.classes):
            continue
        found.update(c for c in hit.classes if c != UNCLASSIFIED)
    return tuple(sorted(found))


def _chain_steps(index: Index, classes: Sequence[str]) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(chain id, step) of every class's disclosure chain, and problems. A step's
    severity condition is not applied: an allowance stands at every severity."""
    steps: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for name in classes:
        doc = _class_doc(index, name)
        disclosure = doc.data.get("disclosure") if doc is not None else None
        if not isinstance(disclosure, Mapping) or disclosure.get("rule") == "never":
            continue
        chain_id = disclosure.get("chain")
        chain = index.get("approval-chain", str(chain_id)) if chain_id else None
        if chain is None:
            problems.append(f"data class {name!r} has no approval chain {chain_id!r} to approve it")
            continue
        for step in chain.data.get("steps") or ():
            if not isinstance(step, dict):
                continue
            when = step.get("when") or {}
            wanted = when.get("data_classes") if isinstance(when, Mapping) else None
            if wanted and not set(wanted) & set(classes):
                continue
            steps.append((str(chain.id), step))
    return steps, problems


def approvals_of(entries: Iterable[Document]) -> dict[str, list[Document]]:
    """Allowance approvals in a log, by the hash they name."""
    found: dict[str, list[Document]] = {}
    for entry in entries:
        if entry.data.get("type") == KIND:
            found.setdefault(str(entry.data.get("allowance")), []).append(entry)
    return found


def standing(
    index: Index,
    incident: Document,
    entries: Sequence[Document],
    judge: Membership,
    *,
    until: dt.datetime | None = None,
    author: object = None,
    draft: Document | None = None,
) -> list[Standing]:
    """Every allowance of ``incident`` (and of ``draft``) with its approvals as of
    ``until`` (all of them when None), leaving out approvals by ``author``."""
    from clearance.scan import allowances_of

    ident = str(incident.id)
    approvals = approvals_of(entries)
    out: list[Standing] = []
    sources = [incident, *([draft] if draft is not None else [])]
    for doc in sources:
        items = doc.data.get("allow")
        items = items if isinstance(items, list) else []
        parsed = {a.location: a for a in allowances_of(doc)}
        for position, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            allowance = parsed.get(doc.where(("allow", position)))
            if allowance is None:
                continue
            out.append(_judge(index, ident, allowance, item, approvals, judge, until, author))
    return out


def _judge(
    index: Index,
    ident: str,
    allowance: Allowance,
    item: Mapping[str, Any],
    approvals: Mapping[str, list[Document]],
    judge: Membership,
    until: dt.datetime | None,
    author: object,
) -> Standing:
    sha = digest(ident, item)
    classes = _match_classes(index, item)
    never: list[str] = []
    problems: list[str] = []
    for name in classes:
        doc = _class_doc(index, name)
        disclosure = doc.data.get("disclosure") if doc is not None else None
        if doc is None:
            problems.append(f"data class {name!r} does not exist")
        elif isinstance(disclosure, Mapping) and disclosure.get("rule") == "never":
            never.append(name)
    steps, missing = _chain_steps(index, classes)
    problems.extend(missing)
    merged: dict[tuple[str, str], tuple[str, int]] = {}
    for chain_id, step in steps:
        key = (str(step.get("id")), str(step.get("role")))
        quorum = int(step.get("quorum", 1) or 1)
        earlier = merged.get(key)
        merged[key] = (earlier[0], max(quorum, earlier[1])) if earlier else (chain_id, quorum)
    states = []
    for (step_id, role), (chain_id, quorum) in merged.items():
        approvers: list[str] = []
        ignored: list[str] = []
        for entry in approvals.get(sha, ()):
            data = entry.data
            if data.get("role") != role or data.get("step") not in (None, step_id):
                continue
            who = data.get("by")
            moment = parse_time(data.get("at"))
            if moment is None or (until is not None and moment > until):
                ignored.append(f"{who!r} approved after the publication")
                continue
            if who == allowance.by or (author is not None and who == author):
                ignored.append(f"{who!r} asked for the allowance or wrote the draft that uses it")
                continue
            refused = judge.refusal(entry, ident)
            if refused is not None:
                ignored.append(refused)
                continue
            if not judge.held(who, role, moment, entry):
                ignored.append(f"{who!r} was not a member of role {role!r} in the committed register then")
                continue
            if who not in approvers:
                approvers.append(str(who))
        states.append(StepState(chain_id, step_id, role, quorum, tuple(approvers), tuple(ignored)))
    return Standing(ident, allowance, item, sha, classes, tuple(never), tuple(problems), tuple(states))


def cleared(hits: Iterable[Hit], effective: Sequence[Standing]) -> tuple[set[str], set[str]]:
    """(classes still counted, classes cleared) for ``hits``: a hit's class is cleared
    when an effective allowance covers the hit and lets that class through."""
    counted: set[str] = set()
    lifted: set[str] = set()
    for hit in hits:
        through: set[str] = set()
        for item in effective:
            if item.effective and _covers(item.allowance, hit):
                through.update(item.classes)
        for name in hit.classes:
            (lifted if name in through else counted).add(name)
    return counted, lifted - counted


def _covers(allowance: Allowance, hit: Hit) -> bool:
    from dataclasses import replace

    return replace(allowance, scope=None).covers(hit)
