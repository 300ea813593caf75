"""SQLite's quick statements on the event loop's thread (bot/storage/sqlite_inline.py): the
group commits' statements run there, everything else in aiosqlite's thread, and a write
that finds another process's lock waits in that thread while the loop goes on."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.storage.db import Database, open_database
from bot.storage.sqlite_inline import BUSY_TIMEOUT_MS, InlineConnection, quick


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path}/inline.sqlite3")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (n INTEGER)"))
    try:
        yield db
    finally:
        await db.dispose()


async def _insert(db: Database, items: Sequence[int]) -> list[int]:
    async with db.engine.begin() as conn:
        for n in items:
            await conn.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
    return list(items)


async def _count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one())


@pytest.mark.asyncio
async def test_a_group_commits_statements_run_inline_and_others_do_not(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
        busy = text("PRAGMA busy_timeout")
        assert (await conn.execute(busy)).scalar_one() == BUSY_TIMEOUT_MS  # in aiosqlite's thread: waits for locks
        with quick():
            assert (await conn.execute(busy)).scalar_one() == 0  # on the loop: never sleeps there
    before = InlineConnection.inline_calls
    assert await _insert(sqlite_db, [1]) == [1]  # not in a group commit: aiosqlite's thread
    assert InlineConnection.inline_calls == before
    group = sqlite_db.group("notes", _insert)
    assert await asyncio.gather(*(group.submit(n) for n in (2, 3, 4))) == [2, 3, 4]
    assert InlineConnection.inline_calls > before
    assert await _count(sqlite_db) == 4  # the inline writes were committed


@pytest.mark.asyncio
async def test_a_write_that_finds_another_process_lock_waits_without_holding_the_loop(
        sqlite_db: Database, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO notes (n) VALUES (100)")
    waited = InlineConnection.waited_calls
    write = asyncio.create_task(sqlite_db.group("notes", _insert).submit(7))
    for _ in range(20):  # the loop keeps running while the write waits for the lock
        await asyncio.sleep(0.01)
    assert not write.done()
    assert InlineConnection.waited_calls == waited + 1
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(write, 10) == 7
    assert await _count(sqlite_db) == 2  # nothing lost: the other process's row and ours


@pytest.mark.asyncio
async def test_an_error_in_an_inline_statement_fails_only_its_own_request(sqlite_db: Database) -> None:
    async def insert_or_fail(db: Database, items: Sequence[int]) -> list[int]:
        async with db.engine.begin() as conn:
            for n in items:
                table = "missing" if n < 0 else "notes"
                await conn.execute(text(f"INSERT INTO {table} (n) VALUES (:n)"), {"n": n})
        return list(items)

    group = sqlite_db.group("notes-or-fail", insert_or_fail)
    results = await asyncio.gather(group.submit(1), group.submit(-1), group.submit(2), return_exceptions=True)
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], Exception) and "missing" in str(results[1])
    assert await _count(sqlite_db) == 2
