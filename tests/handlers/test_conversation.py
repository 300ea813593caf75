"""Every resident action through the channel-agnostic dispatcher (one test per rule)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.app import Assistant
from bot.conversation import FloodGuard, handling
from bot.handlers import Dispatcher
from bot.services.knowledge import KnowledgeBase
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import QuestionLog, Resident, Ticket
from tests.helpers import button, make_incoming, payloads, prepared, texts


@pytest_asyncio.fixture
async def bot(settings) -> AsyncIterator[Assistant]:  # type: ignore[no-untyped-def]
    assistant = await prepared(settings)
    yield assistant
    await assistant.db.dispose()


async def send(bot: Assistant, text: str | None = None, btn: str | None = None, user: str = "u1"):  # type: ignore[no-untyped-def]
    # Team members ("m…") work from a chat app: joining a team is refused on the web chat.
    channel = "telegram" if user.startswith("m") else "web"
    return await bot.dispatcher.dispatch(make_incoming(text, btn, user, channel=channel))


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
async def test_the_flood_limit_holds_across_workers_sharing_a_database(db: Database, settings: Settings) -> None:
    """Two dispatchers stand for two workers on one database; a resident's messages go
    to each in turn. Shared counting (PostgreSQL's default) holds the resident to the
    one limit; counting in each process's memory would let twice as many through."""
    kb = KnowledgeBase(db, settings)  # not loaded: "/trogiup" needs no entry
    workers = [Dispatcher(db, kb, settings, flood=FloodGuard(limit=3, window=60, shared=True)) for _ in range(2)]
    replies = [texts(await workers[i % 2].dispatch(make_incoming("/trogiup"))) for i in range(4)]
    assert not any("hơi nhanh" in r for r in replies[:3])
    assert "hơi nhanh" in replies[3]
    assert (await Dispatcher(db, kb, settings).flood.allow(db, "other")) is True
    apart = [Dispatcher(db, kb, settings, flood=FloodGuard(limit=3, window=60)) for _ in range(2)]
    alone = [texts(await apart[i % 2].dispatch(make_incoming("/trogiup", user="u2"))) for i in range(4)]
    assert not any("hơi nhanh" in r for r in alone)  # what the shared count is for


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
    assistant = await prepared(settings.model_copy(update={"question_retention_days": 30}))
    try:
        by_menu = texts(await send(assistant, btn="e:quyen-rieng-tu-bot"))
        assert "tối đa 30 ngày" in by_menu and "{" not in by_menu and "365" not in by_menu
        asked = texts(await send(assistant, "trợ lý lưu dữ liệu của tôi bao lâu", user="u2"))
        assert "tối đa 30 ngày" in asked
    finally:
        await assistant.db.dispose()


# ---- No dead ends: every waiting state can be left (issue 19) ----

async def _state(bot: Assistant, user: str = "u1") -> dict:  # type: ignore[type-arg]
    async with bot.db.session() as s:
        return dict(await s.scalar(select(Resident.state).where(Resident.platform_user_id == user)) or {})


@pytest.mark.asyncio
async def test_ward_prompt_is_left_by_commands_buttons_words_and_questions(bot: Assistant) -> None:
    unknown = await send(bot, "khi nào có sóng 5G ở xã Trà My")
    ask = await send(bot, btn=button(unknown, "Hỏi người thật"))
    assert "phường, xã nào" in texts(ask) and "c:" in payloads(ask)  # the prompt carries "Thôi"
    # 1. a command works and drops the prompt
    menu = await send(bot, "/menu")
    assert "Chọn nhóm chủ đề" in texts(menu) and "pending" not in await _state(bot)
    # 2. a menu button (the web chat's Chủ đề) works and drops it
    await send(bot, btn=button(unknown, "Hỏi người thật"))
    assert "Chọn nhóm chủ đề" in texts(await send(bot, btn="m:")) and "pending" not in await _state(bot)
    # 3. the Thôi button, the words and /huy leave it
    for leave in ({"btn": "c:"}, {"text": "thôi"}, {"text": "hủy"}, {"text": "Không"}, {"text": "/huy"}):
        await send(bot, btn=button(unknown, "Hỏi người thật"))
        left = await send(bot, **leave)
        assert "Đã thôi" in texts(left), leave
        assert "Bạn muốn ngừng nhận thông báo" not in texts(left)  # /huy here means "cancel", not "unsubscribe"
        assert "pending" not in await _state(bot)
    # 4. a clear question is answered, and the resident is told the ward question was dropped
    for question in ("tui bị lừa chuyển khoản rồi phải làm sao", "lừa đảo", "cảm ơn nghe"):
        await send(bot, btn=button(unknown, "Hỏi người thật"))
        answered = await send(bot, question)
        assert "đã thôi hỏi phường, xã" in texts(answered), question
        assert "chưa tìm thấy phường" not in texts(answered) and "La Dêê" not in texts(answered)
        assert "pending" not in await _state(bot)
    # /start works too
    await send(bot, btn=button(unknown, "Hỏi người thật"))
    assert "Xin chào" in texts(await send(bot, "/start")) and "pending" not in await _state(bot)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 0  # nothing was passed on


@pytest.mark.asyncio
async def test_a_particle_alone_asks_for_the_question_and_keeps_the_ward_prompt(bot: Assistant) -> None:
    for particle in ("hả", "a", "e ơi"):
        reply = texts(await send(bot, particle))
        assert "Bạn muốn hỏi điều gì?" in reply, particle
        assert "Có phải bạn muốn hỏi" not in reply and "Hỏi người thật" not in reply, particle
    unknown = await send(bot, "khi nào có sóng 5G ở xã Trà My")
    await send(bot, btn=button(unknown, "Hỏi người thật"))
    stay = await send(bot, "hả")  # not a question: the ward question stays, with its way out
    assert "đã thôi hỏi phường, xã" not in texts(stay) and "c:" in payloads(stay)
    assert (await _state(bot)).get("pending")


@pytest.mark.asyncio
async def test_question_for_a_person_prompt_can_be_left(bot: Assistant) -> None:
    ask = await send(bot, "/hoi")
    assert "điều gì" in texts(ask) and "c:" in payloads(ask)
    assert "Đã thôi" in texts(await send(bot, "thôi"))
    await send(bot, "/hoi")
    assert "Chọn nhóm chủ đề" in texts(await send(bot, "/menu"))
    assert "pending" not in await _state(bot)
    await send(bot, "/hoi")
    assert "Đã thôi" in texts(await send(bot, btn="c:"))
    for command in ("/thoi", "/cancel"):
        await send(bot, "/hoi")
        assert "Đã thôi" in texts(await send(bot, command))
    assert "pending" not in await _state(bot)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 0


async def _member_with_ticket(bot: Assistant) -> int:
    from bot.services import teams

    team = await teams.create_team(bot.db, "phuong-an-hai", "Tổ CNS phường An Hải")
    code = await teams.create_invite(bot.db, team)
    await send(bot, f"/thamgia {code}", user="m1")
    await send(bot, "/khuvuc", user="r1")
    await send(bot, "An Hải", user="r1")
    done = await send(bot, "/hoi bao giờ có sóng 5G ở tổ dân phố tôi", user="r1")
    return int(texts(done).split("(số ")[1].split(")")[0])


@pytest.mark.asyncio
async def test_team_answer_prompt_can_be_left(bot: Assistant) -> None:
    number = await _member_with_ticket(bot)
    prompt = await send(bot, btn=f"t:answer:{number}", user="m1")
    assert "Gõ câu trả lời" in texts(prompt) and "c:" in payloads(prompt)
    assert "Đã thôi" in texts(await send(bot, "hủy", user="m1"))
    assert "pending" not in await _state(bot, "m1") and "answer_ticket" not in await _state(bot, "m1")
    await send(bot, btn=f"t:answer:{number}", user="m1")
    assert "Cách dùng" in texts(await send(bot, "/traloi", user="m1"))  # a command works and drops it
    assert "pending" not in await _state(bot, "m1")
    from bot.services import teams

    assert (await teams.ticket(bot.db, number)).status != "answered"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_transfer_prompt_can_be_left_and_takes_old_names(bot: Assistant) -> None:
    number = await _member_with_ticket(bot)
    prompt = await send(bot, btn=f"t:move:{number}", user="m1")
    assert "phường, xã nào" in texts(prompt) and "c:" in payloads(prompt)
    assert "Đã thôi" in texts(await send(bot, btn="c:", user="m1"))
    assert "move_ticket" not in await _state(bot, "m1")
    await send(bot, btn=f"t:move:{number}", user="m1")
    assert "Chọn nhóm chủ đề" in texts(await send(bot, btn="m:", user="m1"))
    assert "move_ticket" not in await _state(bot, "m1")
    await send(bot, btn=f"t:move:{number}", user="m1")
    moved = await send(bot, "Thạc Gián", user="m1")  # an old name: phường Thạc Gián is now in phường Thanh Khê
    assert "Thanh Khê" in texts(moved) and "Đã chuyển" in texts(moved)


@pytest.mark.asyncio
async def test_subscription_steps_can_be_left(bot: Assistant) -> None:
    from bot.storage.models import Subscription

    ask = await send(bot, "/dangky")
    assert "c:" in payloads(ask)
    assert "Đã thôi" in texts(await send(bot, "không"))
    await send(bot, "/dangky")
    topics = await send(bot, "Sơn Trà")
    assert "d:ok" in payloads(topics) and "c:" in payloads(topics)
    await send(bot, btn="d:t:an-toan-so")
    left = await send(bot, "vneid là gì")  # a question: answered, the subscription dropped
    assert "đã thôi đăng ký nhận thông báo" in texts(left) and "công an" in texts(left).lower()
    state = await _state(bot)
    assert "pending" not in state and "sub_topics" not in state
    await send(bot, "/dangky")
    assert "Đã thôi" in texts(await send(bot, btn="c:"))
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Subscription)) == 0


