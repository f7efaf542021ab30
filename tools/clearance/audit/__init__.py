"""The audit trail, over one ``git log`` pass and the documents the engine loads.

- :mod:`~clearance.audit.people`: git identities and signing keys → people
- :mod:`~clearance.audit.records`: change records, approvals, allowances, findings
- :mod:`~clearance.audit.trail`: the evidence report (AUD and SIG rules)
- :mod:`~clearance.audit.verify`: append-only verification (VER rules)
- :mod:`~clearance.audit.asof`: a document as of a date
- :mod:`~clearance.audit.codeowners`: CODEOWNERS from owners and chains
- :mod:`~clearance.audit.loader`: documents and history, loaded side by side

Reporters for its results live in :mod:`clearance.report.audit`; nothing here prints.
"""

from __future__ import annotations

from clearance.audit.asof import Snapshot, as_of, describe_changes
from clearance.audit.codeowners import Owners, codeowners, unified_diff
from clearance.audit.loader import documents, load
from clearance.audit.people import Directory, ssh_fingerprint
from clearance.audit.records import AuditFinding, AuditReport, ChangeRecord, tickets_of
from clearance.audit.trail import allowances, audit, build_report
from clearance.audit.verify import governed_commits, log_entry_pattern, verify

__all__ = [
    "AuditFinding",
    "AuditReport",
    "ChangeRecord",
    "Directory",
    "Owners",
    "Snapshot",
    "allowances",
    "as_of",
    "audit",
    "build_report",
    "codeowners",
    "describe_changes",
    "documents",
    "governed_commits",
    "load",
    "log_entry_pattern",
    "ssh_fingerprint",
    "tickets_of",
    "unified_diff",
    "verify",
]
