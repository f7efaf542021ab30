"""Derived views the templates show: reverse references, review status, incident
statements, regulatory deadlines and metrics (from clearance.incidents), the approval
chain and incident timeline as mermaid diagrams. Only what the audience sees."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from clearance import durations
from clearance.index import incident_of, parse_time
from clearance.model import Document
from clearance.site import render
from clearance.site.links import Linker
from clearance.site.urls import anchor, title_of

if TYPE_CHECKING:
    from clearance.site.pages import Site

# Lists that could grow with the whole repository (what a role owns, what refers to a
# channel, the dashboard) show this many entries and a count of the rest, so no page
# grows with the total number of pages.
LIST_LIMIT = 50


class Helpers:
    """Derived views the templates use: reverse references, review status, clocks."""

    def __init__(self, site: Site, linker: Linker) -> None:
        self.site = site
        self.link = linker

    def cited_by(self, kind: str, key: str) -> list[tuple[Document, str]]:
        """Visible documents referring to document ``key`` of ``kind`` (for 'clause'
        and 'obligation', to any part of document ``key``)."""
        seen: list[tuple[Document, str]] = []
        marks: set[tuple[int, str]] = set()
        for ref in self.site.references_to().get((kind, key), ()):
            source = ref.source
            if not self.site.audience.sees(source) or source.kind == "log-entry":
                continue
            if ref.path == ("owner",) or source.id == key:
                continue  # ownership is listed on the role's page; self-citations are noise
            mark = (id(source), ref.key)
            if mark not in marks:
                marks.add(mark)
                seen.append((source, ref.key))
        seen.sort(key=lambda item: (title_of(item[0]).casefold(), item[1]))
        return seen

    def review_due(self, doc: Document) -> tuple[dt.date | None, str]:
        """(next review date, 'overdue' | 'due soon' | 'ok' | '')."""
        review = doc.data.get("review")
        if not isinstance(review, dict):
            return None, ""
        every = durations.parse(review.get("every", ""))
        try:
            last = dt.date.fromisoformat(str(review.get("last")))
        except ValueError:
            return None, ""
        if every is None:
            return None, ""
        due = every.after(last)
        due_date = due.date() if isinstance(due, dt.datetime) else due
        if due_date < self.site.today:
            return due_date, "overdue"
        if (due_date - self.site.today).days <= self.site.due_soon_days:
            return due_date, "due soon"
        return due_date, "ok"

    def kind_of(self, doc: Document) -> str:
        return (doc.kind or "").replace("-", " ")

    def entries(self, incident: Document) -> list[Document]:
        return [e for e in self.site.index.incident_entries(incident.id or "") if self.site.audience.sees(e)]

    def entry_anchor(self, entry: Document) -> str:
        return anchor("entry", PurePosixPath(entry.path).stem)

    def entry_summary(self, entry: Document) -> Markup:
        data = entry.data
        kind = data.get("type")
        link = self.link
        if kind in ("observation", "decision", "correction"):
            return render.text(data.get("text"))
        if kind == "draft":
            return Markup("draft for {}").format(link.ref("channel", data.get("channel")))
        if kind in ("approval", "rejection", "override"):
            what = {"approval": "approved", "rejection": "rejected", "override": "override of"}[kind]
            return Markup("{} {} as {}").format(
                what,
                link.ref("log-entry", self._scoped(entry, data.get("draft"))),
                link.ref("role", data.get("role")),
            )
        if kind == "publication":
            return Markup("published {} on {}").format(
                link.ref("log-entry", self._scoped(entry, data.get("draft"))),
                link.ref("channel", data.get("channel")),
            )
        if kind == "assessment":
            verdict = "applies" if data.get("applies") else "does not apply"
            return Markup("{} {}").format(link.ref("obligation", data.get("obligation")), verdict)
        if kind == "notification":
            return Markup("notified {} ({})").format(
                render.text(data.get("recipient")), link.ref("obligation", data.get("obligation"))
            )
        if kind == "talking-points":
            return Markup("talking points updated ({} lines)").format(len(data.get("points") or ()))
        if kind == "role-change":
            return Markup("{} {} as {}").format(
                render.text(data.get("action")),
                link.ref("person", data.get("person")),
                link.ref("role", data.get("role")),
            )
        if kind == "status-change":
            return Markup("status {} → {}").format(
                render.text(data.get("from") or "?"), render.text(data.get("to"))
            )
        if kind == "override-review":
            return Markup("override reviewed: {}").format(render.text(data.get("rationale")))
        return render.text(data.get("text") or kind)

    def _scoped(self, entry: Document, stem: object) -> str | None:
        incident = incident_of(entry)
        return f"{incident}/{stem}" if isinstance(stem, str) and incident else None

    def statements(self, incident: Document) -> list[dict[str, Any]]:
        """Each draft with its approvals, rejections and publications."""
        entries = self.entries(incident)
        drafts: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if entry.data.get("type") == "draft":
                drafts[PurePosixPath(entry.path).stem] = {"draft": entry, "decisions": [], "publications": []}
        for entry in entries:
            kind = entry.data.get("type")
            target = drafts.get(str(entry.data.get("draft")))
            if target is None:
                continue
            if kind in ("approval", "rejection", "override"):
                target["decisions"].append(entry)
            elif kind == "publication":
                target["publications"].append(entry)
        return list(drafts.values())

    def assessments(self, incident: Document) -> list[Document]:
        return [e for e in self.entries(incident) if e.data.get("type") in ("assessment", "notification")]

    def now(self) -> dt.datetime:
        """The build's 'now': clearance.yaml's ``today`` (at 00:00 UTC) keeps builds
        reproducible; otherwise the wall clock."""
        if self.site.fixed_today:
            return dt.datetime.combine(self.site.today, dt.time(), dt.UTC)
        return dt.datetime.now(dt.UTC)

    def _deadlines(self, incident: Document) -> list[Any]:
        from clearance.incidents import clocks

        obligations: dict[str, Any] = {}
        for key, (owner, path) in self.site.index.parts.get("obligation", {}).items():
            if self.site.audience.sees(owner):
                obligations[key] = self.site.index.value(owner, *path)
        return clocks.deadlines(obligations, self.entries(incident))

    def deadlines(self, incident: Document) -> list[dict[str, Any]]:
        """Regulatory deadlines computed by the incidents package's clocks."""
        now = self.now()
        rows = []
        for deadline in self._deadlines(incident):
            rows.append(
                {
                    "obligation": deadline.obligation,
                    "rule": deadline.rule.describe(),
                    "start": deadline.start,
                    "due": deadline.due,
                    "state": deadline.state(now),
                    "notified": deadline.notified,
                }
            )
        return rows

    def metrics(self, incident: Document | None) -> list[tuple[str, Markup]]:
        """Response metrics computed from the log (never typed into the review)."""
        if incident is None or not self.site.audience.sees(incident):
            return []
        from clearance.incidents import clocks
        from clearance.incidents import metrics as metrics_mod

        entries = self.entries(incident)
        now = self.now()
        values = metrics_mod.compute(self.site.index, incident, entries, self._deadlines(incident), now)

        def span(key: str) -> Markup:
            seconds = values.get(key)
            return render.text(clocks.humanise(seconds) if isinstance(seconds, (int, float)) else "–")

        out = [
            ("Time to detect", span("time_to_detect_seconds")),
            ("Time to declare", span("time_to_declare_seconds")),
            ("Time to first public statement", span("time_to_first_public_statement_seconds")),
            ("Public statements", render.text(values.get("public_statements", 0))),
            (
                "Updates on time / missed",
                render.text(f"{values.get('updates_kept', 0)} / {values.get('updates_missed', 0)}"),
            ),
            (
                "Regulatory deadlines met / missed / open",
                render.text(
                    " / ".join(str(values.get(f"deadlines_{key}", 0)) for key in ("met", "missed", "open"))
                ),
            ),
            ("Corrections", render.text(values.get("corrections", 0))),
            ("Log entries", render.text(values.get("entries", 0))),
        ]
        for role, summary in sorted((values.get("approval_latency_per_role") or {}).items()):
            if isinstance(summary, dict) and isinstance(summary.get("median_seconds"), (int, float)):
                label = Markup("Approval time, {} (median)").format(self.link.ref("role", role))
                out.append((label, render.text(clocks.humanise(summary["median_seconds"]))))
        return out

    def incident_of_review(self, review: Document) -> Document | None:
        return self.site.index.get("incident", str(review.data.get("incident")))

    def review_of(self, incident: Document) -> Document | None:
        for doc in self.site.index.of_kind("review"):
            if doc.data.get("incident") == incident.id and self.site.audience.sees(doc):
                return doc
        return None

    def owned_by(self, role: Document) -> list[Document]:
        out = [doc for doc in self.site.owned().get(role.id or "", ()) if doc is not role]
        out.sort(key=lambda d: (d.kind or "", title_of(d).casefold()))
        return out

    def roles_of(self, person: Document) -> list[tuple[Document, str]]:
        """The visible roles ``person`` is a member or deputy of, by role title."""
        return list(self.site.roles_held().get(person.id or "", ()))

    def overdue_reviews(self) -> list[tuple[Document, dt.date, str]]:
        out = []
        for doc in self.site.published:
            due, state = self.review_due(doc)
            if due is not None and state in ("overdue", "due soon"):
                out.append((doc, due, state))
        out.sort(key=lambda item: (item[1], title_of(item[0]).casefold()))
        return out

    def open_actions(self) -> list[tuple[Document, dict[str, Any]]]:
        out = []
        for review in self.site.visible("review"):
            for item in review.data.get("action_items") or ():
                if isinstance(item, dict) and item.get("status") == "open":
                    out.append((review, item))
        out.sort(key=lambda pair: (str(pair[1].get("due")), title_of(pair[0])))
        return out

    def overdue(self, date_text: object) -> bool:
        try:
            return dt.date.fromisoformat(str(date_text)) < self.site.today
        except ValueError:
            return False

    def open_incidents(self) -> list[Document]:
        return [doc for doc in self.site.visible("incident") if doc.data.get("status") != "closed"]

    def chain_steps(self, chain_id: object) -> list[dict[str, Any]] | None:
        chain = self.site.index.get("approval-chain", chain_id) if isinstance(chain_id, str) else None
        if chain is None or not self.site.audience.sees(chain):
            return None
        return [step for step in chain.data.get("steps") or () if isinstance(step, dict)]

    def mermaid_chain(self, chain_id: object) -> Markup | None:
        steps = self.chain_steps(chain_id)
        if steps is None:
            return None
        return mermaid_for_steps(self.site, self.link, steps)

    def channel_limits(self, template: Document) -> list[tuple[Document | None, str, int | None]]:
        out = []
        for key in template.data.get("channels") or ():
            channel = self.site.index.get("channel", key) if isinstance(key, str) else None
            limit = (
                channel.data.get("max_length")
                if channel is not None and self.site.audience.sees(channel)
                else None
            )
            out.append((channel, str(key), limit if isinstance(limit, int) else None))
        return out

    def deadline_text(self, deadline: object) -> str:
        if not isinstance(deadline, dict):
            return ""
        unit = deadline.get("unit")
        if unit == "asap":
            text = "without undue delay"
            if deadline.get("cap"):
                text += f" (at most {render.duration(deadline.get('cap'))})"
            return text
        amount = deadline.get("amount")
        text = f"{amount} {str(unit).replace('-', ' ')}"
        calendar = deadline.get("calendar")
        if isinstance(calendar, dict):
            place = calendar.get("country", "")
            if calendar.get("subdivision"):
                place += f"-{calendar['subdivision']}"
            text += f", {place} holidays"
        if deadline.get("start") == "next-business-day":
            text += ", counted from the next business day"
        roll = deadline.get("roll")
        if roll and roll != "none":
            text += f", rolls to the {str(roll).replace('-', ' ')}"
        return text


