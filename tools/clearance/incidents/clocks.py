"""Regulatory clocks: a deadline for each obligation an assessment says applies.

Counting rules (from the obligation's ``deadline``):

- ``hours``: absolute clock hours from the start (weekends, nights and DST changes
  all count as the hours they really are).
- ``calendar-days``, ``business-days``, ``months``: counted on the local date of the
  clock start (in the offset the start was written with); the deadline is the end of
  the due day (23:59:59 in that offset).
- ``business-days`` skip weekends and the public holidays of ``calendar`` (the
  ``holidays`` package: country, subdivision, categories).
- ``months``: calendar-month arithmetic; a day that does not exist in the target month
  is clamped to its last day (31 January + 1 month = 28/29 February).
- ``start: next-business-day``: a start on a weekend or holiday counts from the next
  business day.
- ``roll``: a deadline falling on a non-business day moves to the next business day
  (same time), or to noon of it (``next-business-day-noon``).
- ``asap``: no computable deadline; open with time elapsed until notified, with an
  optional outer ``cap`` (ISO 8601 duration).
- ``after``: the clock starts when the named obligation of the same regulation is
  notified.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clearance import durations
from clearance.errors import FatalError
from clearance.index import parse_time
from clearance.model import Document


@dataclass(frozen=True)
class Rule:
    unit: str
    amount: int | None = None
    country: str | None = None
    subdivision: str | None = None
    categories: tuple[str, ...] = ()
    start: str = "at-trigger"
    roll: str = "none"
    cap: str | None = None

    @classmethod
    def from_deadline(cls, deadline: Mapping[str, Any]) -> Rule:
        cal = deadline.get("calendar") or {}
        return cls(
            unit=str(deadline.get("unit")),
            amount=deadline.get("amount"),
            country=cal.get("country"),
            subdivision=cal.get("subdivision"),
            categories=tuple(cal.get("categories") or ()),
            start=deadline.get("start", "at-trigger"),
            roll=deadline.get("roll", "none"),
            cap=deadline.get("cap"),
        )

    def describe(self) -> str:
        if self.unit == "asap":
            return "without undue delay" + (f" (at most {self.cap})" if self.cap else "")
        where = ""
        if self.unit == "business-days" or self.roll != "none":
            where = (
                f" ({self.country or 'weekends only'}{'-' + self.subdivision if self.subdivision else ''})"
            )
        unit = self.unit.rstrip("s") if self.amount == 1 else self.unit
        return f"{self.amount} {unit}{where}"


class Calendar:
    """Business days for one jurisdiction: not a weekend day and not a holiday."""

    def __init__(
        self, country: str | None, subdivision: str | None = None, categories: Sequence[str] = ()
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self.categories = tuple(categories)
        self._years: dict[int, Any] = {}

    def _holidays(self, year: int) -> Any:
        if self.country is None:
            return None
        if year not in self._years:
            import holidays

            try:
                self._years[year] = holidays.country_holidays(
                    self.country,
                    subdiv=self.subdivision,
                    years=year,
                    categories=self.categories or None,
                )
            except NotImplementedError as exc:
                raise FatalError(
                    f"holiday calendar {self.country!r}"
                    + (f" subdivision {self.subdivision!r}" if self.subdivision else "")
                    + f" is not available: {exc}"
                ) from None
        return self._years[year]

    def holiday(self, day: dt.date) -> str | None:
        table = self._holidays(day.year)
        return table.get(day) if table is not None else None

    def weekend(self, day: dt.date) -> bool:
        table = self._holidays(day.year)
        weekend = getattr(table, "weekend", None) if table is not None else None
        return day.weekday() in (weekend if weekend else (5, 6))

    def business_day(self, day: dt.date) -> bool:
        return not self.weekend(day) and self.holiday(day) is None

    def next_business_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.business_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        for _ in range(count):
            day = self.next_business_day(day)
        return day


@functools.cache
def calendar_for(country: str | None, subdivision: str | None, categories: tuple[str, ...]) -> Calendar:
    return Calendar(country, subdivision, categories)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_duration(moment: dt.datetime, text: str) -> dt.datetime:
    """``moment`` plus an ISO 8601 duration (months clamp to the month's end)."""
    duration = durations.parse(text)
    if duration is None:
        raise FatalError(f"{text!r} is not an ISO 8601 duration (e.g. PT4H, P3D, P1M)")
    moved = duration.after(moment)
    assert isinstance(moved, dt.datetime)
    return moved


def _end_of_day(day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)


def due(rule: Rule, start: dt.datetime) -> dt.datetime | None:
    """The deadline for a clock started at ``start`` (aware); None for asap without cap."""
    if start.tzinfo is None:
        raise FatalError("a clock start needs a UTC offset")
    cal = calendar_for(rule.country, rule.subdivision, rule.categories)
    if rule.unit == "asap":
        return add_duration(start, rule.cap) if rule.cap else None
    if rule.amount is None:
        raise FatalError(f"a {rule.unit} deadline needs an amount")
    if rule.start == "next-business-day" and not cal.business_day(start.date()):
        first = cal.next_business_day(start.date())
        start = dt.datetime.combine(first, dt.time(0, 0), tzinfo=start.tzinfo)
    if rule.unit == "hours":
        # Absolute hours: arithmetic in UTC, shown back in the start's offset.
        result = (start.astimezone(dt.UTC) + dt.timedelta(hours=rule.amount)).astimezone(start.tzinfo)
    elif rule.unit == "calendar-days":
        result = _end_of_day(start.date() + dt.timedelta(days=rule.amount), start.tzinfo)
    elif rule.unit == "business-days":
        result = _end_of_day(cal.add_business_days(start.date(), rule.amount), start.tzinfo)
    elif rule.unit == "months":
        result = _end_of_day(add_months(start.date(), rule.amount), start.tzinfo)
    else:
        raise FatalError(f"unknown deadline unit {rule.unit!r}")
    return roll(rule, result, cal)


def roll(rule: Rule, moment: dt.datetime, cal: Calendar) -> dt.datetime:
    if rule.roll == "none" or cal.business_day(moment.date()):
        return moment
    day = cal.next_business_day(moment.date())
    if rule.roll == "next-business-day-noon":
        return dt.datetime.combine(day, dt.time(12, 0), tzinfo=moment.tzinfo)
    return moment.replace(year=day.year, month=day.month, day=day.day)


@dataclass
class Deadline:
    obligation: str  # regulation-id#obligation-id
    title: str
    notify: str
    rule: Rule
    start: dt.datetime | None  # None while waiting for a predecessor's notification
    due: dt.datetime | None
    assessed_by: str | None = None
    assessed_at: dt.datetime | None = None
    after: str | None = None
    notified: dt.datetime | None = None
    recipient: str | None = None
    reference: str | None = None
    notes: list[str] = field(default_factory=list)

    def state(self, now: dt.datetime) -> str:
        """met | late | overdue | open | waiting."""
        if self.start is None:
            return "waiting"
        if self.notified is not None:
            return "met" if self.due is None or self.notified <= self.due else "late"
        if self.due is not None and now > self.due:
            return "overdue"
        return "open"

    def as_json(self, now: dt.datetime) -> dict[str, Any]:
        state = self.state(now)
        left = (self.due - now).total_seconds() if self.due and state in ("open", "overdue") else None
        elapsed = (now - self.start).total_seconds() if self.start and state in ("open", "overdue") else None
        return {
            "obligation": self.obligation,
            "title": self.title,
            "notify": self.notify,
            "rule": self.rule.describe(),
            "unit": self.rule.unit,
            "start": _iso(self.start),
            "due": _iso(self.due),
            "state": state,
            "seconds_left": left,
            "seconds_elapsed": elapsed,
            "after": self.after,
            "assessed_by": self.assessed_by,
            "notified": _iso(self.notified),
            "recipient": self.recipient,
            "reference": self.reference,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    """UTC for machines; people get local time from ``status --tz``."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def deadlines(obligations: Mapping[str, Mapping[str, Any]], entries: Sequence[Document]) -> list[Deadline]:
    """Deadlines for an incident. ``obligations`` maps ``regulation#obligation`` to
    the obligation's data; ``entries`` is the incident log in event-time order."""
    assessed: dict[str, Document] = {}
    for entry in entries:
        if entry.data.get("type") == "assessment" and isinstance(entry.data.get("obligation"), str):
            assessed[entry.data["obligation"]] = entry  # the latest assessment wins
    notified: dict[str, Document] = {}
    for entry in entries:
        key = entry.data.get("obligation")
        if entry.data.get("type") == "notification" and isinstance(key, str):
            notified.setdefault(key, entry)  # the first notification fulfils it

    def applies(key: str, seen: frozenset[str] = frozenset()) -> bool:
        if key in assessed:
            return bool(assessed[key].data.get("applies"))
        ob = obligations.get(key)
        if ob and ob.get("after") and key not in seen:
            return applies(_sibling(key, ob["after"]), seen | {key})
        return False

    out: list[Deadline] = []
    for key in sorted(obligations, key=lambda k: (k.split("#")[0], list(obligations).index(k))):
        if not applies(key):
            continue
        ob = obligations[key]
        rule = Rule.from_deadline(ob.get("deadline") or {})
        assessment = assessed.get(key)
        after = _sibling(key, ob["after"]) if ob.get("after") else None
        start: dt.datetime | None
        if after:
            predecessor = notified.get(after)
            start = parse_time(predecessor.data.get("at")) if predecessor else None
        else:
            start = parse_time(assessment.data.get("clock_start")) if assessment else None
        deadline = Deadline(
            obligation=key,
            title=str(ob.get("title", key)),
            notify=str(ob.get("notify", "")),
            rule=rule,
            start=start,
            due=due(rule, start) if start else None,
            assessed_by=assessment.data.get("by") if assessment else None,
            assessed_at=parse_time(assessment.data.get("at")) if assessment else None,
            after=after,
        )
        note = notified.get(key)
        if note is not None:
            deadline.notified = parse_time(note.data.get("at"))
            deadline.recipient = note.data.get("recipient")
            deadline.reference = note.data.get("reference")
        out.append(deadline)
    return out


def _sibling(key: str, local: str) -> str:
    return f"{key.split('#', 1)[0]}#{local}"


def humanise(seconds: float) -> str:
    """``3d 4h 05m`` style; negative values read as overdue by the caller."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"
