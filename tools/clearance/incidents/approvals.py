"""Approval enforcement: the one implementation behind ``clearance incident publish`` and
the APR rules of ``clearance check``.

A publication of a draft at time T is valid only if:

- no data class on the draft has the disclosure rule ``never``;
- every applicable step was approved by ``quorum`` distinct people who are members of
  the step's role, none of them the draft's author, each approving the SHA-256 of the
  exact draft text that is published, at or before T, after the last rejection by that
  step (a rejection cancels earlier approvals; later approvals count again);
- or an emergency override, recorded before T by a member of a role the chain allows
  to override, covers the chains whose steps are missing.

The applicable steps are those of the protocol's chain for the incident's severity at
T, of the template's chain when the draft came from a template, and of the disclosure
chain of each data class on the draft, keeping only steps whose ``when`` conditions
hold (data classes present, severity at least ...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance import durations
from clearance.incidents import allowances, preclearance, provenance
from clearance.incidents.verdicts import Requirement, StepResult, Verdict, _merge
from clearance.index import Index, parse_time
from clearance.model import Document

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_id(doc: Document) -> str:
    name = doc.path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def at_of(doc: Document) -> dt.datetime | None:
    return parse_time(doc.data.get("at"))


def scanned_classes(
    text: str, index: Index, context: Document | None = None, effective: Sequence[allowances.Standing] = ()
) -> list[str] | None:
    """Data classes the disclosure scanner finds in ``text``; None while no scanner is
    installed. The only place that talks to clearance.scan.

    An ``allow:`` written into an incident or a draft (``context``) lowers nothing by
    itself: only an allowance in ``effective``, one every step of its class's disclosure
    chain approved (see :mod:`clearance.incidents.allowances`), lets its class through,
    and only for the hits it covers. A data class's own allowances, set by the class's
    owners, apply except to classes whose disclosure rule is ``never``, which take no
    allowance at all."""
    found = _scanned(text, index, effective)
    return None if found is None else found[0]


def _scanned(
    text: str, index: Index, effective: Sequence[allowances.Standing]
) -> tuple[list[str], set[str]] | None:
    """(classes found, classes every hit of which an effective allowance let through)."""
    try:
        from clearance import scan
    except ImportError:
        return None
    scanner_for = getattr(scan, "scanner_for", None)
    if not callable(scanner_for):
        return None
    scanner = scanner_for(index)
    counted, allowed = scanner.split(scanner.scan(text), ())
    found, lifted = allowances.cleared(counted, effective)
    found |= {c for hit, _ in allowed for c in hit.classes if _never(index, c)}
    return sorted(c for c in found if c != getattr(scan, "UNCLASSIFIED", None)), lifted - found


def _never(index: Index, name: str) -> bool:
    doc = index.get("data-class", name)
    disclosure = doc.data.get("disclosure") if doc is not None else None
    return isinstance(disclosure, dict) and disclosure.get("rule") == "never"


def draft_classes(index: Index, draft: Document, effective: Sequence[allowances.Standing] = ()) -> list[str]:
    """Classes declared on the draft plus any the scanner finds in its text now; a
    declared class every hit of which an ``effective`` allowance lets through is not."""
    declared = {c for c in draft.data.get("data_classes") or () if isinstance(c, str)}
    text = draft.data.get("text")
    found, lifted = (_scanned(text, index, effective) if isinstance(text, str) else None) or ([], set())
    return sorted((declared - lifted) | set(found))


def members(index: Index, role: str) -> set[str]:
    doc = index.get("role", role)
    return set(doc.data.get("members") or ()) if doc else set()


class Membership(provenance.Provenance):
    """Whether someone held a role when they acted, and whether their decision is
    proven: see :mod:`clearance.incidents.provenance` (committed registers only, just
    before the decision's commit and at its time; bound to the committer; signed)."""

    def __init__(self, index: Index, root: Path | None = None, *, required: bool = False) -> None:
        super().__init__(index, root, required=required)

    def refusal(self, entry: Document, incident: str) -> str | None:
        """Why a decision entry cannot count (scribe record, bad or missing signature,
        committed by someone else), or None."""
        return self.proof(entry, incident).refusal(self.required())


def severity_at(index: Index, incident: Document, entries: Sequence[Document], when: dt.datetime) -> str:
    """The incident's severity at ``when``, as the incident state machine derives it
    from the log (status changes, escalations and de-escalations; corrected entries
    void), else the severity in incident.yaml."""
    from clearance.incidents import state

    return state.derive(incident, entries).severity_at(when)


def _severity_holds(limit: str, severity: str) -> bool:
    if limit not in SEVERITIES or severity not in SEVERITIES:
        return False
    return SEVERITIES.index(severity) <= SEVERITIES.index(limit)


def requirements(
    index: Index, incident: Document, draft: Document, severity: str, classes: Sequence[str]
) -> tuple[list[Requirement], list[str], list[str]]:
    """(applicable steps, forbidden classes, problems)."""
    chains: list[tuple[str, str]] = []  # (chain id, because)
    problems: list[str] = []
    forbidden: list[str] = []
    protocol = index.get("protocol", str(incident.data.get("protocol")))
    if protocol is None:
        problems.append(f"protocol {incident.data.get('protocol')!r} does not exist")
    else:
        level = next(
            (
                s
                for s in protocol.data.get("severities") or ()
                if isinstance(s, dict) and s.get("level") == severity
            ),
            None,
        )
        if level is None:
            problems.append(f"protocol {protocol.id!r} defines no approval chain for severity {severity!r}")
        else:
            chains.append((str(level.get("chain")), f"protocol {protocol.id} at {severity}"))
    template_id = draft.data.get("template")
    template = index.get("template", template_id) if isinstance(template_id, str) else None
    if template is not None and template.data.get("chain"):
        chains.append((str(template.data["chain"]), f"template {template.id}"))
    for name in classes:
        dc = index.get("data-class", name)
        if dc is None:
            problems.append(f"data class {name!r} does not exist")
            continue
        disclosure = dc.data.get("disclosure") or {}
        if disclosure.get("rule") == "never":
            forbidden.append(name)
        elif disclosure.get("chain"):
            chains.append((str(disclosure["chain"]), f"data class {name}"))
    merged: dict[tuple[str, str], Requirement] = {}
    for chain_id, because in chains:
        chain = index.get("approval-chain", chain_id)
        if chain is None:
            problems.append(f"approval chain {chain_id!r} ({because}) does not exist")
            continue
        for step in chain.data.get("steps") or ():
            if not isinstance(step, dict):
                continue
            when = step.get("when") or {}
            if when.get("data_classes") and not set(when["data_classes"]) & set(classes):
                continue
            if when.get("severity_at_least") and not _severity_holds(when["severity_at_least"], severity):
                continue
            req = Requirement(
                chain_id,
                str(step.get("id")),
                str(step.get("role")),
                int(step.get("quorum", 1)),
                step.get("sla"),
                because,
                (chain_id,),
            )
            merged[req.key] = _merge(merged[req.key], req) if req.key in merged else req
    return list(merged.values()), forbidden, problems


def _matches(entry: Document, req: Requirement) -> bool:
    if entry.data.get("role") != req.role:
        return False
    step = entry.data.get("step")
    return step is None or step == req.step


class _Log:
    """One pass over an incident log: drafts by id, the entries that decide on each
    draft (with their position), and severity changes. Evaluating every draft of a
    long log would otherwise rescan it once per draft."""

    def __init__(self, entries: Sequence[Document]) -> None:
        self.entries = entries
        self.size = len(entries)
        self.drafts: dict[str, Document] = {}
        self.related: dict[str, list[tuple[int, Document]]] = {}
        self.severities: list[tuple[dt.datetime, str]] = []
        self.ids: set[str] = set()
        for position, entry in enumerate(entries):
            self.ids.add(entry_id(entry))
            kind = entry.data.get("type")
            if kind == "draft":
                self.drafts.setdefault(entry_id(entry), entry)
            elif kind in ("approval", "rejection", "override"):
                self.related.setdefault(str(entry.data.get("draft")), []).append((position, entry))
            elif kind == "status-change" and entry.data.get("severity"):
                moment = at_of(entry)
                if moment is not None:
                    self.severities.append((moment, str(entry.data["severity"])))


_LOGS: list[_Log] = []


def _log(entries: Sequence[Document]) -> _Log:
    for view in _LOGS:
        if view.entries is entries and view.size == len(entries):
            return view
    view = _Log(entries)
    _LOGS.insert(0, view)
    del _LOGS[4:]
    return view


def has_entry(entries: Sequence[Document], ref: str) -> bool:
    return ref in _log(entries).ids


def find_draft(entries: Sequence[Document], ref: str) -> Document | None:
    return _log(entries).drafts.get(ref)


def evaluate(
    index: Index,
    incident: Document,
    entries: Sequence[Document],
    draft_ref: str,
    at: dt.datetime,
    sha: str | None = None,
    membership: Membership | None = None,
    channel: str | None = None,
) -> Verdict:
    """Whether publishing draft ``draft_ref`` (text hash ``sha``) at ``at`` is allowed.
    ``entries`` is the incident log in event order."""
    judge = membership or Membership(index)
    incident_id = str(incident.id)

    def held(person: object, role: str, moment: dt.datetime, entry: Document) -> bool:
        return judge.held(person, role, moment, entry) and judge.refusal(entry, incident_id) is None

    draft = find_draft(entries, draft_ref)
    verdict = Verdict(draft, draft_ref, at)
    if draft is None:
        verdict.problems.append(f"no draft {draft_ref!r} in this incident")
        return verdict
    text = str(draft.data.get("text", ""))
    expected = sha256_text(text)
    if sha is not None and sha != expected:
        verdict.problems.append(
            f"the published text (sha256 {sha[:12]}...) is not the draft's text (sha256 {expected[:12]}...)"
        )
    if channel is not None and channel != draft.data.get("channel"):
        verdict.problems.append(
            f"the draft was written and approved for channel {draft.data.get('channel')!r}, not {channel!r}"
        )
    author = draft.data.get("by")
    drafted = at_of(draft)
    if drafted is not None and drafted > at:
        verdict.problems.append("the draft is dated after the publication")
    verdict.severity = severity_at(index, incident, entries, at)
    standing = allowances.standing(index, incident, entries, judge, until=at, author=author, draft=draft)
    verdict.allowed = [item for item in standing if item.effective]
    verdict.classes = draft_classes(index, draft, verdict.allowed)
    reqs, verdict.forbidden, problems = requirements(
        index, incident, draft, verdict.severity, verdict.classes
    )
    verdict.problems.extend(problems)
    related = _log(entries).related.get(draft_ref, [])
    cover = preclearance.covering(
        index, draft.data.get("template"), draft.data.get("values"), text, verdict.severity, drafted or at,
        author, judge,
    )  # fmt: skip
    for req in reqs:
        result = StepResult(req)
        if drafted is not None and req.sla:
            sla = durations.parse(req.sla)
            result.due = drafted + sla.fixed if sla else None
        cut = -1
        for position, entry in related:
            moment = at_of(entry)
            if entry.data.get("type") != "rejection" or not _matches(entry, req) or moment is None:
                continue
            if moment <= at and held(entry.data.get("by"), req.role, moment, entry):
                cut = position
                result.rejection = (str(entry.data.get("by")), moment, str(entry.data.get("rationale", "")))
        seen: set[str] = set()
        for position, entry in related:
            if entry.data.get("type") != "approval" or not _matches(entry, req):
                continue
            who = str(entry.data.get("by"))
            moment = at_of(entry)
            if moment is None or moment > at:
                result.ignored.append(f"{who!r} approved after the publication time")
                continue
            if who == author:
                result.ignored.append(f"{who!r} is the draft's author")
                continue
            if drafted is not None and moment < drafted:
                result.ignored.append(f"{who!r} approved at {moment.isoformat()}, before the draft existed")
                continue
            refused = judge.refusal(entry, incident_id)
            if refused is not None:
                result.ignored.append(refused)
                continue
            if not judge.held(who, req.role, moment, entry):
                commit = judge.added_by(entry.path)
                where = f" (commit {commit.sha[:12]})" if commit else ""
                result.ignored.append(
                    f"{who!r} was not a member of role {req.role!r} in the committed register "
                    f"at {moment.isoformat()} and when the approval was recorded{where}"
                )
                continue
            if entry.data.get("sha256") != expected:
                result.ignored.append(
                    f"{who!r} approved different text (sha256 {str(entry.data.get('sha256'))[:12]}...)"
                )
                continue
            if position < cut:
                result.ignored.append(f"{who!r} approved before the standing rejection")
                continue
            if who in seen:
                continue
            seen.add(who)
            result.approvers.append((who, moment, entry_id(entry)))
            if len(result.approvers) == req.quorum:
                result.completed_at = moment
        if cover is not None and not result.satisfied and cut < 0:
            # steps the template's clearance approved in peacetime (never a standing rejection)
            for who, _moment, ref in cover.steps.get(req.key, ()):
                if who not in seen and len(result.approvers) < req.quorum:
                    seen.add(who)
                    result.approvers.append((who, drafted or at, ref))
                    verdict.clearance = cover.clearance
            if result.satisfied and result.completed_at is None:
                result.completed_at = drafted or at
        if result.satisfied:
            result.rejection = None
        verdict.steps.append(result)
    _apply_override(index, verdict, [e for _, e in related if e.data.get("type") == "override"], held)
    return verdict


def override_allowed(index: Index, chain_id: str, role: str) -> bool:
    chain = index.get("approval-chain", chain_id)
    override = (chain.data.get("emergency_override") or {}) if chain else {}
    return role in (override.get("roles") or ())


def _apply_override(
    index: Index,
    verdict: Verdict,
    overrides: Iterable[Document],
    held: Callable[[object, str, dt.datetime, Document], bool],
) -> None:
    for entry in overrides:
        moment = at_of(entry)
        role = str(entry.data.get("role"))
        if moment is None or moment > verdict.at or not held(entry.data.get("by"), role, moment, entry):
            continue
        covered = [
            step
            for step in verdict.steps
            if all(override_allowed(index, chain, role) for chain in step.requirement.chains)
        ]
        if not covered:
            continue
        verdict.override = entry
        for step in covered:
            if not step.satisfied:
                step.overridden = True


def override_roles(index: Index, verdict: Verdict) -> set[str]:
    """Roles that could override the chains of this draft's missing steps."""
    roles: set[str] = set()
    for step in verdict.steps:
        if step.satisfied:
            continue
        allowed: set[str] | None = None
        for chain_id in step.requirement.chains:
            chain = index.get("approval-chain", chain_id)
            spec = set(((chain.data.get("emergency_override") or {}).get("roles") or ()) if chain else ())
            allowed = spec if allowed is None else allowed & spec
        roles |= allowed or set()
    return roles


@dataclass(frozen=True)
class OpenOverride:
    entry: Document
    review_by: str | None
    due: dt.datetime | None
    reviewed: Document | None


def overrides(index: Index, incident: Document, entries: Sequence[Document]) -> list[OpenOverride]:
    """Every override in the log, with its follow-up review (if any)."""
    out = []
    for entry in entries:
        if entry.data.get("type") != "override":
            continue
        review_by: str | None = None
        due: dt.datetime | None = None
        draft = find_draft(entries, str(entry.data.get("draft")))
        moment = at_of(entry)
        for chain_id in _chains_of(index, incident, entries, draft, moment):
            chain = index.get("approval-chain", chain_id)
            spec = (chain.data.get("emergency_override") or {}) if chain else {}
            if entry.data.get("role") in (spec.get("roles") or ()):
                review_by = spec.get("review_by")
                within = durations.parse(str(spec.get("review_within", "")))
                moved = within.after(moment) if within and moment else None
                due = moved if isinstance(moved, dt.datetime) else None
                break
        reviewed = next(
            (
                e
                for e in entries
                if e.data.get("type") == "override-review" and e.data.get("override") == entry_id(entry)
            ),
            None,
        )
        out.append(OpenOverride(entry, review_by, due, reviewed))
    return out


def _chains_of(
    index: Index,
    incident: Document,
    entries: Sequence[Document],
    draft: Document | None,
    at: dt.datetime | None,
) -> list[str]:
    if draft is None or at is None:
        return []
    severity = severity_at(index, incident, entries, at)
    reqs, _, _ = requirements(index, incident, draft, severity, draft_classes(index, draft))
    return list(dict.fromkeys(chain for r in reqs for chain in r.chains))


def describe_missing(verdict: Verdict) -> list[dict[str, Any]]:
    """Per-step waiting list for status: who still has to approve."""
    rows = []
    for step in verdict.steps:
        if step.satisfied or step.overridden:
            continue
        rows.append(
            {
                "chains": list(step.requirement.chains),
                "step": step.requirement.step,
                "role": step.requirement.role,
                "needed": step.missing,
                "approved_by": [a[0] for a in step.approvers],
                "rejected_by": step.rejection[0] if step.rejection else None,
                "due": step.due.isoformat() if step.due else None,
            }
        )
    return rows
