"""A channel that keeps failing shows in /readyz and in the log, in words, not only in a
traceback; it recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from bot.app import create_app
from bot.channels.health import ALERT_AFTER, ChannelHealth
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import prepared


@pytest.mark.asyncio
async def test_failing_telegram_polls_show_in_readyz_and_the_log_then_recover(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    fake = FakeTelegram().start()
    fake.fail("getUpdates", 502, "Bad Gateway", times=3)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}", telegram_bot_token=fake.token,
                        telegram_api_base_url=fake.base_url, telegram_poll_timeout=1)
    assistant = await prepared(settings)
    seen: list[dict[str, object]] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
        await assistant.start_channels()
        try:
            deadline = time.monotonic() + 30
            while True:
                r = await c.get("/readyz")
                check = r.json()["checks"]["telegram"]
                seen.append(check)
                if check["status"] == "ok":
                    break
                assert time.monotonic() < deadline, seen[-1]
                await asyncio.sleep(0.1)
        finally:
            await assistant.stop_channels()
            fake.stop()
    await assistant.db.dispose()
    failing = [s for s in seen if s["status"] == "failing"]
    assert failing and failing[-1]["last_error"] == "NetworkError" and failing[-1]["failures_in_a_row"] >= 2
    assert "Bad Gateway" not in str(failing) and fake.token not in str(seen)
    assert r.status_code == 200 and "failures_in_a_row" not in seen[-1]
    warnings = [rec.getMessage() for rec in caplog.records if rec.name == "bot.channels.health"]
    assert any("telegram: receiving failed (NetworkError" in w for w in warnings)
    assert not any(rec.exc_info for rec in caplog.records if rec.name == "bot.channels.health")


def test_the_fifth_failure_in_a_row_is_an_error_line_and_recovery_is_said(caplog) -> None:  # type: ignore[no-untyped-def]
    health = ChannelHealth("zalo")
    caplog.set_level(logging.INFO, logger="bot.channels.health")
    for _ in range(ALERT_AFTER):
        health.failed("502")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "failed 5 times in a row (last error: 502" in errors[0].getMessage()
    ready, details = health.report(polling=True)
    assert not ready and details["status"] == "failing" and details["failures_in_a_row"] == 5
    health.ok()
    assert "receiving again after 5 failures" in caplog.records[-1].getMessage()
    ready, details = health.report(polling=True)
    assert ready and details["status"] == "ok"
    assert health.report(polling=False)[0]  # webhook mode: silence is not a failure
