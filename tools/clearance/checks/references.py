"""References between documents: found generically from the schema annotations."""

from __future__ import annotations

from collections.abc import Iterator

from clearance import schemas, suggestions
from clearance.checks import Context, register
from clearance.model import Finding, Severity

# Kinds with a draft/active/retired lifecycle: everything but the incident record.
_LIFECYCLE_KINDS = set(schemas.KINDS) - {"incident", "log-entry", "review"}


def _field(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int)) or "value"


@register(
    ("REF001", Severity.ERROR, "reference to a document that does not exist"),
    ("REF002", Severity.WARNING, "active document refers to a retired one"),
)
def references(ctx: Context) -> Iterator[Finding]:
    index = ctx.index
    for ref in ctx.references():
        target = index.resolve(ref)
        if target is None:
            candidates = index.ids(ref.kind)
            if ref.kind == "log-entry" and "/" in ref.key:
                scope = ref.key.rsplit("/", 1)[0] + "/"
                candidates = [c.removeprefix(scope) for c in candidates if c.startswith(scope)]
            hint = suggestions.did_you_mean(ref.value, candidates) or _no_match_hint(ref.kind, candidates)
            yield ctx.finding(
                "REF001",
                ref.location,
                f"{_field(ref.path)} refers to {ref.kind} {ref.value!r}, which does not exist",
                hint,
            )
            continue
        if (
            ref.source.data.get("status") == "active"
            and ref.source.kind in _LIFECYCLE_KINDS
            and target.data.get("status") == "retired"
        ):
            yield ctx.finding(
                "REF002",
                ref.location,
                f"{_field(ref.path)} refers to retired {ref.kind} {ref.value!r}",
                "point to its replacement, or retire this document too",
                (target.where(("status",)),),
            )


def _no_match_hint(kind: str, candidates: list[str]) -> str:
    if not candidates:
        return f"there is no {kind} yet; add one"
    if kind in ("clause", "obligation"):
        return f"write it as {'policy' if kind == 'clause' else 'regulation'}-id#{kind}-id"
    shown = ", ".join(sorted(candidates)[:5])
    more = "" if len(candidates) <= 5 else f" (and {len(candidates) - 5} more)"
    return f"known {kind} ids: {shown}{more}"
