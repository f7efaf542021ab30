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

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from clearance.index import Index
from clearance.model import Document

if TYPE_CHECKING:
    from clearance.incidents.status import Status

T = TypeVar("T")

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


# Fields of an entry that identify things rather than say them: kept when a privileged
# entry's words are scrubbed from a report (an obligation id, a time, a person).
_STRUCTURAL = frozenset(
    {
        "kind",
        "type",
        "at",
        "by",
        "draft",
        "obligation",
        "regulation",
        "role",
        "step",
        "person",
        "action",
        "channel",
        "template",
        "sha256",
        "signature",
        "supersedes",
        "corrects",
        "override",
        "from",
        "to",
        "severity",
        "previous",
        "enquiry",
        "clock_start",
        "until",
        "basis",
        "counsel",
        "applies",
        "recorded_by",
        "on_behalf_of",
        "data_classes",
        "cites",
        "exercise_inject",
    }
)
_SHORTEST = 4  # shorter strings ('yes', 'no') say nothing of the advice and are everywhere


def words_of(entries: Iterable[Document]) -> set[str]:
    """Every free-text value of the privileged ``entries`` (text, rationale, direction,
    points, values, answers ...): what must not appear in a report for a non-legal reader."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            if len(value.strip()) >= _SHORTEST:
                found.add(value.strip())
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for entry in entries:
        if not is_privileged(entry):
            continue
        for key, value in entry.data.items():
            if key == "privileged" and isinstance(value, Mapping):
                walk(value.get("direction"))  # counsel's name is no secret; what they asked is
            elif key not in _STRUCTURAL:
                walk(value)
    return found


def scrub(value: T, words: set[str]) -> T:
    """``value`` (a report: frozen dataclasses, mappings, sequences, strings) with every
    string that contains one of ``words`` replaced by :data:`PLACEHOLDER`."""
    if not words:
        return value
    scrubbed: T = _scrub(value, tuple(sorted(words, key=len, reverse=True)))
    return scrubbed


def _scrub(value: Any, words: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER if any(word in value for word in words) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _scrub(getattr(value, f.name), words) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {key: _scrub(item, words) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_scrub(item, words) for item in value)
    if isinstance(value, list):
        return [_scrub(item, words) for item in value]
    return value


def redact_status(report: Status, entries: Sequence[Document]) -> tuple[Status, int]:
    """The incident status as a reader outside the legal audience may see it: privileged
    drafts left out, privileged words replaced by "privileged entry" wherever a row
    quotes them (an obligation's reason, a rejection, a conflict); and how many
    privileged entries there are (counted, never named)."""
    hidden = privileged_ids(entries)
    if not hidden:
        return report, 0
    report = dataclasses.replace(
        report,
        waiting=tuple(d for d in report.waiting if d.draft not in hidden),
        ready_to_publish=tuple(d for d in report.ready_to_publish if d.draft not in hidden),
        rejected=tuple(d for d in report.rejected if d.draft not in hidden),
        withdrawn=tuple(d for d in report.withdrawn if d not in hidden),
    )
    return scrub(report, words_of(entries)), len(hidden)


def privileged_paths(root: Path) -> frozenset[str]:
    """Log entries in the work tree that carry a privilege marking (root-relative), found
    with ``git grep`` so the audit loads no documents for it. Outside git: none."""
    from clearance import history as git

    found = git.run_git(root, "grep", "-l", "-z", "-E", "^privileged:", "--", "*/log/*.yaml", check=False)
    if found.returncode != 0:
        return frozenset()
    return frozenset(p for p in found.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def masked(commit: Any) -> Any:
    """A copy of ``commit`` (a history Commit) whose message says only "privileged entry":
    audit rows name the commit, its author, time and files, never counsel's words."""
    import copy

    out = copy.copy(commit)
    out.subject = PLACEHOLDER
    out.body = ""
    return out


def mark(session: Any, actor: str, counsel_: str | None, direction: str | None) -> None:
    """Make every entry this command writes privileged (``--privileged DIRECTION``,
    ``--counsel PERSON``, default the acting person). Refused unless counsel holds a legal
    role: privilege that PRV001 would reject is never written."""
    from clearance.errors import UsageError

    if direction is None:
        if counsel_ is not None:
            raise UsageError("--counsel goes with --privileged DIRECTION (what counsel asked for)")
        return
    who = counsel_ or actor
    if not may_read(session.index, who):
        roles = ", ".join(str(r.id) for r in legal_roles(session.index)) or "none is marked 'legal: true'"
        raise UsageError(
            f"--privileged: {who!r} is not a member of a legal role ({roles}); name counsel with --counsel"
        )
    session.privileged = {"counsel": who, "direction": direction}
