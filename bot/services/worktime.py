"""Working time of the teams, in Asia/Ho_Chi_Minh: reminders go out only then.

The hours (`TEAM_WORKING_HOURS`, e.g. 07:30-17:00) and days (`TEAM_WORKING_DAYS`, 1-5 =
Monday to Friday) are settings; public holidays are data (`knowledge/holidays.yaml`). In a
year the file does not list yet, every weekday counts and a warning is logged once per
process and year."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import yaml

from bot.clock import to_local

__all__ = ["holidays_listed", "is_working_time", "load_holidays"]

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


def load_holidays(path: Path) -> frozenset[dt.date]:
    """The dates of the holiday file; a line that is not a date is skipped with a warning."""
    if not path.exists():
        return frozenset()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or []  # strings, parsed below
    except yaml.YAMLError as e:
        logger.warning("%s cannot be read (%s): no public holidays are known", path, e)
        return frozenset()
    days = set()
    for item in data if isinstance(data, list) else []:
        try:
            days.add(dt.date.fromisoformat(str(item).strip()))
        except ValueError:
            logger.warning("%s: %r is not a date (YYYY-MM-DD): skipped", path, item)
    return frozenset(days)


def _range(spec: str) -> tuple[int, int]:
    a, _, b = spec.partition("-")
    return int(a), int(b or a)


def holidays_listed(holidays: frozenset[dt.date], year: int) -> bool:
    """Whether the holiday file has any date in `year` (an empty file is taken as meant)."""
    return not holidays or any(d.year == year for d in holidays)


def is_working_time(now_utc: dt.datetime, hours: str, days: str, holidays: frozenset[dt.date]) -> bool:
    local = to_local(now_utc)
    if not holidays_listed(holidays, local.year) and local.year not in _warned_years:
        _warned_years.add(local.year)
        logger.warning("knowledge/holidays.yaml lists no public holiday in %s: team reminders will also go out on "
                       "that year's holidays until an admin adds its dates", local.year)
    first, last = _range(days)
    if not first <= local.isoweekday() <= last or local.date() in holidays:
        return False
    start, _, end = hours.partition("-")
    begin = dt.time.fromisoformat(start.strip())
    finish = dt.time.fromisoformat(end.strip())
    return begin <= local.time() < finish
