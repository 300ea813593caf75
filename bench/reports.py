"""Benchmark: the yearly report and the retention purge on a city-sized question log.

Inserts N question-log rows (default 200,000) spread over 13 months, 94 areas, three
channels and 20,000 residents, with 2,000 tickets; then times `compute` of the yearly
period, the purge of everything older than 365 days, and `compute` again (which now
reads mostly aggregates), and checks the figures are equal. Run:
`.venv/bin/python bench/reports.py [N]` (PostgreSQL too when TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.reports import compute, yearly  # noqa: E402
from bot.reports.retention import purge  # noqa: E402
from bot.storage.db import open_database  # noqa: E402
from bot.storage.models import QuestionLog, Ticket  # noqa: E402

DECISIONS = ["answer"] * 6 + ["suggest", "unknown", "unknown", "chitchat"]


async def run(url: str, n: int) -> None:
    db = await open_database(url)
    rng = random.Random(7)
    start = dt.datetime(2025, 11, 1)
    rows = []
    for i in range(n):
        decision = rng.choice(DECISIONS)
        rows.append({
            "asked_at": start + dt.timedelta(seconds=rng.randrange(400 * 86400)), "channel": rng.choice(["telegram", "zalo", "web"]),
            "resident_hash": f"h{rng.randrange(20000)}", "normalized": f"cau hoi chua co {rng.randrange(3000)}" if decision == "unknown" else "",
            "decision": decision, "entry_id": f"e{rng.randrange(70)}" if decision == "answer" else None, "score": 50.0,
            "suggestions": [], "area_code": f"area-{rng.randrange(94)}", "language": "vi",
            "feedback": rng.choice([None, None, None, "up", "down:sai"]) if decision == "answer" else None,
        })
    tickets = [{"created_at": start + dt.timedelta(days=rng.randrange(390)), "channel": "telegram", "chat": "1",
                "area_code": f"area-{rng.randrange(94)}", "question": "?", "suggestions": [], "status": "open", "answer": ""}
               for _ in range(2000)]
    async with db.engine.begin() as conn:
        for i in range(0, n, 10000):
            await conn.execute(insert(QuestionLog.__table__), rows[i : i + 10000])
        await conn.execute(insert(Ticket.__table__), tickets)
    period = yearly(2026)
    t = time.perf_counter()
    before = await compute(db, period)
    t_raw = time.perf_counter() - t
    t = time.perf_counter()
    result = await purge(db, dt.date(2026, 11, 1))
    t_purge = time.perf_counter() - t
    t = time.perf_counter()
    after = await compute(db, period)
    t_agg = time.perf_counter() - t
    print(f"{db.engine.dialect.name}: {n} rows; yearly report {t_raw:.2f} s from the log, purge of {result.questions} rows "
          f"({result.days} days) {t_purge:.2f} s, report {t_agg:.2f} s after; figures equal: {before == after}")
    await db.dispose()


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", n)
    pg = os.environ.get("TEST_POSTGRES_URL")
    if pg:
        name = "cdsbot_bench_" + uuid.uuid4().hex[:8]
        admin = create_async_engine(pg, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            await run(make_url(pg).set(database=name).render_as_string(hide_password=False), n)
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
