"""Retention: question-log rows and ticket texts older than QUESTION_RETENTION_DAYS
are reduced to anonymous daily aggregates.

For each Đà Nẵng day before the cutoff that still has log rows, one transaction
computes the day's counts exactly as a report reads them (`daily.from_log`), adds them
to the aggregate tables and deletes the day's rows: a report of any past period gives
the same figures afterwards. Tickets created before the cutoff keep their timing and
state (the teams' figures need them) but lose the question, the answer, the resident's
name, chat and link; the web chat's history before the cutoff is deleted. Raw platform updates in the inbox and delivered messages in
`deliveries` (they hold residents' ids and words) are deleted `RAW_KEEP` after they were
answered or delivered, whatever the retention. `cdsbot maintenance purge` runs it by
hand; `cdsbot run` runs it once a day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.reports import daily
from bot.reports.periods import local_day_start, local_today
from bot.storage.db import Database
from bot.storage.models import Delivery, InboxItem, QuestionLog, ReportGapsDaily, ReportQuestionsDaily, ReportResidentsDaily, Ticket, utcnow

__all__ = ["PurgeResult", "cutoff", "purge"]

logger = logging.getLogger(__name__)
LOCK_KEY = 0x43445250  # "CDRP": one purge at a time across processes (PostgreSQL)
#: How long answered inbox items and delivered messages are kept (to look into a complaint).
RAW_KEEP = dt.timedelta(days=7)


@dataclass(frozen=True)
class PurgeResult:
    before: dt.date  # days before this one were purged
    days: int
    questions: int
    tickets: int
    raw: int = 0  # inbox items and delivered messages deleted


def cutoff(retention_days: int, now: dt.datetime | None = None) -> dt.date:
    """The first day kept: today (Đà Nẵng) minus the retention."""
    return local_today(now) - dt.timedelta(days=retention_days)


async def _days_to_purge(conn: AsyncConnection, end: dt.datetime) -> list[dt.date]:
    q = QuestionLog.__table__.c
    first = (await conn.execute(select(func.min(q.asked_at)).where(q.asked_at < end))).scalar()
    if first is None:
        return []
    day = local_today(first)
    days = []
    while local_day_start(day) < end:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


async def _merge(conn: AsyncConnection, day: dt.date, counts: daily.Daily) -> None:
    """Add a day's counts to what the aggregate tables already hold for it (normally
    nothing: a day is purged whole, once)."""
    tq, tr, tg = ReportQuestionsDaily.__table__, ReportResidentsDaily.__table__, ReportGapsDaily.__table__
    old = await daily.from_aggregates(conn, day, day + dt.timedelta(days=1))
    questions: dict[tuple[str, str, str, str], list[int]] = {}
    for q in old.questions + counts.questions:
        n = questions.setdefault((q.channel, q.area, q.decision, q.entry), [0, 0, 0])
        n[0], n[1], n[2] = n[0] + q.questions, n[1] + q.up, n[2] + q.down
    residents: dict[tuple[str, str], int] = {}
    for r in old.residents + counts.residents:
        residents[(r.channel, r.area)] = residents.get((r.channel, r.area), 0) + r.residents
    gaps: dict[tuple[str, str], int] = {}
    for g in old.gaps + counts.gaps:
        gaps[(g.area, g.text)] = gaps.get((g.area, g.text), 0) + g.questions
    for table in (tq, tr, tg):
        await conn.execute(delete(table).where(table.c.day == day))
    if questions:
        await conn.execute(insert(tq), [
            {"day": day, "channel": c, "area_code": a, "decision": d, "entry_id": e, "questions": n, "rated_up": u,
             "rated_down": w} for (c, a, d, e), (n, u, w) in questions.items()])
    if residents:
        await conn.execute(insert(tr), [{"day": day, "channel": c, "area_code": a, "residents": n}
                                        for (c, a), n in residents.items()])
    if gaps:
        await conn.execute(insert(tg), [{"day": day, "area_code": a, "normalized": t, "questions": n}
                                        for (a, t), n in gaps.items()])


async def purge(db: Database, before: dt.date, progress: Callable[[dt.date, int], None] | None = None) -> PurgeResult:
    """Reduce the log rows of the days before `before` to aggregates, and blank the texts
    of the tickets created before it. `progress(day, rows)` is told of each purged day."""
    end = local_day_start(before)
    q = QuestionLog.__table__
    purged_days = purged_rows = 0
    async with db.engine.connect() as conn:
        days = await _days_to_purge(conn, end)
    for day in days:
        start, stop = local_day_start(day), min(local_day_start(day + dt.timedelta(days=1)), end)
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                # Two processes purging the same day would both add its counts.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            counts = await daily.from_log(conn, start, stop)
            if not counts.questions:
                continue
            await _merge(conn, day, counts)
            deleted = (await conn.execute(delete(q).where(q.c.asked_at >= start, q.c.asked_at < stop))).rowcount or 0
        purged_days += 1
        purged_rows += deleted
        if progress is not None:
            progress(day, deleted)
    t = Ticket.__table__.c
    async with db.engine.begin() as conn:
        tickets = (await conn.execute(
            update(Ticket.__table__)
            .where(t.created_at < end, or_(t.question != "", t.answer != "", t.display_name != "", t.chat != "",
                                           t.resident_id.is_not(None)))
            .values(question="", answer="", display_name="", chat="", resident_id=None)
        )).rowcount or 0
    from bot.services import history

    await history.purge(db, end)  # the web chat's history is kept as long as the question log
    raw = await purge_raw(db, utcnow() - RAW_KEEP)
    if purged_rows or tickets or raw:
        logger.info("purged %s question-log rows of %s days, the texts of %s tickets before %s, and %s raw messages",
                    purged_rows, purged_days, tickets, before, raw)
    return PurgeResult(before, purged_days, purged_rows, tickets, raw)


async def purge_raw(db: Database, older: dt.datetime) -> int:
    """Delete inbox items answered (or given up) and messages delivered before `older`;
    items still waiting to be answered or delivered are kept whatever their age."""
    i, d = InboxItem.__table__.c, Delivery.__table__.c
    async with db.engine.begin() as conn:
        inbox = (await conn.execute(
            delete(InboxItem.__table__).where(i.status != "received", i.received_at < older))).rowcount or 0
        delivered = (await conn.execute(
            delete(Delivery.__table__).where(d.delivered_at.is_not(None), d.delivered_at < older))).rowcount or 0
    return int(inbox + delivered)
