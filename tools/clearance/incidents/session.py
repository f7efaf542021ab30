"""Who is acting, on which repository, at what time: the session every incident
command works in, and how users name entries, people and moments."""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance import engine, history
from clearance.config import Config
from clearance.errors import FatalError, UsageError
from clearance.incidents import approvals, clocks
from clearance.index import Index
from clearance.model import Document


class Refused(FatalError):
    """The workflow refuses an action (missing approvals, separation of duties, ...)."""

    exit_code = 1


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


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Session:
    config: Config
    index: Index
    now: dt.datetime

    @property
    def root(self) -> Path:
        return self.config.root.resolve()

    def need(self, kind: str, key: str | None, what: str | None = None) -> Document:
        doc = self.index.get(kind, key) if key else None
        if doc is None:
            raise UsageError(f"no {what or kind} {key!r}" + suggest(str(key), self.index.ids(kind)))
        return doc

    def incident(self, key: str) -> Document:
        return self.need("incident", key)

    def entries(self, incident: str) -> list[Document]:
        return self.index.incident_entries(incident)


def open_session(config: Config, now: dt.datetime | None = None) -> Session:
    # In a git work tree, files unchanged since the last 'clearance check' come from its
    # cache: a command during a crisis reads only what it needs, however large the
    # repository (the cache is only read here, never written).
    cache = (config.root / ".git").is_dir()
    repo = engine.load_repository(config, jobs=os.cpu_count() or 1, cache=cache)
    return Session(config, repo.index, now or dt.datetime.now(dt.UTC).replace(microsecond=0))


def reload(session: Session) -> Session:
    return open_session(session.config, session.now)


def resolve_actor(session: Session, given: str | None) -> str:
    """--as, else clearance.yaml ``actor``, else git ``user.email`` matched against the
    people register. Must be a known person."""
    people = {str(doc.id): doc for doc in session.index.of_kind("person")}
    for source, value in (("--as", given), ("clearance.yaml actor", session.config.actor)):
        if value:
            if value in people:
                return value
            by_email = _person_by_email(people, value)
            if by_email:
                return by_email
            raise UsageError(f"{source} {value!r} is not a known person" + suggest(value, people))
    result = history.run_git(session.root, "config", "user.email", check=False)
    email = result.stdout.decode("utf-8", "replace").strip() if result.returncode == 0 else ""
    if email:
        person = _person_by_email(people, email)
        if person:
            return person
        raise UsageError(
            f"git user.email {email!r} matches no person in the register; "
            "add it to the person's emails, or pass --as PERSON"
        )
    raise UsageError("who is acting? pass --as PERSON, set 'actor' in clearance.yaml, or set git user.email")


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
        raise UsageError(f"no {what} {ref!r} in this incident")
    raise UsageError(f"{ref!r} matches {len(hits)} {what} entries; give the full id")


def current_status(session: Session, incident: Document) -> str:
    status = "triage"
    for entry in session.entries(str(incident.id)):
        if entry.data.get("type") == "status-change" and isinstance(entry.data.get("to"), str):
            status = entry.data["to"]
    return status


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
    return clocks.deadlines(obligations_of(session.index), session.entries(incident_id))
