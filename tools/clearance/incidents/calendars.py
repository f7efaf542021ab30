"""Business-day calendars: a country (with subdivision and holiday categories) or a
market (a stock exchange's trading calendar), from the ``holidays`` package.

A regulator counts business days on its own calendar: the SEC on US federal holidays,
a DORA supervisor on the bank holidays of its member state. Which calendar an
obligation uses is part of its rule in the register, never a global default.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from clearance.errors import FatalError


class Calendar:
    """Business days for one jurisdiction or market: not a weekend day and not a holiday."""

    def __init__(
        self,
        country: str | None,
        subdivision: str | None = None,
        categories: Sequence[str] = (),
        market: str | None = None,
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self.categories = tuple(categories)
        self.market = market
        self._years: dict[int, Any] = {}

    def describe(self) -> str:
        if self.market:
            return f"{self.market} market calendar"
        if self.country:
            where = self.country + (f"-{self.subdivision}" if self.subdivision else "")
            return f"{where} holidays" + (f" ({', '.join(self.categories)})" if self.categories else "")
        return "weekends only"

    def _holidays(self, year: int) -> Any:
        if self.country is None and self.market is None:
            return None
        if year not in self._years:
            import holidays

            try:
                if self.market:
                    table = holidays.financial_holidays(self.market, years=year)
                else:
                    assert self.country is not None
                    table = holidays.country_holidays(
                        self.country,
                        subdiv=self.subdivision,
                        years=year,
                        categories=self.categories or None,
                    )
            except NotImplementedError as exc:
                name = f"market {self.market!r}" if self.market else repr(self.country)
                raise FatalError(
                    f"holiday calendar {name}"
                    + (f" subdivision {self.subdivision!r}" if self.subdivision else "")
                    + f" is not available: {exc}"
                ) from None
            self._years[year] = table
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


# The time zone of each EU/EEA member state's capital: where a supervisor's "noon of the
# next working day" and its bank holidays fall when the country comes from a fact.
CAPITAL_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris", "GR": "Europe/Athens",
    "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "IE": "Europe/Dublin", "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome", "LI": "Europe/Vaduz", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga", "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava",
}  # fmt: skip


@functools.cache
def calendar_for(
    country: str | None, subdivision: str | None, categories: tuple[str, ...], market: str | None = None
) -> Calendar:
    return Calendar(country, subdivision, categories, market)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar-month arithmetic; a day the target month lacks clamps to its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
