"""A resident's messages one at a time, in the platform's order, whichever worker
received them.

Every update is in the inbox before it is confirmed (`bot/channels/inbox.py`), with its
resident and its place in the platform's order (`seq`: Telegram's `update_id`). Storing
an update only *schedules* its resident; the handling is a drain:

1. in this process, one drain per resident at a time (`ResidentLocks`), at most
   `concurrency` drains at once;
2. on PostgreSQL, the drain holds a transaction-level advisory lock keyed by the
   resident (`pg_advisory_xact_lock`), on connections of its own (never the pool the
   handlers use, so a drain waiting for a lock can never starve a handler of
   connections); the lock goes with the transaction whatever happens: a worker that
   dies releases it as PostgreSQL closes its connections;
3. under the locks it takes the resident's oldest unhandled items (one query), handles
   them one by one, each marked done (committed) before the next and before the lock is
   let go; an item stored after that query finds the resident unscheduled and starts a
   drain of its own, which waits for the locks.

So two messages of one resident are never handled at once, by one worker or two, and
each is handled after every earlier one the inbox holds. One lock at a time per drain:
no deadlock; PostgreSQL queues lock waiters in order and a drain ends when the
resident's items do: no starvation.

**Arrival order.** Telegram posts webhook updates over several connections at once, so
"Hải Châu" (update 8) may be stored before "/khuvuc" (update 7) reaches the other
worker. Telegram numbers updates one after another, so with `Watermark` an item is
handled only once every smaller update id is in the inbox (the ids are contiguous up to
it); a gap that stays open longer than `max_wait` seconds (an update lost or never sent)
is stepped over. An earlier message delayed beyond that is still answered, after the
later one. Long polling hands updates out in order and needs no wait.

**Zalo** numbers nothing one by one: its events carry their time (ms). An item is
handled once it is `settle` seconds old by that time (at most `settle` from now, should
the clocks disagree), and the resident's oldest item is taken again after the wait: an
earlier message that reached the other worker a moment later goes first.

On SQLite (one process) the same code runs without the advisory lock.

A worker also sweeps, every `sweep_seconds`, for residents with items left unhandled
(a worker killed mid-way and not restarted): those items are handled by the survivor.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot import clock
from bot.channels import inbox
from bot.channels.locks import ResidentLocks
from bot.storage.db import Database
from bot.storage.models import InboxItem

__all__ = ["ResidentOrder", "Watermark", "lock_key"]

logger = logging.getLogger(__name__)
BATCH = 20  # a resident's items taken by one query of a drain

Handle = Callable[[str, dict[str, Any]], Awaitable[None]]  # (external id, payload); marks the item finished


def lock_key(channel: str, resident: str) -> int:
    """The advisory lock key of one resident of one channel (a signed 64-bit integer;
    two residents sharing a key are merely handled one after the other)."""
    digest = hashlib.blake2b(f"inbox:{channel}:{resident}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Watermark:
    """The highest `seq` up to which every update of a channel is in the inbox (Telegram
    numbers updates one by one). One query per turn, only while someone waits."""

    def __init__(self, db: Database, channel: str, max_wait: float, interval: float = 0.02) -> None:
        self.db = db
        self.channel = channel
        self.max_wait = max_wait
        self.interval = interval
        self.floor: int | None = None
        self._changed = asyncio.Event()
        self._waiting = 0
        self._task: asyncio.Task[None] | None = None
        self._gap_at: int | None = None
        self._gap_since = 0.0
        self.skipped = 0  # gaps stepped over (for tests and logs)

    async def wait_for(self, seq: int) -> None:
        """Return once every update before `seq` is in the inbox (or a gap timed out)."""
        if self.floor is not None and seq <= self.floor + 1:
            return
        self._waiting += 1
        try:
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run(), name=f"watermark-{self.channel}")
            while self.floor is None or seq > self.floor + 1:
                self._changed.clear()
                await self._changed.wait()
        finally:
            self._waiting -= 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while self._waiting:
            try:
                await self._advance()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: waiters wait, the gap timer runs on
                logger.warning("%s: order watermark not advanced (%s)", self.channel, exc.__class__.__name__)
            self._changed.set()
            await asyncio.sleep(self.interval)

    async def _advance(self) -> None:
        table = InboxItem.__table__
        async with self.db.engine.connect() as conn:
            if self.floor is None:
                done = (await conn.execute(
                    select(table.c.seq).where(table.c.channel == self.channel, table.c.seq.is_not(None),
                                              table.c.status != "received")
                    .order_by(table.c.seq.desc()).limit(1))).scalar()
                self.floor = int(done) if done is not None else 0
            seqs = list((await conn.execute(
                select(table.c.seq).where(table.c.channel == self.channel, table.c.seq > self.floor)
                .order_by(table.c.seq).limit(1000))).scalars())
        floor = self.floor
        for seq in seqs:
            if seq == floor + 1:
                floor = seq
                continue
            # A gap after `floor`: wait for it at most max_wait, then step over it.
            now = time.monotonic()
            if self._gap_at != floor:
                self._gap_at, self._gap_since = floor, now
                break
            if now - self._gap_since < self.max_wait:
                break
            self.skipped += 1
            logger.warning("%s: updates %s-%s never arrived within %.1f s; handling what came after",
                        self.channel, floor + 1, seq - 1, self.max_wait)
            floor = seq
        self.floor = floor


class ResidentOrder:
    """Schedules and runs the drains of one channel (see the module's docstring).

    Parameters:
        db: the database (its URL gives the lock connections on PostgreSQL).
        channel: the inbox's channel name.
        handle: handles one item and marks it finished before returning.
        concurrency: drains at once in this process.
        watermark: wait for earlier updates still on their way (webhook mode), or None.
        sweep_seconds: how often items left by another worker are looked for (0: never).
        settle: for `seq` in epoch milliseconds (Zalo): how old an item must be before
            it is handled, so that earlier ones still on their way arrive first (0: none).
    """

    def __init__(self, db: Database, channel: str, handle: Handle, concurrency: int,
                 watermark: Watermark | None = None, sweep_seconds: float = 10.0, settle: float = 0.0) -> None:
        self.db = db
        self.channel = channel
        self.handle = handle
        self.concurrency = concurrency
        self.watermark = watermark
        self.sweep_seconds = sweep_seconds
        self.settle = settle
        self._locks = ResidentLocks()
        self._slots = asyncio.Semaphore(concurrency)
        self._scheduled: set[str] = set()  # drains spawned that have not yet looked at the inbox
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock_engine: AsyncEngine | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False
        self.handled = 0

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        if not self.db.is_sqlite:
            # Connections of its own for the locks: a drain holds one while it runs.
            self._lock_engine = create_async_engine(self.db.engine.url, pool_size=self.concurrency, max_overflow=0,
                                                    pool_timeout=60, connect_args={"timeout": 5})
        if self.sweep_seconds > 0:
            self._sweeper = asyncio.create_task(self._sweep(), name=f"inbox-sweep-{self.channel}")

    async def resume(self) -> int:
        """At start: schedule every resident with unhandled items."""
        residents = await inbox.pending_residents(self.db, self.channel)
        for resident in residents:
            self.schedule(resident)
        return len(residents)

    async def idle(self) -> None:
        """Wait until no drain runs (tests, benchmarks)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self, timeout: float = 30.0) -> None:
        """Let the running drains finish (up to `timeout`), then close."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        if self.watermark is not None:
            await self.watermark.stop()
        if self._lock_engine is not None:
            await self._lock_engine.dispose()

    # -- scheduling ----------------------------------------------------------------

    def schedule(self, resident: str, wait_for_lock: bool = True) -> None:
        """A new item of `resident` is in the inbox: make sure a drain will see it."""
        if self._stopping or resident in self._scheduled:
            return  # a drain that has not looked at the inbox yet will see it
        self._scheduled.add(resident)
        task = asyncio.create_task(self._drain(resident, wait_for_lock), name=f"drain-{self.channel}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, resident: str, wait_for_lock: bool) -> None:
        try:
            async with self._locks.hold(resident), self._slots, self._resident_lock(resident, wait_for_lock) as held:
                if not held:
                    self._scheduled.discard(resident)
                    return  # another worker is on it (sweep only)
                while not self._stopping:
                    self._scheduled.discard(resident)  # items stored from now on: seen below, or by a new drain
                    items = await inbox.next_of(self.db, self.channel, resident, BATCH)
                    for external, payload, seq in items:
                        if self._stopping:
                            return
                        if seq is not None and (self.watermark is not None or self.settle > 0):
                            if self.watermark is not None:
                                await self.watermark.wait_for(seq)
                            else:
                                await asyncio.sleep(self._settling(seq))
                            first = await inbox.next_of(self.db, self.channel, resident)
                            if not first or first[0][0] != external:
                                break  # an earlier one arrived meanwhile (or it was handled): take that
                        await self.handle(external, payload)
                        self.handled += 1
                    else:
                        if len(items) < BATCH:
                            # All the resident's items of the query are handled; one stored
                            # after it found the resident unscheduled, so a drain of its own
                            # takes it (no query that would find nothing).
                            return
        except asyncio.CancelledError:
            raise
        except Exception:  # the database went away: the sweep (or the next start) takes it up again
            self._scheduled.discard(resident)
            logger.exception("%s: handling a resident's messages stopped; they stay in the inbox", self.channel)

    def _settling(self, seq: int) -> float:
        """Seconds until an item of event time `seq` (ms) is `settle` seconds old, at most `settle`."""
        age = clock.now().replace(tzinfo=dt.UTC).timestamp() - seq / 1000
        return max(0.0, min(self.settle, self.settle - age))

    @contextlib.asynccontextmanager
    async def _resident_lock(self, resident: str, wait: bool) -> AsyncIterator[bool]:
        if self._lock_engine is None:
            yield True
            return
        key = lock_key(self.channel, resident)
        conn: AsyncConnection
        async with self._lock_engine.connect() as conn, conn.begin():
            if wait:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                yield True
            else:
                yield bool((await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})).scalar())
        # the transaction ends here (commit, or rollback on error): the lock is released

    async def _sweep(self) -> None:
        """Items stored at least one sweep ago and still unhandled (their worker died, or
        a drain failed): handled here, unless another worker holds their resident."""
        seen = 0
        while not self._stopping:
            await asyncio.sleep(self.sweep_seconds)
            try:
                if seen:
                    for resident in await inbox.pending_residents(self.db, self.channel, below_id=seen + 1):
                        if resident not in self._scheduled and resident not in self._locks:
                            self.schedule(resident, wait_for_lock=False)
                seen = await inbox.last_id(self.db)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s: inbox sweep failed (%s)", self.channel, exc.__class__.__name__)
