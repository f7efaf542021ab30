"""Regulatory clocks: the deadline one clock rule gives for one start time.

Counting rules (from an obligation's ``deadline`` in the register):

- ``hours``: absolute clock hours from the start (weekends, nights and DST changes
  all count as the hours they really are).
- ``calendar-days``, ``business-days``, ``months``: counted on the local date of the
  start, in the regulator's ``zone`` when the rule names one (else in the offset the
  start was written with). The deadline is the end of the due day (23:59:59), or the
  filing ``cutoff`` time of that day (EDGAR: 17:30 Eastern).
- ``business-days`` skip weekends and the holidays of the rule's ``calendar``: a
  country (with subdivision and categories) or a ``market`` (``NYSE``, ``XLON``...).
- ``months``: calendar-month arithmetic; a day the target month lacks is clamped to its
  last day (31 January + 1 month = 28/29 February).
- ``start: next-business-day``: a period that starts on a weekend or holiday begins to
  run on, and includes, the first business day after it (Form 8-K General
  Instruction B.1): four business days from a Saturday end on the Thursday.
- ``anchor: end-of-calendar-year``: the count starts at the end of the calendar year of
  the start (HIPAA 164.408(c): 60 days after the end of the year).
- ``roll``: a deadline on a non-business day moves to the next business day (same
  time), or to noon of it (``next-business-day-noon``).
- ``asap``: no computable deadline; open with time elapsed until notified, with an
  optional outer ``cap`` (ISO 8601 duration). ``without_undue_delay: true`` on a
  counted rule says the same of a rule with a fixed outer limit.

What starts a clock, thresholds, "earliest of", relations between notices, updates
and tolling live in :mod:`clearance.incidents.obligations`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clearance import durations
from clearance.errors import FatalError
from clearance.incidents.calendars import Calendar, add_months, calendar_for

__all__ = ["Calendar", "Deadline", "Rule", "add_months", "calendar_for", "due", "humanise"]


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
    market: str | None = None
    zone: str | None = None
    cutoff: str | None = None  # "HH:MM" in ``zone``
    anchor: str | None = None  # "end-of-calendar-year"
    without_undue_delay: bool = False
    trigger: str | None = None  # a named time (a fact) that starts this clock instead
    lapses_if_passed: bool = False  # ignored when already past as the obligation's clock starts
    country_fact: str | None = None  # the calendar's country comes from this fact

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
            market=cal.get("market"),
            zone=deadline.get("zone"),
            cutoff=deadline.get("cutoff"),
            anchor=deadline.get("anchor"),
            without_undue_delay=bool(deadline.get("without_undue_delay")),
            trigger=deadline.get("from"),
            lapses_if_passed=bool(deadline.get("lapses_if_passed")),
            country_fact=cal.get("country_from"),
        )

    @property
    def calendar(self) -> Calendar:
        return calendar_for(self.country, self.subdivision, self.categories, self.market)

    def describe(self) -> str:
        """The clock in words, as counsel reads it."""
        if self.unit == "asap":
            return "without undue delay" + (f" (at most {self.cap})" if self.cap else "")
        unit = self.unit.rstrip("s") if self.amount == 1 else self.unit
        words = f"{self.amount} {unit.replace('-', ' ')}"
        if self.without_undue_delay:
            words = f"without undue delay, at most {words}"
        if self.anchor == "end-of-calendar-year":
            words += " after the end of the calendar year"
        if self.trigger:
            words += f" from {self.trigger}"
        if self.unit == "business-days" or self.roll != "none":
            if self.country_fact and not self.country:
                words += f" (holidays of the country named by the {self.country_fact!r} fact)"
            else:
                words += f" ({self.calendar.describe()})"
        if self.start == "next-business-day":
            words += "; a start on a non-business day counts from, and includes, the next business day"
        if self.cutoff:
            words += f"; due by {self.cutoff} {self.zone or 'local time'} on the last day"
        if self.roll == "next-business-day-noon":
            words += "; a deadline on a weekend or holiday moves to noon of the next business day"
        elif self.roll == "next-business-day":
            words += "; a deadline on a weekend or holiday moves to the next business day"
        if self.lapses_if_passed:
            words += "; does not apply when already passed as the main clock starts"
        return words

    def lower_bound(self) -> dt.timedelta | None:
        """The least time this clock can ever give (for comparing protocol targets)."""
        if self.unit == "asap":
            parsed = durations.parse(self.cap) if self.cap else None
            return parsed.fixed + dt.timedelta(days=28 * parsed.months) if parsed else None
        amount = self.amount or 0
        if self.anchor:
            return None
        return {
            "hours": dt.timedelta(hours=amount),
            "calendar-days": dt.timedelta(days=amount),
            "business-days": dt.timedelta(days=amount),
            "months": dt.timedelta(days=28 * amount),
        }.get(self.unit)


def add_duration(moment: dt.datetime, text: str) -> dt.datetime:
    """``moment`` plus an ISO 8601 duration (months clamp to the month's end)."""
    duration = durations.parse(text)
    if duration is None:
        raise FatalError(f"{text!r} is not an ISO 8601 duration (e.g. PT4H, P3D, P1M)")
    moved = duration.after(moment)
    assert isinstance(moved, dt.datetime)
    return moved


def zone_of(rule: Rule) -> dt.tzinfo | None:
    if not rule.zone:
        return None
    try:
        return ZoneInfo(rule.zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise FatalError(f"time zone {rule.zone!r} is not known (e.g. America/New_York)") from None


def _close_of(rule: Rule, day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    if rule.cutoff:
        try:
            hour, minute = (int(part) for part in rule.cutoff.split(":"))
            cut = dt.time(hour, minute)
        except ValueError:
            raise FatalError(f"cut-off time {rule.cutoff!r} is not HH:MM") from None
        return dt.datetime.combine(day, cut, tzinfo=tz)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)


def due(rule: Rule, start: dt.datetime) -> dt.datetime | None:
    """The deadline for a clock started at ``start`` (aware); None for asap without cap."""
    if start.tzinfo is None:
        raise FatalError("a clock start needs a UTC offset")
    cal = rule.calendar
    if rule.unit == "asap":
        return add_duration(start, rule.cap) if rule.cap else None
    if rule.amount is None:
        raise FatalError(f"a {rule.unit} deadline needs an amount")
    zone = zone_of(rule)
    local = start.astimezone(zone) if zone else start
    tz = local.tzinfo
    day = local.date()
    if rule.anchor == "end-of-calendar-year":
        day = dt.date(day.year, 12, 31)
        local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
    elif rule.anchor is not None:
        raise FatalError(f"unknown clock anchor {rule.anchor!r}")
    first_inclusive = False
    if rule.start == "next-business-day" and not cal.business_day(day):
        # The period begins to run on, and includes, the first business day.
        day = cal.next_business_day(day)
        local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
        first_inclusive = True
    if rule.unit == "hours":
        # Absolute hours: arithmetic in UTC, shown back in the local zone.
        result = (local.astimezone(dt.UTC) + dt.timedelta(hours=rule.amount)).astimezone(tz)
    elif rule.unit == "calendar-days":
        result = _close_of(rule, day + dt.timedelta(days=rule.amount - first_inclusive), tz)
    elif rule.unit == "business-days":
        result = _close_of(rule, cal.add_business_days(day, rule.amount - first_inclusive), tz)
    elif rule.unit == "months":
        result = _close_of(rule, add_months(day, rule.amount), tz)
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
    tolled: tuple[dt.datetime, dt.datetime | None] | None = None

    def state(self, now: dt.datetime) -> str:
        """met | late | overdue | tolled | open | waiting."""
        if self.notified is not None:
            return "met" if self.due is None or self.notified <= self.due else "late"
        if (
            self.tolled is not None
            and self.tolled[0] <= now
            and (self.tolled[1] is None or now < self.tolled[1])
        ):
            return "tolled"
        if self.start is None:
            return "waiting"
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
            "notes": list(self.notes),
            "tolled_until": _iso(self.tolled[1]) if self.tolled else None,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    """UTC for machines; people get local time from ``status --tz``."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


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
