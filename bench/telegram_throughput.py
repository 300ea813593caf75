"""Benchmark: Telegram questions per second, end to end, against an echo-bot baseline.

The fake Bot API server runs in its own process (real HTTP on 127.0.0.1). For N
questions (default 5,000, from distinct residents, texts from the dev set) it measures
the time from injecting them until the fake has received every reply:
- ours: fake → our poller → inbox (SQLite) → PTB Application → dispatcher → match
  worker process → question log (SQLite) → sendMessage, started as `cdsbot run` starts it;
- baseline: python-telegram-bot's plain echo bot (Updater polling, `reply_text`), on
  PTB's default transport (httpx);
- diagnostics: our channel with a fixed reply (what receiving and sending cost), and the
  same echo bot on our aiohttp transport (`bot/channels/telegram_http.py`), so the
  transport's share of the ratio is visible.
CPU figures: this process and the match worker (the fake's is printed apart).
Run: `.venv/bin/python bench/telegram_throughput.py [N]`. Target (issue 17): ours ≥ 0.8 × echo
on a 2-core machine: 0.80-0.90 in four runs on 2026-12-06 (128 updates in flight on SQLite, plain typed
messages read without PTB's objects), 0.6-0.7 before; `eval/matcher2-log.md` says where the CPU goes.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

import httpx  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402
from telegram.request import BaseRequest  # noqa: E402

from bot.app import prepare  # noqa: E402
from bot.channels.base import Incoming, Reply  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.channels.telegram_http import AiohttpRequest  # noqa: E402
from bot.settings import Settings  # noqa: E402

TOKEN = "123456:TEST-TOKEN"
FAKE_CPU: list[float] = []  # CPU seconds of each run's fake server (it shares the machine)


def questions(n: int) -> list[str]:
    path = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if not path.exists():
        path = ROOT / "tests" / "data" / "residents.jsonl"
    qs = [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [qs[i % len(qs)] for i in range(n)]


class Fake:
    """The fake server in a child process."""

    def __enter__(self) -> Fake:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        FAKE_CPU.append((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))


async def drive(fake: Fake, texts: list[str]) -> tuple[float, float, int]:
    """Inject every question, wait for every reply; return (seconds, CPU seconds of this process)."""
    n = len(texts)
    async with httpx.AsyncClient(base_url=fake.base, timeout=30) as client:
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        for start in range(0, n, 500):
            batch = [{"user": 100_000 + i, "text": texts[i]} for i in range(start, min(n, start + 500))]
            await client.post("/_inject", json=batch)
        while (await client.get("/_count")).json()["chats"] < n:  # every resident answered (a counter: ~free)
            await asyncio.sleep(0.05)
        took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        await asyncio.sleep(0.5)  # messages still being sent (a long answer in parts)
        counts = (await client.get("/_count")).json()
        return took, cpu, counts["sent"]


async def fixed_reply(msg: Incoming) -> list[Reply]:
    return [Reply("Đã nhận.")]


async def run_ours(texts: list[str], channel_only: bool = False) -> tuple[float, float, int, float]:
    """The assistant as `cdsbot run` builds it; with `channel_only`, the same Telegram
    channel (inbox, PTB, sending) with a dispatcher that returns a fixed reply.
    Returns (seconds, CPU seconds of this process, messages, CPU seconds of the match worker)."""
    with Fake() as fake, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", telegram_bot_token=TOKEN,
                            telegram_api_base_url=fake.base + "/bot", telegram_poll_timeout=1,
                            flood_messages_per_minute=10_000)
        assistant = await prepare(settings)
        worker = assistant.kb.worker
        if channel_only:
            channel = TelegramChannel(settings, assistant.db, fixed_reply)
            await channel.start()
        else:
            await assistant.start_channels()  # the Telegram channel and the match worker, as `cdsbot run`
        worker_cpu = worker.cpu if worker else 0.0  # after its start: the matcher is built
        try:
            took, cpu, sent = await drive(fake, texts)
            return took, cpu, sent, (worker.cpu - worker_cpu if worker and not channel_only else 0.0)
        finally:
            if channel_only:
                await channel.stop()
            else:
                await assistant.stop_channels()
            await assistant.db.dispose()


async def run_echo(texts: list[str], request: BaseRequest | None = None) -> tuple[float, float, int]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    with Fake() as fake:
        builder = ApplicationBuilder().token(TOKEN).base_url(fake.base + "/bot")
        if request is not None:
            builder = builder.request(request).get_updates_request(AiohttpRequest(connection_pool_size=1))
        app = builder.build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(timeout=1)
            try:
                return await drive(fake, texts)
            finally:
                await app.updater.stop()
                await app.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    texts = questions(n)
    echo_s, echo_cpu, echo_sent = asyncio.run(run_echo(texts))
    ours_s, ours_cpu, ours_sent, worker_cpu = asyncio.run(run_ours(texts))
    chan_s, chan_cpu, chan_sent, _ = asyncio.run(run_ours(texts, channel_only=True))
    fast_s, fast_cpu, fast_sent = asyncio.run(run_echo(texts, AiohttpRequest(connection_pool_size=8)))
    print(f"{n} questions, fake Bot API in its own process, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'bot':<48} {'seconds':>8} {'per s':>8} {'CPU s':>7} {'messages':>9}")
    rows = [("baseline: PTB echo bot (Updater polling)", echo_s, echo_cpu, echo_sent),
            ("ours: inbox + matcher + question log", ours_s, ours_cpu + worker_cpu, ours_sent),
            ("diagnostic: our channel, fixed reply", chan_s, chan_cpu, chan_sent),
            ("diagnostic: PTB echo bot on our aiohttp transport", fast_s, fast_cpu, fast_sent)]
    for name, took, cpu, sent in rows:
        print(f"{name:<48} {took:>8.2f} {n / took:>8.0f} {cpu:>7.2f} {sent:>9}")
    print(f"{'ratio ours / echo':<48} {'':>8} {echo_s / ours_s:>8.2f}")
    print(f"{'ratio ours / echo on our transport':<48} {'':>8} {fast_s / ours_s:>8.2f}")
    per = lambda cpu: cpu / n * 1000  # noqa: E731
    print(f"CPU per question (ms): echo {per(echo_cpu):.2f}, echo on our transport {per(fast_cpu):.2f}, "
          f"our channel {per(chan_cpu):.2f}, ours {per(ours_cpu):.2f} in the serving process "
          f"+ {per(worker_cpu):.2f} in the match worker")
    print("CPU of the fake server per question (ms): " + ", ".join(
        f"{name} {per(cpu):.2f}" for name, cpu in zip(("echo", "ours", "our channel", "echo on our transport"), FAKE_CPU, strict=True)))


if __name__ == "__main__":
    main()
