"""Legal holds (see :mod:`clearance.incidents.hold`).

- HLD001: a file of a held incident's folder, a document it cites or a path of the
  hold's scope is deleted or moved in the work tree (against HEAD).
- HLD002: a hold placed or released by someone who is not a member of a legal role.
- HLD003: (``clearance verify``) a commit after the hold landed deleted or moved a held file.
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.errors import FatalError
from clearance.incidents import hold, privilege
from clearance.index import incident_of
from clearance.model import Finding, Location, Severity


@register(
    ("HLD001", Severity.ERROR, "a file under legal hold is deleted or moved"),
    ("HLD002", Severity.ERROR, "legal hold placed or released by someone outside the legal roles"),
    ("HLD003", Severity.ERROR, "a commit deleted or moved a file while its incident was under legal hold"),
)
def holds(ctx: Context) -> Iterator[Finding]:
    mine = [e for e in ctx.subjects("log-entry") if e.data.get("type") in (hold.HOLD, hold.RELEASE)]
    if not mine:
        return
    lawyers = privilege.counsel(ctx.index)
    for entry in mine:
        if entry.data.get("by") not in lawyers:
            yield ctx.finding(
                "HLD002",
                entry.where(("by",)),
                f"{entry.data.get('type')} by {entry.data.get('by')!r}, who is not a member of a legal role",
                "counsel (a member of a role with 'legal: true') places and releases holds",
            )
    incidents = {incident_of(e) for e in mine}
    root = ctx.config.root.resolve()
    try:
        if not hold.has_head(root):
            return
        committed = [h for h in hold.committed_holds(root, lawyers) if h.incident in incidents]
        held = hold.merged([h for h in hold.in_force(ctx.index) if h.incident in incidents], committed)
        if not held:
            return
        ctx.until(ctx.now)  # the work tree, not the documents, decides: judge it on every run
        changes = hold.worktree_changes(root)
    except FatalError:
        return  # outside git: nothing to compare with (verify reports history)
    by_path = {e.path: e for e in mine}
    for breach in hold.breaches(held, changes, hold.reader_at(root, "HEAD")):
        placed = by_path.get(breach.hold.entry_path)
        yield ctx.finding(
            "HLD001",
            placed.where(("type",)) if placed is not None else Location(breach.hold.entry_path),
            breach.describe() + f" (hold by {breach.hold.counsel})",
            f"restore it: git restore --staged --worktree -- {breach.path}"
            + (f" and remove {breach.new_path}" if breach.new_path else "")
            + "; counsel releases the hold first if the file must really go",
        )
