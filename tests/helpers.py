"""Input builders for tests (like python-telegram-bot's make_message), and running the
assistant for end-to-end tests: prepared on a seeded copy (`prepared`), in this event
loop (`serving`), as its own process (`start_cdsbot` / `stop_cdsbot`), and the browser
(`launch_chromium`)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from bot import clock
from bot.app import Assistant, prepare
from bot.channels.base import Incoming, Reply
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import InboxItem

_SEEDED: dict[str, Path] = {}  # knowledge folder -> a SQLite database prepare() seeded from it


async def prepared(settings: Settings) -> Assistant:
    """`prepare(settings)`, with a new SQLite database first filled from a copy of one
    that `prepare` seeded once in this test process (migrated, knowledge/ and the areas
    imported: the same rows, without seeding again for every test). Other databases,
    or one that already exists, go to `prepare` as they are."""
    url = make_url(settings.database_url)
    path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
    if path is not None and not path.exists():
        key = str(settings.knowledge_dir.resolve())
        if key not in _SEEDED:
            folder = tempfile.mkdtemp(prefix="cdsbot-seeded-")
            atexit.register(shutil.rmtree, folder, True)
            template = Path(folder) / "seeded.sqlite3"
            seeded = await prepare(Settings(database_url=f"sqlite+aiosqlite:///{template}",
                                            knowledge_dir=settings.knowledge_dir))
            await seeded.db.dispose()
            _SEEDED[key] = template
        shutil.copy(_SEEDED[key], path)
    return await prepare(settings)


async def assert_kept_only_redacted(db: Database, channel: str, words: str) -> None:
    """The channel's inbox items holding `words` are finished and keep a phone number the
    resident wrote (0905 123 456) only masked."""
    await asyncio.sleep(0.1)  # the reply is sent before the item is marked done
    async with db.session() as session:
        rows = (await session.execute(select(InboxItem.status, InboxItem.payload).where(InboxItem.channel == channel))).all()
    kept = [(status, payload) for status, payload in rows if words in str(payload)]
    assert kept and all(status == "done" for status, _ in kept), kept
    assert all("0905" not in str(p) and "[số]" in str(p) for _, p in kept), kept


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server started by a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_incoming(text: str | None = None, button: str | None = None, user: str = "u1", channel: str = "web") -> Incoming:
    return Incoming(channel=channel, user=user, chat=user, text=text, button=button, display_name="Bà Năm")


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


def button(replies: list[Reply], label_part: str) -> str:
    for r in replies:
        for b in r.buttons:
            if label_part in b.label:
                return b.payload
    raise AssertionError(f"no button containing {label_part!r} in {[b.label for r in replies for b in r.buttons]}")


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[None]:
    """Serve an ASGI app (its lifespan included) on 127.0.0.1:`port` in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def start_cdsbot(cwd: Path, env: dict[str, str], timeout: float = 90.0, **popen: Any) -> tuple[subprocess.Popen[str], str]:
    """`cdsbot run` as its own process (environment on top of ours); returns it and its
    base URL once /healthz answers. It runs on the test clock, from where it stands now."""
    port = free_port()
    env = {clock.ENV_START: clock.now().isoformat(), **env}
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.STDOUT)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=cwd, text=True,
                            env={**os.environ, **env, "PORT": str(port)}, **popen)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.communicate(timeout=10)
            raise AssertionError("cdsbot run did not start: " + "".join(x or "" for x in out))
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def stop_cdsbot(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """SIGTERM, wait, and what it printed."""
    proc.terminate()
    out, err = proc.communicate(timeout=timeout)
    return (out or "") + (err or "")


def launch_chromium(playwright: Any) -> Any:
    """Debian's headless Chromium (never a downloaded browser), quiet on the network."""
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium"), headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"],
    )
