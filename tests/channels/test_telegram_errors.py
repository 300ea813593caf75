"""What Telegram's servers expect (issue 25): the Telegram channel's send paths against the
fake Bot API, which refuses what the real one refuses. A 400 is never retried, a message
that timed out is sent again once at most, every PTB error is a campaign row's outcome,
a migrated group chat is followed, callback data cannot exceed 64 bytes, and webhook
mode does not start without its secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select

from bot import metrics
from bot.campaigns import outbox, service
from bot.campaigns.sender import Sender
from bot.channels.base import MAX_PAYLOAD_BYTES, Button, Outcome, Reply
from bot.channels.telegram import TelegramChannel, keyboard
from bot.clock import now as utcnow
from bot.cli import main
from bot.handlers.feedback import REASON
from bot.kb_files import MAX_ID_LENGTH, Entry, check_entry
from bot.replies import RATE, SHOW, t
from bot.settings import Settings
from bot.storage.db import Database
from bot.services import teams
from bot.services.areas import import_csv
from bot.settings import ROOT
from bot.storage.models import OutboxItem, Resident, Subscription, TeamMember
from tests.fakes.telegram_api import FakeTelegram

CHAT = 7001


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def channel(fake: FakeTelegram, db: Database) -> AsyncIterator[TelegramChannel]:
    settings = Settings(database_url="sqlite+aiosqlite://", telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url)

    async def no_dispatch(msg):  # type: ignore[no-untyped-def]
        return []

    ch = TelegramChannel(settings, db, no_dispatch)
    await ch.app.bot.initialize()
    await ch.bulk_bot.initialize()
    yield ch
    await ch.bulk_bot.shutdown()
    await ch.app.bot.shutdown()


async def until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# -- 1. a 400 is not a network error -----------------------------------------------


@pytest.mark.asyncio
async def test_telegram_400s_are_refusals_tried_once_not_network_errors(channel: TelegramChannel, fake: FakeTelegram) -> None:
    kinds = {  # what Telegram answers, and the error class counted in cdsbot_replies_failed_total
        "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0": "refused",
        "Bad Request: message is too long": "refused",
        "Bad Request: BUTTON_DATA_INVALID": "refused",
        "Bad Request: chat not found": "gone",
    }
    for description, error in kinds.items():
        before = len(fake.calls("sendMessage:failed"))
        counted = metrics.REPLIES_FAILED.labels("telegram", error)._value.get()
        fake.fail("sendMessage", 400, description, times=4, chat_id=CHAT)
        assert not await channel.send(str(CHAT), Reply("Thông báo"))
        assert len(fake.calls("sendMessage:failed")) == before + 1, description  # not retried four times
        assert metrics.REPLIES_FAILED.labels("telegram", error)._value.get() == counted + 1  # not "network"
        fake.state.faults.clear()
    assert await channel.send(str(CHAT), Reply("a < b & <b>c</b>"))  # escaped: the fake's HTML rule accepts it


@pytest.mark.asyncio
async def test_the_fake_bot_api_refuses_what_telegram_refuses(fake: FakeTelegram) -> None:
    base = f"{fake.base_url}{fake.token}"
    fake.migrate(-100, -1009)
    cases = [
        ("sendMessage", {"chat_id": 1, "text": ""}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": 1, "text": "x" * 4097}, "Bad Request: message is too long"),
        ("sendMessage", {"chat_id": 1, "text": "<x>hi</x>", "parse_mode": "HTML"}, "Bad Request: can't parse entities"),
        ("sendMessage", {"chat_id": 1, "text": "a < b", "parse_mode": "HTML"}, "Bad Request: can't parse entities"),
        ("sendPhoto", {"chat_id": 1, "photo": "https://x/y.png", "caption": "c" * 1025}, "Bad Request: message caption is too long"),
        ("sendMessage", {"chat_id": 1, "text": "hi", "reply_markup": {"inline_keyboard": [[
            {"text": "A", "callback_data": "đ" * 33}]]}}, "Bad Request: BUTTON_DATA_INVALID"),  # 66 bytes
        ("sendMessage", {"chat_id": -100, "text": "hi"}, "Bad Request: group chat was upgraded to a supergroup chat"),
        ("setWebhook", {"url": "https://x/telegram/webhook", "secret_token": "có dấu"}, "Bad Request: secret token"),
    ]
    async with httpx.AsyncClient() as client:
        for method, body, description in cases:
            r = await client.post(f"{base}/{method}", json=body)
            assert r.status_code == 400 and r.json()["description"].startswith(description), (method, body, r.text)
        migrated = (await client.post(f"{base}/sendMessage", json={"chat_id": -100, "text": "hi"})).json()
        assert migrated["parameters"] == {"migrate_to_chat_id": -1009}
        ok = await client.post(f"{base}/sendMessage", json={"chat_id": 1, "text": "<b>đậm</b> &amp; đ" * 3, "parse_mode": "HTML",
                                                            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "đ" * 32}]]}})
        assert ok.status_code == 200


# -- 6. every PTB error is a campaign row's outcome ------------------------------------


async def subscribers(db: Database, chats: list[int]) -> None:
    now = utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Resident.__table__), [
            {"channel": "telegram", "platform_user_id": str(c), "language": "vi", "display_name": "", "state": {},
             "created_at": now, "last_seen_at": now, "waiting": False} for c in chats])
        ids = (await conn.execute(select(Resident.id).where(Resident.platform_user_id.in_([str(c) for c in chats])))).scalars()
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": rid, "area_code": None, "topics": [], "active": True, "consented_at": now} for rid in ids])


async def drain(sender: Sender, db: Database, campaign: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while (st := await service.status(db, campaign))["state"] not in ("done", "paused"):
        assert time.monotonic() < deadline, st
        await sender.run_once()
        await asyncio.sleep(0.05)
    return st


@pytest.mark.asyncio
async def test_deliver_turns_every_telegram_error_into_an_outcome(channel: TelegramChannel, fake: FakeTelegram, db: Database) -> None:
    await import_csv(db, ROOT / "knowledge" / "areas.csv")
    team = await teams.create_team(db, "phuong-hai-chau", "Tổ CNS phường Hải Châu")
    async with db.engine.begin() as conn:  # the team's group chat becomes a supergroup
        await conn.execute(insert(TeamMember.__table__).values(team_id=team, channel="telegram", platform_user_id="9",
                                                               chat="-100", display_name="", role="member", joined_at=utcnow()))
    fake.migrate(-100, -1009)
    migrated = await channel.deliver("-100", Reply("Thông báo"))
    assert migrated.outcome == Outcome.SENT and fake.sent(-1009) and not fake.sent(-100)
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(TeamMember.chat))).scalar() == "-1009"  # followed from now on
    cases = [
        (dict(code=401, description="Unauthorized"), Outcome.HALT),
        (dict(code=404, description="Not Found"), Outcome.HALT),
        (dict(code=409, description="Conflict: terminated by other getUpdates request"), Outcome.TRANSIENT),
        (dict(code=200, description="", raw="<html>proxy error</html>"), Outcome.FAILED),  # PTB: a plain TelegramError
        (dict(code=400, description="Bad Request: can't parse entities: x"), Outcome.FAILED),
        (dict(code=400, description="Bad Request: chat not found"), Outcome.GONE),
        (dict(code=403, description="Forbidden: bot was blocked by the user"), Outcome.BLOCKED),
        (dict(code=502, description="Bad Gateway"), Outcome.TRANSIENT),
    ]
    for fault, outcome in cases:
        fake.fail("sendMessage", chat_id=CHAT, **fault)  # type: ignore[arg-type]
        result = await channel.deliver(str(CHAT), Reply("Thông báo"))
        assert result.outcome == outcome, (fault, result)
        assert not result.maybe_delivered


@pytest.mark.asyncio
async def test_a_campaign_survives_them_and_pauses_when_the_token_is_refused(channel: TelegramChannel, fake: FakeTelegram,
                                                                            db: Database) -> None:
    await subscribers(db, [8001, 8002, 8003, 8004])
    fake.migrate(8002, -10082)
    fake.fail("sendMessage", 200, "", chat_id=8003, raw="not json")
    fake.fail("sendMessage", 409, "Conflict", chat_id=8004)
    sender = Sender(db, {"telegram": channel.deliver}, {"telegram": 500.0})
    first = await service.create(db, "Thông báo thứ nhất", channels=["telegram"], now=True)
    st = await drain(sender, db, first)
    assert st["state"] == "done" and st["sent"] == 3 and st["failed"] == 1  # nothing escaped: the batch went on
    assert fake.sent(-10082) and fake.sent(8004)  # the migrated chat followed; the 409 retried
    fake.fail("sendMessage", 401, "Unauthorized", times=100)
    second = await service.create(db, "Thông báo thứ hai", channels=["telegram"], now=True)
    st = await drain(sender, db, second)
    counts = await outbox.counts(db, second)
    assert st["state"] == "paused" and counts["queued"] == 4 and counts["failed"] == 0  # waits for a new token


# -- 8. after a timeout, a message is sent again once at most --------------------------


@pytest.mark.asyncio
async def test_a_reply_that_timed_out_is_sent_again_once_at_most(channel: TelegramChannel, fake: FakeTelegram) -> None:
    channel._reply_request._timeouts["read"] = 0.2  # Telegram answers after 0.5 s: every send times out
    fake.slow("sendMessage", 0.5)
    assert not await channel.send(str(CHAT), Reply("Thông báo"))
    await asyncio.sleep(1.0)  # let the fake finish the requests it received
    assert len(fake.sent(CHAT)) == 2  # Telegram may have shown both: never a third copy


@pytest.mark.asyncio
async def test_a_campaign_message_that_timed_out_is_sent_again_once_at_most(channel: TelegramChannel, fake: FakeTelegram,
                                                                           db: Database) -> None:
    await subscribers(db, [CHAT])
    channel.bulk_bot.request._timeouts["read"] = 0.2  # type: ignore[attr-defined]
    fake.slow("sendMessage", 0.5)
    campaign = await service.create(db, "Thông báo", channels=["telegram"], now=True)
    st = await drain(Sender(db, {"telegram": channel.deliver}, {"telegram": 500.0}), db, campaign)
    await asyncio.sleep(1.0)
    assert st["state"] == "done" and st["failed"] == 1 and len(fake.sent(CHAT)) == 2
    async with db.engine.connect() as conn:
        error = (await conn.execute(select(OutboxItem.error))).scalar()
    assert error.startswith("timed out twice, may have been delivered")


# -- 7. callback data cannot exceed 64 bytes -------------------------------------------


def test_callback_data_cannot_exceed_64_bytes() -> None:
    with pytest.raises(ValueError, match="1-64 bytes"):
        Button("Quá dài", "e:" + "đ" * 32)  # 66 bytes
    with pytest.raises(ValueError):
        Button("Trống", "")
    # The longest payloads the handlers build, with the longest id the knowledge base allows.
    longest_id = "x" * MAX_ID_LENGTH
    reasons = max([*t(False)["reasons"], *t(True)["reasons"]], key=len)
    for payload in (f"{REASON}{reasons}:{longest_id}", f"{RATE}down:{longest_id}", f"{SHOW}{longest_id}"):
        assert len(payload.encode()) <= MAX_PAYLOAD_BYTES, payload
    too_long = Entry(id="x" * (MAX_ID_LENGTH + 1), question="Câu hỏi dài?", answer="Trả lời.")
    assert any("longer than" in p.message for p in check_entry(too_long))
    assert not check_entry(Entry(id=longest_id, question="Câu hỏi?", answer="Trả lời."))
    # Every button of a reply reaches Telegram: none is silently dropped.
    reply = Reply("Chọn:", buttons=tuple(Button(f"Nút {i}", f"{SHOW}{longest_id[:-1]}{i}") for i in range(4)))
    assert len(keyboard(reply)["inline_keyboard"]) == 4  # type: ignore[index]


# -- 4. webhook mode needs its secret ---------------------------------------------------


def test_webhook_mode_without_a_secret_refuses_to_start_in_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://cds.danang.gov.vn/telegram/webhook")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    for secret in ("", "có dấu", "x" * 257):
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
        assert main(["run"]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "TELEGRAM_WEBHOOK_SECRET" in err and "Traceback" not in err
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything started
    Settings(telegram_webhook_url="https://cds.danang.gov.vn/telegram/webhook", telegram_webhook_secret="a-Z_9")


@pytest.mark.asyncio
async def test_updates_in_flight_follow_the_database_unless_set(channel: TelegramChannel, db: Database, fake: FakeTelegram) -> None:
    # Unset: 128 on SQLite (larger group commits, cheaper messages); 32 on PostgreSQL, where each one
    # in flight also holds a connection of its own for its resident's advisory lock.
    expected = 128 if db.is_sqlite else 32
    assert channel.concurrency == expected
    assert channel.order.concurrency == expected and channel.app.update_processor.max_concurrent_updates == expected
    settings = Settings(database_url="sqlite+aiosqlite://", telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
                        telegram_concurrency=16)

    async def no_dispatch(msg):  # type: ignore[no-untyped-def]
        return []

    assert TelegramChannel(settings, db, no_dispatch).concurrency == 16
