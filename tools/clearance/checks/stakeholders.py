"""Stakeholder notices (see :mod:`clearance.incidents.stakeholders`).

- STK001: a public statement published before a stakeholder notice the incident's
  protocol says must come first (``before: public-statement``).
- STK002: a protocol or a stakeholder-notice entry naming a notice the stakeholder's
  register entry does not have.
- STK003: a stakeholder notice recorded by someone outside the role that signs it off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from clearance.checks import Context, register
from clearance.incidents import approvals, stakeholders
from clearance.index import incident_of
from clearance.model import Document, Finding, Severity


@register(
    (
        "STK001",
        Severity.ERROR,
        "public statement published before a stakeholder the protocol says hears first",
    ),
    ("STK002", Severity.ERROR, "a stakeholder notice that the stakeholder's register entry does not have"),
    ("STK003", Severity.WARNING, "stakeholder notice recorded by someone outside the role that signs it off"),
)
def sequencing(ctx: Context) -> Iterator[Finding]:
    for protocol in ctx.subjects("protocol"):
        for position, item in enumerate(protocol.data.get("stakeholders") or ()):
            if not isinstance(item, Mapping) or "notice" not in item:
                continue
            doc = ctx.get("stakeholder", item.get("stakeholder"))
            if doc is not None and stakeholders.notice_of(doc, item.get("notice")) is None:
                yield ctx.finding(
                    "STK002",
                    protocol.where(("stakeholders", position, "notice")),
                    f"stakeholder {doc.id!r} has no notice {item.get('notice')!r}",
                    f"name one of: {', '.join(_ids(doc))}",
                )
    incidents: dict[str, list[Document]] = {}
    for entry in ctx.subjects("log-entry"):
        incidents.setdefault(str(incident_of(entry)), []).append(entry)
        if entry.data.get("type") != stakeholders.NOTICE:
            continue
        doc = ctx.get("stakeholder", entry.data.get("stakeholder"))
        if doc is None:
            continue  # a dangling reference: the references rule reports it
        notice = stakeholders.notice_of(doc, entry.data.get("notice"))
        if notice is None:
            yield ctx.finding(
                "STK002",
                entry.where(("notice",)),
                f"stakeholder {doc.id!r} has no notice {entry.data.get('notice')!r}",
                f"name one of: {', '.join(_ids(doc))}",
            )
            continue
        role = notice.get("sign_off")
        if (
            entry.data.get("applies") is not False
            and role
            and entry.data.get("by") not in approvals.members(ctx.index, str(role))
        ):
            yield ctx.finding(
                "STK003",
                entry.where(("by",)),
                f"notice {notice.get('id')!r} to {doc.id!r} is signed off by role {role!r}; "
                f"{entry.data.get('by')!r} is not a member",
                "the sign-off role's member records the notice (or log who signed it off in its text)",
            )
    for ident, entries in incidents.items():
        incident = ctx.get("incident", ident)
        if incident is None:
            continue
        everything = ctx.index.incident_entries(ident)
        for miss in stakeholders.out_of_order(ctx.index, incident, everything):
            if miss.publication not in entries:
                continue
            s = miss.step
            heard = (
                f"the notice was logged later ({approvals.entry_id(miss.record)})"
                if miss.record is not None
                else "no notice was logged"
            )
            yield ctx.finding(
                "STK001",
                miss.publication.where(("at",)),
                f"first public statement went out before {s.stakeholder!r} ({s.notice or 'notice'}) heard, "
                f"which protocol {incident.data.get('protocol')!r} puts first: {heard}",
                "the record stands; log the notice now and say in the review why the order was missed",
            )


def _ids(doc: Document) -> list[str]:
    return [str(n.get("id")) for n in doc.data.get("notices") or () if isinstance(n, Mapping)]