@pytest.mark.asyncio
async def test_data_deletion_prompt_can_be_left(bot: Assistant) -> None:
    await send(bot, "vneid là gì")
    for leave in ({"text": "thôi"}, {"text": "/menu"}, {"btn": "m:"}, {"text": "chữ ký số là gì"}):
        ask = await send(bot, "/xoadulieu")
        assert "x:no" in payloads(ask)
        left = await send(bot, **leave)
        assert "Đã xóa" not in texts(left), leave
        assert "pending" not in await _state(bot)
    assert "chưa xóa gì" in texts(left)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Resident)) == 1  # nothing deleted


# ---- Old names (before 1 July 2025) ----

@pytest.mark.asyncio
async def test_an_old_ward_name_is_explained_and_confirmed(bot: Assistant) -> None:
    await send(bot, "/khuvuc")
    told = await send(bot, "Thạc Gián")
    assert "Phường Thạc Gián cũ nay thuộc phường Thanh Khê" in texts(told)
    assert payloads(told) == ["a:phuong-thanh-khe", "c:"]
    assert "Đã ghi nhận: bạn ở Phường Thanh Khê" in texts(await send(bot, "có"))
    await send(bot, "/khuvuc")
    split = await send(bot, "xã Hòa Liên")  # split between two wards of today
    assert {"a:phuong-lien-chieu", "a:phuong-hai-van"} <= set(payloads(split))
    district = await send(bot, "quận Hải Châu")  # a former quận: its wards of today
    assert "Quận Hải Châu cũ nay gồm" in texts(district)
    assert {"a:phuong-hai-chau", "a:phuong-hoa-cuong"} <= set(payloads(district))
    same = await send(bot, "Hải Châu")  # the name of today wins
    assert "Đã ghi nhận: bạn ở Phường Hải Châu" in texts(same)


