"""Derived views the templates show: reverse references, review status, incident
statements, regulatory deadlines and metrics (from clearance.incidents), the approval
chain and incident timeline as pictures (see ``pictures``). Only what the audience sees."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from clearance import durations
from clearance.index import incident_of
from clearance.model import Document
from clearance.site import pictures, render
from clearance.site.links import Linker
from clearance.site.urls import anchor, title_of

if TYPE_CHECKING:
    from clearance.site.pages import Site

# Lists that could grow with the whole repository (what a role owns, what refers to a
# channel, the dashboard) show this many entries and a count of the rest, so no page
# grows with the total number of pages.
LIST_LIMIT = 50


def _goal(value: Markup, values: dict[str, Any], name: str) -> Markup:
    """A first-hour metric with the protocol's target and whether it was met."""
    target, state = values.get(f"{name}_target"), values.get(f"{name}_state")
    if not target or not state:
        return value
    return value + render.text(f" (target {target}: {state})")


class Helpers:
    """Derived views the templates use: reverse references, review status, clocks."""

    def __init__(self, site: Site, linker: Linker) -> None:
        self.site = site
        self.link = linker

    def cited_by(self, kind: str, key: str) -> list[tuple[Document, str]]:
        """Visible documents referring to document ``key`` of ``kind`` (for 'clause'
        and 'obligation', to any part of document ``key``)."""
        seen: list[tuple[Document, str]] = []
        marks: set[int] = set()
        for ref in self.site.references_to().get((kind, key), ()):
            source = ref.source
            if not self.site.audience.sees(source) or source.kind == "log-entry":
                continue
            if ref.path == ("owner",) or source.id == key:
                continue  # ownership is listed on the role's page; self-citations are noise
            mark = id(source)  # a document citing two clauses is listed once
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
            who = pictures.recipient_kind(self._notify_of(data.get("obligation")), data.get("recipient"))
            return Markup("notified {} ({}; {})").format(
                render.text(data.get("recipient")),
                render.text(who),
                link.ref("obligation", data.get("obligation")),
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
        return [e for e in self.entries(incident) if e.data.get("type") == "assessment"]

    def now(self) -> dt.datetime:
        """The build's 'now': clearance.yaml's ``today`` (at 00:00 UTC) keeps builds
        reproducible; otherwise the wall clock."""
        if self.site.fixed_today:
            return dt.datetime.combine(self.site.today, dt.time(), dt.UTC)
        return dt.datetime.now(dt.UTC)

    def _deadlines(self, incident: Document) -> list[Any]:
        from clearance.incidents import obligations as obligation_model

        obligations: dict[str, Any] = {}
        for key, (owner, path) in self.site.index.parts.get("obligation", {}).items():
            if self.site.audience.sees(owner):
                obligations[key] = self.site.index.value(owner, *path)
        return obligation_model.deadlines(obligations, self.entries(incident))

    def regulation_obligations(self, doc: Document) -> Markup:
        """A regulation's obligations: clocks in words, thresholds, relations and worked
        examples checked by the engine (rendered by ``regulation_page``)."""
        from clearance.site import regulation_page

        return regulation_page.obligations_section(doc, self.link.ref)

    def obligation_states(self, incident: Document) -> list[dict[str, Any]]:
        """Every obligation of the regulations the protocol lists, with its state:
        unassessed, not applicable (why), waiting, open (due when), overdue, tolled, met."""
        from clearance.site import regulation_page

        visible: dict[str, Any] = {}
        for key, (owner, path) in self.site.index.parts.get("obligation", {}).items():
            if self.site.audience.sees(owner):
                visible[key] = self.site.index.value(owner, *path)
        states = regulation_page.listed_states(self.site.index, incident, self.entries(incident), visible)
        return regulation_page.state_rows(states, self.now())

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
            ("Time to page (first signal)", _goal(span("time_to_page_seconds"), values, "time_to_page")),
            (
                "Time to first statement (from the first signal)",
                _goal(span("time_to_first_statement_seconds"), values, "time_to_first_statement"),
            ),
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

    def expiring_clearances(self) -> list[tuple[Document, str, dt.datetime | None, bool]]:
        """Visible templates whose peacetime clearance has expired or expires within the
        review warning period: (template, clearance id, expiry, expired)."""
        from clearance.incidents import preclearance

        now = dt.datetime.combine(self.site.today, dt.time(0, 0), tzinfo=dt.UTC)
        soon = dt.timedelta(days=self.site.due_soon_days)
        return [
            (found.template, found.id, found.expires, found.expired(now))
            for found in preclearance.expiring(self.site.index, now, soon)
            if self.site.audience.sees(found.template)
        ]

    def lapsed_spokespeople(self) -> list[tuple[Document, str, bool]]:
        """Spokespeople whose media training has lapsed (True) or lapses soon (issue 23)."""
        from clearance.incidents import spokespeople

        return [
            (found.person, found.until.isoformat(), gone)
            for found, gone in spokespeople.lapsed(self.site.index, self.site.today, self.site.due_soon_days)
            if self.site.audience.sees(found.person)
        ]

    def training_coverage(self) -> list[tuple[Document, str, int, int, str]]:
        """Visible policies that name who must read them, per role: (policy, role, people
        with a record of the current version, people in the role, version)."""
        from clearance.checks.acknowledgements import coverage

        out = []
        for policy in self.site.visible("policy"):
            spec = policy.data.get("acknowledge")
            if not isinstance(spec, dict):
                continue
            version, gaps = coverage(self.site.index, policy)
            missing = {gap.role: gap for gap in gaps}
            for role_id in spec.get("roles") or ():
                role = self.site.index.get("role", role_id) if isinstance(role_id, str) else None
                if role is None:
                    continue
                people = {*(role.data.get("members") or ()), *(role.data.get("deputies") or ())}
                gap = missing.get(str(role_id))
                done = len(people) - (len(gap.missing) if gap else 0)
                out.append((policy, str(role_id), done, len(people), str(version)))
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

    def legal_hold(self, incident: Document) -> Document | None:
        """The hold entry in force on ``incident`` (issue 23), from the entries this
        audience sees; None when none holds."""
        current = None
        for entry in self.entries(incident):
            kind = entry.data.get("type")
            current = entry if kind == "legal-hold" else None if kind == "hold-release" else current
        return current

    def incident_state(self, incident: Document) -> Any:
        """Status and severity as the incident state machine derives them from the log
        (the one computation behind `incident status`; incident.yaml keeps the opening)."""
        from clearance.incidents import state

        return state.derive(incident, self.site.index.incident_entries(incident.id or ""))

    def open_incidents(self) -> list[Document]:
        return [doc for doc in self.site.visible("incident") if self.incident_state(doc).status != "closed"]

    def chain_steps(self, chain_id: object) -> list[dict[str, Any]] | None:
        chain = self.site.index.get("approval-chain", chain_id) if isinstance(chain_id, str) else None
        if chain is None or not self.site.audience.sees(chain):
            return None
        return [step for step in chain.data.get("steps") or () if isinstance(step, dict)]

    def chain_diagram(self, chain_id: object, severity: object = None) -> Markup | None:
        """The chain's steps as a picture (see ``diagrams.chain_svg``); with a
        severity, only the steps that apply at it."""
        steps = self.chain_steps(chain_id)
        if steps is None:
            return None
        return pictures.chain(self.site, steps, severity if isinstance(severity, str) else None)

    def timeline_diagram(self, incident: Document) -> Markup:
        return pictures.timeline(
            self.site, incident, self.entries(incident), self._deadlines(incident), self.now()
        )

    def notifications(self, incident: Document) -> list[dict[str, Any]]:
        """Each notification with its recipient, whether that is a regulator or the
        affected people (from the obligation's ``notify``), channel and reference."""
        rows = []
        for entry in self.entries(incident):
            data = entry.data
            if data.get("type") != "notification":
                continue
            rows.append(
                {
                    "entry": entry,
                    "obligation": data.get("obligation"),
                    "recipient": data.get("recipient"),
                    "kind": pictures.recipient_kind(
                        self._notify_of(data.get("obligation")), data.get("recipient")
                    ),
                    "channel": data.get("channel"),
                    "reference": data.get("reference"),
                    "at": data.get("at"),
                    "by": data.get("by"),
                    "link": data.get("link"),
                }
            )
        return rows

    def _notify_of(self, key: object) -> str:
        hit = self.site.index.part("obligation", key) if isinstance(key, str) else None
        if hit is None or not self.site.audience.sees(hit[0]):
            return ""
        value = self.site.index.value(hit[0], *hit[1])
        return str(value.get("notify") or "") if isinstance(value, dict) else ""

    def data_classes(self, incident: Document) -> list[tuple[str, bool]]:
        """(data class id, from a draft rather than incident.yaml): the incident's
        declared classes, then those its drafts touch (declared on the draft or found
        in its text by the scanner)."""
        from clearance.incidents import approvals

        declared = [c for c in incident.data.get("data_classes") or () if isinstance(c, str)]
        out = [(c, False) for c in dict.fromkeys(declared)]
        found: set[str] = set()
        for entry in self.entries(incident):
            if entry.data.get("type") == "draft":
                found.update(approvals.draft_classes(self.site.index, entry))
        out.extend((c, True) for c in sorted(found - set(declared)))
        return out

    def statement(self, text: object) -> Markup:
        return pictures.statement_html(text)

    def next_deadline(self, incident: Document) -> dict[str, Any] | None:
        """The earliest deadline still to meet (open or overdue), for the dashboard."""
        now = self.now()
        pending = [
            d
            for d in self._deadlines(incident)
            if d.due is not None and d.state(now) in ("open", "overdue", "tolled")
        ]
        if not pending:
            return None
        first = min(pending, key=lambda d: d.due)
        return {"obligation": first.obligation, "due": first.due, "state": first.state(now)}

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
