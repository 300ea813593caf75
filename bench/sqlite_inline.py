"""Benchmark: the hot path's SQLite statements on the event loop's thread against aiosqlite's thread.

One group-committed write of the hot path, loading (and creating) residents
(`bot.conversation._load_residents`), made for 3,000 new residents, a few at a time
(as under load: groups of `C`, default 5), through:
- inline: `Database.group`, whose statements run on the event loop's thread
  (`bot/storage/sqlite_inline.py`), commits in aiosqlite's thread;
- the same connection with every call in aiosqlite's thread (what the rest of the code does);
- baseline: plain aiosqlite, as SQLAlchemy opens it without `async_creator`.
The three run in turn, five rounds, in one process: CPU and wall time per request
(the process's CPU, every thread). Run: `.venv/bin/python bench/sqlite_inline.py [C]`.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.conversation import _load_residents  # noqa: E402
from bot.storage import db as storage  # noqa: E402
from bot.storage.group_commit import GroupCommit  # noqa: E402

REQUESTS = 3000
ROUNDS = 5


async def run(concurrent: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        db = await storage.open_database(url)
        plain_engine = create_async_engine(url, pool_size=1, max_overflow=0)
        event.listen(plain_engine.sync_engine, "connect", storage._sqlite_pragmas)
        plain = storage.Database(plain_engine)
        ways = {
            "inline (Database.group)": db.group("residents", _load_residents),
            "same connection, aiosqlite's thread": GroupCommit("thread", functools.partial(_load_residents, db)),
            "baseline: plain aiosqlite": GroupCommit("plain", functools.partial(_load_residents, plain)),
        }
        took: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        user = 0
        for _ in range(ROUNDS):
            for name, group in ways.items():
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(REQUESTS // concurrent):
                    await asyncio.gather(*(group.submit(("telegram", str(user + i), "")) for i in range(concurrent)))
                    user += concurrent
                took[name].append(((time.process_time() - cpu) / REQUESTS * 1e3,
                                   (time.perf_counter() - wall) / REQUESTS * 1e3))
        await db.dispose()
        await plain_engine.dispose()
    print(f"{REQUESTS} residents loaded and created, {concurrent} at a time, {ROUNDS} rounds; medians, ms per request")
    print(f"{'way':<38} {'CPU':>7} {'wall':>7}")
    base = statistics.median(c for c, _ in took["baseline: plain aiosqlite"])
    for name, values in took.items():
        cpu = statistics.median(c for c, _ in values)
        print(f"{name:<38} {cpu:>7.3f} {statistics.median(w for _, w in values):>7.3f}   CPU {cpu / base:.2f}x baseline")


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
