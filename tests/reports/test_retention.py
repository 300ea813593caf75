"""Retention: old question-log rows become anonymous daily counts and old ticket texts
are blanked, and every report figure stays the same."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.app import Assistant
from bot.clock import now as utcnow
from bot.reports import Period, compute, six_month, yearly
from bot.reports.retention import cutoff, purge
from bot.settings import ROOT, Settings
from bot.storage.db import Database, open_database
from bot.storage.models import QuestionLog, ReportGapsDaily, ReportQuestionsDaily, ReportResidentsDaily, Ticket
from tests.reports import dataset

PERIODS = [six_month(2026), yearly(2026), Period(dt.date(2026, 1, 10), dt.date(2026, 3, 6)),
           Period(dt.date(2026, 1, 10), dt.date(2026, 1, 11)), Period(dt.date(2025, 11, 1), dt.date(2027, 1, 1))]


async def reports(db: Database) -> list[object]:
    return [await compute(db, p, area) for p in PERIODS for area in (None, "a1", "a2")]


async def count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.asyncio
async def test_reports_are_the_same_after_purges(db: Database) -> None:
    await dataset.load(db)
    before = await reports(db)
    days: list[tuple[dt.date, int]] = []
    # First the days before 05/03/2026 (periods then read aggregates and raw rows), then everything.
    first = await purge(db, dt.date(2026, 3, 5), progress=lambda day, n: days.append((day, n)))
    assert days == [(dt.date(2025, 11, 30), 1), (dt.date(2025, 12, 1), 1), (dt.date(2026, 1, 10), 6)]
    assert (first.days, first.questions) == (3, 8)
    assert first.tickets == 6  # every ticket of the data set is older than 05/03/2026
    assert await reports(db) == before
    second = await purge(db, dt.date(2027, 1, 1))
    assert (second.days, second.questions, second.tickets) == (3, 5, 0)
    assert await count(db, QuestionLog) == 0
    assert await reports(db) == before
    again = await purge(db, dt.date(2027, 1, 1))
    assert (again.days, again.questions, again.tickets) == (0, 0, 0)
    assert await reports(db) == before
    assert await count(db, ReportResidentsDaily) > 0 and await count(db, ReportGapsDaily) == 2


@pytest.mark.asyncio
async def test_aggregates_hold_no_resident_and_tickets_keep_their_timing(db: Database) -> None:
    await dataset.load(db)
    await purge(db, dt.date(2026, 3, 1))
    async with db.session() as session:
        aggregate = (await session.scalars(select(ReportQuestionsDaily).where(ReportQuestionsDaily.entry_id == "vneid",
                                                                             ReportQuestionsDaily.day == dt.date(2026, 1, 10)))).one()
        old = await session.get(Ticket, 1)
        recent = await session.get(Ticket, 4)
    assert (aggregate.channel, aggregate.area_code, aggregate.questions, aggregate.rated_up, aggregate.rated_down) == (
        "telegram", "a1", 2, 1, 1)
    assert set(ReportQuestionsDaily.__table__.c.keys()).isdisjoint({"resident_hash", "normalized"})
    assert old is not None and recent is not None
    assert (old.question, old.answer, old.display_name, old.chat) == ("", "", "", "")
    assert (old.status, old.created_at, old.answered_at, old.answered_by) == (
        "answered", dt.datetime(2026, 1, 10, 8), dt.datetime(2026, 1, 10, 10), 1)
    assert recent.question == "câu hỏi 4" and recent.display_name == "Người 4"


@pytest.mark.asyncio
async def test_the_running_assistant_purges_past_the_retention(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", knowledge_dir=ROOT / "knowledge",
                        question_retention_days=30)
    db = await open_database(settings.database_url)
    now = utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(insert(QuestionLog.__table__), [
            dataset.q(now - dt.timedelta(days=40), "web", "h1", None, "unknown", None, "cu"),
            dataset.q(now - dt.timedelta(days=10), "web", "h1", None, "unknown", None, "moi")])
    await Assistant(db, settings).purge_old_questions()
    async with db.session() as session:
        assert (await session.scalars(select(QuestionLog.normalized))).all() == ["moi"]
        assert (await session.scalars(select(ReportGapsDaily.normalized))).all() == ["cu"]
    await db.dispose()
    assert cutoff(30, dt.datetime(2026, 3, 31, 17, 0)) == dt.date(2026, 3, 2)  # 00:00 on 01/04 in Đà Nẵng


def test_maintenance_purge_command_says_what_it_did(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"

    async def seed() -> None:
        db = await open_database(url)
        await dataset.load(db)
        await db.dispose()

    asyncio.run(seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    env.update(DATABASE_URL=url, QUESTION_RETENTION_DAYS="1")
    out = subprocess.run([sys.executable, "-m", "bot.cli", "maintenance", "purge"], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "10/01/2026: 6 câu hỏi" in out.stdout
    assert "Xong: 13 câu hỏi của 6 ngày đã gộp; nội dung 6 phiếu hỏi Tổ CNS đã xóa; 0 tin nhắn gốc" in out.stdout
    report = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--six-month", "2026", "--xlsx", "r.xlsx"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "Câu hỏi: 10" in report.stdout and (tmp_path / "r.xlsx").stat().st_size > 0
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--from", "2026-13-01", "--to", "2026-01-01"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.asyncio
async def test_raw_messages_go_a_week_after_they_were_answered(db: Database) -> None:
    from bot.storage.models import Delivery, InboxItem

    old, recent = utcnow() - dt.timedelta(days=8), utcnow() - dt.timedelta(days=1)
    async with db.engine.begin() as conn:
        await conn.execute(insert(InboxItem.__table__), [
            {"channel": "telegram", "external_id": "1", "payload": {"text": "số tôi 0905123456"}, "received_at": old, "status": "done"},
            {"channel": "telegram", "external_id": "2", "payload": {}, "received_at": old, "status": "failed"},
            {"channel": "telegram", "external_id": "3", "payload": {}, "received_at": old, "status": "received"},
            {"channel": "telegram", "external_id": "4", "payload": {}, "received_at": recent, "status": "done"},
        ])
        await conn.execute(insert(Delivery.__table__), [
            {"channel": "web", "chat": "s1", "payload": {"text": "a"}, "created_at": old, "delivered_at": old},
            {"channel": "web", "chat": "s2", "payload": {"text": "b"}, "created_at": old, "delivered_at": None},
        ])
    result = await purge(db, cutoff(365))
    assert result.raw == 3
    async with db.session() as session:
        left = sorted((await session.scalars(select(InboxItem.external_id))).all())
        waiting = (await session.scalars(select(Delivery.chat))).all()
    assert left == ["3", "4"]  # not yet answered, or answered within the week
    assert waiting == ["s2"]  # not yet delivered


@pytest.mark.asyncio
async def test_the_web_chat_history_is_kept_as_long_as_the_question_log(db: Database) -> None:
    from bot import clock
    from bot.channels.base import Reply
    from bot.services import history

    now = utcnow()
    clock.set_now(now - dt.timedelta(days=400))
    await history.record(db, "web", "session-old-0000001", "câu hỏi cũ", [Reply("trả lời cũ")])
    clock.set_now(now)
    await history.record(db, "web", "session-new-0000001", "câu hỏi mới", [Reply("trả lời mới")])
    await purge(db, cutoff(365))
    assert await history.messages(db, "web", "session-old-0000001") == []
    assert [m["text"] for m in await history.messages(db, "web", "session-new-0000001")] == ["câu hỏi mới", "trả lời mới"]
