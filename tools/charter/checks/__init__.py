"""The rule catalogue. Each module in this package owns one family of rules; each
check is a generator of findings registered with the ids it may produce."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charter.config import Config
from charter.index import Index
from charter.model import Document, Finding, Location, Rule, Severity

FAMILIES = (
    "references",
    "layout",
    "reviews",
    "people",
    "chains",
    "protocols",
    "templates",
    "policies",
    "dataclasses",
    "incidents",
    "approvals",
    "disclosure",
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
    from charter import loading

    for rule_id, description in loading.RULES.items():
        _RULES.setdefault(rule_id, Rule(rule_id, Severity.ERROR, description))
    from charter.audit import RULES as HISTORY_RULES

    # Rules reported over git history by 'charter audit' and 'charter verify'.
    for rule_id, description in HISTORY_RULES.items():
        severity = Severity.WARNING if rule_id == "AUD003" else Severity.ERROR
        _RULES.setdefault(rule_id, Rule(rule_id, severity, description))
    for rule_id, description in (
        ("SCH001", "document does not match its kind's schema"),
        ("SCH002", "missing or unknown 'kind'"),
        ("IDX001", "duplicate id within a kind"),
        ("SUP001", "suppression without a reason, or for a rule that does not exist"),
    ):
        _RULES.setdefault(rule_id, Rule(rule_id, Severity.ERROR, description))


@functools.cache
def _load_families() -> None:
    _core_rules()
    for family in FAMILIES:
        importlib.import_module(f"charter.checks.{family}")


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
    # Where rules may keep derived data between runs (None: do not persist anything).
    cache_root: Path | None = None

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
