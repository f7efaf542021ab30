"""Who is acting, on which repository, at what time: the session every incident
command works in, and how users name entries, people and moments."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance import history, suggestions
from clearance.config import Config
from clearance.errors import Refused as Refused  # re-exported: workflows import it from here
from clearance.errors import UsageError
from clearance.incidents import approvals, clocks, obligations, state
from clearance.incremental import run as incremental
from clearance.index import Index
from clearance.model import Document


def parse_moment(text: str, what: str = "time") -> dt.datetime:
    """An aware datetime from user input; a time without an offset is refused."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{what} {text!r} is not an RFC 3339 timestamp (e.g. 2026-03-14T09:05:00Z)"
        ) from None
    if moment.tzinfo is None or "T" not in text.upper():
        raise UsageError(
            f"{what} {text!r} has no UTC offset; write it as e.g. "
            f"{text.strip()}Z or {text.strip()}+01:00 so it means one moment everywhere"
        )
    return moment


# How the words for kinds read in messages ("no data class 'x'; data classes: ...").
_PLURALS = {
    "person": "people",
    "data class": "data classes",
    "data-class": "data classes",
    "policy": "policies",
    "entry": "entries",
    "talking-points": "talking-points entries",
}
# Kinds named as <parent>#<part>.
_PARENTS = {"clause": "policy", "obligation": "regulation"}
# Where a session keeps what it remembers between runs (only inside .git, never tracked).
ACTOR_NOTE_MARKER = "actor-explained"
WAYS_TO_ACT = (
    "pass --as PERSON, set 'actor: PERSON' in clearance.yaml, "
    "or set git user.email to an address in that person's 'emails'"
)


def plural(kind: str) -> str:
    return _PLURALS.get(kind, kind + "s")


@dataclass
class Session:
    config: Config
    index: Index
    now: dt.datetime
    signing_key: str | None = None  # --key: what decisions are signed with (see incidents.decisions)
    scribe: str | None = None  # who types when --as names someone else (a scribe's record)
    confirmed: str | None = None  # how an approver without --sha256 was shown the text

    @property
    def root(self) -> Path:
        return self.config.root.resolve()

    def need(self, kind: str, key: str | None, what: str | None = None) -> Document:
        doc = self.index.get(kind, key) if key else None
        if doc is None:
            name = what or kind
            known = sorted(self.index.ids(kind))
            raise UsageError(f"no {name} {key!r}" + suggestions.hint(key, known, plural(name)))
        return doc

    def part_hint(self, kind: str, ref: str) -> str:
        """What to say after "no <kind> <ref>" for a clause or an obligation
        (``<parent>#<part>``): the id most like it, else which parts its parent has,
        or that the parent does not exist."""
        parent_kind = _PARENTS[kind]
        parent, sep, _ = ref.partition("#")
        text = "" if sep else f": write {parent_kind}-id#{kind}-id"
        parents = sorted(self.index.ids(parent_kind))
        keys = sorted(self.index.ids(kind))
        if parent in parents:
            parts = [key for key in keys if key.startswith(f"{parent}#")]
            return text + suggestions.hint(ref, parts, f"{plural(kind)} of {parent!r}")
        close = suggestions.did_you_mean(ref, keys)
        if close:
            return text + f" ({close})"
        return (
            text
            + f"; there is no {parent_kind} {parent!r}"
            + suggestions.hint(parent, parents, plural(parent_kind))
        )

    def incident(self, key: str) -> Document:
        return self.need("incident", key)

    def entries(self, incident: str) -> list[Document]:
        return self.index.incident_entries(incident)


def open_session(config: Config, now: dt.datetime | None = None) -> Session:
    # In a git work tree, files unchanged since the last 'clearance check' come from its
    # cache: a command during a crisis reads only what it needs, however large the
    # repository (the cache is only read here, never written).
    cache = (config.root / ".git").is_dir()
    repo = incremental.load_repository(config, jobs=os.cpu_count() or 1, cache=cache)
    return Session(config, repo.index, now or dt.datetime.now(dt.UTC).replace(microsecond=0))


def reload(session: Session) -> Session:
    fresh = open_session(session.config, session.now)
    fresh.signing_key, fresh.scribe = session.signing_key, session.scribe
    return fresh


