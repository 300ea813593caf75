"""Question figures in one daily shape, read from the raw question log or from the
anonymous daily aggregates the purge leaves behind.

Both sources give the same three kinds of rows, so a report sums them without knowing
which days were purged, and the purge writes exactly what `from_log` computes: a
report's figures are the same before and after a purge by construction.

- `QuestionCount`: questions of a day per channel, area, decision and entry, with 👍/👎;
- `ResidentCount`: residents who wrote on a day per channel and area (distinct within
  the day; a resident who writes on three days counts three times: distinct counts over
  longer spans cannot be kept without keeping who wrote);
- `GapCount`: questions without an answer in the knowledge base, by normalised text.

The purge reads and writes these rows a day at a time. A report needs only their sums
over the period (`Totals`), which each source computes in SQL: the same figures, without
moving every day's rows into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import QuestionLog, ReportGapsDaily, ReportQuestionsDaily, ReportResidentsDaily

__all__ = ["QuestionCount", "ResidentCount", "GapCount", "Daily", "Totals", "from_log", "from_aggregates", "totals_from_log",
           "totals_from_aggregates", "DELETED"]

#: The hash a question-log row gets when its resident deleted their data (bot/conversation.py).
DELETED = "deleted"


@dataclass(frozen=True)
class QuestionCount:
    day: dt.date
    channel: str
    area: str  # "": not known
    decision: str
    entry: str  # "": none
    questions: int
    up: int
    down: int


@dataclass(frozen=True)
class ResidentCount:
    day: dt.date
    channel: str
    area: str
    residents: int


@dataclass(frozen=True)
class GapCount:
    day: dt.date
    area: str
    text: str
    questions: int


@dataclass
class Daily:
    questions: list[QuestionCount] = field(default_factory=list)
    residents: list[ResidentCount] = field(default_factory=list)
    gaps: list[GapCount] = field(default_factory=list)

    def __add__(self, other: Daily) -> Daily:
        return Daily(self.questions + other.questions, self.residents + other.residents, self.gaps + other.gaps)


def _local_day(conn: AsyncConnection, column: ColumnElement[dt.datetime]) -> ColumnElement[object]:
    # Đà Nẵng is UTC+7 all year (no daylight saving since 1975): a fixed offset is exact.
    if conn.dialect.name == "sqlite":
        return func.date(column, "+7 hours")
    return func.date(column + literal_column("interval '7 hours'"))


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


async def from_log(conn: AsyncConnection, start: dt.datetime, end: dt.datetime, area: str | None = None) -> Daily:
    """Daily rows of the question-log rows asked in [start, end) (naive UTC), optionally one area's."""
    q = QuestionLog.__table__.c
    day = _local_day(conn, q.asked_at).label("day")
    where = [q.asked_at >= start, q.asked_at < end]
    if area is not None:
        where.append(q.area_code == area)
    rows = (await conn.execute(
        select(day, q.channel, q.area_code, q.decision, q.entry_id, func.count(),
               func.sum(case((q.feedback == "up", 1), else_=0)),
               func.sum(case((q.feedback.like("down%"), 1), else_=0)))
        .where(*where).group_by(day, q.channel, q.area_code, q.decision, q.entry_id)
    )).all()
    questions = [QuestionCount(_day(d), ch, a or "", dec, e or "", int(n), int(up or 0), int(down or 0))
                 for d, ch, a, dec, e, n, up, down in rows]
    rows = (await conn.execute(
        select(day, q.channel, q.area_code, func.count(q.resident_hash.distinct()))
        .where(*where, q.resident_hash != DELETED).group_by(day, q.channel, q.area_code)
    )).all()
    residents = [ResidentCount(_day(d), ch, a or "", int(n)) for d, ch, a, n in rows]
    rows = (await conn.execute(
        select(day, q.area_code, q.normalized, func.count())
        .where(*where, and_(q.decision == "unknown", q.entry_id.is_(None), q.normalized != ""))
        .group_by(day, q.area_code, q.normalized)
    )).all()
    gaps = [GapCount(_day(d), a or "", text, int(n)) for d, a, text, n in rows]
    return Daily(questions, residents, gaps)


async def from_aggregates(conn: AsyncConnection, start: dt.date, end: dt.date, area: str | None = None) -> Daily:
    """Daily rows kept by the purge for the days [start, end), optionally one area's."""
    out = Daily()
    q = ReportQuestionsDaily.__table__.c
    where = [q.day >= start, q.day < end] + ([q.area_code == area] if area is not None else [])
    for r in (await conn.execute(select(q.day, q.channel, q.area_code, q.decision, q.entry_id, q.questions,
                                        q.rated_up, q.rated_down).where(*where))).all():
        out.questions.append(QuestionCount(_day(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]))
    r_ = ReportResidentsDaily.__table__.c
    where = [r_.day >= start, r_.day < end] + ([r_.area_code == area] if area is not None else [])
    for rr in (await conn.execute(select(r_.day, r_.channel, r_.area_code, r_.residents).where(*where))).all():
        out.residents.append(ResidentCount(_day(rr[0]), rr[1], rr[2], rr[3]))
    g = ReportGapsDaily.__table__.c
    where = [g.day >= start, g.day < end] + ([g.area_code == area] if area is not None else [])
    for rg in (await conn.execute(select(g.day, g.area_code, g.normalized, g.questions).where(*where))).all():
        out.gaps.append(GapCount(_day(rg[0]), rg[1], rg[2], rg[3]))
    return out


