"""Reporting periods: days of Đà Nẵng time, half-open [start, end).

The city's communication plan (Quyết định 2780/QĐ-UBND, 2022, section 5.8) asks every
unit for a 6-month report before 1 June and a yearly report before 1 December, without
saying which days each covers. We take the reporting year that ends on the yearly
deadline, so each day belongs to exactly one yearly report and each report holds
everything up to its deadline:

- 6-month report of year Y: 1 December of Y-1 to 31 May of Y (six whole months);
- yearly report of year Y: 1 December of Y-1 to 30 November of Y (twelve months).

(The national reporting rule, Nghị định 09/2019/NĐ-CP, closes data on the 14th of
June and December, after these deadlines, so it cannot be followed here.) Any other
period, e.g. a calendar half-year, is a `Period` of its own dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import TZ, local_day_start, local_today

__all__ = ["TZ", "Period", "due_next", "six_month", "yearly", "plan_periods", "local_day_start", "local_today"]



@dataclass(frozen=True)
class Period:
    """Days `start` up to, not including, `end` (Đà Nẵng time), with a title."""

    start: dt.date
    end: dt.date
    title: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("ngày kết thúc phải sau ngày bắt đầu (the period must end after it starts)")

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return local_day_start(self.start), local_day_start(self.end)

    @property
    def label(self) -> str:
        dates = f"{self.start:%d/%m/%Y} – {self.last_day:%d/%m/%Y}"
        return f"{self.title} ({dates})" if self.title else dates

    @classmethod
    def of_days(cls, first: dt.date, last: dt.date, title: str = "") -> Period:
        """From a first and a last day, both included (how people write a period)."""
        return cls(first, last + dt.timedelta(days=1), title)


def six_month(year: int) -> Period:
    """The plan's 6-month report of `year` (due before 1 June): 1 Dec of the year before – 31 May."""
    return Period(dt.date(year - 1, 12, 1), dt.date(year, 6, 1), f"Báo cáo 6 tháng năm {year}")


def yearly(year: int) -> Period:
    """The plan's yearly report of `year` (due before 1 December): 1 Dec of the year before – 30 Nov."""
    return Period(dt.date(year - 1, 12, 1), dt.date(year, 12, 1), f"Báo cáo năm {year}")


def plan_periods(year: int) -> tuple[Period, Period]:
    """Both reports the plan asks for in `year`: (6-month, yearly)."""
    return six_month(year), yearly(year)


def due_next(today: dt.date) -> Period:
    """The plan's report due next after `today`: the 6-month one until 31 May, then the yearly one."""
    if today < dt.date(today.year, 6, 1):
        return six_month(today.year)
    if today < dt.date(today.year, 12, 1):
        return yearly(today.year)
    return six_month(today.year + 1)
