"""The database engine, sessions and migrations.

SQLite through aiosqlite by default (one file under `./data/`), PostgreSQL through
asyncpg when `DATABASE_URL` says so. `open_database` creates the SQLite folder, checks
the connection, and brings the schema to the latest Alembic revision.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Insert, Result, Table, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.storage import sqlite_inline
from bot.storage.group_commit import GroupCommit

__all__ = ["DatabaseError", "Database", "open_database", "alembic_config", "rowcount"]

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be used; the message says why in words an operator can act on."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class Database:
    """An engine and its session factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._groups: dict[str, GroupCommit[Any, Any]] = {}

    @property
    def group_commits(self) -> dict[str, GroupCommit[Any, Any]]:
        """The group commits in use, by name (each counts its groups and requests)."""
        return dict(self._groups)

    def group(self, name: str, flush: Callable[[Database, Sequence[Any]], Awaitable[Sequence[Any]]]) -> GroupCommit[Any, Any]:
        """The group commit of this database for one kind of write (`bot/storage/group_commit.py`)."""
        group = self._groups.get(name)
        if group is None:
            group = self._groups[name] = GroupCommit(name, functools.partial(self._quick, flush))
        return group

    async def _quick(self, flush: Callable[[Database, Sequence[Any]], Awaitable[Sequence[Any]]],
                     items: Sequence[Any]) -> Sequence[Any]:
        """A group commit's writes are the hot path's small statements: on SQLite they run
        on the event loop's thread (`bot/storage/sqlite_inline.py`)."""
        with sqlite_inline.quick():
            return await flush(self, items)

    def insert_new(self, table: Table) -> Insert:
        """INSERT that skips rows whose unique key is already there (ON CONFLICT DO NOTHING)."""
        from sqlalchemy.dialects import postgresql, sqlite

        if self.is_sqlite:
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()

    def session(self) -> AsyncSession:
        return self.sessions()

    async def upgrade(self) -> None:
        """Apply every pending migration."""
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())

    @staticmethod
    def head_revision() -> str | None:
        return ScriptDirectory.from_config(alembic_config()).get_current_head()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    if not isinstance(dbapi_conn.driver_connection, sqlite_inline.InlineConnection):  # that one sets its own
        cur.execute(f"PRAGMA busy_timeout={sqlite_inline.BUSY_TIMEOUT_MS}")
    cur.close()


async def _open_inline(database: str) -> sqlite_inline.InlineConnection:
    return cast(sqlite_inline.InlineConnection, await sqlite_inline.connect(database))


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect, check, and (by default) migrate. Raises `DatabaseError` with a clear message."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for garbage
        raise DatabaseError(f"DATABASE_URL không hợp lệ (invalid DATABASE_URL): {exc}") from exc
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"Không tạo được thư mục cho cơ sở dữ liệu (cannot create folder): {exc}") from exc
    # SQLite allows one writer at a time; several pooled connections writing at once
    # spend their time in SQLite's busy-wait sleeps. One connection, used in turn by
    # every task of the process, is faster and never sees "database is locked".
    kwargs: dict[str, object] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
    if parsed.drivername.startswith("postgresql"):
        kwargs = {"pool_pre_ping": True, "connect_args": {"timeout": 5}}
    elif parsed.database not in (None, "", ":memory:") and not parsed.query:
        # A database file: the hot path's statements run on the event loop (bot/storage/sqlite_inline.py).
        kwargs["async_creator"] = functools.partial(_open_inline, parsed.database)
    try:
        engine = create_async_engine(url, **kwargs)
    except Exception as exc:
        raise DatabaseError(f"DATABASE_URL không dùng được (unusable DATABASE_URL): {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    db = Database(engine)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        if migrate:
            await db.upgrade()
    except (SQLAlchemyError, OSError) as exc:
        await engine.dispose()
        where = parsed.render_as_string(hide_password=True)
        raise DatabaseError(
            f"Không kết nối được cơ sở dữ liệu {where} (cannot reach the database): {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    return db


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (`execute` is typed as returning a plain Result,
    though for these statements SQLAlchemy returns a CursorResult that has the count)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
