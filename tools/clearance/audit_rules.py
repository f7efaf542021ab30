"""The rules 'clearance audit' and 'clearance verify' report over git history. Kept apart
from the audit so the rule catalogue (which every check builds) does not import it."""

from __future__ import annotations

from collections.abc import Mapping

from clearance.model import Severity

RULES = {
    "AUD001": "separation of duties: the author approved or merged their own change",
    "AUD002": "direct commit to the main branch touching governed documents",
    "AUD003": "change without a reason or a ticket",
    "SIG001": "unsigned commit while clearance.yaml requires signing",
    "SIG002": "signature is bad or cannot be verified against the allowed signers",
    "SIG003": "signature by a key that belongs to no known person",
    "SIG004": "commit signed by someone other than its committer",
    "VER001": "a landed incident log entry was modified, deleted or renamed",
    "VER002": "commit dated earlier than its parent (backdated)",
    "VER003": "recorded checkpoint is no longer an ancestor of HEAD (history rewritten)",
    "VER004": "a merge whose result lacks a landed incident log entry that a parent held",
    "VER005": "checkpoint tag that is unsigned or whose signature does not verify",
    "VER006": "log entry whose time disagrees with its file name, its incident's detection or its commit",
    "VER007": "log entry that no normal commit added, only a merge commit's result",
}

# Every history rule is an error but AUD003; clearance.yaml may change that like any
# rule's severity, except for the rules checks.ENFORCED names (VER, SIG), which
# checks.settings refuses to lower.
DEFAULT_SEVERITY = {rule: Severity.WARNING if rule == "AUD003" else Severity.ERROR for rule in RULES}


def severity(rule: str, configured: Mapping[str, Severity]) -> Severity:
    """The severity ``rule`` is reported with under the configuration's ``rules``."""
    return configured.get(rule, DEFAULT_SEVERITY.get(rule, Severity.ERROR))
