"""Working time of the teams, in Asia/Ho_Chi_Minh: reminders go out only then.

The hours (`TEAM_WORKING_HOURS`, e.g. 07:30-17:00) and days (`TEAM_WORKING_DAYS`, 1-5 =
Monday to Friday) are settings; public holidays are data (`knowledge/holidays.yaml`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

__all__ = ["TZ", "is_working_time", "load_holidays"]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def load_holidays(path: Path) -> frozenset[dt.date]:
    if not path.exists():
        return frozenset()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in data)


def _range(spec: str) -> tuple[int, int]:
    a, _, b = spec.partition("-")
    return int(a), int(b or a)


def is_working_time(now_utc: dt.datetime, hours: str, days: str, holidays: frozenset[dt.date]) -> bool:
    local = now_utc.replace(tzinfo=dt.UTC).astimezone(TZ)
    first, last = _range(days)
    if not first <= local.isoweekday() <= last or local.date() in holidays:
        return False
    start, _, end = hours.partition("-")
    begin = dt.time.fromisoformat(start.strip())
    finish = dt.time.fromisoformat(end.strip())
    return begin <= local.time() < finish
