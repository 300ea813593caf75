"""Issue 21's fixes outside the inbox: out-of-scope replies counted apart from unanswered
questions, suggestions the resident rejected ("Không phải") on the gaps page, a draft's
time in Đà Nẵng time."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from bot.app import Assistant
from bot.clock import now as utcnow
from bot.services.gaps import gaps
from bot.storage.models import QuestionLog
from tests.admin.conftest import Client
from tests.helpers import make_incoming

pytestmark = pytest.mark.asyncio


async def _log(assistant: Assistant, text: str, decision: str, entry_id: str | None = None, feedback: str | None = None) -> None:
    async with assistant.db.engine.begin() as conn:
        await conn.execute(insert(QuestionLog.__table__).values(
            asked_at=utcnow(), channel="web", resident_hash="h", normalized=text, decision=decision, entry_id=entry_id,
            score=10.0, suggestions=["vneid-la-gi"], area_code=None, language="vi", feedback=feedback))


async def test_out_of_scope_is_counted_apart_and_rejected_suggestions_are_gaps(assistant: Assistant, client: Client) -> None:
    await _log(assistant, "giá vàng hôm nay bao nhiêu", "unknown", entry_id="ngoai-pham-vi")
    await _log(assistant, "cách đổi ảnh đại diện trên cổng dịch vụ công", "unknown")
    await _log(assistant, "hồ sơ cấp đổi căn cước gắn chip", "suggest", entry_id="vneid-la-gi", feedback="none")
    found = {g.text: g for g in await gaps(assistant.db)}
    assert "giá vàng hôm nay bao nhiêu" not in found  # it got the right (out-of-scope) reply
    assert found["hồ sơ cấp đổi căn cước gắn chip"].rejected == 1
    c = await client("editor")
    unknown = (await c.get("/admin/questions", params={"decision": "unknown"})).text
    assert "cách đổi ảnh đại diện" in unknown and "giá vàng" not in unknown
    refused = (await c.get("/admin/questions", params={"decision": "refused"})).text
    assert "giá vàng" in refused and "Ngoài phạm vi (đã trả lời từ chối)" in refused
    page = (await c.get("/admin/questions/gaps", params={"days": "all"})).text
    assert "hồ sơ cấp đổi căn cước gắn chip" in page and "1 bị chê gợi ý “Không phải”" in page


async def test_not_this_is_noted_on_the_logged_question(assistant: Assistant) -> None:
    replies = await assistant.dispatcher.dispatch(make_incoming("hồ sơ"))
    assert any(b.payload == "s:none" for r in replies for b in r.buttons)
    await assistant.dispatcher.dispatch(make_incoming(button="s:none"))
    async with assistant.db.session() as session:
        assert (await session.scalars(select(QuestionLog.feedback).order_by(QuestionLog.id.desc()))).first() == "none"


async def test_a_changed_vietnamese_answer_with_an_old_english_one_is_flagged(client: Client, assistant: Assistant) -> None:
    from tests.admin.test_kb_drafts import ENTRY, save_draft

    c = await client("editor")
    r = await save_draft(c, assistant)
    assert r.status_code == 303
    page = (await c.get(r.headers["location"])).text
    assert "câu trả lời tiếng Việt đã đổi nhưng câu trả lời tiếng Anh vẫn như cũ" in page
    assert "giờ Đà Nẵng" in page and " UTC)" not in page  # the draft's time, as every page shows it
    assert ENTRY in page


async def test_the_preview_keeps_line_breaks_as_the_chats_do(client: Client) -> None:
    import re

    from tests.admin.conftest import csrf_of

    c = await client("editor")
    r = await c.post("/admin/kb/preview", data={"answer": "Dòng một.\nDòng hai."}, headers={"x-csrftoken": csrf_of(c)})
    assert r.status_code == 200
    parts = re.findall(r'<div class="preview (\w+)"><span class="text">([^<]*)</span>', r.text)
    assert {name for name, _ in parts} == {"telegram", "zalo", "web"}
    assert all("Dòng một.\nDòng hai." in text for _, text in parts)  # shown with white-space: pre-wrap (admin.css)


async def test_pages_show_ward_names_not_codes(client: Client) -> None:
    leader = await client("team-leader")
    for path in ("/admin/tickets", "/admin/teams"):
        main = (await leader.get(path)).text
        assert "Phường Hải Châu" in main and "(phuong-hai-chau)" not in main, path
