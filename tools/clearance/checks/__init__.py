"""The rule catalogue. Each module in this package owns one family of rules; each
check is a generator of findings registered with the ids it may produce."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clearance.config import Config
from clearance.index import Index, Reads, Reference, references_of
from clearance.model import Document, Finding, Location, Rule, Severity

FAMILIES = (
    "references",
    "layout",
    "reviews",
    "people",
    "chains",
    "protocols",
    "templates",
    "clearances",
    "talkingpoints",
    "policies",
    "dataclasses",
    "incidents",
    "approvals",
    "disclosure",
    "regulations",
    "claims",
    "awareness",
    "severity",
    "exercises",
    "notices",
    "wording",
    "acknowledgements",
    "privilege",
    "holds",
    "stakeholders",
    "translations",
    "spokespeople",
    "allowances",
)

# Enforcement rules: approvals, disclosure 'never', append-only history and signatures.
# They constrain the very people who could edit the configuration or a document, so they
# are never suppressed inline and never set below error; trying is itself an error.
ENFORCED = frozenset(
    {
        "APR001",  # publication without its approvals
        "APR007",  # entry not made by the person it names
        "APR008",  # decision unsigned (where required) or signature does not verify
        "APR009",  # scribe's record used as a decision
        "APR010",  # entry time outside the incident or after its commit, or file name disagrees
        "APR011",  # signed decisions switched off after they were required
        "DSC005",  # published text touches a 'never' class
        "ALW002",  # an allowance for a 'never' class
        "OBL001",  # closed incident with a listed obligation nobody assessed
        "VER001",  # landed entry modified, deleted or renamed
        "VER002",  # backdated commit
        "VER003",  # checkpoint no longer an ancestor
        "VER004",  # merge that drops a landed entry
        "VER005",  # checkpoint tag unsigned or not verifying
        "VER006",  # entry time against its name, its incident and its commit
        "VER007",  # log entry that only a merge commit introduced
        "SUP002",  # trying to waive one of these
        "SIG001",
        "SIG002",
        "SIG003",
        "SIG004",
    }
)

Check = Callable[["Context"], Iterable[Finding]]
_RULES: dict[str, Rule] = {}
_CHECKS: list[Check] = []


def register(*specs: tuple[str, Severity, str]) -> Callable[[Check], Check]:
    """Register a check and the rules it may report."""

    def decorate(fn: Check) -> Check:
        for rule_id, severity, description in specs:
            if rule_id in _RULES:
                raise RuntimeError(f"rule {rule_id} registered twice")
            _RULES[rule_id] = Rule(rule_id, severity, description)
        _CHECKS.append(fn)
        return fn

    return decorate


def _core_rules() -> None:
    from clearance import loading

    for rule_id, description in loading.RULES.items():
        _RULES.setdefault(rule_id, Rule(rule_id, Severity.ERROR, description))
    from clearance.audit_rules import DEFAULT_SEVERITY
    from clearance.audit_rules import RULES as HISTORY_RULES

    # Rules reported over git history by 'clearance audit' and 'clearance verify'.
    for rule_id, description in HISTORY_RULES.items():
        _RULES.setdefault(rule_id, Rule(rule_id, DEFAULT_SEVERITY[rule_id], description))
    for rule_id, description in (
        ("SCH001", "document does not match its kind's schema"),
        ("SCH002", "missing or unknown 'kind'"),
        ("IDX001", "duplicate id within a kind"),
        ("SUP001", "suppression without a reason, or for a rule that does not exist"),
        ("SUP002", "suppression of an enforcement rule (approvals, 'never', append-only, signatures)"),
    ):
        _RULES.setdefault(rule_id, Rule(rule_id, Severity.ERROR, description))


@functools.cache
def _load_families() -> None:
    _core_rules()
    for family in FAMILIES:
        importlib.import_module(f"clearance.checks.{family}")


def catalogue() -> dict[str, Rule]:
    _load_families()
    return dict(sorted(_RULES.items()))


def checks() -> list[Check]:
    _load_families()
    return list(_CHECKS)


@dataclass
class Context:
    index: Index
    config: Config
    # What rules may remember between runs (JSON values), kept by whoever runs them:
    # the speed wing stores it beside its cache; None: nothing is remembered.
    memo: MutableMapping[str, Any] | None = None
    # The documents whose findings are wanted (one unit: a file, or an incident's
    # folder); None means every document. Rules read everything else via the index.
    units: Sequence[Document] | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    _by_kind: dict[str | None, list[Document]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.config.today is not None:  # a fixed date makes the run reproducible
            self.now = dt.datetime.combine(self.config.today, dt.time(23, 59, 59), tzinfo=dt.UTC)

    @property
    def today(self) -> dt.date:
        return self.config.today_or_now()

    def subjects(self, kind: str | None = None) -> list[Document]:
        """The documents to report on: all of this unit's, or those of ``kind`` that
        are not duplicates of an earlier id."""
        if self._by_kind is None:
            docs = self.index.documents if self.units is None else self.units
            self._by_kind = {None: list(docs)}
            for doc in docs:
                self._by_kind.setdefault(doc.kind, []).append(doc)
        if kind is None:
            return list(self._by_kind[None])
        return [doc for doc in self._by_kind.get(kind, ()) if self.index.canonical(doc)]

    def references(self) -> list[Reference]:
        """The references the subjects make."""
        return [ref for doc in self.subjects() for ref in references_of(doc)]

    def until(self, when: dt.datetime) -> None:
        """Say that a finding reported or not depends on the clock being before ``when``."""
        if self.config.today is None and isinstance(self.index, Reads):
            self.index.until(when)

    def until_date(self, day: dt.date) -> None:
        """As :meth:`until` for a rule comparing against today's date (a day early, to
        be safe in every time zone)."""
        self.until(dt.datetime.combine(day - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))

    def finding(
        self,
        rule: str,
        where: Location | Document,
        message: str,
        hint: str | None = None,
        related: tuple[Location, ...] = (),
    ) -> Finding:
        location = where.where(("id",)) if isinstance(where, Document) else where
        return Finding(rule, _RULES[rule].severity, message, location, hint, related)

    def get(self, kind: str, key: Any) -> Document | None:
        return self.index.get(kind, key) if isinstance(key, str) else None


def run(context: Context) -> Iterator[Finding]:
    for check in checks():
        yield from check(context)
