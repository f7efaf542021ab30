"""``clearance.yaml``: strictly loaded, schema-validated, with sensible defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearance import loading, schemas
from clearance.errors import FatalError, UsageError
from clearance.model import Location, Severity

CONFIG_NAME = "clearance.yaml"
DEFAULT_CONTENT = ("policies", "protocols", "incidents")
# Which kinds may live under which top-level folder (rule LAY001).
DEFAULT_FOLDERS: dict[str, tuple[str, ...]] = {
    "policies": ("policy", "role", "person", "data-class", "regulation", "stakeholder"),
    "protocols": ("protocol", "approval-chain", "template", "channel"),
    "incidents": ("incident", "log-entry", "review"),
}


@dataclass(frozen=True)
class Config:
    root: Path
    organisation: str = "Example Organisation"
    domain: str | None = None
    content: tuple[str, ...] = DEFAULT_CONTENT
    folders: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FOLDERS))
    max_file_bytes: int = loading.DEFAULT_MAX_BYTES
    rules: dict[str, Severity] = field(default_factory=dict)
    # where each of ``rules`` is set: (its key, its value); checks.settings judges them
    rule_places: dict[str, tuple[Location, Location]] = field(default_factory=dict, repr=False)
    due_soon_days: int = 30
    today: dt.date | None = None
    actor: str | None = None
    signing_required: bool = False
    signing_decisions: bool = False  # signing: {decisions: required}
    clock_skew: str | None = None  # signing: {clock_skew: ...}
    assess_within: str | None = None  # obligations: {assess_within: ...} (rule OBL002)
    locale: str | None = None  # organisation: {locale: en-GB}; the scanner's default phone region

    def today_or_now(self) -> dt.date:
        return self.today or dt.date.today()


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding clearance.yaml, else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


def require_content(config: Config) -> None:
    """A folder holding none of the content folders is no governance repository:
    ``clearance check`` and the site plugin both refuse it, with this one message,
    rather than report nothing or publish a handbook of empty sections."""
    root = config.root.resolve()
    if not any((root / folder).is_dir() for folder in config.content):
        raise UsageError(
            f"{root}: none of the content folders ({', '.join(config.content)}) exists; "
            "run clearance in a governance repository, pass --root, or start one with 'clearance init'"
        )


def load(root: Path) -> Config:
    path = root / CONFIG_NAME
    if not path.exists():
        return Config(root=root)
    try:
        doc = loading.load_file(path, CONFIG_NAME)
    except loading.LoadFailed as exc:
        problem = exc.problems[0]
        raise FatalError(f"{problem.location}: {problem.rule} {problem.message}") from None
    errors = schemas.validate(doc, "config")
    if errors:
        first = errors[0]
        hint = f" ({first.hint})" if first.hint else ""
        raise FatalError(f"{first.location}: invalid configuration: {first.message}{hint}")
    data: dict[str, Any] = dict(doc.data)
    org = data.get("organisation") or {}
    folders = dict(DEFAULT_FOLDERS)
    for folder, kinds in (data.get("folders") or {}).items():
        folders[folder] = tuple(kinds)
    today = data.get("today")
    return Config(
        root=root,
        organisation=org.get("name", "Example Organisation"),
        domain=org.get("domain"),
        content=tuple(data.get("content") or DEFAULT_CONTENT),
        folders=folders,
        max_file_bytes=(data.get("limits") or {}).get("max_file_bytes", loading.DEFAULT_MAX_BYTES),
        rules={rule: Severity.parse(level) for rule, level in (data.get("rules") or {}).items()},
        rule_places={
            rule: (doc.where(("rules", rule), key=True), doc.where(("rules", rule)))
            for rule in (data.get("rules") or {})
        },
        due_soon_days=(data.get("review") or {}).get("due_soon_days", 30),
        today=dt.date.fromisoformat(today) if today else None,
        actor=data.get("actor"),
        signing_required=bool((data.get("signing") or {}).get("required", False)),
        signing_decisions=(data.get("signing") or {}).get("decisions") == "required",
        clock_skew=(data.get("signing") or {}).get("clock_skew"),
        assess_within=(data.get("obligations") or {}).get("assess_within"),
        locale=org.get("locale"),
    )
