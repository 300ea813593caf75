"""Checking a received message through the channel-agnostic dispatcher: /kiemtra, the
menu item, forwarded and pasted messages, and questions about scams left to the KB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import Assistant
from bot.channels.base import Incoming
from bot.storage.models import Ticket
from tests.helpers import make_incoming, payloads, prepared, texts

SCAM = ("Vietcombank: Tai khoan cua Quy khach da bi tam khoa. Dang nhap tai vcb-xacthuc.com de mo khoa, "
        "hotline 0905 123 456.")


@pytest_asyncio.fixture
async def bot(settings) -> AsyncIterator[Assistant]:  # type: ignore[no-untyped-def]
    assistant = await prepared(settings)
    yield assistant
    await assistant.db.dispose()


async def send(bot: Assistant, text: str | None = None, btn: str | None = None, **meta: str):  # type: ignore[no-untyped-def]
    msg = make_incoming(text, btn)
    if meta:
        msg = Incoming(**{**msg.__dict__, "meta": meta})
    return await bot.dispatcher.dispatch(msg)


@pytest.mark.asyncio
async def test_kiemtra_asks_for_the_message_then_checks_it(bot: Assistant) -> None:
    ask = await send(bot, "/kiemtra")
    assert "dán" in texts(ask)
    replies = await send(bot, "Chi oi cho em muon 5 trieu, mai em tra, dung noi voi anh nhe")
    text = texts(replies)
    assert "LỪA ĐẢO" in text and "«cho em muon 5" in text and "«dung noi voi anh»" in text
    assert "113" in text and "Công an phường" in text and "in trên thẻ" in text
    assert "h:ask" in payloads(replies)


@pytest.mark.asyncio
async def test_kiemtra_with_the_message_on_the_same_line(bot: Assistant) -> None:
    replies = await send(bot, "/kiemtra " + SCAM)
    assert "LỪA ĐẢO" in texts(replies) and "vcb-xacthuc.com" in texts(replies)


@pytest.mark.asyncio
async def test_the_menu_has_the_check_item(bot: Assistant) -> None:
    top = await send(bot, "/menu")
    assert "k:start" in payloads(top)
    assert any("Kiểm tra tin nhắn lạ" in b.label for r in top for b in r.buttons)
    ask = await send(bot, btn="k:start")
    assert "dán" in texts(ask)
    assert "Dấu hiệu tôi thấy" in texts(await send(bot, "Tuyen CTV viec nhe luong cao 500k/ngay"))


@pytest.mark.asyncio
async def test_a_pasted_message_is_checked_before_answering(bot: Assistant) -> None:
    replies = await send(bot, SCAM)
    assert "LỪA ĐẢO" in texts(replies)
    assert "«Dang nhap tai vcb-xacthuc.com»" in texts(replies)


@pytest.mark.asyncio
async def test_a_forwarded_message_is_checked(bot: Assistant) -> None:
    replies = await send(bot, "Chúc mừng bạn trúng thưởng xe SH, nộp phí vận chuyển 2 triệu để nhận giải", forwarded="1")
    assert "LỪA ĐẢO" in texts(replies) and "fee" not in texts(replies)
    # A forwarded plain question is still answered from the knowledge base.
    answer = await send(bot, "VNeID là gì?", forwarded="1")
    assert "dấu hiệu" not in texts(answer) and "VNeID" in texts(answer)


@pytest.mark.asyncio
async def test_a_question_about_scams_is_answered_from_the_knowledge_base(bot: Assistant) -> None:
    replies = await send(bot, "làm sao biết tin nhắn lừa đảo")
    assert "dấu hiệu tôi thấy" not in texts(replies).lower()
    assert any(p.startswith(("e:", "r:")) for p in payloads(replies))


@pytest.mark.asyncio
async def test_no_signs_is_never_called_safe(bot: Assistant) -> None:
    replies = await send(bot, "/kiemtra Mẹ ơi tối nay con về ăn cơm nhé")
    assert "chưa có nghĩa là an toàn" in texts(replies) and "Điều nên kiểm tra" in texts(replies)


@pytest.mark.asyncio
async def test_ask_the_team_passes_the_message_with_numbers_masked(bot: Assistant) -> None:
    replies = await send(bot, SCAM)
    ask = await send(bot, btn=payloads(replies)[0])
    assert "phường, xã nào" in texts(ask)
    done = await send(bot, "hai chau")
    assert "Hải Châu" in texts(done)
    async with bot.db.session() as s:
        ticket = await s.scalar(select(Ticket))
    assert ticket is not None and "vcb-xacthuc.com" in ticket.question
    assert "0905" not in ticket.question and "[số]" in ticket.question


@pytest.mark.asyncio
async def test_english_residents_get_english(bot: Assistant) -> None:
    await send(bot, btn="l:en")
    replies = await send(bot, "/kiemtra " + SCAM)
    assert "SCAM" in texts(replies) and "printed on your bank card" in texts(replies)
    assert "Check a strange message" in str([b.label for r in await send(bot, "/menu") for b in r.buttons])
