"""The rules section of ``clearance.yaml``, judged against the rule catalogue: every
rule it names exists, and no enforcement rule is lowered or switched off (the people
those rules constrain can edit the file). Kept here, above the configuration, so
that loading the configuration never needs the rules."""

from __future__ import annotations

from clearance.checks import ENFORCED, catalogue
from clearance.config import Config
from clearance.errors import FatalError
from clearance.model import Severity


def require_valid_rules(config: Config) -> None:
    """Raise the first problem with the configured rules, located in clearance.yaml."""
    if not config.rule_places:
        return  # nothing configured: no need to load every rule family to know their ids
    known = catalogue()
    for rule, (key, _value) in config.rule_places.items():
        if rule not in known:
            raise FatalError(f"{key}: unknown rule {rule!r} (see 'clearance rules')")
    for rule, (_, value) in config.rule_places.items():
        level = config.rules.get(rule)
        if rule in ENFORCED and level is not Severity.ERROR:
            raise FatalError(
                f"{value}: rule {rule!r} cannot be set to {str(level)!r}: it enforces approvals, "
                "'never' disclosure, the append-only record or signatures, which the people it "
                "constrains may not waive; remove the line"
            )
