"""Zalo Bot Platform end to end: our httpx client against the fake Zalo server, in
long-polling and webhook mode; numbered choices answered with a number."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import Assistant, create_app
from bot.channels.base import Button, Link, Reply
from bot.channels.zalo_bot import render
from bot.services import teams
from bot.settings import Settings
from bot.storage.models import InboxItem, QuestionLog, Resident, ScamCheck
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.helpers import assert_kept_only_redacted, free_port, prepared, serving

USER = "6ede9afa66b88fe6d6a9"
SECRET = "zalo-webhook-secret"


class ZaloChat:
    def __init__(self, fake: FakeZaloBot, deliver: Callable[[], Any]) -> None:
        self.fake = fake
        self.deliver = deliver

    async def say(self, text: str, user: str = USER, replies: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent(user))
        self.fake.message(user, text)
        await self.deliver()
        deadline = time.monotonic() + 15
        while len(self.fake.sent(user)) < before + replies:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; sent: {[m['text'][:50] for m in self.fake.sent()]}")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        return self.fake.sent(user)[before:]


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


@pytest_asyncio.fixture(params=["polling", "webhook"])
async def zalo(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[tuple[ZaloChat, Assistant, FakeZaloBot]]:  # type: ignore[no-untyped-def]
    fake = FakeZaloBot().start()
    port = free_port()
    webhook = request.param == "webhook"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'zalo.sqlite3'}", zalo_bot_token=fake.token,
        zalo_bot_api_base_url=fake.base_url, zalo_bot_poll_interval=0.05, zalo_bot_poll_timeout=1,
        zalo_bot_webhook_url=f"http://127.0.0.1:{port}/zalo/bot/webhook" if webhook else "",
        zalo_bot_webhook_secret=SECRET if webhook else "",
    )
    assistant = await prepared(settings)
    async with serving(create_app(settings, assistant), port):
        client = httpx.AsyncClient()

        async def deliver() -> None:
            if not webhook:
                return
            while (update := fake.take_update()) is not None:
                wrapped = {"ok": True, "result": update} if update["message"]["text"].startswith("w") else update
                r = await client.post(settings.zalo_bot_webhook_url, json=wrapped, headers={"X-Bot-Api-Secret-Token": SECRET})
                assert r.status_code == 200

        yield ZaloChat(fake, deliver), assistant, fake
        await client.aclose()
    await assistant.db.dispose()
    fake.stop()


@pytest.mark.asyncio
async def test_question_and_a_numbered_suggestion_chosen_by_number(zalo) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = zalo
    answer = await chat.say("vneid la gi")
    assert "Bộ Công an" in joined(answer) and "1. " in joined(answer) and "Trả lời bằng số" in joined(answer)
    suggest = await chat.say("hồ sơ")
    text = joined(suggest)
    assert "Có phải bạn muốn hỏi" in text and "1. " in text
    chosen = await chat.say("1")
    assert "hồ sơ" in joined(chosen)
    assert all(len(m["text"]) <= 2000 for m in fake.sent())


@pytest.mark.asyncio
async def test_a_handled_message_stays_in_the_inbox_only_redacted(zalo) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = zalo
    assert joined(await chat.say("số 0905 123 456 của tôi có dùng VNeID được không")).strip()
    await assert_kept_only_redacted(assistant.db, "zalo", "có dùng VNeID")  # answered or not, the item is finished


@pytest.mark.asyncio
async def test_escalation_and_the_team_reply_come_back(zalo) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, fake = zalo
    team = await teams.create_team(assistant.db, "phuong-hai-chau", "Tổ CNS phường Hải Châu")
    code = await teams.create_invite(assistant.db, team)
    assert "Chào mừng" in joined(await chat.say(f"/thamgia {code}", user="member1"))
    unknown = await chat.say("khi nào có sóng 5G ở khu phố tôi")
    numbers = {line.split(". ", 1)[1]: line.split(". ", 1)[0] for line in joined(unknown).splitlines() if ". " in line[:4]}
    pick = numbers.get("Hỏi người thật") or numbers.get("Không phải")
    assert pick is not None
    step = await chat.say(pick)
    if "Hỏi người thật" in joined(step):  # "Không phải" first offers the person
        step = await chat.say("1")
    assert "phường, xã nào" in joined(step)
    done = await chat.say("Hải Châu", replies=2)
    assert "Tổ CNS phường Hải Châu" in joined(done)
    note = fake.sent("member1")[-1]["text"]
    number = note.split("(số ")[1].split(")")[0]
    await chat.say(f"/traloi {number} Quý sau có sóng 5G.", user="member1")
    deadline = time.monotonic() + 10
    while "Quý sau có sóng" not in joined(fake.sent(USER)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_subscribe_unsubscribe_and_delete_my_data(zalo) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = zalo
    assert "phường, xã nào" in joined(await chat.say("/dangky"))
    topics = joined(await chat.say("Sơn Trà", replies=2))
    ok = next(line.split(".")[0] for line in topics.splitlines() if "Đồng ý nhận thông báo" in line)
    assert "Đã đăng ký" in joined(await chat.say(ok))
    confirm = joined(await chat.say("/huy"))
    stop = next(line.split(".")[0] for line in confirm.splitlines() if "Hủy nhận tin" in line)
    assert "Đã hủy" in joined(await chat.say(stop))
    ask = joined(await chat.say("/xoadulieu"))
    yes = next(line.split(".")[0] for line in ask.splitlines() if "Xóa hết" in line)
    assert "Đã xóa" in joined(await chat.say(yes))
    async with assistant.db.session() as session:  # and nothing about the resident is stored again
        assert await session.scalar(select(Resident).where(Resident.platform_user_id == USER)) is None


@pytest.mark.asyncio
async def test_a_pasted_scam_is_checked_though_zalo_marks_no_forward(zalo) -> None:  # type: ignore[no-untyped-def]
    """Zalo says nothing of forwarding: a message the resident pastes is told from their own
    request by how it reads, and only the received one is checked."""
    chat, assistant, _ = zalo
    pasted = ("EVNCPC: Quy khach no tien dien 2 thang, se bi cat dien trong 2 gio. Thanh toan ngay tai "
              "evn-thanhtoan.online hoac goi 0868 117 452.")
    checked = joined(await chat.say(pasted))
    assert "LỪA ĐẢO" in checked and "«evn-thanhtoan.online»" in checked and "Hỏi Tổ CNS" in checked
    own = joined(await chat.say("Nhờ tổ CNS gọi lại giúp tôi số 0905 338 621, tôi cần hỏi về hóa đơn điện tử"))
    assert "Dấu hiệu tôi thấy" not in own and "LỪA ĐẢO" not in own
    async with assistant.db.session() as session:
        checks = (await session.scalars(select(ScamCheck))).all()
        logged = (await session.scalars(select(QuestionLog.normalized))).all()
    assert [(c.channel, c.verdict, c.forwarded) for c in checks] == [("zalo", "scam", False)]
    assert len(logged) == 1 and "0905" not in logged[0]


@pytest.mark.asyncio
async def test_a_replayed_update_is_answered_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeZaloBot().start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'z.sqlite3'}", zalo_bot_token=fake.token,
                        zalo_bot_api_base_url=fake.base_url, zalo_bot_poll_interval=0.05, zalo_bot_poll_timeout=1)
    assistant = await prepared(settings)
    fake.replay = True
    fake.message(USER, "vneid là gì")
    await assistant.start_channels()
    try:
        deadline = time.monotonic() + 10
        while not fake.sent(USER):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        assert len(fake.sent(USER)) == 1
    finally:
        await assistant.stop_channels()
        await assistant.db.dispose()
        fake.stop()


@pytest.mark.asyncio
async def test_webhook_secret_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeZaloBot().start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", zalo_bot_token=fake.token,
                        zalo_bot_api_base_url=fake.base_url, zalo_bot_webhook_url="https://example.invalid/zalo/bot/webhook",
                        zalo_bot_webhook_secret=SECRET)
    assistant = await prepared(settings)
    await assistant.start_channels()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
            update = {"message": {"message_id": "abc", "from": {"id": "u"}, "chat": {"id": "u"}, "text": "hi"}}
            assert (await c.post("/zalo/bot/webhook", json=update, headers={"X-Bot-Api-Secret-Token": "wrong"})).status_code == 403
            assert (await c.post("/zalo/bot/webhook", json=update)).status_code == 403
            bad = await c.post("/zalo/bot/webhook", content=b"{", headers={"X-Bot-Api-Secret-Token": SECRET})
            assert bad.status_code == 400
        assert fake.webhook == {"url": "https://example.invalid/zalo/bot/webhook", "secret_token": SECRET}
    finally:
        await assistant.stop_channels()
        await assistant.db.dispose()
        fake.stop()


@pytest.mark.asyncio
async def test_webhook_answers_200_to_an_event_without_a_message_and_ignores_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A platform resends what its webhook refuses: an event we do not handle is acknowledged."""
    fake = FakeZaloBot().start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", zalo_bot_token=fake.token,
                        zalo_bot_api_base_url=fake.base_url, zalo_bot_webhook_url="https://example.invalid/zalo/bot/webhook",
                        zalo_bot_webhook_secret=SECRET)
    assistant = await prepared(settings)
    await assistant.start_channels()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
            headers = {"X-Bot-Api-Secret-Token": SECRET}
            for body in ({"event_name": "message.unsupported.received"}, {"ok": True, "result": {"event_name": "x"}},
                         {"ok": True, "result": {"message": "not an object"}}, [1, 2]):
                r = await c.post("/zalo/bot/webhook", json=body, headers=headers)
                assert r.status_code == 200, body
        async with assistant.db.engine.connect() as conn:
            assert (await conn.execute(select(InboxItem.id))).first() is None  # nothing stored, nothing answered
        assert not fake.sent()
    finally:
        await assistant.stop_channels()
        await assistant.db.dispose()
        fake.stop()


def test_render_numbers_buttons_and_lists_links() -> None:
    text, payloads = render(Reply("Chọn:", buttons=(Button("A", "e:a"), Button("B", "e:b")),
                                  links=(Link("Cổng", "https://dichvucong.gov.vn"),)))
    assert "1. A\n2. B" in text and "Cổng: https://dichvucong.gov.vn" in text and payloads == ["e:a", "e:b"]
