"""ISO 8601 durations (P1Y, P6M, PT15M, P2W) and calendar arithmetic with them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_DURATION = re.compile(
    r"P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?\Z"
)


@dataclass(frozen=True)
class Duration:
    months: int = 0  # years are folded into months
    days: int = 0  # weeks are folded into days
    seconds: int = 0

    @property
    def fixed(self) -> dt.timedelta:
        """The duration as an exact timedelta (only meaningful without months)."""
        return dt.timedelta(days=self.days, seconds=self.seconds)

    def after(self, start: dt.datetime | dt.date) -> dt.datetime | dt.date:
        """``start`` plus this duration; months clamp to the end of a shorter month."""
        moved = add_months(start, self.months) if self.months else start
        if isinstance(moved, dt.datetime):
            return moved + self.fixed
        return moved + dt.timedelta(days=self.days + self.seconds // 86400)

    def __str__(self) -> str:
        parts = []
        years, months = divmod(self.months, 12)
        if years:
            parts.append(f"{years} year{'s' * (years != 1)}")
        if months:
            parts.append(f"{months} month{'s' * (months != 1)}")
        if self.days:
            parts.append(f"{self.days} day{'s' * (self.days != 1)}")
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        for amount, unit in ((hours, "hour"), (minutes, "minute"), (seconds, "second")):
            if amount:
                parts.append(f"{amount} {unit}{'s' * (amount != 1)}")
        return " ".join(parts) or "0 seconds"


def parse(text: str) -> Duration | None:
    """A Duration, or None when ``text`` is not an ISO 8601 duration."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        return None
    n = {key: int(value) if value else 0 for key, value in match.groupdict().items()}
    return Duration(
        months=n["years"] * 12 + n["months"],
        days=n["weeks"] * 7 + n["days"],
        seconds=n["hours"] * 3600 + n["minutes"] * 60 + n["seconds"],
    )


def add_months(start: dt.datetime | dt.date, months: int) -> dt.datetime | dt.date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def humanise(delta: dt.timedelta) -> str:
    """'2 days 3 hours', '45 minutes', '30 seconds' — for findings and status."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{amount} {unit}{'s' * (amount != 1)}"
        for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if amount
    ]
    if not parts:
        parts = [f"{secs} second{'s' * (secs != 1)}"]
    return " ".join(parts[:2])
