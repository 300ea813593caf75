"""A pasted text on the web chat (its HTTP API, the whole app): a message the resident
received is checked for the signs of a scam; the resident's own request that carries a
number or a link is answered like any question. Nothing of our own code is replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.app import Assistant, create_app
from bot.storage.models import QuestionLog, ScamCheck
from tests.helpers import prepared

SESSION = "pasted0123456789abcdef"
CHECKED = ("LỪA ĐẢO", "dấu hiệu đáng ngờ", "Tôi không thấy dấu hiệu lừa đảo quen thuộc", "Dấu hiệu tôi thấy")

# Residents asking for themselves, each with a number or a link (written for this test).
OWN_REQUESTS = [
    "Nhờ cán bộ phường gọi lại cho tôi theo số 0935 412 778, tôi chưa biết cách đăng ký tài khoản dịch vụ công.",
    "Tổng đài 0236 1022 có phải số của thành phố không ạ?",
    "mình mở trang dichvucong.danang.gov.vn không được, báo lỗi mãi",
    "Tôi muốn hỏi về hồ sơ cấp đổi căn cước, số điện thoại của tôi là 0983 225 617",
    "toi can ho tro dang ky VNeID, sdt cua toi 0905 774 219",
    "Can you call me back at 0914 228 330? I need help with VNeID.",
]

# Messages a resident received and pasted (written for this test): a sender speaks to them.
RECEIVED = [
    ("Quý khách có 1 bưu phẩm chưa nhận do thiếu phí vận chuyển. Thanh toán 25.000đ tại vnpost-giaohang.top "
     "trước 18h hôm nay để nhận hàng.", "scam", "vnpost-giaohang.top"),
    ("TB: Tai khoan VNeID cua ban bi tam khoa. Goi ngay 0961 338 204 gap can bo ho tro mo khoa.", "suspicious", "bi tam khoa"),
    ("Con ơi mẹ mất điện thoại, đây là số mới của mẹ. Con chuyển gấp cho mẹ 5 triệu vào số tài khoản 0561 0003 2217 nhé, "
     "đừng gọi số cũ.", "scam", "chuyển gấp cho mẹ 5 triệu"),
    ("Chúc mừng bạn được chọn làm cộng tác viên, mỗi ngày kiếm 700k. Nạp 300k phí kích hoạt để bắt đầu nhận nhiệm vụ.",
     "scam", "Nạp 300k phí kích hoạt"),
    ("Dear customer, your card has been suspended. Call 0904 557 120 now to unlock it.", "suspicious", "has been suspended"),
]
HEADLINE = {"scam": "LỪA ĐẢO", "suspicious": "dấu hiệu đáng ngờ"}


@pytest_asyncio.fixture
async def chat(settings) -> AsyncIterator[tuple[httpx.AsyncClient, Assistant]]:  # type: ignore[no-untyped-def]
    assistant = await prepared(settings)
    transport = httpx.ASGITransport(app=create_app(settings, assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://chat.test") as client:
        yield client, assistant
    await assistant.db.dispose()


async def say(client: httpx.AsyncClient, text: str) -> str:
    r = await client.post("/chat/api/messages", json={"session_id": SESSION, "text": text})
    assert r.status_code == 200
    return "\n".join(reply["text"] for reply in r.json()["replies"])


async def counts(assistant: Assistant) -> tuple[int, int]:
    async with assistant.db.session() as s:
        return (int(await s.scalar(select(func.count()).select_from(QuestionLog)) or 0),
                int(await s.scalar(select(func.count()).select_from(ScamCheck)) or 0))


@pytest.mark.asyncio
@pytest.mark.parametrize("text", OWN_REQUESTS)
async def test_a_residents_own_request_with_a_number_or_link_is_answered_not_checked(chat, text: str) -> None:  # type: ignore[no-untyped-def]
    client, assistant = chat
    reply = await say(client, text)
    assert not any(mark in reply for mark in CHECKED), reply
    questions, checks = await counts(assistant)
    assert (questions, checks) == (1, 0)  # logged as a question (numbers masked there), never counted as a check


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "verdict", "quote"), RECEIVED)
async def test_a_pasted_received_message_is_checked(chat, text: str, verdict: str, quote: str) -> None:  # type: ignore[no-untyped-def]
    client, assistant = chat
    reply = await say(client, text)
    assert HEADLINE[verdict] in reply and f"«{quote}" in reply, reply
    assert "Công an phường" in reply and "113" in reply
    questions, checks = await counts(assistant)
    assert (questions, checks) == (0, 1)  # counted as a check, its text kept nowhere
    async with assistant.db.session() as s:
        row = await s.scalar(select(ScamCheck))
    assert row is not None and row.verdict == verdict and not row.forwarded


@pytest.mark.asyncio
async def test_a_request_then_a_pasted_message_in_one_conversation(chat) -> None:  # type: ignore[no-untyped-def]
    client, assistant = chat
    first = await say(client, "Em cần cán bộ hướng dẫn nộp hồ sơ đất đai, gọi em số 0932 118 406 nhé")
    assert not any(mark in first for mark in CHECKED)
    second = await say(client, "Chi oi em chuyen nham 2 trieu vao tk cua chi, chi chuyen tra lai giup em vao STK 7721 0045 3318 nha")
    assert "dấu hiệu" in second.lower() and "«" in second
    assert await counts(assistant) == (1, 1)
