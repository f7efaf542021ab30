"""A pack as one printable HTML page (the PDF is this page, printed by WeasyPrint).

Paged-media CSS does the print work: the cover page, a running footer with the page
number and the build commit, the classification on every page, table headers repeated
on each page a table spans, and rows that never split between two pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from clearance.evidence.chart import timeline
from clearance.evidence.model import (
    ChangeRow,
    ChangesPack,
    Event,
    IncidentPack,
    Manifest,
    Obligation,
    Statement,
    Withheld,
)

PAPERS = {"a4": "A4", "letter": "letter"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _css(paper: str, footer: str, marking: str) -> str:
    return f"""
@page {{
  size: {PAPERS[paper]};
  margin: 18mm 15mm 20mm 15mm;
  @top-right {{ content: "{_e(marking)}"; font-size: 8pt; color: #cf222e; letter-spacing: 0.08em; }}
  @bottom-left {{ content: "{_e(footer)}"; font-size: 7.5pt; color: #57606a; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 7.5pt; color: #57606a; }}
}}
@page :first {{ @bottom-left {{ content: none; }} }}
html {{ font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt; color: #1f2328;
  line-height: 1.35; }}
h1 {{ font-size: 20pt; margin: 0 0 4mm; }}
h2 {{ font-size: 13pt; border-bottom: 1.5pt solid #1f2328; padding-bottom: 1mm; margin: 7mm 0 3mm;
  break-after: avoid; }}
h3 {{ font-size: 10.5pt; margin: 5mm 0 2mm; break-after: avoid; }}
p {{ margin: 0 0 2mm; }}
.cover {{ break-after: page; padding-top: 30mm; }}
.cover .org {{ font-size: 12pt; color: #57606a; text-transform: uppercase; letter-spacing: 0.1em; }}
.cover .kind {{ font-size: 11pt; color: #57606a; margin-bottom: 2mm; }}
.cover table {{ margin-top: 10mm; }}
.cover th {{ width: 38mm; }}
.marking {{ display: inline-block; border: 1.5pt solid #cf222e; color: #cf222e; padding: 1mm 3mm;
  font-weight: bold; letter-spacing: 0.1em; margin-top: 6mm; }}
.note {{ border-left: 3pt solid #bf8700; background: #fff8c5; padding: 2mm 3mm; margin: 3mm 0; }}
.bad {{ color: #cf222e; font-weight: bold; }}
.good {{ color: #1a7f37; }}
table {{ border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; table-layout: fixed; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
th, td {{ border: 0.5pt solid #d0d7de; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; font-weight: bold; }}
td {{ overflow-wrap: anywhere; }}
.mono, .hash {{ font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }}
.hash {{ overflow-wrap: anywhere; }}
.small {{ font-size: 7.5pt; color: #57606a; }}
.statement {{ margin-bottom: 5mm; }}
.statement .meta, .text {{ break-inside: avoid; }}
.decisions p {{ border-left: 2pt solid #1f6feb; }}
.chronology p {{ margin-bottom: 1.6mm; }}
.text {{ white-space: pre-wrap; border: 0.75pt solid #8c959f; background: #f6f8fa; padding: 2.5mm;
  font-size: 9.5pt; overflow-wrap: anywhere; margin: 2mm 0; }}
.figures td {{ font-size: 11pt; font-weight: bold; }}
svg.timeline {{ margin: 2mm 0 4mm; }}
.listing p {{ font-size: 7pt; margin: 0 0 1.2mm; padding-left: 4mm; text-indent: -4mm; }}
.listing.mono p {{ font-size: 6.5pt; margin: 0; }}
"""


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    cls: str = "",
    raw: bool = False,
    widths: Sequence[int] = (),
) -> str:
    """A table with fixed column ``widths`` (percentages; equal when not given): a fixed
    layout never measures every cell's text, which is what makes long packs print in
    seconds. Cells are escaped unless ``raw`` (then the caller escaped them)."""
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if raw else _e(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    if not body:
        return '<p class="small">None.</p>'
    cols = "".join(f'<col style="width: {w}%">' for w in widths)
    group = f"<colgroup>{cols}</colgroup>" if cols else ""
    return f'<table class="{cls}">{group}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cover(kind: str, title: str, rows: Sequence[tuple[str, str]], manifest: Manifest, marking: str) -> str:
    meta = [
        *rows,
        ("Audience", manifest.audience),
        ("Repository", manifest.repository),
        ("Built from commit", manifest.commit or "(no commit)"),
        ("Built at", manifest.built_at),
        ("Generator", manifest.generator),
        ("Sources", f"{len(manifest.sources)} (sha256 of each in the attached manifest)"),
        ("Verify with", "clearance evidence verify <this file>"),
    ]
    dirty = ""
    if manifest.dirty:
        dirty = (
            f'<p class="note bad">Built from {len(manifest.dirty)} uncommitted file(s): this pack cannot be '
            "verified against the repository's history.</p>"
        )
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta)
    return (
        f'<section class="cover"><div class="org">{_e(manifest.organisation)}</div>'
        f'<div class="kind">{_e(kind)}</div><h1>{_e(title)}</h1>'
        f'<div class="marking">{_e(marking)}</div>{dirty}<table>{table}</table></section>'
    )


def _withheld(withheld: Withheld, audience: str) -> str:
    if not withheld.total:
        return f'<p class="small">Nothing was withheld for audience {_e(audience)}.</p>'
    rows = [(what, str(count)) for what, count in withheld.counts]
    return (
        f'<p class="note">{withheld.total} item(s) are above audience <b>{_e(audience)}</b> and are '
        "withheld from this pack. They are counted here by kind and not named.</p>"
        + _table(("Withheld", "Count"), rows, widths=(70, 30))
    )


PRINTED_SOURCES = 300  # beyond this, log entries' and commits' hashes are in the manifest only


def _sources(manifest: Manifest) -> str:
    """The sources, one line each. In a long pack the log entries and commit objects
    are counted instead (thousands of hashes are for a program, and the attached
    manifest has them all)."""
    listed = list(manifest.sources)
    counted: dict[str, int] = {}
    if len(listed) > PRINTED_SOURCES:
        for src in listed:
            if src.role in ("log-entry", "commit"):
                counted[src.role] = counted.get(src.role, 0) + 1
        listed = [src for src in listed if src.role not in counted]
    lines = "".join(f"<p>{_e(src.sha256)} {_e(src.role)} {_e(src.path)}</p>" for src in listed)
    also = "".join(
        f" The sha256 of each of the {n} {'log entries' if role == 'log-entry' else 'commit objects'} "
        "is in the attached manifest only."
        for role, n in counted.items()
    )
    return (
        "<h2>Appendix: sources</h2><p>What this pack draws on, with the sha256 of its bytes at commit "
        f'<span class="mono">{_e(manifest.commit or "-")}</span>. The complete list is attached to this '
        f'PDF as <span class="mono">clearance-evidence-manifest.json</span>.{also}</p>'
        f'<div class="listing mono">{lines}</div>'
    )


def _statement(s: Statement) -> str:
    state = "published" if s.published_at else "not published"
    if not s.published_at:
        verdict = _e(state)
    elif s.approved:
        verdict = '<span class="good">every required approval was given before publication</span>'
    else:
        verdict = '<span class="bad">required approvals missing at publication</span>'
    published = _e(s.published_at or state) + (f" · {_e(s.link)}" if s.link else "")
    classes = f" · data classes: {_e(', '.join(s.data_classes))}" if s.data_classes else ""
    meta = (
        f'<p class="meta">Channel <b>{_e(s.channel)}</b> · drafted {_e(s.drafted_at)} by {_e(s.author)} · '
        f'published {published}<br>Text sha256 <span class="hash">{_e(s.sha256)}</span><br>'
        f"{verdict}{classes}</p>"
    )
    problems = "".join(f'<p class="bad">{_e(p)}</p>' for p in s.problems)
    decisions = []
    for d in s.decisions:
        mark = "✓" if d.decision == "approved" else "✗"
        matches = (
            "text hash matches" if d.sha256 == s.sha256 else ("TEXT HASH DIFFERS" if d.sha256 else "no hash")
        )
        counted = "counts toward the chain" if d.counted else "does not count"
        note = f"<br>{_e(d.note)}" if d.note else ""
        decisions.append(
            f"<p>{mark} {_e(d.at)} {_e(d.decision)} by <b>{_e(d.person)}</b> "
            f"({_e(d.role)} / step {_e(d.step)}) · "
            f"{matches} · {counted} · signature: {_e(d.signature)}{note}</p>"
        )
    listing = '<div class="listing decisions">' + "".join(decisions) + "</div>" if decisions else ""
    text = f'<div class="text">{_e(s.text)}</div>' if s.text is not None else ""
    return f'<div class="statement"><h3>Statement {_e(s.draft)}</h3>{meta}{text}{problems}{listing}</div>'


def _obligations(obligations: Sequence[Obligation]) -> str:
    """Obligations that apply or that nobody assessed, in a table with their clocks;
    those assessed as not applicable after it, grouped by regulation and reason."""
    live = [o for o in obligations if o.applies != "no"]
    table = _table(
        (
            "Obligation",
            "Applies",
            "Assessed",
            "Rationale or reason",
            "Clock start / due",
            "State",
            "Notified",
        ),
        (
            (
                f"{o.obligation}: {o.title}" + (f" ({o.cite})" if o.cite else ""),
                o.applies,
                f"{o.assessed_at} by {o.assessed_by}" if o.assessed_by else "not assessed",
                o.rationale,
                f"{o.clock_start or '-'} / {o.due or '-'}" + (f"; tolled {o.tolled}" if o.tolled else ""),
                o.state,
                f"{o.notified} {o.recipient or ''} ({o.reference or '-'})" if o.notified else "-",
            )
            for o in live
        ),
        widths=(17, 7, 13, 31, 14, 7, 11),
    )
    groups: dict[tuple[str, str, str], list[str]] = {}
    for o in obligations:
        if o.applies == "no":
            regulation, _, local = o.obligation.partition("#")
            who = f"{o.assessed_at} by {o.assessed_by}" if o.assessed_by else "from the logged facts"
            groups.setdefault((regulation, o.rationale, who), []).append(local)
    if not groups:
        return table
    lines = "".join(
        f"<p><b>{_e(regulation)}</b> ({_e(', '.join(locals_))}): not applicable — {_e(reason)} "
        f'<span class="small">({_e(who)})</span></p>'
        for (regulation, reason, who), locals_ in groups.items()
    )
    return table + f'<h3>Assessed as not applicable</h3><div class="listing">{lines}</div>'


def _chronology(events: Sequence[Event]) -> str:
    """One paragraph per entry: a 2,000-entry log prints in seconds this way."""
    out = ['<div class="listing chronology">']
    for e in events:
        detail = f"{_e(e.detail)} · " if e.detail else ""
        out.append(
            f"<p><b>{_e(e.at)}</b> {_e(e.type)} · {_e(e.by)} — {_e(e.text)}"
            f'<br><span class="small">{detail}entry {_e(e.entry)}</span></p>'
        )
    out.append("</div>")
    return "".join(out)


def incident_html(pack: IncidentPack, paper: str = "a4") -> str:
    m = pack.manifest
    marking = pack.classification.upper() + (" · EXERCISE" if pack.exercise else "")
    footer = f"{pack.organisation} · incident {pack.incident} · commit {(m.commit or '-')[:12]}"
    cover = _cover(
        "Incident evidence pack" + (" (exercise)" if pack.exercise else ""),
        pack.title,
        (
            ("Incident", pack.incident),
            ("Classification", pack.classification),
            ("Severity / status", f"{pack.severity} / {pack.status}"),
            ("Log entries", str(len(pack.events))),
        ),
        m,
        marking,
    )
    parts = [cover, "<h2>1. Summary</h2>"]
    if pack.summary:
        parts.append(f"<p>{_e(pack.summary)}</p>")
    parts.append(_table(("Moment", "UTC"), pack.timestamps, widths=(30, 70)))
    parts.append("<h2>2. Timeline</h2>" + timeline(pack.events, pack.deadlines))
    parts.append("<h2>3. Regulatory assessments and deadlines</h2>")
    parts.append(_obligations(pack.obligations))
    parts.append("<h2>4. Notifications sent</h2>")
    parts.append(
        _table(
            ("When", "Obligation", "Recipient", "Reference", "By", "Signature"),
            ((n.at, n.obligation, n.recipient, n.reference, n.by, n.signature) for n in pack.notifications),
            widths=(14, 13, 27, 16, 14, 16),
        )
    )
    published = [s for s in pack.statements if s.published_at]
    parts.append(f"<h2>5. Statements ({len(published)} published)</h2>")
    parts.extend(_statement(s) for s in published)
    others = [s for s in pack.statements if not s.published_at]
    if others:
        parts.append("<h3>Drafts never published</h3>")
        parts.append(
            _table(
                ("Draft", "Channel", "Author", "Drafted", "Decisions", "Text sha256"),
                (
                    (
                        s.draft,
                        s.channel,
                        s.author,
                        s.drafted_at,
                        "; ".join(f"{d.decision} by {d.person}" for d in s.decisions) or "none",
                        s.sha256,
                    )
                    for s in others
                ),
                widths=(18, 9, 13, 12, 22, 26),
            )
        )
    parts.append("<h2>6. Severity and status changes</h2>")
    parts.append(
        _table(
            ("When", "By", "Change", "Entry"),
            ((c.at, c.by, c.change, c.entry) for c in pack.changes),
            widths=(16, 16, 46, 22),
        )
    )
    parts.append(f"<h2>7. Chronology ({len(pack.events)} entries)</h2>")
    parts.append(_chronology(pack.events))
    parts.append("<h2>8. Review and metrics</h2>")
    review = pack.review
    if review is not None:
        parts.append('<p class="small">Metrics are computed from the log, never typed in.</p>')
        parts.append(_table(("Metric", "Value"), review.metrics, widths=(50, 50)))
        if review.held_on:
            parts.append(f"<p>Review held on {_e(review.held_on)}.</p>")
        if review.findings:
            parts.append(_table(("Finding", "Type", "Text"), review.findings, widths=(9, 17, 74)))
        if review.actions:
            parts.append(
                _table(("Action", "Owner", "Due", "Status"), review.actions, widths=(55, 17, 14, 14))
            )
    parts.append("<h2>9. Withheld</h2>" + _withheld(pack.withheld, pack.audience))
    parts.append(_sources(m))
    return _page(pack.title, paper, footer, marking, parts, m)


def changes_html(pack: ChangesPack, paper: str = "a4") -> str:
    m = pack.manifest
    marking = pack.audience.upper()
    period = f"{pack.since} to {pack.until}"
    footer = f"{pack.organisation} · changes {period} · commit {(m.commit or '-')[:12]}"
    cover = _cover(
        "Change-management evidence (SOC 2 CC8.1 / ISO 27001 A.8.32)",
        f"Changes to governed documents, {period}",
        (("Period", period), ("Changes", str(len(pack.rows))), ("Exceptions", str(len(pack.exceptions)))),
        m,
        marking,
    )
    signatures = (
        ""
        if pack.signatures_checked
        else (
            '<p class="note">Signatures were not checked against an allowed-signers file for this pack '
            "(pass --allowed-signers): signature status shows what git recorded, unverified.</p>"
        )
    )
    parts = [
        cover,
        "<h2>1. Summary</h2>",
        _table(("Figure", "Value"), pack.figures, cls="figures", widths=(70, 30)),
        signatures,
        f"<h2>2. Exceptions ({len(pack.exceptions)})</h2>",
        _exceptions(pack.exceptions),
        f"<h2>3. Every change ({len(pack.rows)})</h2>",
        '<p class="small">One paragraph per change: commit, date, author, how it landed, approvers, '
        "signature status and findings; then its subject, tickets and files.</p>",
        _every_change(pack.rows),
        "<h2>4. Withheld</h2>" + _withheld(pack.withheld, pack.audience),
        _sources(m),
    ]
    return _page(f"Changes {period}", paper, footer, marking, parts, m)


def _exceptions(rows: Sequence[ChangeRow]) -> str:
    """Each finding as one paragraph, grouped by rule, the rule's count in its heading
    (the change's subject and files are in the list of every change)."""
    if not rows:
        return '<p class="small">None.</p>'
    by_rule: dict[str, list[str]] = {}
    for r in rows:
        for rule, message in r.findings:
            by_rule.setdefault(rule, []).append(
                f"<p><b>{_e(r.commit[:12])}</b> {_e(r.date)} · {_e(r.author)} · {_e(message)}</p>"
            )
    parts = []
    for rule in sorted(by_rule):
        parts.append(f"<h3>{_e(rule)} ({len(by_rule[rule])})</h3>")
        parts.append('<div class="listing">' + "".join(by_rule[rule]) + "</div>")
    return "".join(parts)


def _every_change(rows: Sequence[ChangeRow]) -> str:
    """Every change as one short paragraph: a quarter of a busy repository is thousands
    of changes, and a paragraph costs the printer a fraction of an eight-cell table row."""
    out = ['<div class="listing">']
    for r in rows:
        rules = " · " + ", ".join(rule for rule, _ in r.findings) if r.findings else ""
        files = ", ".join(r.files[:2]) + (f" and {len(r.files) - 2} more" if len(r.files) > 2 else "")
        tickets = f" [{', '.join(r.tickets)}]" if r.tickets else ""
        approvers = ", ".join(
            a.split(" [", 1)[0] + (" (claim)" if "(claim)" in a else "") for a in r.approvers
        )
        out.append(
            f"<p><b>{_e(r.commit[:12])}</b> {_e(r.date)} · {_e(r.author)} · {_e(r.via)} · approved: "
            f"{_e(approvers or 'none')} · {_e(r.signature)}{_e(rules)}<br>"
            f"{_e(r.subject)}{_e(tickets)} — {_e(files)}</p>"
        )
    out.append("</div>")
    return "".join(out)


def _page(title: str, paper: str, footer: str, marking: str, parts: Sequence[str], manifest: Manifest) -> str:
    """The whole page; the PDF's document information (title, author, keywords) comes
    from its head, so a file manager shows what the pack is and which commit it is of."""
    keywords = f"{manifest.kind} evidence pack, {marking}, commit {manifest.commit or '-'}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="author" content="{_e(manifest.organisation)}">'
        f'<meta name="generator" content="{_e(manifest.generator)}">'
        f'<meta name="keywords" content="{_e(keywords)}">'
        f"<style>{_css(paper, footer, marking)}</style></head><body>{''.join(parts)}</body></html>"
    )
