"""The aiohttp transport under python-telegram-bot (`bot/channels/telegram_http.py`),
against the fake Bot API on 127.0.0.1: what arrives, and how failures surface as PTB's
errors (the Telegram channel's retry rules depend on them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram import _seconds
from bot.channels.telegram_http import AiohttpRequest, JsonBody
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import free_port

TOKEN = "123456:TEST-TOKEN"
pytestmark = pytest.mark.asyncio


@pytest.fixture
def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, base_url=f"http://127.0.0.1:{fake.port}/bot", request=AiohttpRequest(connection_pool_size=2, read_timeout=0.5))
    await b.initialize()
    yield b
    await b.shutdown()


async def test_a_message_arrives_whole_as_json(bot: Bot, fake: FakeTelegram) -> None:
    text = "Bạn cài ứng dụng VNeID trên điện thoại, rồi đăng ký tài khoản định danh điện tử mức 1 & 2 <b>ngay</b>."
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Hỏi người thật", callback_data="esc:1")],
                                   [InlineKeyboardButton("Cổng dịch vụ công", url="https://dichvucong.gov.vn")]])
    message = await bot.send_message(chat_id=42, text=text, reply_markup=markup)
    assert message.text == text and message.chat.id == 42
    sent = fake.sent(42)[-1]
    assert sent["text"] == text
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Hỏi người thật", "callback_data": "esc:1"}],
                                                        [{"text": "Cổng dịch vụ công", "url": "https://dichvucong.gov.vn"}]]}


async def test_a_file_goes_as_multipart(bot: Bot, fake: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    await bot.send_photo(chat_id=42, photo=png, caption="Áp phích chuyển đổi số")
    call = fake.calls("sendPhoto")[-1]
    assert call["caption"] == "Áp phích chuyển đổi số" and call["chat_id"] == 42
    assert call["photo"]["size"] == len(png)


async def test_platform_errors_become_ptb_errors(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(chat_id=42, text="a")
    assert _seconds(limited.value) == 7
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await bot.send_message(chat_id=42, text="b")
    fake.fail("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(chat_id=42, text="c")
    fake.fail("sendMessage", 502, "Bad Gateway")
    with pytest.raises(NetworkError):
        await bot.send_message(chat_id=42, text="d")
    assert (await bot.send_message(chat_id=42, text="e")).text == "e"  # the connection pool is still usable


async def test_a_slow_answer_times_out_and_a_closed_port_is_a_network_error(bot: Bot, fake: FakeTelegram) -> None:
    fake.slow("sendMessage", 2.0)
    with pytest.raises(TimedOut):
        await bot.send_message(chat_id=42, text="chậm")
    nowhere = Bot(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/bot", request=AiohttpRequest(connect_timeout=1))
    await nowhere.request.initialize()
    try:
        with pytest.raises(NetworkError) as failed:
            await nowhere.send_message(chat_id=42, text="x")
        assert not isinstance(failed.value, TimedOut)
    finally:
        await nowhere.request.shutdown()


async def test_timeouts_given_per_call_win_over_the_defaults(bot: Bot, fake: FakeTelegram) -> None:
    fake.slow("getUpdates", 1.0)  # longer than the 0.5 s default read timeout
    assert await bot.get_updates(timeout=0, read_timeout=3) == ()


async def test_a_json_body_is_sent_as_given_and_refusals_are_ptb_errors(bot: Bot, fake: FakeTelegram) -> None:
    body = {"chat_id": "42", "text": "Trả lời <b>đậm</b>", "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "👍", "callback_data": "r:up:vneid"}]]}}
    result = await bot.request.post(f"{bot.base_url}/sendMessage", JsonBody(body))
    assert isinstance(result, dict) and result["text"] == "Trả lời <b>đậm</b>"
    assert fake.sent(42)[-1] == {**body, "chat_id": 42}
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=42)
    with pytest.raises(Forbidden):
        await bot.request.post(f"{bot.base_url}/sendMessage", JsonBody(body))
