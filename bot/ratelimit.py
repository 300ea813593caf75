"""Rate limits, per key.

- `SlidingWindow`: counters in this process's memory, for flood protection of a
  resident's messages (a resident's messages are handled one at a time, and a restart
  forgetting who wrote fast a minute ago harms no one).
- `SharedWindow`: counters in the database (table `rate_counters`), for the limits that
  protect the service: login failures on the admin site, requests per address on the
  web chat, attempts at team codes. Every worker counts in the same rows and a restart
  keeps them (design: "Limits that protect the service live in the database").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict, deque

from sqlalchemy import delete, update

from bot import clock
from bot.storage.db import Database
from bot.storage.models import RateCounter

__all__ = ["SharedWindow", "SlidingWindow"]


class SlidingWindow:
    """At most `limit` events per `window` seconds per key (this process only)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def _events(self, key: str, now: float) -> deque[float]:
        q = self._seen[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def full(self, key: str, now: float | None = None) -> bool:
        """Whether the key has used its budget (without counting a new event)."""
        return len(self._events(key, time.monotonic() if now is None else now)) >= self.limit

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one event."""
        now = time.monotonic() if now is None else now
        self._events(key, now).append(now)

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event if the budget allows it; False when it does not."""
        now = time.monotonic() if now is None else now
        if self.full(key, now):
            return False
        self.hit(key, now)
        return True


class SharedWindow:
    """At most `limit` events per `window` seconds per key, counted in the database in
    fixed windows (so at most twice the limit across a window's edge). Keys are stored
    hashed: the table never holds an address or a user name. Time is `bot.clock`.

    Parameters:
        name: the limit's name, part of every key (`login`, `web`, `team-code`).
        limit: events allowed per window.
        window: seconds.
    """

    PURGE_EVERY = 500  # calls between two deletions of expired rows (per process)

    def __init__(self, name: str, limit: int, window: float) -> None:
        self.name = name
        self.limit = limit
        self.window = window
        self._calls = 0

    def _row(self, key: str) -> tuple[str, dt.datetime]:
        number = int(clock.now().replace(tzinfo=dt.UTC).timestamp() // self.window)
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]
        ends = dt.datetime.fromtimestamp((number + 1) * self.window, dt.UTC).replace(tzinfo=None)
        return f"{self.name}:{digest}:{number}", ends

    async def _count(self, db: Database, key: str, *, below: int | None) -> bool:
        """Add one event (only while the count is below `below`, when given); True when added."""
        row, ends = self._row(key)
        table = RateCounter.__table__
        self._calls += 1
        async with db.engine.begin() as conn:
            if self._calls % self.PURGE_EVERY == 0:
                await conn.execute(delete(table).where(table.c.expires_at < clock.now()))
            await conn.execute(db.insert_new(table).values(key=row, hits=0, expires_at=ends))
            statement = update(table).where(table.c.key == row).values(hits=table.c.hits + 1)
            if below is not None:
                statement = statement.where(table.c.hits < below)
            return bool((await conn.execute(statement)).rowcount)

    async def full(self, db: Database, key: str) -> bool:
        """Whether the key has used its budget in this window (counts nothing)."""
        row, _ = self._row(key)
        table = RateCounter.__table__
        async with db.engine.connect() as conn:
            hits = (await conn.execute(table.select().with_only_columns(table.c.hits).where(table.c.key == row))).scalar()
        return (hits or 0) >= self.limit

    async def hit(self, db: Database, key: str) -> None:
        """Count one event."""
        await self._count(db, key, below=None)

    async def allow(self, db: Database, key: str) -> bool:
        """Count one event if the budget allows it; False when it does not."""
        return await self._count(db, key, below=self.limit)