@pytest.mark.asyncio
async def test_old_names_work_when_asking_a_person_and_subscribing(bot: Assistant) -> None:
    await send(bot, "khi nào có sóng 5G ở khu phố tôi")
    await send(bot, btn="h:ask")
    told = await send(bot, "hoa minh")
    assert "Hòa Minh cũ nay thuộc" in texts(told) and "a:phuong-hoa-khanh" in payloads(told)
    done = await send(bot, btn="a:phuong-hoa-khanh")
    assert "Hòa Khánh" in texts(done) and "(số " in texts(done)
    await send(bot, "/dangky", user="u2")
    told = await send(bot, "Vĩnh Trung", user="u2")  # merged into Thạc Gián on 1/1/2025, now phường Thanh Khê
    assert "phường Thanh Khê" in texts(told)
    assert "d:ok" in payloads(await send(bot, btn="a:phuong-thanh-khe", user="u2"))


def test_every_row_of_the_old_units_file_points_to_a_unit_of_today() -> None:
    from bot.services.areas import read_csv as read_areas
    from bot.services.old_units import read_csv
    from bot.settings import ROOT

    codes = {a.code for a in read_areas(ROOT / "knowledge" / "areas.csv")}
    units = read_csv(ROOT / "knowledge" / "old-units.csv", known_codes=codes)
    assert len(units) > 300 and all(u.source for u in units)
    assert {u.status for u in units} == {"xac-nhan", "chua-doi-chieu"}
    covered = {c for u in units for c in u.new_codes}
    assert covered == codes  # every unit of today took in at least one former unit


