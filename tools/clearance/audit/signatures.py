"""One commit's signature judged against the people register (SIG001-SIG004)."""

from __future__ import annotations

from clearance.audit.people import Directory
from clearance.audit.records import AuditFinding
from clearance.history import Commit


def signature_findings(
    commit: Commit,
    directory: Directory,
    *,
    required: bool,
    keys: bool = True,
    path: str | None = None,
) -> tuple[str, str | None, list[AuditFinding]]:
    """(summary, signer person, findings) for one commit's signature. Without
    ``keys`` (no allowed-signers file given) only a missing signature is judged."""
    sig = commit.signature
    if sig is None:
        return "not checked", None, []
    if not sig.signed:
        unsigned: list[AuditFinding] = []
        if required:
            unsigned.append(
                AuditFinding(
                    "SIG001",
                    commit.sha,
                    f"unsigned commit by {commit.author} while signing is required",
                    path,
                    "sign commits (git config commit.gpgsign true) and re-land the change",
                )
            )
        return "unsigned", None, unsigned
    signer = directory.by_signature(sig)
    key = sig.key or sig.fingerprint or "?"
    summary = f"{sig.describe()}; key {key}" + (f"; signer {signer}" if signer else "")
    findings: list[AuditFinding] = []
    if not keys:
        return f"signed (key {key}; not verified: no allowed-signers file given)", signer, findings
    if sig.status != "G":  # for SSH, "U" means a valid signature by a key NOT in the allowed signers
        findings.append(
            AuditFinding(
                "SIG002",
                commit.sha,
                f"{sig.describe()} (key {key}, principal {sig.signer or '-'!r})",
                path,
                "add the key to the allowed-signers file you trust, or re-sign the commit",
            )
        )
    elif signer is None:
        findings.append(
            AuditFinding(
                "SIG003",
                commit.sha,
                f"signed with key {key} (principal {sig.signer!r}) that belongs "
                "to no person in the directory",
                path,
                "add the key to the person's signing_keys",
            )
        )
    else:
        committer = directory.by_email(commit.committer_email)
        if committer is not None and committer != signer:
            findings.append(
                AuditFinding(
                    "SIG004",
                    commit.sha,
                    f"committed as {committer!r} ({commit.committer_email}) but signed by {signer!r}",
                    path,
                )
            )
    return summary, signer, findings
