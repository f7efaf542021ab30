"""Regulatory clocks against worked examples: business days across holidays, clock
hours across weekends and DST changes, weekend roll to noon, calendar days, months,
asap obligations and chained clocks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clearance import loading
from clearance.errors import FatalError
from clearance.incidents import clocks, obligations
from clearance.incidents.clocks import Rule

T = dt.datetime.fromisoformat


def test_four_us_business_days_from_the_wednesday_before_thanksgiving() -> None:
    rule = Rule("business-days", 4, country="US")
    due = clocks.due(rule, T("2025-11-26T10:00:00-05:00"))
    # Thu 27 is Thanksgiving: Fri 28, Mon 1, Tue 2, Wed 3.
    assert due == T("2025-12-03T23:59:59-05:00")
    assert due.strftime("%A") == "Wednesday"
    assert clocks.calendar_for("US", None, ()).holiday(dt.date(2025, 11, 27)) == "Thanksgiving Day"


def test_weekend_start_counts_from_the_next_business_day() -> None:
    saturday = T("2025-11-29T10:00:00-05:00")
    from_monday = clocks.due(Rule("business-days", 4, country="US", start="next-business-day"), saturday)
    at_trigger = clocks.due(Rule("business-days", 4, country="US"), saturday)
    # Form 8-K General Instruction B.1: the period begins to run on, and includes, the
    # first business day: Mon 1, Tue 2, Wed 3, Thu 4 December.
    assert from_monday == T("2025-12-04T23:59:59-05:00")
    assert at_trigger == T("2025-12-04T23:59:59-05:00")  # Saturday is day 0: Mon, Tue, Wed, Thu


def test_seventy_two_hours_count_straight_through_a_weekend() -> None:
    due = clocks.due(Rule("hours", 72), T("2025-11-28T17:00:00+00:00"))
    assert due == T("2025-12-01T17:00:00+00:00")


def test_hours_are_absolute_across_the_end_of_summer_time() -> None:
    london = ZoneInfo("Europe/London")
    start = T("2025-10-24T10:00:00+01:00")  # Friday, BST
    due = clocks.due(Rule("hours", 72), start)
    assert due is not None
    assert (due - start) == dt.timedelta(hours=72)
    # Clocks went back on Sunday 26 October: 72 real hours later it is 09:00 GMT, not 10:00.
    local = due.astimezone(london)
    assert (local.hour, local.minute, local.tzname()) == (9, 0, "GMT")
    assert local.date() == dt.date(2025, 10, 27)


def test_hours_are_absolute_across_the_start_of_us_daylight_time() -> None:
    new_york = ZoneInfo("America/New_York")
    due = clocks.due(Rule("hours", 24), T("2026-03-07T12:00:00-05:00"))
    assert due is not None
    local = due.astimezone(new_york)
    assert (local.day, local.hour, local.tzname()) == (8, 13, "EDT")


def test_deadline_on_a_weekend_rolls_to_noon_of_the_next_working_day() -> None:
    rule = Rule("hours", 4, country="DE", roll="next-business-day-noon")
    # Friday 22:00 + 4 h = Saturday 02:00 -> Monday 12:00.
    assert clocks.due(rule, T("2025-11-28T22:00:00+01:00")) == T("2025-12-01T12:00:00+01:00")
    # Christmas Eve 22:00 + 4 h = Christmas Day (holiday), then Boxing Day, then the weekend.
    assert clocks.due(rule, T("2025-12-24T22:00:00+01:00")) == T("2025-12-29T12:00:00+01:00")
    # A weekday deadline does not move.
    assert clocks.due(rule, T("2025-11-27T08:00:00+01:00")) == T("2025-11-27T12:00:00+01:00")


def test_roll_to_next_business_day_keeps_the_time() -> None:
    rule = Rule("hours", 24, country="US", roll="next-business-day")
    assert clocks.due(rule, T("2025-11-26T15:00:00-05:00")) == T("2025-11-28T15:00:00-05:00")


def test_calendar_days_end_at_the_end_of_the_due_day() -> None:
    due = clocks.due(Rule("calendar-days", 60), T("2026-01-10T15:00:00-05:00"))
    assert due == T("2026-03-11T23:59:59-05:00")


def test_months_clamp_to_the_end_of_a_shorter_month() -> None:
    assert clocks.due(Rule("months", 1), T("2026-01-31T10:00:00+01:00")) == T("2026-02-28T23:59:59+01:00")
    assert clocks.due(Rule("months", 1), T("2028-01-31T10:00:00+01:00")) == T("2028-02-29T23:59:59+01:00")
    assert clocks.due(Rule("months", 12), T("2026-03-15T10:00:00Z")) == T("2027-03-15T23:59:59Z")


def test_asap_has_no_deadline_unless_capped() -> None:
    assert clocks.due(Rule("asap"), T("2026-01-10T15:00:00Z")) is None
    assert clocks.due(Rule("asap", cap="P60D"), T("2026-01-10T15:00:00Z")) == T("2026-03-11T15:00:00Z")


def test_unknown_holiday_calendar_is_a_clear_error() -> None:
    with pytest.raises(FatalError, match="holiday calendar 'ZZ' is not available"):
        clocks.due(Rule("business-days", 2, country="ZZ"), T("2026-01-10T15:00:00Z"))


def _entry(text: str, name: str) -> loading.Document:
    return loading.load_text(text, f"incidents/x/log/{name}.yaml")


OBLIGATIONS = {
    "gdpr#art33": {
        "id": "art33",
        "title": "Authority",
        "notify": "DPA",
        "deadline": {"unit": "hours", "amount": 72},
    },
    "gdpr#art34": {"id": "art34", "title": "Subjects", "notify": "people", "deadline": {"unit": "asap"}},
    "nis2#notification": {
        "id": "notification",
        "title": "Notify",
        "notify": "CSIRT",
        "deadline": {"unit": "hours", "amount": 72},
    },
    "nis2#final-report": {
        "id": "final-report",
        "title": "Final",
        "notify": "CSIRT",
        "after": "notification",
        "deadline": {"unit": "months", "amount": 1},
    },
}


def _assess(
    name: str, obligation: str, applies: bool = True, start: str = "2026-03-14T08:00:00Z"
) -> loading.Document:
    clock = f"clock_start: '{start}'\n" if applies else ""
    return _entry(
        f"kind: log-entry\ntype: assessment\nat: '2026-03-14T09:00:00Z'\nby: lena\nobligation: {obligation}\n"
        f"applies: {'true' if applies else 'false'}\n{clock}rationale: because\n",
        name,
    )


def _notify(name: str, obligation: str, at: str) -> loading.Document:
    return _entry(
        f"kind: log-entry\ntype: notification\nat: '{at}'\nby: lena\nobligation: {obligation}\nrecipient: someone\n",
        name,
    )


def test_deadlines_from_assessments_and_notifications() -> None:
    entries = [
        _assess("a1", "gdpr#art33"),
        _assess("a2", "gdpr#art34"),
        _assess("a3", "nis2#notification"),
        _notify("n1", "gdpr#art33", "2026-03-18T09:00:00Z"),
    ]
    now = T("2026-03-16T08:00:00Z")
    found = {d.obligation: d for d in obligations.deadlines(OBLIGATIONS, entries)}
    art33 = found["gdpr#art33"]
    assert art33.due == T("2026-03-17T08:00:00Z")
    assert art33.state(now) == "late"  # notified a day after the deadline
    art34 = found["gdpr#art34"]
    assert art34.due is None and art34.state(now) == "open"
    assert art34.as_json(now)["seconds_elapsed"] == 48 * 3600
    assert found["nis2#notification"].state(now) == "open"
    assert found["nis2#notification"].as_json(now)["seconds_left"] == 72 * 3600 - 48 * 3600
    final = found["nis2#final-report"]
    assert final.start is None and final.state(now) == "waiting"  # chained to the notification
    assert found["nis2#notification"].state(T("2026-03-17T08:00:01Z")) == "overdue"


def test_chained_clock_starts_at_the_named_notification() -> None:
    entries = [_assess("a3", "nis2#notification"), _notify("n2", "nis2#notification", "2026-03-15T10:00:00Z")]
    found = {d.obligation: d for d in obligations.deadlines(OBLIGATIONS, entries)}
    assert found["nis2#notification"].state(T("2026-03-16T00:00:00Z")) == "met"
    final = found["nis2#final-report"]
    assert final.start == T("2026-03-15T10:00:00Z")
    assert final.due == T("2026-04-15T23:59:59Z")


def test_a_later_assessment_that_it_does_not_apply_stops_the_clock() -> None:
    later = _entry(
        "kind: log-entry\ntype: assessment\nat: '2026-03-14T10:00:00Z'\nby: lena\nobligation: gdpr#art33\n"
        "applies: false\nrationale: no personal data after all\n",
        "a9",
    )
    assert [d.obligation for d in obligations.deadlines(OBLIGATIONS, [_assess("a1", "gdpr#art33"), later])] == []


def test_a_market_calendar_closes_on_days_the_federal_calendar_does_not() -> None:
    thursday = T("2026-04-02T10:00:00-04:00")  # Good Friday, 3 April 2026: NYSE closed, federal offices open
    assert clocks.due(Rule("business-days", 1, market="NYSE"), thursday) == T("2026-04-06T23:59:59-04:00")
    assert clocks.due(Rule("business-days", 1, country="US"), thursday) == T("2026-04-03T23:59:59-04:00")
    assert "NYSE market calendar" in Rule("business-days", 1, market="NYSE").describe()
    with pytest.raises(FatalError, match="market 'XXXX'"):
        clocks.due(Rule("business-days", 1, market="XXXX"), thursday)


def test_days_count_in_the_regulators_zone_and_end_at_its_cut_off() -> None:
    rule = Rule(
        "business-days", 4, country="US", start="next-business-day", zone="America/New_York", cutoff="17:30"
    )
    # Written in Tokyo time on Monday morning, it is still Sunday in New York.
    due = clocks.due(rule, T("2026-01-12T09:00:00+09:00"))
    assert due == T("2026-01-15T17:30:00-05:00")
    assert "due by 17:30 America/New_York" in rule.describe()
    with pytest.raises(FatalError, match="time zone 'Mars/Olympus'"):
        clocks.due(Rule("calendar-days", 1, zone="Mars/Olympus"), T("2026-01-12T09:00:00Z"))


def test_a_clock_anchored_to_the_end_of_the_calendar_year() -> None:
    rule = Rule("calendar-days", 60, anchor="end-of-calendar-year")
    assert clocks.due(rule, T("2026-01-02T10:00:00Z")) == T("2027-03-01T23:59:59Z")
    assert clocks.due(rule, T("2026-12-31T23:00:00Z")) == T("2027-03-01T23:59:59Z")
    assert "after the end of the calendar year" in rule.describe()
