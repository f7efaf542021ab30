"""Legal privilege: an incident log entry prepared at counsel's direction.

An entry is privileged when it carries ``privileged: {counsel: PERSON, direction: TEXT}``.
Privilege is a compartment, not a fifth classification level: the handbook's levels
(public, internal, confidential, restricted) say how widely a document may travel, and a
privileged entry travels only to counsel. So the ``legal`` audience is the restricted
audience plus privileged entries, and no other audience (restricted included) ever holds
a privileged entry: not in handbook builds, evidence packs, ``incident status`` for a
person outside the legal roles, or audit rows (which say "privileged entry" and nothing
of its content).

The legal roles are the roles whose register entry says ``legal: true``; counsel named on
a privileged entry must be a member of one (rule PRV001). A repository with no legal role
can hold no valid privileged entry: privilege fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clearance.index import Index
from clearance.model import Document

LEGAL_AUDIENCE = "legal"
# What any reader outside the legal audience sees in place of a privileged entry.
PLACEHOLDER = "privileged entry"


@dataclass(frozen=True)
class Privilege:
    counsel: str
    direction: str


def marking(doc: Document) -> Privilege | None:
    """The entry's privilege marking, if it has one. A ``privileged`` value that is not a
    mapping (written by hand) still marks the entry: it is withheld, and PRV001 reports it."""
    if doc.kind != "log-entry" or "privileged" not in doc.data:
        return None
    value = doc.data.get("privileged")
    if not isinstance(value, Mapping):
        return Privilege("", "")
    return Privilege(str(value.get("counsel") or ""), str(value.get("direction") or ""))


def is_privileged(doc: Document | None) -> bool:
    return doc is not None and doc.kind == "log-entry" and "privileged" in doc.data


def legal_roles(index: Index) -> list[Document]:
    return [role for role in index.of_kind("role") if role.data.get("legal") is True]


def counsel(index: Index) -> set[str]:
    """Everyone who holds a legal role (members only: a deputy stands in for decisions,
    not for privilege)."""
    people: set[str] = set()
    for role in legal_roles(index):
        people.update(str(p) for p in role.data.get("members") or () if isinstance(p, str))
    return people


def may_read(index: Index, person: str | None) -> bool:
    """Whether ``person`` belongs to the legal audience."""
    return person is not None and person in counsel(index)


def privileged_ids(entries: Iterable[Document]) -> set[str]:
    from clearance.incidents.approvals import entry_id

    return {entry_id(e) for e in entries if is_privileged(e)}


def withhold(entries: Iterable[Document], reader_is_counsel: bool) -> tuple[list[Document], int]:
    """The entries a reader may see, and how many were withheld."""
    kept: list[Document] = []
    withheld = 0
    for entry in entries:
        if is_privileged(entry) and not reader_is_counsel:
            withheld += 1
        else:
            kept.append(entry)
    return kept, withheld
