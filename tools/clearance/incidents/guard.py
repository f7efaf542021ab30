"""Nothing of a 'never' data class is written anywhere, not even to refuse it: every
text a command would write is scanned first, and a refusal shows only masked hits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clearance.incidents.session import Refused, Session
from clearance.model import Document


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings(item)]
    return []


# The free-text fields of log entries and incidents (ids and times are never scanned).
FREE_TEXT = ("text", "rationale", "source", "points", "recipient", "reference", "values", "title", "summary")


def refuse_never_in(session: Session, incident: Document, data: Mapping[str, Any], what: str) -> None:
    """:func:`refuse_never` over the free-text fields of ``data`` (an entry, an incident)."""
    texts = [s for key in FREE_TEXT for s in strings(data.get(key))]
    refuse_never(session, incident, texts, (), what)


def refuse_never(
    session: Session,
    incident: Document,
    texts: Sequence[str],
    declared: Sequence[str],
    what: str = "the draft",
) -> None:
    """Refuse, before writing, a text touching a data class whose disclosure rule is
    'never'; the message shows only masked hits."""

    def never(name: str) -> bool:
        doc = session.index.get("data-class", name)
        rule = doc.data.get("disclosure") if doc else None
        return isinstance(rule, dict) and rule.get("rule") == "never"

    lines = [f"data class {name!r} (declared with --data-class)" for name in declared if never(name)]
    try:
        from clearance import scan
    except ImportError:  # pragma: no cover - the scanner ships with the package
        scan = None  # type: ignore[assignment]
    if scan is not None:
        allowances = scan.allowances_for(incident, session.index)
        for text in texts:
            touched = {c for c in scan.classes_in(text, session.index, allowances) if never(c)}
            for hit in scan.scan_text(text, session.index):
                bad = sorted(touched & set(hit.classes))
                if bad and not any(a.covers(hit) for a in allowances):
                    lines.append(
                        f"line {hit.line} col {hit.col}: {hit.label} {hit.masked} ({', '.join(bad)})"
                    )
            if touched and not lines:
                lines.append(f"data class(es) {', '.join(sorted(touched))}")
    if lines:
        raise Refused(
            f"{what} touches data that may never be published or recorded; nothing was written:\n  "
            + "\n  ".join(dict.fromkeys(lines))
            + "\nremove it from the text and run the command again"
        )
