"""Counts of checked messages (bot/scamcheck) for the city: by kind, sign and ward, per
week. Only the verdict, kind, signs, channel and ward are stored, never the text."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from bot import clock
from bot.scamcheck import Result
from bot.scamcheck.kinds import kind_of
from bot.storage.db import Database
from bot.storage.models import Area, ScamCheck

__all__ = ["Week", "record", "week_of", "week_report"]


async def record(db: Database, channel: str, area_code: str | None, result: Result, forwarded: bool = False) -> None:
    """Count one check."""
    async with db.session() as session, session.begin():
        session.add(ScamCheck(channel=channel, area_code=area_code, verdict=result.verdict.value, kind=kind_of(result),
                              signs=list(result.signs), forwarded=forwarded))


@dataclass
class Week:
    first: dt.date  # Monday, Đà Nẵng time
    last: dt.date  # Sunday
    checks: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # flagged checks only (scam or suspicious)
    signs: Counter[str] = field(default_factory=Counter)  # flagged checks only
    areas: dict[str, Counter[str]] = field(default_factory=dict)  # ward name → kind → flagged checks
    area_codes: set[str] = field(default_factory=set)  # the known wards with flagged checks


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day - dt.timedelta(days=day.weekday())
    return first, first + dt.timedelta(days=6)


async def week_report(db: Database, day: dt.date | None = None) -> Week:
    """What circulated in the week (Monday to Sunday, Đà Nẵng time) holding `day`
    (default: today)."""
    first, last = week_of(day or clock.local_today())
    week = Week(first, last)
    start, end = clock.local_day_start(first), clock.local_day_start(last + dt.timedelta(days=1))
    async with db.session() as session:
        rows = (await session.execute(select(ScamCheck.verdict, ScamCheck.kind, ScamCheck.signs, ScamCheck.area_code)
                                      .where(ScamCheck.checked_at >= start, ScamCheck.checked_at < end))).all()
        names = dict((await session.execute(select(Area.code, Area.name))).all())
    for verdict, kind, signs, area in rows:
        week.checks += 1
        week.verdicts[verdict] += 1
        if verdict == "no_signs":
            continue
        week.kinds[kind] += 1
        week.signs.update(signs or [])
        if area in names:
            week.area_codes.add(area)
        label = names.get(area, area) if area else "Chưa rõ phường, xã"
        week.areas.setdefault(label, Counter())[kind] += 1
    return week
