"""The inbox's target time counts working hours only (the teams' hours and days, public
holidays excepted), in Đà Nẵng time, whatever the machine's clock says."""

from __future__ import annotations

import datetime as dt

from bot.services.inbox import Timing
from bot.services.worktime import working_seconds

HOURS, DAYS = "07:30-17:00", "1-5"


def utc(local: str) -> dt.datetime:
    """A Đà Nẵng wall-clock time (UTC+7) as the naive UTC the database stores."""
    return dt.datetime.fromisoformat(local) - dt.timedelta(hours=7)


def test_a_friday_afternoon_ticket_counts_friday_and_monday_only() -> None:
    # Friday 4 December 2026 16:00 → Monday 7 December 09:00: 1 h + 1 h 30.
    assert working_seconds(utc("2026-12-04 16:00"), utc("2026-12-07 09:00"), HOURS, DAYS, frozenset()) == 2.5 * 3600


def test_nights_weekends_and_holidays_do_not_count() -> None:
    assert working_seconds(utc("2026-12-05 08:00"), utc("2026-12-06 20:00"), HOURS, DAYS, frozenset()) == 0
    assert working_seconds(utc("2026-12-07 18:00"), utc("2026-12-08 06:00"), HOURS, DAYS, frozenset()) == 0
    holiday = frozenset({dt.date(2026, 12, 7)})
    assert working_seconds(utc("2026-12-07 08:00"), utc("2026-12-08 08:30"), HOURS, DAYS, holiday) == 3600
    assert working_seconds(utc("2026-12-08 10:00"), utc("2026-12-08 09:00"), HOURS, DAYS, frozenset()) == 0


def test_the_countdown_reads_in_vietnamese() -> None:
    assert Timing(8 * 3600, 2.5 * 3600).text == "còn 5 giờ 30 phút (giờ làm việc)"
    assert Timing(8 * 3600, 8 * 3600 + 600).text == "quá hạn 10 phút (giờ làm việc)"
    assert Timing(8 * 3600, 8 * 3600 + 600).overdue and not Timing(8 * 3600, 3600).overdue
