"""Every resident action through the channel-agnostic dispatcher (one test per rule)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.app import Assistant, prepare
from bot.conversation import FloodGuard
from bot.handlers import Dispatcher
from bot.storage.models import QuestionLog, Resident, Ticket
from tests.helpers import button, make_incoming, payloads, texts


@pytest_asyncio.fixture
async def bot(settings) -> AsyncIterator[Assistant]:  # type: ignore[no-untyped-def]
    assistant = await prepare(settings)
    yield assistant
    await assistant.db.dispose()


async def send(bot: Assistant, text: str | None = None, btn: str | None = None, user: str = "u1"):  # type: ignore[no-untyped-def]
    return await bot.dispatcher.dispatch(make_incoming(text, btn, user))


@pytest.mark.asyncio
async def test_start_welcomes_and_shows_the_menu(bot: Assistant) -> None:
    replies = await send(bot, "/start poster-hai-chau")
    assert "Trợ lý Chuyển đổi số Đà Nẵng" in texts(replies) and "/xoadulieu" in texts(replies)
    assert any(p.startswith("m:") for p in payloads(replies))
    async with bot.db.session() as s:
        assert (await s.scalar(select(Resident.source))) == "poster-hai-chau"


@pytest.mark.asyncio
async def test_every_answer_is_three_taps_from_the_menu(bot: Assistant) -> None:
    top = await send(bot, "/menu")
    reached = set()
    for group_payload in payloads(top):
        group = await send(bot, btn=group_payload)
        for p in payloads(group):
            if p.startswith("e:"):
                answer = await send(bot, btn=p)
                assert answer and answer[0].text
                reached.add(p[2:])
    faq = {e.id for e in bot.kb.entries.values() if e.kind == "faq" and e.status == "published"}
    assert reached == faq


@pytest.mark.asyncio
async def test_question_is_answered_logged_and_rated(bot: Assistant) -> None:
    replies = await send(bot, "lam sao dang ky vneid muc 2")
    assert "công an" in texts(replies).lower()
    assert "r:up:dang-ky-vneid-muc-2" in payloads(replies)
    down = await send(bot, btn="r:down:dang-ky-vneid-muc-2")
    assert "Vì sao" in texts(down) and len(payloads(down)) == 4
    await send(bot, btn=button(down, "Khó hiểu"))
    async with bot.db.session() as s:
        row = await s.scalar(select(QuestionLog))
    assert row is not None and row.decision == "answer" and row.feedback == "down:kho-hieu"


@pytest.mark.asyncio
async def test_unknown_question_goes_to_a_person_after_asking_the_ward(bot: Assistant) -> None:
    replies = await send(bot, "khi nào có sóng 5G ở xã Trà My")
    assert "chưa có câu trả lời" in texts(replies)
    ask = await send(bot, btn=button(replies, "Hỏi người thật"))
    assert "phường, xã nào" in texts(ask)
    done = await send(bot, "hai chau")
    assert "Hải Châu" in texts(done) and "Tổ Công nghệ số cộng đồng" in texts(done)
    async with bot.db.session() as s:
        ticket = await s.scalar(select(Ticket))
    assert ticket is not None and ticket.area_code == "phuong-hai-chau" and "5G" in ticket.question
    # The ward is remembered: the next escalation does not ask again.
    await send(bot, "có lớp dạy lập trình robot cho trẻ em không")
    again = await send(bot, "/hoi")
    assert "điều gì" in texts(again)
    more = await send(bot, "Cho hỏi xã tôi bao giờ có sóng 5G?")
    assert "đã ghi nhận" in texts(more).lower()


@pytest.mark.asyncio
async def test_ambiguous_ward_name_offers_choices(bot: Assistant) -> None:
    await send(bot, "/khuvuc")
    replies = await send(bot, "hoa")
    assert "Có phải bạn ở" in texts(replies) or "chưa tìm thấy" in texts(replies)
    assert "Đã ghi nhận" not in texts(replies)  # a vague name is never taken as an answer


@pytest.mark.asyncio
async def test_suggestions_and_not_this(bot: Assistant) -> None:
    replies = await send(bot, "hồ sơ")
    assert "Có phải bạn muốn hỏi" in texts(replies)
    assert 2 <= len(payloads(replies)) <= 4 and payloads(replies)[-1] == "s:none"
    none = await send(bot, btn="s:none")
    assert "h:ask" in payloads(none)


@pytest.mark.asyncio
async def test_small_talk_gets_a_polite_reply(bot: Assistant) -> None:
    assert "Không có chi" in texts(await send(bot, "cảm ơn nhiều nha"))


@pytest.mark.asyncio
async def test_english_can_be_chosen(bot: Assistant) -> None:
    await send(bot, btn="l:en")
    replies = await send(bot, "vneid la gi")
    assert "Ministry of Public Security" in texts(replies)
    assert "Switched to English" in texts(await send(bot, btn="l:en"))


@pytest.mark.asyncio
async def test_delete_my_data_after_confirmation(bot: Assistant) -> None:
    await send(bot, "vneid là gì")
    await send(bot, "/hoi câu hỏi riêng của tôi")
    await send(bot, "an hai")
    ask = await send(bot, "/xoadulieu")
    assert "Bạn có chắc" in texts(ask)
    kept = await send(bot, btn="x:no")
    assert "không xóa" in texts(kept).lower()
    done = await send(bot, btn="x:yes")
    assert "Đã xóa" in texts(done)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Resident).where(Resident.platform_user_id == "u1")) == 0
        ticket = await s.scalar(select(Ticket))
        assert ticket is not None and ticket.question == "" and ticket.status == "closed"
        rows = (await s.scalars(select(QuestionLog))).all()
        assert rows and all(r.resident_hash == "deleted" and r.normalized == "" for r in rows)


@pytest.mark.asyncio
async def test_flood_gets_a_polite_reply_not_silence(bot: Assistant) -> None:
    d = Dispatcher(bot.db, bot.kb, bot.settings, flood=FloodGuard(limit=3, window=60))
    for _ in range(3):
        await d.dispatch(make_incoming("vneid"))
    replies = await d.dispatch(make_incoming("vneid"))
    assert "hơi nhanh" in texts(replies)


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["", "😀😀😀", "x" * 20_000, "/khonglenh", "?" * 50])
async def test_any_input_gets_a_sensible_reply(bot: Assistant, text: str) -> None:
    replies = await send(bot, text)
    assert replies and all(r.text for r in replies)


@pytest.mark.asyncio
async def test_help_lists_the_commands(bot: Assistant) -> None:
    help_text = texts(await send(bot, "/trogiup"))
    for command in ("/menu", "/hoi", "/khuvuc", "/ngonngu", "/xoadulieu"):
        assert command in help_text


@pytest.mark.asyncio
async def test_a_reason_for_thumbs_down_is_stored_and_offers_a_person(bot: Assistant) -> None:
    await send(bot, "chữ ký số là gì")
    replies = await send(bot, btn="f:sai:chu-ky-so")
    assert "h:ask" in payloads(replies)
    async with bot.db.session() as s:
        assert (await s.scalar(select(QuestionLog.feedback))) == "down:sai"


@pytest.mark.asyncio
async def test_choosing_a_ward_by_button(bot: Assistant) -> None:
    await send(bot, "/khuvuc")
    replies = await send(bot, btn="a:xa-hoa-vang")
    assert "Hòa Vang" in texts(replies)
    async with bot.db.session() as s:
        assert (await s.scalar(select(Resident.area_code))) == "xa-hoa-vang"
    unknown = await send(bot, btn="a:khong-co")
    assert "phường, xã nào" in texts(unknown)


@pytest.mark.asyncio
async def test_a_team_answer_waits_for_a_web_resident(bot: Assistant) -> None:
    from bot.services import deliveries, teams

    team = await teams.create_team(bot.db, "phuong-an-hai", "Tổ CNS phường An Hải")
    code = await teams.create_invite(bot.db, team)
    member = make_incoming(f"/thamgia {code}", user="m1", channel="zalo")
    assert "Chào mừng" in texts(await bot.dispatcher.dispatch(member))
    await send(bot, "khi nào có sóng 5G ở khu phố tôi", user="webuser0000000001")
    await send(bot, btn="h:ask", user="webuser0000000001")
    done = await send(bot, "An Hải", user="webuser0000000001")
    assert "Tổ CNS phường An Hải" in texts(done)
    number = int(texts(done).split("(số ")[1].split(")")[0])
    reply = await bot.dispatcher.dispatch(make_incoming(f"/traloi {number} Quý sau có sóng.", user="m1", channel="zalo"))
    assert "Đã gửi câu trả lời" in texts(reply)
    waiting = await deliveries.take(bot.db, "web", "webuser0000000001")
    assert len(waiting) == 1 and "Quý sau có sóng" in waiting[0].text and "Tổ CNS phường An Hải" in waiting[0].text
    assert await deliveries.take(bot.db, "web", "webuser0000000001") == []  # delivered once


@pytest.mark.asyncio
async def test_subscribe_with_consent_then_unsubscribe(bot: Assistant) -> None:
    from bot.storage.models import Subscription

    ask = await send(bot, "/dangky")
    assert "phường, xã nào" in texts(ask)
    chooser = await send(bot, "Sơn Trà", )
    assert "đồng ý nhận thông báo" in texts(chooser).lower() and "d:ok" in payloads(chooser)
    toggled = await send(bot, btn="d:t:an-toan-so")
    assert any(b.label.startswith("✅") and b.payload == "d:t:an-toan-so" for r in toggled for b in r.buttons)
    assert "Đã đăng ký" in texts(await send(bot, btn="d:ok"))
    async with bot.db.session() as s:
        sub = await s.scalar(select(Subscription))
        consent = await s.scalar(select(Resident.consent_subscribe_at))
    assert sub is not None and sub.active and sub.topics == ["an-toan-so"] and sub.area_code == "phuong-son-tra"
    assert consent is not None
    confirm = await send(bot, "/huy")
    assert set(payloads(confirm)) == {"u:off", "u:keep"}
    assert "vẫn tiếp tục" in texts(await send(bot, btn="u:keep"))
    assert "Đã hủy" in texts(await send(bot, btn="u:off"))
    async with bot.db.session() as s:
        sub = await s.scalar(select(Subscription))
    assert sub is not None and not sub.active and sub.end_reason == "unsubscribed"
    assert "chưa đăng ký" in texts(await send(bot, btn="u:off"))
    again = await send(bot, btn="d:all")
    assert "Tất cả" in " ".join(b.label for r in again for b in r.buttons)


@pytest.mark.asyncio
async def test_the_privacy_answer_states_the_live_retention_setting(settings) -> None:  # type: ignore[no-untyped-def]
    # The answer says {retention}; what the resident reads comes from the running Settings.
    assistant = await prepare(settings.model_copy(update={"question_retention_days": 30}))
    try:
        by_menu = texts(await send(assistant, btn="e:quyen-rieng-tu-bot"))
        assert "tối đa 30 ngày" in by_menu and "{" not in by_menu and "365" not in by_menu
        asked = texts(await send(assistant, "trợ lý lưu dữ liệu của tôi bao lâu", user="u2"))
        assert "tối đa 30 ngày" in asked
    finally:
        await assistant.db.dispose()