@dataclass
class Totals:
    """Sums of the daily rows over a period, grouped as a report needs them."""

    questions: list[tuple[str, str, str, str, int, int, int]] = field(default_factory=list)  # channel, area, decision, entry, n, 👍, 👎
    per_day: list[tuple[dt.date, str, int]] = field(default_factory=list)  # day, decision, n
    residents: list[tuple[str, str, int]] = field(default_factory=list)  # channel, area, resident-days
    gaps: list[tuple[str, int]] = field(default_factory=list)  # normalised text, n

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.questions + other.questions, self.per_day + other.per_day, self.residents + other.residents,
                      self.gaps + other.gaps)


async def totals_from_log(conn: AsyncConnection, start: dt.datetime, end: dt.datetime, area: str | None = None) -> Totals:
    """`Totals` of the log rows asked in [start, end) (naive UTC), optionally one area's."""
    q = QuestionLog.__table__.c
    where = [q.asked_at >= start, q.asked_at < end] + ([q.area_code == area] if area is not None else [])
    out = Totals()
    for ch, a, dec, e, n, up, down in (await conn.execute(
        select(q.channel, q.area_code, q.decision, q.entry_id, func.count(),
               func.sum(case((q.feedback == "up", 1), else_=0)), func.sum(case((q.feedback.like("down%"), 1), else_=0)))
        .where(*where).group_by(q.channel, q.area_code, q.decision, q.entry_id)
    )).all():
        out.questions.append((ch, a or "", dec, e or "", int(n), int(up or 0), int(down or 0)))
    day = _local_day(conn, q.asked_at).label("day")
    out.per_day = [(_day(d), dec, int(n)) for d, dec, n in (await conn.execute(
        select(day, q.decision, func.count()).where(*where).group_by(day, q.decision))).all()]
    # Distinct residents within each day, then summed over the days.
    per_day = (select(day, q.channel, q.area_code, func.count(q.resident_hash.distinct()).label("n"))
               .where(*where, q.resident_hash != DELETED).group_by(day, q.channel, q.area_code).subquery())
    out.residents = [(ch, a or "", int(n)) for ch, a, n in (await conn.execute(
        select(per_day.c.channel, per_day.c.area_code, func.sum(per_day.c.n)).group_by(per_day.c.channel, per_day.c.area_code)
    )).all()]
    out.gaps = [(text, int(n)) for text, n in (await conn.execute(
        select(q.normalized, func.count())
        .where(*where, and_(q.decision == "unknown", q.entry_id.is_(None), q.normalized != "")).group_by(q.normalized)
    )).all()]
    return out


async def totals_from_aggregates(conn: AsyncConnection, start: dt.date, end: dt.date, area: str | None = None) -> Totals:
    """`Totals` of the rows the purge kept for the days [start, end), optionally one area's."""
    out = Totals()
    q = ReportQuestionsDaily.__table__.c
    where = [q.day >= start, q.day < end] + ([q.area_code == area] if area is not None else [])
    out.questions = [(ch, a, dec, e, int(n), int(up), int(down)) for ch, a, dec, e, n, up, down in (await conn.execute(
        select(q.channel, q.area_code, q.decision, q.entry_id, func.sum(q.questions), func.sum(q.rated_up), func.sum(q.rated_down))
        .where(*where).group_by(q.channel, q.area_code, q.decision, q.entry_id)
    )).all()]
    out.per_day = [(_day(d), dec, int(n)) for d, dec, n in (await conn.execute(
        select(q.day, q.decision, func.sum(q.questions)).where(*where).group_by(q.day, q.decision))).all()]
    r = ReportResidentsDaily.__table__.c
    where = [r.day >= start, r.day < end] + ([r.area_code == area] if area is not None else [])
    out.residents = [(ch, a, int(n)) for ch, a, n in (await conn.execute(
        select(r.channel, r.area_code, func.sum(r.residents)).where(*where).group_by(r.channel, r.area_code))).all()]
    g = ReportGapsDaily.__table__.c
    where = [g.day >= start, g.day < end] + ([g.area_code == area] if area is not None else [])
    out.gaps = [(text, int(n)) for text, n in (await conn.execute(
        select(g.normalized, func.sum(g.questions)).where(*where).group_by(g.normalized))).all()]
    return out
