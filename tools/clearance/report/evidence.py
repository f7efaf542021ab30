"""Printing what ``clearance evidence`` did: a pack written, a pack verified."""

from __future__ import annotations

from clearance.evidence.manifest import Verification
from clearance.evidence.model import ChangesPack, IncidentPack


def written(pack: IncidentPack | ChangesPack, fmt: str, target: str) -> str:
    if isinstance(pack, IncidentPack):
        published = sum(1 for s in pack.statements if s.published_at)
        what = (
            f"incident pack for {pack.incident}: {len(pack.events)} log entries, "
            f"{published} published statement(s), {len(pack.obligations)} obligation(s)"
        )
    else:
        what = f"changes pack: {len(pack.rows)} change(s), {len(pack.exceptions)} with exceptions"
    if isinstance(pack, IncidentPack):
        withheld, unit = pack.withheld.total, "item(s)"
    else:
        withheld, unit = dict(pack.withheld.counts).get("changes", 0), "change(s)"
    extra = f", {withheld} {unit} withheld for audience {pack.audience!r}" if withheld else ""
    dirty = (
        f"\nclearance: warning: built from {len(pack.manifest.dirty)} uncommitted file(s); "
        "commit them and build again for a pack that verifies"
        if pack.manifest.dirty
        else ""
    )
    return f"clearance: wrote {what}{extra} ({fmt}) to {target}{dirty}"


def verification(result: Verification, name: str, problems: list[str]) -> str:
    m = result.manifest
    commit = (m.commit or "no commit")[:12]
    lines = [
        f"{name}: {m.kind} pack ({m.subject}) for audience {m.audience!r}, "
        f"built from commit {commit} of {m.repository} at {m.built_at}"
    ]
    lines.extend(f"{p}" for p in problems)
    for d in result.differences:
        lines.append(f"{d.path}: {d.problem}" + ("" if d.fatal else " (note, not a failure)"))
    failed = sum(1 for d in result.differences if d.fatal) + len(problems)
    if failed:
        lines.append(
            f"FAILED: {failed} difference(s) between the pack and this checkout ({result.checked} sources)"
        )
    else:
        lines.append(f"OK: all {result.checked} sources match commit {commit} and this checkout")
    return "\n".join(lines) + "\n"
