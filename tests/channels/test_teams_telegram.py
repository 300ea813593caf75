"""Tổ CNS end to end through the fake Bot API: a resident and team members in their own
Telegram chats, two teams, the whole ticket lifecycle (with a controllable clock)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot import clock
from bot.app import Assistant, create_app
from bot.services import teams
from bot.settings import Settings
from bot.storage.models import KbEntry, Ticket
from tests.channels.test_telegram import RESIDENT, Chat, buttons_of, text_of
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import free_port, prepared, serving

MEMBER, MEMBER2, OTHER = 6002, 6003, 6004


@pytest_asyncio.fixture
async def world(tmp_path) -> AsyncIterator[tuple[Chat, Assistant, FakeTelegram]]:  # type: ignore[no-untyped-def]
    fake = FakeTelegram().start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'teams.sqlite3'}", telegram_bot_token=fake.token,
                        telegram_api_base_url=fake.base_url, telegram_poll_timeout=1, ticket_check_seconds=3600)
    assistant = await prepared(settings)
    hai_chau = await teams.create_team(assistant.db, "phuong-hai-chau", "Tổ CNS phường Hải Châu")
    son_tra = await teams.create_team(assistant.db, "phuong-son-tra", "Tổ CNS phường Sơn Trà")
    codes = [await teams.create_invite(assistant.db, hai_chau, leader=True), await teams.create_invite(assistant.db, hai_chau),
             await teams.create_invite(assistant.db, son_tra)]
    async with serving(create_app(settings, assistant), free_port()):

        async def nothing() -> None:
            return None

        chat = Chat(fake, nothing, assistant.db)
        for user, code in zip((MEMBER, MEMBER2, OTHER), codes, strict=True):
            assert "Chào mừng" in text_of(await chat.say(f"/thamgia {code}", user=user))
        yield chat, assistant, fake
    await assistant.db.dispose()
    fake.stop()


async def escalate(chat: Chat, question: str = "khi nào có sóng 5G ở khu phố tôi") -> int:
    """The resident of Hải Châu asks something unknown and passes it to a person."""
    await chat.say(question)
    await chat.press("h:ask")
    done = await chat.say("Hải Châu", replies=2)
    assert "Tổ CNS phường Hải Châu" in text_of(done)
    await chat.until(lambda: len(chat.fake.sent(MEMBER2)) >= 2)
    return int(text_of(chat.fake.sent(MEMBER)[-1:]).split("(số ")[1].split(")")[0])


@pytest.mark.asyncio
async def test_invite_codes_are_one_time(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = world
    code = await teams.create_invite(assistant.db, 1)
    assert "Chào mừng" in text_of(await chat.say(f"/thamgia {code}", user=7001))
    assert "đã được dùng" in text_of(await chat.say(f"/thamgia {code}", user=7002))


@pytest.mark.asyncio
async def test_question_reaches_the_team_and_the_answer_reaches_the_resident(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, fake = world
    number = await escalate(chat)
    note = fake.sent(MEMBER)[-1]
    assert "sóng 5G" in note["text"] and f"t:claim:{number}" in buttons_of([note])
    assert str(RESIDENT) not in note["text"]  # members never see the platform id
    assert fake.sent(OTHER) == [] or "sóng 5G" not in text_of(fake.sent(OTHER))  # another area's team is not told
    assert "Bạn đã nhận" in text_of(await chat.press(f"t:claim:{number}", user=MEMBER))
    before = len(fake.sent(RESIDENT))
    done = await chat.say(f"/traloi {number} Dự kiến quý sau nhà mạng phủ sóng 5G ở phường.", user=MEMBER)
    assert "Đã gửi câu trả lời" in text_of(done)
    await chat.until(lambda: len(fake.sent(RESIDENT)) > before)
    answer = fake.sent(RESIDENT)[-1]
    assert "Tổ CNS phường Hải Châu" in answer["text"] and "quý sau" in answer["text"]
    assert f"r:up:ticket-{number}" in buttons_of([answer])
    proposed = await chat.press(f"t:propose:{number}", user=MEMBER)
    assert "de-xuat-" in text_of(proposed)
    async with assistant.db.session() as s:
        entry = await s.get(KbEntry, f"de-xuat-{number}")
    assert entry is not None and entry.status == "draft" and "sóng 5G" in entry.alternates[0]


@pytest.mark.asyncio
async def test_two_members_claim_at_once_one_wins(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = world
    number = await escalate(chat)
    a = await teams.member_of(assistant.db, "telegram", str(MEMBER))
    b = await teams.member_of(assistant.db, "telegram", str(MEMBER2))
    assert a is not None and b is not None
    results = await asyncio.gather(teams.claim(assistant.db, number, a), teams.claim(assistant.db, number, b))
    assert sorted(results) == [False, True]
    loser = MEMBER2 if results[0] else MEMBER
    assert "người khác nhận" in text_of(await chat.press(f"t:claim:{number}", user=loser))


@pytest.mark.asyncio
async def test_another_area_cannot_see_or_answer(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, _ = world
    number = await escalate(chat)
    assert "không thuộc tổ" in text_of(await chat.press(f"t:claim:{number}", user=OTHER))
    assert "Không có câu hỏi số" in text_of(await chat.say(f"/traloi {number} tôi trả lời thử", user=OTHER))
    assert "dành cho thành viên" in text_of(await chat.say(f"/traloi {number} x", user=RESIDENT))


@pytest.mark.asyncio
async def test_transfer_to_another_team_and_to_the_city(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, fake = world
    number = await escalate(chat)
    assert "phường, xã nào" in text_of(await chat.press(f"t:move:{number}", user=MEMBER))
    moved = await chat.say("Sơn Trà", user=MEMBER)
    assert "Sơn Trà" in text_of(moved)
    await chat.until(lambda: any(f"số {number}" in m["text"] for m in fake.sent(OTHER)))
    assert "Bạn đã nhận" in text_of(await chat.press(f"t:claim:{number}", user=OTHER))
    await chat.press(f"t:move:{number}", user=OTHER)
    assert "thành phố" in text_of(await chat.say("thành phố", user=OTHER))
    view = await teams.ticket(assistant.db, number)
    assert view is not None and view.team_id is None and view.status == "open"


@pytest.mark.asyncio
async def test_not_in_scope_tells_the_resident(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = world
    number = await escalate(chat)
    before = len(fake.sent(RESIDENT))
    assert "không thuộc phạm vi" in text_of(await chat.press(f"t:reject:{number}", user=MEMBER2))
    await chat.until(lambda: len(fake.sent(RESIDENT)) > before)
    assert "1022" in fake.sent(RESIDENT)[-1]["text"]


@pytest.mark.asyncio
async def test_reminder_then_escalation_in_working_time_only(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, fake = world
    clock.set_now(dt.datetime(2026, 11, 27, 8, 0))  # Friday 15:00 in Đà Nẵng
    number = await escalate(chat)
    async with assistant.db.session() as s:
        created = (await s.get(Ticket, number)).created_at  # type: ignore[union-attr]
    assert created.date() == dt.date(2026, 11, 27)
    # Past the 8-hour target, but on a Sunday night in Đà Nẵng: nothing is sent.
    sunday_night = dt.datetime(2026, 11, 29, 15, 0)  # 22:00 in UTC+7
    assert await assistant.check_tickets(sunday_night) == (0, 0)
    monday = dt.datetime(2026, 11, 30, 1, 0)  # Monday 08:00 in Đà Nẵng
    sent_before = len(fake.sent(MEMBER))
    assert await assistant.check_tickets(monday) == (1, 0)
    await chat.until(lambda: len(fake.sent(MEMBER)) > sent_before)
    assert "Nhắc" in fake.sent(MEMBER)[-1]["text"]
    assert await assistant.check_tickets(monday + dt.timedelta(minutes=5)) == (0, 0)  # reminded once
    assert await assistant.check_tickets(monday + dt.timedelta(hours=8, minutes=1)) == (0, 1)
    async with assistant.db.session() as s:
        assert (await s.get(Ticket, number)).escalated_at is not None  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_resident_deleting_data_closes_the_ticket(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = world
    number = await escalate(chat)
    await chat.say("/xoadulieu")
    await chat.press("x:yes")
    view = await teams.ticket(assistant.db, number)
    assert view is not None and view.status == "closed" and view.question == ""
    member = await teams.member_of(assistant.db, "telegram", str(MEMBER))
    assert member is not None and not await teams.answer(assistant.db, number, member, "muộn rồi")


@pytest.mark.asyncio
async def test_team_statistics(world) -> None:  # type: ignore[no-untyped-def]
    chat, assistant, _ = world
    number = await escalate(chat)
    await chat.say(f"/traloi {number} Đã có lịch phủ sóng.", user=MEMBER)
    rows = {r["team"]: r for r in await teams.stats(assistant.db)}
    assert rows["Tổ CNS phường Hải Châu"]["received"] == 1 and rows["Tổ CNS phường Hải Châu"]["answered"] == 1
    assert rows["Tổ CNS phường Sơn Trà"]["received"] == 0
    hai_chau = rows["Tổ CNS phường Hải Châu"]
    assert isinstance(hai_chau["median_hours"], float) and hai_chau["median_hours"] < 1
    assert sorted(m["answered"] for m in hai_chau["members"]) == [0, 1]  # type: ignore[union-attr]
    async with assistant.db.session() as s:
        assert len((await s.scalars(select(Ticket))).all()) == 1


@pytest.mark.asyncio
async def test_answer_button_then_text(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = world
    number = await escalate(chat)
    assert "Gõ câu trả lời" in text_of(await chat.press(f"t:answer:{number}", user=MEMBER2))
    before = len(fake.sent(RESIDENT))
    assert "Đã gửi" in text_of(await chat.say("Bạn hỏi nhà mạng gần nhất nhé.", user=MEMBER2))
    await chat.until(lambda: len(fake.sent(RESIDENT)) > before)
    assert "nhà mạng gần nhất" in fake.sent(RESIDENT)[-1]["text"]


@pytest.mark.asyncio
async def test_an_answer_that_cannot_be_delivered_waits_for_the_next_message(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = world
    number = await escalate(chat)
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=RESIDENT, times=1)
    saved = await chat.say(f"/traloi {number} Câu trả lời đến muộn.", user=MEMBER)
    assert "sẽ nhận khi quay lại" in text_of(saved)
    later = await chat.say("xin chào", replies=2)
    assert "Câu trả lời đến muộn" in text_of(later)


@pytest.mark.asyncio
async def test_replying_to_the_notification_answers_the_ticket(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = world
    number = await escalate(chat)
    note = fake.sent(MEMBER)[-1]["text"]
    before = len(fake.sent(RESIDENT))
    sent = await chat._exchange(lambda: fake.message(MEMBER, "Tuần sau tổ đến tận nhà hướng dẫn.", reply_to=note),
                                MEMBER, 1)
    assert "Đã gửi câu trả lời" in text_of(sent)
    await chat.until(lambda: len(fake.sent(RESIDENT)) > before)
    assert "tận nhà" in fake.sent(RESIDENT)[-1]["text"] and f"(số {number})" in fake.sent(RESIDENT)[-1]["text"]


@pytest.mark.asyncio
async def test_a_resident_replying_to_the_bot_is_just_asking(world) -> None:  # type: ignore[no-untyped-def]
    chat, _, fake = world
    await escalate(chat)
    confirmation = fake.sent(RESIDENT)[-1]["text"]
    sent = await chat._exchange(lambda: fake.message(RESIDENT, "VNeID là gì?", reply_to=confirmation), RESIDENT, 1)
    assert "Bộ Công an" in text_of(sent)