def mermaid_for_steps(site: Site, linker: Linker, steps: list[dict[str, Any]]) -> Markup:
    """An approval chain as a left-to-right flowchart; a conditional step is drawn
    with a dashed edge and its condition."""
    lines = ["flowchart LR", '  draft(["Draft"])']
    previous = "draft"
    for position, step in enumerate(steps, start=1):
        role_id = step.get("role")
        role_doc = site.index.get("role", role_id) if isinstance(role_id, str) else None
        role = title_of(role_doc) if role_doc is not None and site.audience.sees(role_doc) else "restricted"
        label = f"{role}"
        quorum = step.get("quorum")
        if isinstance(quorum, int) and quorum > 1:
            label += f" x{quorum}"
        if step.get("sla"):
            label += f" within {render.duration(step.get('sla'))}"
        node = f"s{position}"
        lines.append(f'  {node}["{render.mermaid_label(label)}"]')
        when = step.get("when")
        if isinstance(when, dict) and when:
            parts = []
            if when.get("severity_at_least"):
                parts.append(f"{when['severity_at_least']} or worse")
            classes = when.get("data_classes") or []
            if classes:
                names = []
                for key in classes:
                    dc = site.index.get("data-class", key) if isinstance(key, str) else None
                    names.append(title_of(dc) if dc is not None and site.audience.sees(dc) else "restricted")
                parts.append("touches " + ", ".join(names))
            lines.append(f'  {previous} -. "{render.mermaid_label(" / ".join(parts))}" .-> {node}')
        else:
            lines.append(f"  {previous} --> {node}")
        previous = node
    lines.append('  publish(["Publish"])')
    lines.append(f"  {previous} --> publish")
    return render.fence("\n".join(lines), "mermaid")


