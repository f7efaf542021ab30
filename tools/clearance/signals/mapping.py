"""How the columns of a monitoring export map to a signal's fields.

A *format* names, for each field of a :class:`~clearance.signals.rows.Signal`, the column
(CSV header) or key path (JSON, dotted: ``via.channel``) it is read from, with alternatives
tried in order. Two presets ship for common export shapes; ``clearance.yaml`` may define
more under ``signals.formats`` (optionally starting from a preset) and pick the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clearance import loading
from clearance.config import CONFIG_NAME
from clearance.errors import UsageError

FIELDS = ("at", "text", "channel", "author", "author_kind", "reach", "url", "sentiment")
REQUIRED = ("at", "text")


@dataclass(frozen=True)
class Format:
    """One export shape: the columns for each field, and how to read the file."""

    name: str
    columns: Mapping[str, tuple[str, ...]]
    timezone: str = "UTC"  # for times written without an offset
    records: str | None = None  # JSON: dotted path of the record array ("tickets")
    channel_values: Mapping[str, str] = field(default_factory=dict)  # export's channel -> ours
    kind_values: Mapping[str, str] = field(default_factory=dict)  # export's author type -> ours
    description: str = ""

    def header_fits(self, header: Sequence[str]) -> bool:
        names = {h.strip().lower() for h in header}
        return all(any(c.lower() in names for c in self.columns.get(f, ())) for f in REQUIRED)


# A social-listening "mentions" export (the shape Brandwatch, Talkwalker and similar tools
# write): a few lines of report metadata, then a header row; one mention per row.
MENTIONS_CSV = Format(
    "mentions-csv",
    {
        "at": ("Date", "Published", "Published Date"),
        "text": ("Full Text", "Snippet", "Content", "Title"),
        "channel": ("Page Type", "Source Type", "Media Type", "Domain"),
        "author": ("Author", "Author Handle", "Screen Name"),
        "author_kind": ("Author Type", "Account Type", "Professions"),
        "reach": ("Followers", "Twitter Followers", "Author Followers", "Reach"),
        "url": ("Url", "URL", "Link"),
        "sentiment": ("Sentiment",),
    },
    channel_values={
        "twitter": "x",
        "x": "x",
        "facebook": "facebook",
        "instagram": "instagram",
        "tiktok": "tiktok",
        "linkedin": "linkedin",
        "news": "press",
        "online news": "press",
        "blog": "web",
        "forum": "web",
        "reddit": "web",
    },
    kind_values={"journalist": "journalist", "media": "journalist", "regulator": "regulator"},
    description="social-listening mentions export: metadata lines, then Date, Full Text, Url, Author, "
    "Followers, Page Type, Sentiment, Author Type",
)

# A help-desk ticket export in JSON (Zendesk-like): {"tickets": [{...}, ...]} with the
# channel under via.channel and the requester's details nested.
TICKETS_JSON = Format(
    "tickets-json",
    {
        "at": ("created_at",),
        "text": ("description", "subject"),
        "channel": ("via.channel",),
        "author": ("requester.name", "requester_id"),
        "author_kind": ("requester.organization", "requester.role"),
        "reach": ("requester.followers",),
        "url": ("url",),
        "sentiment": ("satisfaction_rating.score",),
    },
    records="tickets",
    channel_values={"email": "email", "web": "web", "twitter": "x", "facebook": "facebook", "voice": "phone"},
    kind_values={"journalist": "journalist", "press": "journalist", "regulator": "regulator"},
    description='help-desk ticket export: {"tickets": [...]} with created_at, subject, description, '
    "via.channel, requester.{name,role,followers}",
)

PRESETS: dict[str, Format] = {f.name: f for f in (MENTIONS_CSV, TICKETS_JSON)}


def _columns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value or ())


def _from_config(name: str, spec: Mapping[str, Any]) -> Format:
    base = PRESETS.get(str(spec.get("preset"))) if spec.get("preset") else None
    if spec.get("preset") and base is None:
        raise UsageError(
            f"{CONFIG_NAME}: signals.formats.{name}.preset {spec.get('preset')!r} is not a preset; "
            f"presets: {', '.join(PRESETS)}"
        )
    columns = dict(base.columns) if base else {}
    columns.update({k: _columns(v) for k, v in (spec.get("columns") or {}).items()})
    missing = [f for f in REQUIRED if not columns.get(f)]
    if missing:
        raise UsageError(
            f"{CONFIG_NAME}: signals.formats.{name} maps no column to {', '.join(missing)} "
            "(every signal needs a time and a text)"
        )
    start = base or Format(name, {})
    return replace(
        start,
        name=name,
        columns=columns,
        timezone=str(spec.get("timezone") or start.timezone),
        records=spec.get("records", start.records),
        channel_values={
            **start.channel_values,
            **{str(k).lower(): str(v) for k, v in (spec.get("channels") or {}).items()},
        },
        kind_values={
            **start.kind_values,
            **{str(k).lower(): str(v) for k, v in (spec.get("author_kinds") or {}).items()},
        },
        description=str(spec.get("description") or f"configured in {CONFIG_NAME}"),
    )


@dataclass(frozen=True)
class Settings:
    """``signals:`` of clearance.yaml: the formats known here and the default one."""

    formats: Mapping[str, Format]
    default: str | None = None


def settings(root: Path) -> Settings:
    """The presets plus the formats ``clearance.yaml`` defines (validated by its schema
    when the configuration was loaded)."""
    formats: dict[str, Format] = dict(PRESETS)
    path = root / CONFIG_NAME
    if not path.is_file():
        return Settings(formats)
    try:
        doc = loading.load_file(path, CONFIG_NAME)
    except loading.LoadFailed:
        return Settings(formats)  # config.load reports it first
    section = doc.data.get("signals") or {}
    for name, spec in (section.get("formats") or {}).items():
        formats[str(name)] = _from_config(str(name), spec or {})
    default = section.get("default")
    if default is not None and default not in formats:
        raise UsageError(
            f"{CONFIG_NAME}: signals.default {default!r} is not a format; formats: {', '.join(formats)}"
        )
    return Settings(formats, default)
