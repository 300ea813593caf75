"""Telegram end to end: the real python-telegram-bot Application against the fake Bot
API server on 127.0.0.1, in long-polling and in webhook mode. Assertions are on what the
resident receives (the fake's recorded sendMessage calls)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select

from bot.app import create_app
from bot.campaigns import service as campaigns
from bot.channels.telegram import split_text
from bot.clock import now as utcnow
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import QuestionLog, Resident, Subscription
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import assert_kept_only_redacted, free_port, prepared, serving

RESIDENT = 5001
SECRET = "webhook-secret-123"


class Chat:
    """A resident's chat with the bot, through the fake server, in either mode."""

    def __init__(self, fake: FakeTelegram, deliver: Callable[[], Any], db: Database) -> None:
        self.fake = fake
        self.deliver = deliver
        self.db = db  # to check what was stored

    async def until(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; sent so far: {[m.get('text', '')[:60] for m in self.fake.sent()]}")
            await asyncio.sleep(0.02)

    async def _exchange(self, push: Callable[[], Any], user: int, replies: int) -> list[dict[str, Any]]:
        before = len(self.fake.sent(user))
        push()
        await self.deliver()
        await self.until(lambda: len(self.fake.sent(user)) >= before + replies)
        await asyncio.sleep(0.05)  # let any further reply of the same update arrive
        return self.fake.sent(user)[before:]

    async def say(self, text: str, user: int = RESIDENT, replies: int = 1) -> list[dict[str, Any]]:
        return await self._exchange(lambda: self.fake.message(user, text), user, replies)

    async def press(self, data: str, user: int = RESIDENT, replies: int = 1) -> list[dict[str, Any]]:
        return await self._exchange(lambda: self.fake.callback(user, data), user, replies)


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def buttons_of(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in messages:
        markup = m.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for b in row:
                out.append(b.get("callback_data") or b.get("url"))
    return out


@pytest.fixture
def fake() -> Any:
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest_asyncio.fixture(params=["polling", "webhook"])
async def chat(request: pytest.FixtureRequest, fake: FakeTelegram, tmp_path) -> AsyncIterator[Chat]:  # type: ignore[no-untyped-def]
    port = free_port()
    webhook = request.param == "webhook"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tg.sqlite3'}",
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        telegram_poll_timeout=1,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook" if webhook else "",
        telegram_webhook_secret=SECRET if webhook else "",
        match_worker=True,  # as `cdsbot run` answers
    )
    assistant = await prepared(settings)
    async with serving(create_app(settings, assistant), port):
        client = httpx.AsyncClient()

        async def deliver() -> None:
            if not webhook:
                return
            while (update := fake.take_update()) is not None:
                r = await client.post(settings.telegram_webhook_url, json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                assert r.status_code == 200

        yield Chat(fake, deliver, assistant.db)
        await client.aclose()
    await assistant.db.dispose()


@pytest.mark.asyncio
async def test_start_registers_commands_and_welcomes(chat: Chat) -> None:
    calls = chat.fake.calls("setMyCommands")
    assert sorted(c.get("language_code") or "vi" for c in calls) == ["en", "vi"]
    every = {"start", "menu", "hoi", "khuvuc", "dangky", "huy", "ngonngu", "xoadulieu", "trogiup"}
    assert all({c["command"] for c in call["commands"]} == every for call in calls)
    sent = await chat.say("/start qr-phuong-an-hai", replies=2)
    assert "Trợ lý Chuyển đổi số Đà Nẵng" in text_of(sent) and "/xoadulieu" in text_of(sent)
    assert any(b.startswith("m:") for b in buttons_of(sent))
    async with chat.db.session() as session:  # where the resident came from (the poster's QR code)
        assert await session.scalar(select(Resident.source).where(Resident.platform_user_id == str(RESIDENT))) == "qr-phuong-an-hai"


@pytest.mark.asyncio
async def test_dangky_asks_the_ward_topics_and_consent_then_huy_stops_in_one_confirmed_tap(chat: Chat) -> None:
    assert "phường, xã nào" in text_of(await chat.say("/dangky"))
    topics = await chat.say("Sơn Trà", replies=2)
    assert "Bằng cách bấm \"Đồng ý\"" in text_of(topics) and "Sơn Trà" in text_of(topics)
    group = next(b for b in buttons_of(topics) if b.startswith("d:t:"))
    ticked = await chat.press(group)
    assert any(row[0]["text"].startswith("✅") for row in ticked[0]["reply_markup"]["inline_keyboard"])
    done = await chat.press("d:ok")
    assert "Đã đăng ký nhận thông báo" in text_of(done) and "/huy" in text_of(done)
    async with chat.db.session() as session:
        resident = await session.scalar(select(Resident).where(Resident.platform_user_id == str(RESIDENT)))
        assert resident is not None and resident.consent_subscribe_at is not None  # the consent and its time
        sub = await session.scalar(select(Subscription).where(Subscription.resident_id == resident.id))
        assert sub is not None and sub.active and sub.topics == [group[len("d:t:"):]] and sub.consented_at is not None
    confirm = await chat.say("/huy")
    assert set(buttons_of(confirm)) == {"u:off", "u:keep"}
    assert "vẫn tiếp tục" in text_of(await chat.press("u:keep"))
    assert "Đã hủy" in text_of(await chat.press("u:off"))
    async with chat.db.session() as session:
        assert (await session.scalar(select(Subscription.active).where(Subscription.resident_id == resident.id))) is False
    assert "chưa đăng ký" in text_of(await chat.press("u:off"))


@pytest.mark.asyncio
async def test_menu_reaches_an_answer_in_three_taps(chat: Chat) -> None:
    top = await chat.say("/menu")
    group = await chat.press(next(b for b in buttons_of(top) if b.startswith("m:dinh-danh")))
    answer = await chat.press(next(b for b in buttons_of(group) if b.startswith("e:")))
    assert "VNeID" in text_of(answer) and "r:up:vneid-la-gi" in buttons_of(answer)


@pytest.mark.asyncio
async def test_question_answer_and_thumbs_down_reasons(chat: Chat) -> None:
    answer = await chat.say("lam sao nop ho so truc tuyen")
    assert "dichvucong" in text_of(answer)
    assert "https://dichvucong.gov.vn" in buttons_of(answer)  # links become URL buttons
    assert answer[0]["parse_mode"] == "HTML"
    why = await chat.press("r:down:nop-ho-so-truc-tuyen")
    assert "Vì sao" in text_of(why) and len(buttons_of(why)) == 4
    thanks = await chat.press(buttons_of(why)[0])
    assert "Cảm ơn" in text_of(thanks)
    async with chat.db.session() as session:  # logged on the question it rates
        row = (await session.execute(select(QuestionLog.entry_id, QuestionLog.feedback).order_by(QuestionLog.id.desc()))).first()
    assert row == ("nop-ho-so-truc-tuyen", "down:" + buttons_of(why)[0].split(":")[1])
    assert chat.fake.calls("answerCallbackQuery")  # the button's spinner is stopped


@pytest.mark.asyncio
async def test_an_answered_message_stays_in_the_inbox_only_redacted(chat: Chat) -> None:
    assert await chat.say("số 0905 123 456 của tôi có dùng VNeID được không")
    await assert_kept_only_redacted(chat.db, "telegram", "có dùng VNeID")


@pytest.mark.asyncio
async def test_suggestions_then_not_this(chat: Chat) -> None:
    sent = await chat.say("hồ sơ")
    assert "Có phải bạn muốn hỏi" in text_of(sent) and "s:none" in buttons_of(sent)
    chosen = await chat.press(buttons_of(sent)[0])
    assert "hồ sơ" in text_of(chosen)
    other = await chat.press("s:none")
    assert "h:ask" in buttons_of(other)


@pytest.mark.asyncio
async def test_unknown_then_a_person_of_the_ward(chat: Chat) -> None:
    sent = await chat.say("khi nào có sóng 5G ở xã Trà My")
    assert "chưa có câu trả lời" in text_of(sent) and "h:ask" in buttons_of(sent)
    ask = await chat.press("h:ask")
    assert "phường, xã nào" in text_of(ask)
    done = await chat.say("Tra My", replies=2)
    assert "Đã ghi nhận câu hỏi" in text_of(done) and "Trà My" in text_of(done)


@pytest.mark.asyncio
async def test_commands_hoi_khuvuc_ngonngu_trogiup_xoadulieu(chat: Chat) -> None:
    assert "/menu" in text_of(await chat.say("/trogiup"))
    assert "điều gì" in text_of(await chat.say("/hoi"))
    assert "phường, xã nào" in text_of(await chat.say("Cho hỏi xã tôi bao giờ có wifi công cộng?"))
    assert "Đã ghi nhận" in text_of(await chat.say("Sơn Trà", replies=2))
    assert "phường, xã nào" in text_of(await chat.say("/khuvuc"))
    assert "Hải Châu" in text_of(await chat.say("hai chau"))
    choose = await chat.say("/ngonngu")
    assert set(buttons_of(choose)) == {"l:vi", "l:en"}
    assert "English" in text_of(await chat.press("l:en"))
    assert "Ministry of Public Security" in text_of(await chat.say("what is vneid"))
    await chat.press("l:vi")
    confirm = await chat.say("/xoadulieu")
    assert set(buttons_of(confirm)) == {"x:yes", "x:no"}
    assert "Đã xóa" in text_of(await chat.press("x:yes"))


@pytest.mark.asyncio
async def test_odd_messages_get_a_sensible_reply(chat: Chat) -> None:
    for push in (chat.fake.photo, chat.fake.sticker, chat.fake.voice):
        sent = await chat._exchange(lambda push=push: push(RESIDENT), RESIDENT, 1)
        assert "tin nhắn chữ" in text_of(sent)
    fwd = await chat._exchange(lambda: chat.fake.forwarded(RESIDENT, "VNeID là gì?"), RESIDENT, 1)
    assert "VNeID" in text_of(fwd)
    emoji = await chat.say("😀😀😀")
    assert text_of(emoji)
    long = await chat.say("vneid " + "a" * 20_000, replies=2)
    assert all(len(m["text"]) <= 4096 for m in long)


@pytest.mark.asyncio
async def test_html_is_escaped(chat: Chat) -> None:
    sent = await chat.say("<b>xin chào</b>")
    assert "<b>" not in text_of(sent)


@pytest.mark.asyncio
async def test_flood_gets_a_polite_reply(chat: Chat) -> None:
    for i in range(20):
        chat.fake.message(RESIDENT + 1, f"câu hỏi số {i}")
    await chat.deliver()
    await chat.until(lambda: len(chat.fake.sent(RESIDENT + 1)) >= 20, timeout=30)
    sent = await chat.say("thêm một câu", user=RESIDENT + 1)
    assert "hơi nhanh" in text_of(sent)


@pytest.mark.asyncio
async def test_send_errors_are_survived(chat: Chat) -> None:
    chat.fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", chat_id=RESIDENT, retry_after=1)
    sent = await chat.say("vneid là gì")
    assert "VNeID" in text_of(sent)  # retried after the wait
    chat.fake.fail("sendMessage", 502, "Bad Gateway", chat_id=RESIDENT)
    assert "VNeID" in text_of(await chat.say("vneid là gì"))
    chat.fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=RESIDENT, times=5)
    failed_before = len(chat.fake.calls("sendMessage:failed"))
    sent_before = len(chat.fake.sent(RESIDENT))
    chat.fake.message(RESIDENT, "vneid là gì")
    await chat.deliver()
    await chat.until(lambda: len(chat.fake.calls("sendMessage:failed")) > failed_before)
    await asyncio.sleep(0.5)
    # A blocked chat is not retried: one attempt, nothing delivered, the bot keeps working.
    assert len(chat.fake.calls("sendMessage:failed")) == failed_before + 1
    assert len(chat.fake.sent(RESIDENT)) == sent_before
    assert "VNeID" in text_of(await chat.say("vneid là gì", user=RESIDENT + 7))


@pytest.mark.asyncio
async def test_a_reply_never_waits_behind_a_campaign_held_by_a_429(chat: Chat) -> None:
    recipients = list(range(81_000, 81_006))
    now = utcnow()
    async with chat.db.engine.begin() as conn:
        await conn.execute(insert(Resident.__table__), [
            {"channel": "telegram", "platform_user_id": str(u), "language": "vi", "display_name": "", "state": {},
             "created_at": now, "last_seen_at": now, "waiting": False} for u in recipients])
        ids = (await conn.execute(select(Resident.id).where(Resident.platform_user_id.in_([str(u) for u in recipients])))).scalars()
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": rid, "area_code": None, "topics": [], "active": True, "consented_at": now} for rid in ids])
    # Telegram answers the campaign's first message to anyone with "retry after 2 s"; the
    # campaign's whole channel waits after each, so it is held at least 12 s.
    for user in recipients:
        chat.fake.fail("sendMessage", 429, "Too Many Requests: retry after 2", chat_id=user, retry_after=2)
    await campaigns.create(chat.db, "Thông báo: lịch tiếp dân tuần sau", now=True)
    await chat.until(lambda: len(chat.fake.calls("sendMessage:failed")) >= 1)  # the campaign now waits
    assert "VNeID" in text_of(await chat.say("vneid là gì"))
    # Answered while the campaign still waited: replies do not share the campaign's pause.
    assert not [m for m in chat.fake.sent() if m["chat_id"] in recipients]
    await chat.until(lambda: {m["chat_id"] for m in chat.fake.sent()} >= set(recipients), timeout=90)
    with chat.fake.lock:
        refused = [t for t, m, _ in chat.fake.state.calls if m == "sendMessage:failed"]
    gaps = [b - a for a, b in zip(refused, refused[1:], strict=False)]
    assert len(refused) == len(recipients) and min(gaps) >= 1.99, gaps  # no send went out during a pause


def test_split_text_on_paragraphs() -> None:
    text = "\n\n".join(["đoạn " + str(i) + " " + "x" * 1500 for i in range(6)])
    parts = split_text(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert parts[0].startswith("đoạn 0") and "\n\n".join(parts) == text
    assert all(len(p) <= 4096 for p in split_text("y" * 10_000))


@pytest.mark.asyncio
async def test_webhook_refuses_a_wrong_secret(fake: FakeTelegram, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", telegram_bot_token=fake.token,
                        telegram_api_base_url=fake.base_url, telegram_webhook_url="https://example.invalid/telegram/webhook",
                        telegram_webhook_secret=SECRET)
    assistant = await prepared(settings)
    transport = httpx.ASGITransport(app=create_app(settings, assistant))
    await assistant.telegram.start()  # type: ignore[union-attr]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        bad = await client.post("/telegram/webhook", json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
        none = await client.post("/telegram/webhook", json={"update_id": 1})
        garbage = await client.post("/telegram/webhook", content=b"x", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert (bad.status_code, none.status_code, garbage.status_code) == (403, 403, 400)
    assert fake.state.webhook["secret_token"] == SECRET and fake.state.webhook["url"].endswith("/telegram/webhook")
    await assistant.telegram.stop()  # type: ignore[union-attr]
    await assistant.db.dispose()


@pytest.mark.asyncio
async def test_readyz_shows_the_telegram_channel(fake: FakeTelegram, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.sqlite3'}", telegram_bot_token=fake.token,
                        telegram_api_base_url=fake.base_url, telegram_poll_timeout=1)
    assistant = await prepared(settings)
    app = create_app(settings, assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        before = await client.get("/readyz")
        assert before.status_code == 503 and before.json()["checks"]["telegram"]["status"] == "no contact yet"
        await assistant.start_channels()
        try:
            deadline = time.monotonic() + 10
            while (await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            assert (await client.get("/readyz")).json()["checks"]["telegram"]["status"] == "ok"
        finally:
            await assistant.stop_channels()
    await assistant.db.dispose()


def test_a_plain_typed_message_is_read_as_ptb_reads_it_and_anything_else_is_left_to_ptb() -> None:
    import copy

    from telegram import Bot, Update

    from bot.channels.telegram import decode, decode_plain

    fake = FakeTelegram()  # not started: only its update builders
    bot = Bot(fake.token)
    plain = [fake.message(5001, "vneid là gì"), fake.message(5002, "/start"), fake.message(5003, "")]
    group = fake.message(5010, "đã xử lý")  # a team member writing in the team's group: the chat is not the person
    plain.append({**group, "message": {**group["message"], "chat": {"id": -100123, "type": "supergroup", "title": "Tổ CNS"}}})
    other = [fake.message(5004, "xong", reply_to="Câu hỏi #12 của cư dân"), fake.forwarded(5005, "Bạn trúng thưởng"),
             fake.callback(5006, "menu"), fake.photo(5007), fake.sticker(5008), fake.voice(5009)]
    for payload in plain:
        fast = decode_plain(payload)
        assert fast is not None and fast == decode(Update.de_json(copy.deepcopy(payload), bot)), payload
    for payload in other:
        assert decode_plain(payload) is None, payload
        assert decode(Update.de_json(copy.deepcopy(payload), bot)) is not None  # PTB's path still reads them
    assert decode(Update.de_json(other[0], bot)).meta == {"reply_to": "Câu hỏi #12 của cư dân"}  # type: ignore[union-attr]
    # Odd shapes are PTB's to accept or reject, never read here.
    base = plain[0]
    odd = [{**base, "edited_message": base["message"]},
           {"update_id": "7", "message": base["message"]},
           {**base, "message": {**base["message"], "from": {**base["message"]["from"], "id": "5001"}}},
           {**base, "message": {**base["message"], "from": {"id": 5001, "is_bot": False}}},
           {**base, "message": {**base["message"], "text": None}},
           {**base, "message": {**base["message"], "caption": "ảnh"}},
           {**base, "message": {k: v for k, v in base["message"].items() if k != "date"}}]
    for payload in odd:
        assert decode_plain(payload) is None, payload
