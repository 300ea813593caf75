"""SQLite's quick statements run on the event loop's thread instead of aiosqlite's.

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) in its own
thread and wakes the event loop for each result. Each crossing costs more CPU than the
small statement it carries: on the hot path (load the resident, log the question, mark
the inbox item done: a few rows by primary key) the crossings were about a sixth of the
serving process's CPU (`bench/telegram_throughput.py`). So `InlineConnection`, an
aiosqlite connection, runs a call directly when it is made inside `quick()`:

- only inside `quick()`: the group commits of the hot path (`Database.group`) use it.
  Everything else (an admin report scanning a year of questions, a migration) keeps
  running in aiosqlite's thread, so the event loop never waits for it;
- a commit always goes to aiosqlite's thread: it may run a WAL checkpoint, which writes
  and syncs the database file;
- a call on the event loop's thread runs with SQLite's busy timeout 0, so it never
  sleeps there. When another process holds the write lock, SQLite says "database is
  locked" at once and the call is made again in aiosqlite's thread, with the usual
  timeout (`BUSY_TIMEOUT_MS`), as every call in that thread is. The timeout is changed
  only when the calls move from one thread to the other (once or twice a transaction).

Both threads use one sqlite3 connection, never at once: its owner (the one pooled
connection, `bot/storage/db.py`) awaits each call before making the next.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import aiosqlite

__all__ = ["BUSY_TIMEOUT_MS", "InlineConnection", "connect", "quick"]

BUSY_TIMEOUT_MS = 5000  # how long a call in aiosqlite's thread waits for another process's write lock
_QUICK: ContextVar[bool] = ContextVar("sqlite_quick", default=False)


@contextlib.contextmanager
def quick() -> Iterator[None]:
    """Within this block (and the tasks it starts), this task's SQLite calls run inline."""
    token = _QUICK.set(True)
    try:
        yield
    finally:
        _QUICK.reset(token)


def _locked(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, or one of their extended codes."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class InlineConnection(aiosqlite.Connection):
    inline_calls = 0  # calls run on the event loop's thread (tests and benchmarks read these)
    waited_calls = 0  # ... tried there, then run in aiosqlite's thread: another process held the lock

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._waits = False  # whether the busy timeout is now BUSY_TIMEOUT_MS (else 0)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        name = getattr(fn, "__name__", "")
        if conn is None or not self._running or name == "close":
            return await super()._execute(fn, *args, **kwargs)
        if not _QUICK.get() or name == "commit":
            return await super()._execute(self._waiting, conn, fn, args, kwargs)
        if self._waits:  # set by a call in aiosqlite's thread: never sleep here
            conn.execute("PRAGMA busy_timeout=0")
            self._waits = False
        try:
            result = fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
            InlineConnection.waited_calls += 1
            return await super()._execute(self._waiting, conn, fn, args, kwargs)
        InlineConnection.inline_calls += 1
        return result

    def _waiting(self, conn: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
        """In aiosqlite's thread: the call, waiting up to `BUSY_TIMEOUT_MS` for another process's lock."""
        if not self._waits:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._waits = True
        return fn(*args, **kwargs)


def connect(database: str) -> InlineConnection:
    """An (unopened) connection to a database file, as `aiosqlite.connect` gives one."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=0, check_same_thread=False)

    return InlineConnection(connector, 64)