@dataclass(frozen=True)
class Actor:
    person: str
    source: str  # "--as", "clearance.yaml actor" or "git user.email"
    email: str | None = None  # the git user.email it was found from


def find_actor(session: Session, given: str | None) -> Actor:
    """--as, else clearance.yaml ``actor``, else git ``user.email`` matched against the
    people register. Must be a known person."""
    people = {str(doc.id): doc for doc in session.index.of_kind("person")}
    for source, value in (("--as", given), ("clearance.yaml actor", session.config.actor)):
        if value:
            if value in people:
                return Actor(value, source)
            by_email = _person_by_email(people, value)
            if by_email:
                return Actor(by_email, source)
            raise UsageError(
                f"{source} {value!r} is not a known person"
                + suggestions.hint(value, sorted(people), "people")
            )
    result = history.run_git(session.root, "config", "user.email", check=False)
    email = result.stdout.decode("utf-8", "replace").strip() if result.returncode == 0 else ""
    if email:
        person = _person_by_email(people, email)
        if person:
            return Actor(person, "git user.email", email)
        raise UsageError(
            f"who is acting? git user.email {email!r} matches no person in the register; {WAYS_TO_ACT}"
        )
    raise UsageError(f"who is acting? git user.email is not set; {WAYS_TO_ACT}")


def resolve_actor(session: Session, given: str | None) -> str:
    return find_actor(session, given).person


def first_time(root: Path, marker: str) -> bool:
    """True the first time it is asked about ``marker`` in this git repository (it is
    remembered in .git/clearance/, never in a tracked file); always True outside git,
    where there is nowhere to remember it."""
    git = root / ".git"
    if not git.is_dir():
        found = history.run_git(root, "rev-parse", "--git-common-dir", check=False)
        if found.returncode != 0:
            return True
        git = root / found.stdout.decode("utf-8", "replace").strip()
    path = git / "clearance" / marker
    if path.exists():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        pass  # a read-only repository: explain again next time
    return True


def _person_by_email(people: Mapping[str, Document], email: str) -> str | None:
    wanted = email.strip().lower()
    for key, doc in people.items():
        if wanted in (str(e).lower() for e in doc.data.get("emails") or ()):
            return key
    return None


def resolve_entry(entries: Sequence[Document], ref: str, kind: str | None = None) -> Document:
    """An entry by its full id (file stem), its random suffix, or a unique prefix."""
    pool = [e for e in entries if kind is None or e.data.get("type") == kind]
    exact = [e for e in pool if approvals.entry_id(e) == ref]
    if exact:
        return exact[0]
    hits = [
        e for e in pool if approvals.entry_id(e).endswith(f"-{ref}") or approvals.entry_id(e).startswith(ref)
    ]
    what = kind or "entry"
    if len(hits) == 1:
        return hits[0]
    if not hits:
        ids = [approvals.entry_id(e) for e in pool]
        suffixes = [i.rpartition("-")[2] for i in ids]
        raise UsageError(
            f"no {what} {ref!r} in this incident"
            + suggestions.hint(ref, ids, f"{plural(what)} in this incident", also=suffixes)
        )
    raise UsageError(f"{ref!r} matches {len(hits)} {what} entries; give the full id")


def levels(session: Session, incident: Document) -> list[str]:
    """The protocol's severity levels, most severe first."""
    proto = session.index.get("protocol", str(incident.data.get("protocol")))
    return [
        str(s.get("level"))
        for s in (proto.data.get("severities") or () if proto else ())
        if isinstance(s, dict) and s.get("level")
    ]


def state_of(session: Session, incident: Document) -> state.State:
    """Status, severity, roles and withdrawn drafts as the log arrives at them."""
    return state.derive(incident, session.entries(str(incident.id)), levels(session, incident))


def current_status(session: Session, incident: Document) -> str:
    return state_of(session, incident).status


def obligations_of(index: Index) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for key in index.ids("obligation"):
        hit = index.part("obligation", key)
        if hit is None:
            continue
        doc, path = hit
        value = index.value(doc, *path)
        if isinstance(value, dict):
            out[key] = value
    return out


def deadlines(session: Session, incident_id: str) -> list[clocks.Deadline]:
    return obligations.deadlines(obligations_of(session.index), session.entries(incident_id))
