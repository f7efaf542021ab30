"""Frozen value types shared by every layer: locations, rules, findings, documents."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` gives the worst severity."""

    OFF = 0
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Location:
    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None
    related: tuple[Location, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.path, loc.line, loc.col, self.rule)


@dataclass(frozen=True, eq=False)
class Document:
    """One loaded file: its data, where each value stands, and its Markdown body."""

    path: str  # repository-relative, POSIX separators
    data: Mapping[str, Any]
    positions: Mapping[Path, tuple[int, int]]
    key_positions: Mapping[Path, tuple[int, int]]
    body: str | None = None
    body_line: int = 0
    digest: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else None

    @property
    def id(self) -> str | None:
        ident = self.data.get("id")
        return ident if isinstance(ident, str) else None

    def where(self, path: Path = (), *, key: bool = False) -> Location:
        """The location of the value at ``path`` (or of its key), falling back to the
        nearest ancestor that has one."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while True:
            pos = table.get(probe)
            if pos is None and key:
                pos = self.positions.get(probe)
            if pos is not None:
                return Location(self.path, pos[0], pos[1])
            if not probe:
                return Location(self.path, 1, 1)
            probe = probe[:-1]
