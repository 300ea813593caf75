"""GET /metrics: Prometheus text format, counted by a running assistant (Telegram through
the fake Bot API, the web chat, the campaign sender), guarded by a token or loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from starlette.testclient import TestClient

from bot.app import create_app
from bot.campaigns import service
from bot.clock import now as utcnow
from bot.settings import Settings
from bot.storage.models import InboxItem, OutboxItem, Resident, Subscription, Ticket
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import prepared

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_metrics_count_questions_replies_campaigns_and_backlogs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeTelegram().start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}", telegram_bot_token=fake.token,
                        telegram_api_base_url=fake.base_url, telegram_poll_timeout=1, telegram_broadcast_rate=200)
    assistant = await prepared(settings)
    now = utcnow()
    async with assistant.db.engine.begin() as conn:  # the world as it stands: subscribers, a waiting ticket, a queue
        await conn.execute(insert(Resident.__table__), [
            {"channel": "telegram", "platform_user_id": str(8000 + i), "language": "vi", "display_name": "", "state": {},
             "created_at": now, "last_seen_at": now, "waiting": False} for i in range(4)])
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": rid, "area_code": None, "topics": [], "active": True, "consented_at": now} for rid in range(1, 5)])
        await conn.execute(insert(Ticket.__table__).values(
            resident_id=1, channel="telegram", chat="8000", question="…", suggestions=[], display_name="",
            created_at=now - dt.timedelta(hours=3)))
        await conn.execute(insert(InboxItem.__table__).values(channel="zalo", external_id="z1", payload={}, status="received"))
    paused = await service.create(assistant.db, "Tin tạm dừng", channels=["telegram"], now=True)
    await service.set_state(assistant.db, paused, "pause")
    async with assistant.db.engine.begin() as conn:
        await conn.execute(insert(OutboxItem.__table__), [
            {"campaign_id": paused, "resident_id": None, "channel": "telegram", "chat": str(9000 + i), "status": "queued",
             "attempts": 0, "error": "", "updated_at": now} for i in range(7)])
    app = create_app(settings, assistant)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # from 127.0.0.1
    before = parse((await client.get("/metrics")).text)
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", chat_id=8001, retry_after=1)
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=6003, times=10)
    await assistant.start_channels()
    try:
        campaign = await service.create(assistant.db, "Thông báo thử", channels=["telegram"], now=True)
        for user, text in ((6001, "vneid là gì"), (6002, "chữ ký số là gì"), (6003, "vneid là gì")):
            fake.message(user, text)
        web = await client.post("/chat/api/messages", json={"session_id": "metrics-session-0001", "text": "xin chào"})
        assert web.status_code == 200
        await until(lambda: len({m["chat_id"] for m in fake.sent()}) >= 6)  # 2 residents + 4 subscribers
        await until(lambda: value(rendered(), "cdsbot_campaign_messages_total", campaign=str(campaign), outcome="sent") >= 4)
        response = await client.get("/metrics")
    finally:
        await assistant.stop_channels()
        await client.aclose()
        await assistant.db.dispose()
        fake.stop()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = parse(response.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("cdsbot_questions_total", channel="telegram", decision="answer") == 3
    assert delta("cdsbot_questions_total", channel="web", decision="chitchat") == 1
    assert delta("cdsbot_match_duration_seconds_count") == 4
    assert delta("cdsbot_replies_sent_total", channel="telegram") >= 2
    assert delta("cdsbot_replies_sent_total", channel="web") >= 1
    assert delta("cdsbot_replies_failed_total", channel="telegram", error="blocked") == 1
    assert delta("cdsbot_campaign_messages_total", campaign=str(campaign), outcome="sent") == 4
    assert delta("cdsbot_campaign_messages_total", campaign=str(campaign), outcome="retry_later") == 1
    assert delta("cdsbot_rate_limited_total", channel="telegram", path="campaign") == 1
    assert value(after, "cdsbot_outbox_backlog", campaign=str(paused)) == 7
    assert value(after, "cdsbot_inbox_backlog", channel="zalo") == 1
    assert value(after, "cdsbot_tickets_open", age="1-8h") == 1 and value(after, "cdsbot_tickets_open", age="0-1h") == 0
    assert 3 * 3600 <= value(after, "cdsbot_ticket_oldest_open_age_seconds") < 4 * 3600
    assert value(after, "cdsbot_channel_last_success_timestamp_seconds", channel="telegram") > time.time() - 60
    # No resident data in any name, label or help text: no chat ids, no user ids, no question text. A sample's
    # value is left out of the check: a number such as the process's CPU seconds may hold "8000" by chance.
    described = "\n".join(line if line.startswith("#") else line.rsplit(" ", 1)[0] for line in response.text.splitlines())
    assert "cdsbot_questions_total{" in described and "process_cpu_seconds_total" in described
    for resident in ("6001", "6002", "6003", "8000", "8001", "vneid", "metrics-session"):
        assert resident not in described


def rendered() -> Samples:
    """The metrics as the app renders them now (the registry is process-wide)."""
    from bot import metrics

    return parse(metrics.render().decode())


def test_metrics_need_the_token_or_a_direct_loopback_request(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 't.sqlite3'}"}
    with TestClient(create_app(Settings(**base, metrics_token="scrape-me-please"))) as c:
        assert c.get("/metrics").status_code == 403
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert ok.status_code == 200 and "cdsbot_questions_total" in ok.text
    with TestClient(create_app(Settings(**base))) as c:  # TestClient's address is "testclient", not loopback
        assert c.get("/metrics").status_code == 403


@pytest.mark.asyncio
async def test_metrics_refuse_requests_forwarded_by_a_proxy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    assistant = await prepared(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
        direct = await c.get("/metrics")
        proxied = await c.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    await assistant.db.dispose()
    assert direct.status_code == 200 and proxied.status_code == 403
