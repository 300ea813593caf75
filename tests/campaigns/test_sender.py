"""Campaign sending through the real Telegram channel to the fake Bot API, on SQLite and
(when TEST_POSTGRES_URL is set) PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import insert, select

from bot.campaigns import outbox, service
from bot.campaigns.sender import Sender, TokenBucket
from bot.channels.telegram import TelegramChannel
from bot.clock import now as utcnow
from bot.services.areas import import_csv
from bot.settings import ROOT, Settings
from bot.storage.db import Database, open_database
from bot.storage.models import Resident, Subscription
from tests.conftest import POSTGRES_URL, drop_postgres_database, fresh_postgres_database
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def channel(fake: FakeTelegram, db: Database) -> AsyncIterator[TelegramChannel]:
    await import_csv(db, ROOT / "knowledge" / "areas.csv")
    settings = Settings(database_url="sqlite+aiosqlite://", telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url)

    async def no_dispatch(msg):  # type: ignore[no-untyped-def]
        return []

    ch = TelegramChannel(settings, db, no_dispatch)
    await ch.bulk_bot.initialize()
    yield ch
    await ch.bulk_bot.shutdown()


async def add_subscribers(db: Database, n: int, area: str | None = "phuong-hai-chau", start: int = 1000) -> list[int]:
    now = utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Resident.__table__), [
            {"channel": "telegram", "platform_user_id": str(start + i), "language": "vi", "display_name": "", "state": {},
             "created_at": now, "last_seen_at": now, "waiting": False} for i in range(n)])
        ids = [r for (r,) in (await conn.execute(
            select(Resident.id).where(Resident.platform_user_id.in_([str(start + i) for i in range(n)])))).all()]
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": rid, "area_code": area, "topics": [], "active": True, "consented_at": now} for rid in ids])
    return ids


def sender(db: Database, ch: TelegramChannel, rate: float = 500.0) -> Sender:
    return Sender(db, {"telegram": ch.deliver}, {"telegram": rate})


async def drain(s: Sender, campaign_id: int, db: Database, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await s.run_once()
        st = await service.status(db, campaign_id)
        if st["state"] in ("done", "paused", "cancelled"):
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign not finished: {await service.status(db, campaign_id)}")


@pytest.mark.asyncio
async def test_every_subscriber_gets_exactly_one_message_with_an_unsubscribe_button(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 120)
    cid = await service.create(db, "Thông báo <thử>", channels=["telegram"], now=True)
    st = await drain(sender(db, channel), cid, db)
    per_chat = Counter(m["chat_id"] for m in fake.sent())
    assert st["state"] == "done" and st["sent"] == 120 and len(per_chat) == 120 and set(per_chat.values()) == {1}
    assert "&lt;thử&gt;" in fake.sent()[0]["text"]
    assert fake.sent()[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "u:off"


@pytest.mark.asyncio
async def test_rows_left_sending_by_a_dead_process_are_sent_once(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 80)
    cid = await service.create(db, "Khởi động lại", channels=["telegram"], now=True)
    s = sender(db, channel)
    async with db.session() as session:
        from bot.storage.models import Campaign
        campaign = await session.get(Campaign, cid)
    await outbox.materialise(db, campaign)  # type: ignore[arg-type]
    await s._set(cid, state="sending", started_at=utcnow())
    claimed = await outbox.claim_next_batch(db, cid)  # ...and the process dies before sending them
    assert len(claimed) == outbox.BATCH
    assert await outbox.requeue_stale(db) == outbox.BATCH  # what run_forever does at start
    st = await drain(sender(db, channel), cid, db)
    assert st["sent"] == 80 and len(fake.sent()) == 80
    assert await outbox.materialise(db, campaign) == 0  # the unique key: never queued twice  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_blocked_recipient_becomes_inactive(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    ids = await add_subscribers(db, 3)
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=1001)
    fake.fail("sendMessage", 400, "Bad Request: chat not found", chat_id=1002)
    cid = await service.create(db, "Tin", now=True)
    st = await drain(sender(db, channel), cid, db)
    assert (st["sent"], st["blocked"]) == (1, 2)
    async with db.session() as session:
        subs = {s.resident_id: s for s in (await session.scalars(select(Subscription))).all()}
    assert not subs[ids[1]].active and subs[ids[1]].end_reason == "blocked"
    assert not subs[ids[2]].active and subs[ids[2]].end_reason == "gone"
    assert subs[ids[0]].active


@pytest.mark.asyncio
async def test_429_is_retried_after_the_wait(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 5)
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", chat_id=1000, retry_after=1)
    cid = await service.create(db, "Tin", now=True)
    start = time.monotonic()
    st = await drain(sender(db, channel), cid, db)
    assert st["sent"] == 5 and time.monotonic() - start >= 1.0
    assert len([c for c in fake.calls("sendMessage:failed")]) == 1


@pytest.mark.asyncio
async def test_transient_errors_are_retried(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 2)
    fake.fail("sendMessage", 502, "Bad Gateway", chat_id=1000, times=1)
    cid = await service.create(db, "Tin", now=True)
    st = await drain(sender(db, channel), cid, db, timeout=60)
    assert st["sent"] == 2


@pytest.mark.asyncio
async def test_pause_resume_and_cancel(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 20)
    cid = await service.create(db, "Tin", now=True)
    await service.set_state(db, cid, "pause")
    s = sender(db, channel)
    assert await s.run_once() == 0 and fake.sent() == []
    await service.set_state(db, cid, "resume")
    assert (await drain(s, cid, db))["sent"] == 20
    other = await service.create(db, "Tin khác", now=True)
    await service.set_state(db, other, "cancel")
    assert await s.run_once() == 0
    assert (await service.status(db, other))["state"] == "cancelled"
    with pytest.raises(service.CampaignError):
        await service.set_state(db, other, "resume")


@pytest.mark.asyncio
async def test_audience_by_area(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 4, area="phuong-hai-chau", start=2000)
    await add_subscribers(db, 3, area="phuong-son-tra", start=3000)
    cid = await service.create(db, "Tin Sơn Trà", areas=["phuong-son-tra"], now=True)
    assert (await drain(sender(db, channel), cid, db))["sent"] == 3
    assert {m["chat_id"] for m in fake.sent()} == {3000, 3001, 3002}


@pytest.mark.asyncio
async def test_a_team_leader_sends_only_to_their_area(db) -> None:  # type: ignore[no-untyped-def]
    await import_csv(db, ROOT / "knowledge" / "areas.csv")
    with pytest.raises(service.CampaignError, match="own area"):
        await service.create(db, "Tin", areas=["phuong-son-tra"], sender_area="phuong-hai-chau", now=True)
    with pytest.raises(service.CampaignError, match="own area"):
        await service.create(db, "Tin", sender_area="phuong-hai-chau", now=True)
    assert await service.create(db, "Tin", areas=["phuong-hai-chau"], sender_area="phuong-hai-chau", now=True)


@pytest.mark.asyncio
@pytest.mark.postgres
async def test_two_senders_on_postgresql_share_the_work_under_the_rate(fake: FakeTelegram) -> None:
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL not set")
    name, url = await fresh_postgres_database()
    dbs = [await open_database(url), await open_database(url, migrate=False)]
    try:
        await import_csv(dbs[0], ROOT / "knowledge" / "areas.csv")
        await add_subscribers(dbs[0], 300)
        cid = await service.create(dbs[0], "Hai tiến trình", now=True)
        settings = Settings(database_url="sqlite+aiosqlite://", telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url)

        async def no_dispatch(msg):  # type: ignore[no-untyped-def]
            return []

        channels = [TelegramChannel(settings, d, no_dispatch) for d in dbs]
        for ch in channels:
            await ch.bulk_bot.initialize()
        rate = 100.0
        granted: list[float] = []  # when each send was let out, by either sender

        class Recorded(TokenBucket):
            async def wait(self) -> float:
                granted.append(await super().wait())
                return granted[-1]

        senders = [Sender(d, {"telegram": ch.deliver}, {"telegram": rate}) for d, ch in zip(dbs, channels, strict=True)]
        for s in senders:
            s.buckets["telegram"] = Recorded(rate)
        await asyncio.gather(*(drain(s, cid, d, timeout=60) for s, d in zip(senders, dbs, strict=True)))
        for ch in channels:
            await ch.bulk_bot.shutdown()
        per_chat = Counter(m["chat_id"] for m in fake.sent())
        assert len(per_chat) == 300 and set(per_chat.values()) == {1}  # no overlap, nothing lost
        # Checked where the pacing is decided: arrival times at the fake server also carry
        # the machine's scheduling delays. A handover between the senders keeps the spacing.
        granted.sort()
        gaps = [b - a for a, b in zip(granted, granted[1:], strict=False)]
        assert len(granted) == 300 and min(gaps) >= 0.99 / rate, f"two sends {min(gaps) * 1000:.1f} ms apart"
    finally:
        for d in dbs:
            await d.dispose()
        await drop_postgres_database(name)


@pytest.mark.asyncio
async def test_image_and_links(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 2)
    with pytest.raises(service.CampaignError, match="1024"):
        await service.create(db, "x" * 1100, image_url="https://danang.gov.vn/a.jpg", now=True)
    with pytest.raises(service.CampaignError, match="https"):
        await service.create(db, "Tin", links=[("Cổng", "http://danang.gov.vn")], now=True)
    cid = await service.create(db, "Ngày hội chuyển đổi số", image_url="https://danang.gov.vn/a.jpg",
                               links=[("Chi tiết", "https://danang.gov.vn")], now=True)
    assert (await drain(sender(db, channel), cid, db))["sent"] == 2
    photos = fake.calls("sendPhoto")
    assert len(photos) == 2 and photos[0]["caption"] == "Ngày hội chuyển đổi số"
    rows = photos[0]["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["callback_data"] == "u:off" and rows[1][0]["url"] == "https://danang.gov.vn"


@pytest.mark.asyncio
async def test_a_team_campaign_waits_for_approval(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 3)
    cid = await service.create(db, "Tin của tổ", areas=["phuong-hai-chau"], sender_area="phuong-hai-chau",
                               now=True, needs_approval=True)
    s = sender(db, channel)
    assert (await service.status(db, cid))["state"] == "draft" and await s.run_once() == 0
    assert await service.set_state(db, cid, "approve", by="bien-tap-vien") == "scheduled"
    assert (await drain(s, cid, db))["sent"] == 3


@pytest.mark.asyncio
async def test_cancel_mid_send_skips_the_rest(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    await add_subscribers(db, 200)
    cid = await service.create(db, "Tin dài", now=True)
    s = Sender(db, {"telegram": channel.deliver}, {"telegram": 100.0})
    task = asyncio.create_task(s.run_once())
    while len(fake.sent()) < 20:
        await asyncio.sleep(0.02)
    await service.set_state(db, cid, "cancel")
    await task
    st = await service.status(db, cid)
    assert st["state"] == "cancelled" and 20 <= st["sent"] < 200
    assert st["sent"] + st["skipped"] == 200 and len(fake.sent()) == st["sent"]


@pytest.mark.asyncio
async def test_questions_from_the_audience_after_a_campaign(db, channel, fake) -> None:  # type: ignore[no-untyped-def]
    from bot.matcher import Decision, Match
    from bot.services.questions import log_question

    await add_subscribers(db, 2)
    cid = await service.create(db, "Tin", now=True)
    await drain(sender(db, channel), cid, db)
    for user, entry in (("1000", "vneid-la-gi"), ("1001", None), ("9999", "vneid-la-gi")):
        m = Match(Decision.ANSWER if entry else Decision.UNKNOWN, 80.0, entry_id=entry, normalized="q")
        await log_question(db, channel="telegram", user=user, salt="s", match=m)
    counts = await service.questions_after(db, cid, "s")
    assert counts == {"vneid-la-gi": 1, "-": 1}  # 9999 was not in the audience


@pytest.mark.asyncio
async def test_messages_for_a_channel_this_process_lacks_wait(db) -> None:  # type: ignore[no-untyped-def]
    await import_csv(db, ROOT / "knowledge" / "areas.csv")
    await add_subscribers(db, 3)
    cid = await service.create(db, "Tin", now=True)
    s = Sender(db, {}, {})  # no Telegram here
    assert await s.run_once() == 0
    st = await service.status(db, cid)
    assert st["state"] == "sending" and st["queued"] == 3 and st["failed"] == 0


@pytest.mark.asyncio
async def test_waiters_that_arrive_together_get_spaced_slots() -> None:
    bucket = TokenBucket(200.0)
    granted = await asyncio.gather(*(bucket.wait() for _ in range(8)))
    gaps = [b - a for a, b in zip(granted, granted[1:], strict=False)]
    assert min(gaps) >= 0.99 / 200.0, "two waiters were let out at once"


@pytest.mark.asyncio
async def test_a_pause_holds_back_the_waiters_already_waiting() -> None:
    bucket = TokenBucket(100.0)
    waiters = [asyncio.create_task(bucket.wait()) for _ in range(4)]
    await asyncio.sleep(0)  # the first is let out at once, the second sleeps for its slot
    paused_at = time.monotonic()
    bucket.pause(0.2)
    granted = await asyncio.gather(*waiters)
    assert granted[0] <= paused_at
    assert min(granted[1:]) >= paused_at + 0.2, "a waiter went out during the pause"