# ---- English and asking for a person in words ----

@pytest.mark.asyncio
async def test_english_is_english_in_buttons_prompts_and_errors(bot: Assistant) -> None:
    await send(bot, btn="l:en")
    suggest = await send(bot, "hồ sơ")
    labels = [b.label for r in suggest for b in r.buttons]
    assert "None of these" in labels and all(label.isascii() for label in labels), labels
    assert "Try asking" in texts(await send(bot, btn="s:none"))
    ask = await send(bot, "/khuvuc")
    assert "Which ward" in texts(ask) and [b.label for r in ask for b in r.buttons] == ["Cancel"]
    assert "could not find" in texts(await send(bot, "xyzzy"))
    told = await send(bot, "Thac Gian")
    assert "The former Phường Thạc Gián is now part of phường Thanh Khê" in texts(told)
    assert "Cancelled" in texts(await send(bot, "cancel"))
    sub = await send(bot, "/dangky")
    sub = await send(bot, btn="a:phuong-thanh-khe")
    assert "Agree" in texts(sub) and "Đồng ý" not in texts(sub)


@pytest.mark.asyncio
@pytest.mark.parametrize("words", ["gặp người thật", "cho tôi nói chuyện với cán bộ", "talk to a human",
                                   "tôi muốn nói chuyện với người thật"])
async def test_asking_for_a_person_in_words_gets_the_one_tap_offer(bot: Assistant, words: str) -> None:
    offer = await send(bot, words)
    assert payloads(offer) == ["h:ask"] and "/hoi" not in texts(offer)
    ask = await send(bot, btn="h:ask")  # no earlier question: asked for it, with a Thôi button
    assert ("điều gì" in texts(ask) or "What would you like" in texts(ask)) and "c:" in payloads(ask)


@pytest.mark.asyncio
async def test_talk_to_a_person_at_any_time(bot: Assistant) -> None:
    ask = await send(bot, btn="h:new")  # the web chat's always-visible "Gặp người thật"
    assert "điều gì" in texts(ask) and "c:" in payloads(ask)
    await send(bot, "khi nào có sóng 5G ở khu phố tôi")
    offer = await send(bot, btn="h:new")
    assert "sóng 5G" in texts(offer) and set(payloads(offer)) == {"h:ask", "c:"}
    typed = await send(bot, "Cho tôi hỏi lịch học lớp kỹ năng số cho người cao tuổi")
    assert "phường, xã nào" in texts(typed)  # the typed question goes to a person, after the ward


