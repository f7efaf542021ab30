"""Pre-cleared templates: words agreed in peacetime, approved once, used in minutes.

A template's ``clearance:`` block (in its front matter) pins the template's statement
text by sha256, lists for each placeholder the values or the pattern allowed, the
severities it covers and when it expires. Approvers of the chains sign it in peacetime
(``clearance signals clear``), each for one step, as they sign decisions: an SSH
signature over the block (without the other approvals) and their own approval, checked
against the keys and role memberships of the committed registers.

A draft made from that template, with exactly the template's text filled with allowed
values, at a covered severity, before the expiry, has the cleared steps approved by the
clearance: only the steps it leaves open (for example the crisis lead) remain. Any other
text or value falls back to the full chain. The draft records the clearance that covered
it; :func:`covering` is what :mod:`clearance.incidents.approvals` asks.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance import signing
from clearance.errors import UsageError
from clearance.incidents import provenance
from clearance.incidents.templates import PLACEHOLDER, fill_template
from clearance.index import Index, parse_time
from clearance.model import Document


def statement_sha256(template: Document) -> str:
    return hashlib.sha256((template.body or "").strip().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Approval:
    position: int
    by: str
    role: str
    step: str
    at: dt.datetime | None
    signature: str | None


@dataclass(frozen=True)
class Clearance:
    template: Document
    id: str
    sha256: str
    severities: tuple[str, ...]
    expires: dt.datetime | None
    slots: Mapping[str, Mapping[str, Any]]
    approvals: tuple[Approval, ...]

    def expired(self, at: dt.datetime) -> bool:
        return self.expires is None or at >= self.expires


def clearance_of(template: Document) -> Clearance | None:
    block = template.data.get("clearance")
    if not isinstance(block, dict):
        return None
    approvals = tuple(
        Approval(
            position,
            str(item.get("by")),
            str(item.get("role")),
            str(item.get("step")),
            parse_time(item.get("at")),
            item.get("signature") if isinstance(item.get("signature"), str) else None,
        )
        for position, item in enumerate(block.get("approvals") or ())
        if isinstance(item, dict)
    )
    return Clearance(
        template,
        str(block.get("id") or template.id),
        str(block.get("sha256") or ""),
        tuple(str(s) for s in block.get("severities") or ()),
        parse_time(block.get("expires")),
        {str(k): v for k, v in (block.get("slots") or {}).items() if isinstance(v, dict)},
        approvals,
    )


def payload(clearance: Clearance, approval: Mapping[str, Any]) -> bytes:
    """What one approver signs: the clearance (template, pinned text, slots, severities,
    expiry; not the other approvals) and their own approval."""
    block = {k: v for k, v in (clearance.template.data.get("clearance") or {}).items() if k != "approvals"}
    body = {"clearance": block, "approval": {k: v for k, v in approval.items() if k != "signature"}}
    return signing.payload(f"template:{clearance.template.id}", body)


def slot_allows(spec: Mapping[str, Any], value: str) -> bool:
    allowed = spec.get("values")
    if isinstance(allowed, list) and value in [str(v) for v in allowed]:
        return True
    pattern = spec.get("pattern")
    if isinstance(pattern, str):
        try:
            return re.fullmatch(pattern, value) is not None
        except re.error:
            return False
    return False


def problems(
    clearance: Clearance, index: Index, judge: provenance.Provenance | None
) -> list[tuple[str, Any, str]]:
    """What makes the clearance or one of its approvals invalid: (rule, path, message)."""
    out: list[tuple[str, Any, str]] = []
    tpl = clearance.template
    if clearance.sha256 != statement_sha256(tpl):
        out.append(
            (
                "CLR003",
                ("clearance", "sha256"),
                f"the text of template {tpl.id!r} changed since clearance {clearance.id!r} approved it "
                f"(sha256 now {statement_sha256(tpl)})",
            )
        )
    used = set(PLACEHOLDER.findall(tpl.body or ""))
    for name in sorted(used - set(clearance.slots)):
        out.append(
            ("CLR004", ("clearance", "slots"), f"placeholder {name!r} has no allowed values or pattern")
        )
    for name, spec in clearance.slots.items():
        if name not in used:
            out.append(
                ("CLR004", ("clearance", "slots", name), f"slot {name!r} is not a placeholder of the body")
            )
        pattern = spec.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(
                    ("CLR004", ("clearance", "slots", name, "pattern"), f"pattern is not a regex: {exc}")
                )
    for approval in clearance.approvals:
        why = approval_problem(clearance, approval, index, judge)
        if why:
            out.append(("CLR001", ("clearance", "approvals", approval.position), why))
    return out


def approval_problem(
    clearance: Clearance, approval: Approval, index: Index, judge: provenance.Provenance | None
) -> str | None:
    raw = ((clearance.template.data.get("clearance") or {}).get("approvals") or [])[approval.position]
    judge = judge or provenance.Provenance(index, None)
    head = judge.base(None)
    if approval.by not in judge.members(approval.role, head) and approval.by not in _members(
        index, approval.role
    ):
        return f"{approval.by!r} is not a member of role {approval.role!r}"
    if approval.by not in judge.members(approval.role, head):
        return f"{approval.by!r} is not a member of role {approval.role!r} in the committed register"
    if not approval.signature:
        return f"the approval by {approval.by!r} is not signed"
    person = judge.person(approval.by, head)
    keys = tuple(person.keys) if person else ()
    if not signing.verify(payload(clearance, raw), approval.signature, approval.by, keys):
        return f"the signature of {approval.by!r} does not verify against their committed signing keys"
    if approval.at is None:
        return "the approval has no time"
    root = getattr(judge, "root", None)
    added = added_by(Path(root), clearance.template.path, approval.signature) if root else None
    history = judge.history if added is not None else None
    commit = history.resolve(added[0]) if history is not None and added is not None else None
    if added is not None and not judge.is_legacy(commit):
        # a commit from before decisions had to be signed is legacy, as for log entries
        author = added[1]
        doc = index.get("person", approval.by)
        emails = {str(e).lower() for e in (doc.data.get("emails") or ())} if doc else set()
        if author.lower() not in emails:
            return (
                f"the approval by {approval.by!r} was committed by {author!r}, not by {approval.by!r}: "
                "each approver commits their own clearance"
            )
    return None


@functools.lru_cache(maxsize=256)
def added_by(root: Path, path: str, signature: str) -> tuple[str, str] | None:
    """(sha, author email) of the commit that added ``signature`` to ``path`` (git's
    pickaxe on one line of it), or None while it is not committed (or outside git)."""
    from clearance.history.git import run_git

    lines = [line.strip() for line in signature.splitlines() if line.strip() and "SSH SIGNATURE" not in line]
    if not lines or not (root / ".git").exists():
        return None
    # the last line: the armour's first lines (key, namespace) repeat in every signature by a key
    found = run_git(root, "log", "--format=%H %ae", "-S", lines[-1], "--", path, check=False)
    commits = found.stdout.decode("utf-8", "replace").splitlines() if found.returncode == 0 else []
    if not commits or " " not in commits[-1]:
        return None
    sha, email = commits[-1].split(" ", 1)
    return sha, email


def _members(index: Index, role: str) -> set[str]:
    doc = index.get("role", role)
    return {str(m) for m in (doc.data.get("members") or ())} if doc else set()


@dataclass(frozen=True)
class Coverage:
    clearance: str
    template: str
    steps: Mapping[tuple[str, str], tuple[tuple[str, dt.datetime, str], ...]]  # (step, role) -> approvers


def covering(
    index: Index,
    template_id: object,
    values: object,
    text: str,
    severity: str,
    at: dt.datetime,
    author: object = None,
    judge: provenance.Provenance | None = None,
) -> Coverage | None:
    """The clearance that covers a draft of ``template_id`` filled with ``values`` whose
    text is ``text``, at ``severity`` and time ``at``; None when any condition fails."""
    template = index.get("template", template_id) if isinstance(template_id, str) else None
    clearance = clearance_of(template) if template is not None else None
    if clearance is None or severity not in clearance.severities or clearance.expired(at):
        return None
    template = clearance.template
    given = {str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping) else {}
    if clearance.sha256 != statement_sha256(template):
        return None
    try:
        expected = fill_template(template, given)
    except UsageError:
        return None
    if expected != text.replace("\r\n", "\n").strip("\n"):
        return None
    for name, value in given.items():
        spec = clearance.slots.get(name)
        if spec is None or not slot_allows(spec, value):
            return None
    if any(name not in clearance.slots for name in PLACEHOLDER.findall(template.body or "")):
        return None
    steps: dict[tuple[str, str], list[tuple[str, dt.datetime, str]]] = {}
    for approval in clearance.approvals:
        if approval.by == author or approval.at is None or approval.at > at:
            continue
        if approval_problem(clearance, approval, index, judge) is not None:
            continue
        steps.setdefault((approval.step, approval.role), []).append(
            (approval.by, approval.at, f"clearance {clearance.id}")
        )
    if not steps:
        return None
    return Coverage(clearance.id, str(template.id), {k: tuple(v) for k, v in steps.items()})


def clearance_id(index: Index, template: str | None, values: Mapping[str, str] | None, text: str,
                 severity: str, at: dt.datetime, author: str) -> str | None:  # fmt: skip
    """For the draft record: the clearance that covers this draft when it is written."""
    found = covering(index, template, values or {}, text, severity, at, author)
    return found.clearance if found else None


def expiring(index: Index, now: dt.datetime, within: dt.timedelta) -> list[Clearance]:
    """Clearances of active templates that have expired or expire within ``within``."""
    out = []
    for doc in index.of_kind("template"):
        found = clearance_of(doc)
        if (
            found is not None
            and doc.data.get("status") != "retired"
            and (found.expires is None or found.expires <= now + within)
        ):
            out.append(found)
    return out


def steps_of(approvals: Sequence[Approval]) -> list[str]:
    return [f"{a.step} ({a.role}, {a.by})" for a in approvals]


def _front_matter_end(text: str) -> int:
    if not text.startswith("---\n"):
        return -1
    return text.find("\n---\n", 3)


def _last_key(lines: Sequence[str], indent: str) -> str | None:
    found = None
    pattern = re.compile(rf"^{indent}([A-Za-z_][A-Za-z0-9_-]*):")
    for line in lines:
        match = pattern.match(line)
        if match:
            found = match.group(1)
    return found


def sign_approval(
    index: Index,
    root: Any,
    actor: str,
    template_id: str,
    step: str,
    key_spec: str,
    at: dt.datetime,
    role: str | None = None,
) -> str:
    """Append ``actor``'s signed approval for ``step`` to the template's clearance block
    (textually, at the end of the front matter, so nothing else in the file changes);
    returns the role it was given under."""
    from clearance import loading
    from clearance.errors import Refused
    from clearance.incidents import store

    template = index.get("template", template_id)
    if template is None:
        raise UsageError(f"no template {template_id!r}")
    clearance = clearance_of(template)
    if clearance is None:
        raise Refused(
            f"template {template_id!r} has no 'clearance:' block; write its id, sha256 "
            f"({statement_sha256(template)}), severities, expires and slots first"
        )
    if clearance.sha256 != statement_sha256(template):
        raise Refused(
            f"the clearance pins sha256 {clearance.sha256[:12]}..., but the template's text is now "
            f"{statement_sha256(template)}: review the text and update the pinned sha256 first"
        )
    if clearance.expired(at):
        raise Refused(f"clearance {clearance.id!r} expired at {clearance.expires}; set a new expiry first")
    pairs = {
        (str(s.get("id")), str(s.get("role")))
        for chain in index.of_kind("approval-chain")
        for s in chain.data.get("steps") or ()
        if isinstance(s, dict)
    }
    roles = sorted(r for s, r in pairs if s == step and (role is None or r == role))
    mine = [r for r in roles if actor in _members(index, r)]
    if not roles:
        raise UsageError(f"no approval chain has a step {step!r}" + (f" for role {role!r}" if role else ""))
    if not mine:
        raise Refused(
            f"{actor!r} is not a member of {' or '.join(map(repr, roles))}, which step {step!r} needs"
        )
    chosen = mine[0]
    if any(a.by == actor and a.step == step and a.role == chosen for a in clearance.approvals):
        raise Refused(f"{actor!r} has already cleared step {step!r} of {clearance.id!r}")
    approval = {"by": actor, "role": chosen, "step": step, "at": store.format_time(at)}
    signature = signing.sign(payload(clearance, approval), signing.resolve_key(key_spec, root))
    path = root / template.path
    text = path.read_text("utf-8")
    end = _front_matter_end(text)
    head = text[: end + 1] if end >= 0 else ""
    lines = head.splitlines()
    if end < 0 or _last_key(lines[1:], "") != "clearance":
        raise Refused(
            f"{template.path}: 'clearance:' must be the last key of the front matter to add approvals"
        )
    inner = _last_key(lines[1:], "  ")
    add = [] if inner == "approvals" else ["  approvals:"]
    add += [
        f"  - by: {actor}",
        f"    role: {chosen}",
        f"    step: {step}",
        f"    at: '{approval['at']}'",
        "    signature: |",
        *("      " + line for line in signature.strip().splitlines()),
    ]
    updated = head + "\n".join(add) + "\n" + text[end + 1 :]
    try:
        loaded = loading.load_text(updated, template.path)
    except loading.LoadFailed as exc:
        raise Refused(f"{template.path}: the approval could not be added cleanly: {exc}") from None
    written = clearance_of(loaded)
    if written is None or not written.approvals or written.approvals[-1].by != actor:
        raise Refused(f"{template.path}: the approval could not be added at the end of 'clearance:'")
    tmp = path.with_name(path.name + ".clearing")
    tmp.write_text(updated, "utf-8")
    tmp.replace(path)
    return chosen


def without_approvals(text: str) -> str:
    """A template's text with its clearance's approvals removed (``clearance init``: the
    reference people's signatures mean nothing in a new organisation, whose approvers
    clear the templates themselves)."""
    end = _front_matter_end(text)
    if end < 0:
        return text
    lines = text[: end + 1].split("\n")
    for number, line in enumerate(lines):
        if line == "  approvals:" and _last_key(lines[1:number], "") == "clearance":
            return "\n".join(lines[:number]) + "\n" + text[end + 1 :]
    return text
