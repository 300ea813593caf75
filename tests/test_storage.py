"""Storage on SQLite and PostgreSQL: migrations, KB import/export with history, the
revision that refreshes every process's matcher, the question log."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from bot.kb_files import dump_group, read_dir
from bot.services.knowledge import (
    DraftChanged, KnowledgeBase, discard_draft, drafts, export_groups, import_groups, publish_draft, save_draft, save_entry,
)
from bot.services.questions import log_question, redact
from bot.settings import ROOT, Settings
from bot.storage.db import Database, DatabaseError, open_database
from bot.storage.models import Base, KbHistory, QuestionLog

ENTRIES = ROOT / "knowledge" / "entries"


@pytest.mark.asyncio
async def test_migrations_produce_exactly_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == []
    assert await db.current_revision() == Database.head_revision()


@pytest.mark.asyncio
async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await db.upgrade()
    assert await db.current_revision() == Database.head_revision()


@pytest.mark.asyncio
async def test_import_then_export_reproduces_the_files(db: Database) -> None:
    groups = read_dir(ENTRIES)
    report = await import_groups(db, groups)
    assert report.created == sum(len(g.entries) for g in groups) and report.updated == 0
    exported = await export_groups(db)
    for group in exported:
        assert dump_group(group) == (ENTRIES / f"{group.group}.yaml").read_text(encoding="utf-8")
    again = await import_groups(db, groups)
    assert (again.created, again.updated) == (0, 0)


@pytest.mark.asyncio
async def test_changes_are_recorded_with_before_and_after(db: Database) -> None:
    groups = read_dir(ENTRIES)
    await import_groups(db, groups)
    entry = groups[0].entries[0]
    entry.answer = "Câu trả lời mới."
    await save_entry(db, entry, groups[0].group, by="editor-an")
    async with db.session() as session:
        rows = (await session.scalars(select(KbHistory).where(KbHistory.entry_id == entry.id).order_by(KbHistory.id))).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[-1].changed_by == "editor-an"
    assert rows[-1].after["answer"] == "Câu trả lời mới." and rows[-1].before["answer"] != "Câu trả lời mới."


@pytest.mark.asyncio
async def test_matcher_follows_a_publication_without_restart(db: Database, tmp_path: Path) -> None:
    groups = read_dir(ENTRIES)
    await import_groups(db, groups)
    settings = Settings(database_url="sqlite+aiosqlite://", knowledge_dir=ROOT / "knowledge")
    kb = KnowledgeBase(db, settings)
    question = "Quy trình cấp phép bay flycam ở Đà Nẵng"
    before = (await kb.matcher()).match(question)
    assert before.entry_id != "flycam"
    new = groups[0].entries[0]
    new.id, new.question, new.status = "flycam", "Xin phép bay flycam ở đâu?", "published"
    new.alternates = ["cấp phép bay flycam", "quy trình xin phép bay flycam, drone"]
    new.related = []
    await save_entry(db, new, groups[0].group, by="editor")
    kb._checked = 0.0  # the next question would see it within a second anyway
    after = (await kb.matcher()).match(question)
    assert after.decision.value == "answer" and after.entry_id == "flycam"


@pytest.mark.asyncio
async def test_a_pending_draft_leaves_the_published_entry_serving(db: Database) -> None:
    groups = read_dir(ENTRIES)
    await import_groups(db, groups)
    kb = KnowledgeBase(db, Settings(database_url="sqlite+aiosqlite://", knowledge_dir=ROOT / "knowledge"))
    entry = next(e for g in groups for e in g.entries if e.id == "vneid-la-gi")
    group = next(g.group for g in groups if entry in g.entries)
    old_answer = entry.answer
    edited = dataclasses.replace(entry, answer="Câu trả lời của bản nháp.", alternates=[*entry.alternates, "app định danh xanh lá"])
    await save_draft(db, edited, group, by="editor-an")
    await kb.reload()
    assert kb.entries["vneid-la-gi"].answer == old_answer
    for exported in await export_groups(db):  # `cdsbot kb export` gives the published fields
        assert dump_group(exported) == (ENTRIES / f"{exported.group}.yaml").read_text(encoding="utf-8")
    assert (await drafts(db))["vneid-la-gi"].entry == edited
    with pytest.raises(DraftChanged):  # publishing a draft other than the one checked
        await publish_draft(db, "vneid-la-gi", entry, by="editor-an")
    before, after = await publish_draft(db, "vneid-la-gi", edited, by="editor-an")
    assert before["answer"] == old_answer and after["answer"] == "Câu trả lời của bản nháp."
    await kb.reload()
    assert kb.entries["vneid-la-gi"].answer == "Câu trả lời của bản nháp." and await drafts(db) == {}
    assert await discard_draft(db, "vneid-la-gi", by="editor-an") is None


@pytest.mark.asyncio
async def test_import_drops_the_drafts_of_the_entries_it_replaces(db: Database) -> None:
    groups = read_dir(ENTRIES)
    await import_groups(db, groups)
    changed, kept = groups[0].entries[0], groups[0].entries[1]
    await save_draft(db, dataclasses.replace(changed, answer="Nháp một."), groups[0].group, by="editor-an")
    await save_draft(db, dataclasses.replace(kept, answer="Nháp hai."), groups[0].group, by="editor-an")
    changed.answer = "Câu trả lời từ tệp."
    report = await import_groups(db, groups, by="import")
    assert report.drafts_dropped == (changed.id,)
    assert set(await drafts(db)) == {kept.id}  # the unchanged entry keeps its pending draft
    async with db.session() as session:
        rows = (await session.scalars(select(KbHistory).where(KbHistory.entry_id == changed.id).order_by(KbHistory.id))).all()
    assert [r.action for r in rows] == ["create", "draft", "import", "discard:import"]
    assert rows[-1].before["answer"] == "Nháp một." and rows[-1].after["answer"] == "Câu trả lời từ tệp."


@pytest.mark.asyncio
async def test_question_log_keeps_no_platform_id_and_masks_numbers(db: Database) -> None:
    await import_groups(db, read_dir(ENTRIES))
    kb = KnowledgeBase(db, Settings(database_url="sqlite+aiosqlite://", knowledge_dir=ROOT / "knowledge"))
    m = (await kb.matcher()).match("số cccd 048123456789 và sđt 0905 123 456 của tôi bị lộ")
    qid = await log_question(db, channel="telegram", user="123456789", salt="s", match=m)
    async with db.session() as session:
        row = await session.get(QuestionLog, qid)
        total = await session.scalar(select(func.count()).select_from(QuestionLog))
    assert total == 1 and row is not None
    assert "123456789" not in row.resident_hash and len(row.resident_hash) == 64
    assert "048123456789" not in row.normalized and "0905" not in row.normalized
    assert "[số]" in row.normalized


def test_redact() -> None:
    assert redact("gọi 0905123456 nhé") == "gọi [số] nhé"
    assert redact("cccd 048 123 456 789") == "cccd [số]"
    assert redact("năm 2025 có 94 xã") == "năm 2025 có 94 xã"


@pytest.mark.asyncio
async def test_wrong_database_urls_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="DATABASE_URL"):
        await open_database("not a url at all")
    with pytest.raises(DatabaseError, match="cannot reach the database"):
        await open_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")


@pytest.mark.asyncio
async def test_two_workers_checking_tickets_at_once_remind_of_each_ticket_once(db: Database) -> None:
    """Several processes on PostgreSQL run the ticket check: a ticket is reminded of once."""
    from bot.services import teams
    from bot.storage.models import Area, Ticket

    async with db.session() as session, session.begin():
        session.add(Area(code="phuong-thu", kind="phuong", name="Phường Thử"))
    team = await teams.create_team(db, "phuong-thu", "Tổ CNS phường Thử")
    old = dt.datetime(2026, 11, 2, 1, 0)
    async with db.session() as session, session.begin():
        session.add_all(Ticket(channel="telegram", chat=str(i), question=f"câu hỏi {i}", team_id=team, created_at=old)
                        for i in range(40))
    now = old + dt.timedelta(hours=9)
    (a, _), (b, _) = await asyncio.gather(teams.due(db, now, dt.timedelta(hours=8)), teams.due(db, now, dt.timedelta(hours=8)))
    ids_a, ids_b = {t.id for t in a}, {t.id for t in b}
    assert not ids_a & ids_b
    assert len(ids_a | ids_b) == 40