@pytest.mark.asyncio
async def test_web_history_is_kept_and_deleted_with_the_data(bot: Assistant) -> None:
    from bot.services import history

    user = "webuser0000000002"
    await send(bot, "/start", user=user)
    await send(bot, "vneid là gì", user=user)
    down = await send(bot, btn="r:down:vneid-la-gi", user=user)
    assert down
    past = await history.messages(bot.db, "web", user)
    froms = [m["from"] for m in past]
    assert froms[0] == "assistant" and "resident" in froms  # the automatic /start is not shown as typed
    said = [m["text"] for m in past if m["from"] == "resident"]
    assert said == ["vneid là gì", "👎 Chưa đúng"]  # a tapped button is shown by its label
    assert any(b["payload"].startswith("r:up:") for m in past for b in m["buttons"])
    await send(bot, btn="m:", user=user)  # the web chat's Chủ đề and Gặp người thật buttons
    await send(bot, btn="h:new", user=user)
    said = [m["text"] for m in await history.messages(bot.db, "web", user) if m["from"] == "resident"]
    assert said[-2:] == ["Chủ đề", "Gặp người thật"]
    await send(bot, "/xoadulieu", user=user)
    await send(bot, btn="x:yes", user=user)
    assert await history.messages(bot.db, "web", user) == []


@pytest.mark.asyncio
async def test_a_ticket_is_not_left_behind_when_the_residents_state_changed_meanwhile(bot: Assistant) -> None:
    """Escalating writes the ticket and the resident's state in one transaction: when the
    state changed since it was read (another message of the resident, another worker),
    the ticket is rolled back with it and the message handled again makes exactly one."""
    from sqlalchemy import update

    from bot.conversation import Context, StaleResident, load_resident
    from bot.handlers import escalate

    await send(bot, "/khuvuc")
    await send(bot, "Hải Châu")
    question = {"last_question": {"id": None, "text": "Cách cài VNeID cho người già?", "suggestions": []}}
    resident = await load_resident(bot.db, "web", "u1")
    resident.state = {**(resident.state or {}), **question}
    ctx = Context(bot.db, bot.kb, bot.settings, resident)
    async with bot.db.engine.begin() as conn:  # another write lands between the read and the ticket
        await conn.execute(update(Resident).where(Resident.id == resident.id).values(version=Resident.version + 1))
    with pytest.raises(StaleResident):
        await escalate.create(ctx)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 0
    again = await load_resident(bot.db, "web", "u1")
    again.state = {**(again.state or {}), **question}
    fresh = Context(bot.db, bot.kb, bot.settings, again)
    replies = await escalate.create(fresh)
    async with bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 1
    assert texts(replies)


@pytest.mark.asyncio
async def test_a_message_handled_again_after_a_crash_gets_the_replies_it_first_got(bot: Assistant) -> None:
    """A worker killed after the ward was saved but before the reply went out: at restart
    the same inbox item is handled again, from where it started (not as a question)."""
    handling("telegram", "7")
    await send(bot, "/khuvuc")
    handling("telegram", "8")
    first = await send(bot, "Hải Châu")  # committed; the reply never sent, the item not finished
    again = await send(bot, "Hải Châu")  # the same item, handled again at restart
    assert "Đã ghi nhận: bạn ở Phường Hải Châu" in texts(first)
    assert texts(again) == texts(first)
    handling("telegram", "9")  # the next message starts from the saved ward
    later = await send(bot, "Hải Châu")
    assert "Đã ghi nhận" not in texts(later)
    async with bot.db.session() as s:
        resident = await s.scalar(select(Resident))
    assert resident is not None and resident.area_code == "phuong-hai-chau" and "pending" not in resident.state
