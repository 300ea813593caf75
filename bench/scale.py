"""Benchmark: questions per second for one and two `cdsbot run` workers on one PostgreSQL.

Telegram in webhook mode against the fake Bot API (its own process). N residents each
ask one question (default 2,000); "Telegram" (this script) posts the updates with up to
40 in flight (Telegram's default max_connections), round-robin over the workers, and
waits until the fake has received every answer. Reported per run: questions per second
from the first post to the last answer, and the CPU seconds (user + system, from
/proc) of each worker, of the PostgreSQL server processes, of the fake Bot API and of
this load generator, so one can see what is saturated.

Run: `TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python bench/scale.py [N]`
(loopback only; each run uses a fresh database, dropped afterwards). The numbers are
this machine's: everything (workers, PostgreSQL, fake, load) shares its cores.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

TOKEN = "123456:TEST-TOKEN"
SECRET = "bi-mat-webhook-bench"
QUESTIONS = ["vneid là gì", "chữ ký số là gì", "nộp hồ sơ trực tuyến thế nào", "cách cài ứng dụng VNeID"]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu(pid: int) -> float:
    """CPU of a process and its children (the match worker of `cdsbot run`)."""
    total = cpu_seconds(pid)
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += tree_cpu(int(child))
    except OSError:
        pass
    return total


def postgres_cpu() -> float:
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu_seconds(int(proc.name))
            except OSError:
                continue
    return total


async def admin(base_url: str, sql: str) -> None:
    engine = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(sql)
    await engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_worker(url: str, fake_base: str, tmp: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": fake_base + "/bot", "TELEGRAM_WEBHOOK_URL": "https://cds.example.vn/telegram/webhook",
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "ADMIN_PASSWORD": "mot-mat-khau-dai", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("cdsbot run did not start")


async def post_all(bases: list[str], n: int, first_user: int, first_id: int) -> None:
    gate = asyncio.Semaphore(40)
    turn = itertools.count()

    async def one(client: httpx.AsyncClient, i: int) -> None:
        user = first_user + i
        update = {"update_id": first_id + i, "message": {
            "message_id": 1000 + i, "date": int(time.time()), "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "Cư dân"}, "text": QUESTIONS[i % len(QUESTIONS)]}}
        async with gate:
            for _ in range(100):
                base = bases[next(turn) % len(bases)]
                try:
                    r = await client.post(base + "/telegram/webhook", json=update,
                                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=40)) as client:
        await asyncio.gather(*(one(client, i) for i in range(n)))


def run(pg: str, workers: int, n: int) -> dict[str, float | list[float]]:
    name = "bench_scale_" + uuid.uuid4().hex[:8]
    asyncio.run(admin(pg, f'CREATE DATABASE "{name}"'))
    url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    fake_base = f"http://127.0.0.1:{int(fake.stdout.readline())}"
    client = httpx.Client(base_url=fake_base, timeout=30)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bases = []
            for _ in range(workers):
                proc, base = start_worker(url, fake_base, tmp)
                procs.append(proc)
                bases.append(base)
            # Warm up (knowledge base loaded, connections open), not counted.
            asyncio.run(post_all(bases, 50, 1_000_000, 1))
            while client.get("/_count").json()["chats"] < 50:
                time.sleep(0.2)
            before_sent = client.get("/_count").json()["sent"]
            cpu0 = [tree_cpu(p.pid) for p in procs]
            pg0, fake0, me0 = postgres_cpu(), cpu_seconds(fake.pid), time.process_time()
            started = time.monotonic()
            asyncio.run(post_all(bases, n, 2_000_000, 1000))
            while client.get("/_count").json()["chats"] < 50 + n:
                time.sleep(0.05)
            seconds = time.monotonic() - started
            cpu = [tree_cpu(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
            sent = client.get("/_count").json()["sent"] - before_sent
            return {"seconds": seconds, "qps": n / seconds, "replies": sent, "cpu": cpu,
                    "postgres": postgres_cpu() - pg0, "fake": cpu_seconds(fake.pid) - fake0,
                    "load": time.process_time() - me0}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        fake.stdin.close()
        fake.wait(timeout=10)
        asyncio.run(admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    pg = os.environ.get("TEST_POSTGRES_URL")
    if not pg:
        raise SystemExit("set TEST_POSTGRES_URL (PostgreSQL) to run this benchmark")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{n} questions (one per resident), Telegram webhook, 40 in flight; {os.cpu_count()} cores shared by all")
    print(f"{'workers':>7} {'seconds':>8} {'q/s':>7} {'CPU s per worker':>22} {'CPU s/q':>8} {'postgres':>9} {'fake':>6} {'load':>6}")
    for workers in (1, 2):
        r = run(pg, workers, n)
        cpus = r["cpu"]
        assert isinstance(cpus, list)
        per = " + ".join(f"{c:.1f}" for c in cpus)
        print(f"{workers:>7} {r['seconds']:>8.1f} {r['qps']:>7.0f} {per:>22} {sum(cpus) / n * 1000:>6.1f}ms "
              f"{r['postgres']:>9.1f} {r['fake']:>6.1f} {r['load']:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
