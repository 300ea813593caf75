"""Benchmark: a campaign to N subscribers (default 100,000) against a Bot API rate R.

The fake Bot API runs in its own process and answers 429 (retry_after 1) above R
messages per second; `cdsbot run` (a real process, Telegram channel on, broadcast rate
set to R) sends the campaign. Reported, per database: achieved rate / R, messages
accepted, duplicates (chats that got the message twice) and losses (chats that never
got it), counted by the fake; then the same run killed with SIGKILL at about 40 % and
started again. Run: `.venv/bin/python bench/campaign.py [N] [R]` (PostgreSQL too when
TEST_POSTGRES_URL is set). Target: ≥ 90 % of R, zero losses, duplicates ≤ one batch (50).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.campaigns import service  # noqa: E402
from bot.campaigns.outbox import BATCH  # noqa: E402
from bot.clock import now as utcnow
from bot.storage.db import open_database  # noqa: E402
from bot.storage.models import Resident, Subscription  # noqa: E402

TOKEN = "123456:TEST-TOKEN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str, n: int) -> None:
    db = await open_database(url)
    now = utcnow()
    async with db.engine.begin() as conn:
        for start in range(0, n, 10_000):
            chunk = range(start, min(n, start + 10_000))
            await conn.execute(insert(Resident.__table__), [
                {"channel": "telegram", "platform_user_id": str(10_000_000 + i), "language": "vi", "display_name": "",
                 "state": {}, "created_at": now, "last_seen_at": now, "waiting": False} for i in chunk])
        ids = [r for (r,) in (await conn.execute(select(Resident.id))).all()]
        for start in range(0, len(ids), 10_000):
            await conn.execute(insert(Subscription.__table__), [
                {"resident_id": rid, "area_code": None, "topics": [], "active": True, "consented_at": now}
                for rid in ids[start : start + 10_000]])
    await service.create(db, "Thông báo thử nghiệm của thành phố.", channels=["telegram"], now=True)
    await db.dispose()


def start_bot(url: str, fake_base: str, rate: float, tmp: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(free_port()), "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": fake_base + "/bot", "TELEGRAM_POLL_TIMEOUT": "1",
           "TELEGRAM_BROADCAST_RATE": str(rate), "ADMIN_PASSWORD": "mot-mat-khau-dai", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(url: str, n: int, rate: float, kill_at: float | None) -> dict[str, float]:
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    base = f"http://127.0.0.1:{int(fake.stdout.readline())}"
    client = httpx.Client(base_url=base, timeout=30)
    client.post("/_rate", json={"per_second": rate})
    asyncio.run(seed(url, n))
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_bot(url, base, rate, tmp)
        killed = False
        try:
            while True:
                c = client.get("/_count").json()
                if kill_at is not None and not killed and c["sent"] >= kill_at * n:
                    bot.send_signal(signal.SIGKILL)
                    bot.wait()
                    killed = True
                    bot = start_bot(url, base, rate, tmp)
                if c["chats"] >= n:
                    time.sleep(1.0)  # anything still in flight
                    c = client.get("/_count").json()
                    break
                time.sleep(0.5)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            fake.stdin.close()
            fake.wait(timeout=10)
    seconds = (c["last"] - c["first"]) if c["first"] is not None else 0.0
    return {"sent": c["sent"], "chats": c["chats"], "refused": c["refused"], "seconds": seconds,
            "rate": c["sent"] / seconds if seconds else 0.0, "duplicates": c["sent"] - c["chats"], "losses": n - c["chats"]}


async def fresh_pg(base_url: str) -> tuple[str, str]:
    name = "bench_" + uuid.uuid4().hex[:8]
    engine = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await engine.dispose()
    return name, make_url(base_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 400.0
    print(f"{n} subscribers, fake Bot API limit R = {rate:.0f}/s (429 above), bound on duplicates: one batch = {BATCH}")
    print(f"{'database':<11} {'run':<18} {'seconds':>8} {'rate':>7} {'rate/R':>7} {'429s':>6} {'dupl.':>6} {'lost':>5}")
    targets = [("sqlite", None)]
    if os.environ.get("TEST_POSTGRES_URL"):
        targets.append(("postgresql", os.environ["TEST_POSTGRES_URL"]))
    for name, pg in targets:
        for label, kill in (("straight", None), ("SIGKILL at ~40 %", 0.4)):
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
                if pg:
                    _, url = asyncio.run(fresh_pg(pg))
                r = run(url, n, rate, kill)
            print(f"{name:<11} {label:<18} {r['seconds']:>8.1f} {r['rate']:>7.0f} {r['rate'] / rate:>7.2f} "
                  f"{r['refused']:>6.0f} {r['duplicates']:>6.0f} {r['losses']:>5.0f}", flush=True)


if __name__ == "__main__":
    main()
