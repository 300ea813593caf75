"""Shared fixtures: settings on a temporary SQLite file, a `db` parametrised over SQLite
and PostgreSQL (PostgreSQL only when TEST_POSTGRES_URL is set), and input builders."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import clock
from bot.settings import ROOT, Settings
from bot.storage.db import Database, open_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
# Questions are matched in process unless a test asks for the match worker: starting one
# costs a second or two per assistant. The Telegram end-to-end, crash and match-worker
# tests run with it, as `cdsbot run` does.
os.environ.setdefault("MATCH_WORKER", "false")


# Every test runs on the clock set here, never on the real date or hour: a Wednesday at
# 10:00 in Đà Nẵng, in working hours and in the Zalo OA's promotion hours. The clock runs
# on from there; a test that needs another moment sets it (`clock.set_now`). Processes a
# test starts inherit it through CDSBOT_CLOCK_START.
TEST_NOW = dt.datetime(2026, 11, 18, 3, 0)  # naive UTC: 10:00 on Wednesday 18/11/2026 in Đà Nẵng


@pytest.fixture(autouse=True)
def test_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    clock.set_now(TEST_NOW)
    monkeypatch.setenv(clock.ENV_START, TEST_NOW.isoformat())
    yield
    monkeypatch.delenv(clock.ENV_START, raising=False)
    clock.reset()


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = POSTGRES_URL.split("@")[-1] if POSTGRES_URL else "not set (PostgreSQL tests skipped)"
    return [f"databases: sqlite (always), postgresql: {pg}"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh SQLite file, with the real knowledge/ folder."""
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}", knowledge_dir=ROOT / "knowledge")


async def _admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(sql)
    await engine.dispose()


async def fresh_postgres_database() -> tuple[str, str]:
    """A new, empty database beside the test one, so tests never see each other's rows."""
    name = "cdsbot_" + uuid.uuid4().hex[:12]
    await _admin(f'CREATE DATABASE "{name}"')
    return name, str(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))


async def drop_postgres_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("TEST_POSTGRES_URL not set")
        return "postgresql"
    return f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"


@pytest_asyncio.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database: SQLite always, PostgreSQL when TEST_POSTGRES_URL is set."""
    name = None
    url = db_url
    if db_url == "postgresql":
        name, url = await fresh_postgres_database()
    database = await open_database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            await drop_postgres_database(name)