_MILESTONES = ("started", "detected", "declared", "mitigated", "resolved", "closed")


def timeline(site: Site, incident: Document) -> Markup:
    """The incident's milestones, status changes and publications as a flowchart."""
    events: list[tuple[dt.datetime, str]] = []
    stamps = incident.data.get("timestamps") or {}
    for name in _MILESTONES:
        moment = parse_time(stamps.get(name))
        if moment is not None:
            events.append((moment, name))
    for entry in site.index.incident_entries(incident.id or ""):
        if not site.audience.sees(entry):
            continue
        kind = entry.data.get("type")
        moment = parse_time(entry.data.get("at"))
        if moment is None:
            continue
        if kind == "status-change":
            events.append((moment, f"status: {entry.data.get('to')}"))
        elif kind == "publication":
            channel = site.index.get("channel", str(entry.data.get("channel")))
            where = title_of(channel) if channel is not None and site.audience.sees(channel) else "restricted"
            events.append((moment, f"published on {where}"))
        elif kind == "notification":
            events.append((moment, "regulator notified"))
    if not events:
        return Markup("")
    events.sort(key=lambda item: item[0])
    lines = ["flowchart TB"]
    for position, (moment, label) in enumerate(events):
        lines.append(f'  e{position}["{render.mermaid_label(render.when(moment) + " " + label)}"]')
        if position:
            lines.append(f"  e{position - 1} --> e{position}")
    return render.fence("\n".join(lines), "mermaid")
