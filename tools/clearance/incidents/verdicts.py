"""What the approval evaluator decides: the steps a draft needs (requirements), how
each stands (step results) and the verdict over all of them. Plain data shared by
publish, status, the evidence packs and the APR rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clearance import durations
from clearance.model import Document

if TYPE_CHECKING:
    from clearance.incidents import allowances


@dataclass(frozen=True)
class Requirement:
    """One step to approve. Steps with the same id and role in several applicable
    chains are one requirement: the largest quorum and the shortest time target."""

    chain: str
    step: str
    role: str
    quorum: int
    sla: str | None
    because: str  # why the chain applies
    chains: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.step, self.role)


def _merge(first: Requirement, other: Requirement) -> Requirement:
    def seconds(sla: str | None) -> float:
        parsed = durations.parse(sla) if sla else None
        return parsed.fixed.total_seconds() + parsed.months * 31 * 86400 if parsed else float("inf")

    sla = first.sla if seconds(first.sla) <= seconds(other.sla) else other.sla
    return Requirement(
        first.chain,
        first.step,
        first.role,
        max(first.quorum, other.quorum),
        sla,
        f"{first.because}; {other.because}",
        (*first.chains, *other.chains),
    )


@dataclass
class StepResult:
    requirement: Requirement
    approvers: list[tuple[str, dt.datetime, str]] = field(default_factory=list)  # person, at, entry
    ignored: list[str] = field(default_factory=list)  # approvals that do not count, and why
    rejection: tuple[str, dt.datetime, str] | None = None  # standing rejection
    completed_at: dt.datetime | None = None
    due: dt.datetime | None = None  # draft time + SLA
    overridden: bool = False

    @property
    def satisfied(self) -> bool:
        return len(self.approvers) >= self.requirement.quorum

    @property
    def missing(self) -> int:
        return max(0, self.requirement.quorum - len(self.approvers))

    def explain(self) -> str:
        req = self.requirement
        text = (
            f"step {req.step!r} (role {req.role!r}, quorum {req.quorum}; {req.because}) "
            f"has {len(self.approvers)} valid approval(s)"
        )
        if self.rejection:
            text += f"; rejected by {self.rejection[0]!r} at {self.rejection[1].isoformat()}"
        if self.ignored:
            text += "; not counted: " + "; ".join(self.ignored)
        return text


@dataclass
class Verdict:
    draft: Document | None
    draft_id: str
    at: dt.datetime
    severity: str = ""
    classes: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    override: Document | None = None
    clearance: str | None = None  # the template clearance that approved some steps (preclearance)
    allowed: list[allowances.Standing] = field(default_factory=list)  # effective allowances applied

    @property
    def ok(self) -> bool:
        return (
            not self.forbidden
            and not self.problems
            and all(step.satisfied or step.overridden for step in self.steps)
        )

    def reasons(self) -> list[str]:
        out = list(self.problems)
        out.extend(
            f"data class {name!r} may never be disclosed (disclosure rule 'never')" for name in self.forbidden
        )
        out.extend(step.explain() for step in self.steps if not (step.satisfied or step.overridden))
        return out
