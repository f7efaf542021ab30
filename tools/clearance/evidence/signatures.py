"""What a pack says about a decision's signature. A pack never claims more than was
checked: the signature is verified against the keys the committed people register held
for the acting person just before the commit that added the entry
(:mod:`clearance.incidents.provenance`), and a commit by someone else is said too."""

from __future__ import annotations

from clearance.incidents.provenance import Provenance
from clearance.model import Document

NOT_SIGNED = "not signed"


def status(proofs: Provenance, incident: str, entry: Document) -> str:
    proof = proofs.proof(entry, incident)
    who = entry.data.get("by")
    if proof.scribe:
        said = f"a scribe's record (recorded by {entry.data.get('recorded_by')}), never a decision"
    elif not proof.signed:
        said = NOT_SIGNED + (" (recorded before signed decisions were required)" if proof.legacy else "")
    elif not proof.verified:
        said = f"INVALID: does not verify against the keys {who} held ({proof.where})"
    else:
        said = f"verified: {who}'s registered key ({proof.where})"
    if proof.binding:
        said += f"; {proof.binding}"
    return said
