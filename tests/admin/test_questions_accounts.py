"""Questions (gaps grouped, one click to an alternate or a new entry), accounts managed
by admins with the audit log, and a team leader kept to their own area."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from bot.app import Assistant
from bot.clock import now as utcnow
from bot.services.gaps import gaps
from bot.storage.models import QuestionLog, Ticket
from tests.admin.conftest import Client, csrf_of

pytestmark = pytest.mark.asyncio


async def _log(assistant: Assistant, text: str, decision: str = "unknown", feedback: str | None = None,
               channel: str = "web", area: str | None = None) -> None:
    async with assistant.db.engine.begin() as conn:
        await conn.execute(insert(QuestionLog.__table__).values(
            asked_at=utcnow(), channel=channel, resident_hash="h", normalized=text, decision=decision, entry_id=None,
            score=10.0, suggestions=["vneid-la-gi"] if feedback else [], area_code=area, language="vi", feedback=feedback))


async def test_gaps_are_grouped_by_similarity_biggest_first(assistant: Assistant) -> None:
    for text in ("đổi số điện thoại trên vneid", "doi so dien thoai tren vneid the nao", "đổi số điện thoại vneid ở đâu"):
        await _log(assistant, text)
    await _log(assistant, "vneid báo lỗi khi quét mặt", decision="answer", feedback="down:sai")
    found = await gaps(assistant.db)
    assert found[0].count == 3 and "điện thoại" in found[0].text
    assert found[1].count == 1 and found[1].disliked == 1 and found[1].entries == ["vneid-la-gi"]


async def test_log_filters_and_one_click_alternate(client: Client, assistant: Assistant) -> None:
    await _log(assistant, "quét mặt vneid không được", channel="zalo", area="phuong-hai-chau")
    await _log(assistant, "câu hỏi trên telegram", channel="telegram")
    c = await client("editor")
    r = await c.get("/admin/questions", params={"channel": "zalo", "area": "phuong-hai-chau", "decision": "unknown"})
    assert "quét mặt vneid không được" in r.text and "câu hỏi trên telegram" not in r.text
    r = await c.get("/admin/questions/gaps", params={"days": "all"})
    assert "quét mặt vneid không được" in r.text and "Tạo mục mới từ câu này" in r.text
    assert "/admin/kb/new?question=qu%C3%A9t" in r.text
    r = await c.post("/admin/questions/alternate", data={"csrftoken": csrf_of(c), "text": "quét mặt vneid không được",
                                                         "entry_id": "vneid-la-gi", "back": "/admin/questions/gaps"})
    assert r.status_code == 303
    await assistant.kb.reload()
    assert (await assistant.kb.matcher()).match("quét mặt vneid không được").entry_id == "vneid-la-gi"
    r = await c.get("/admin/kb/new", params={"question": "quét mặt vneid không được"})
    assert 'value="quét mặt vneid không được"' in r.text


async def test_accounts_are_managed_by_admins_and_audited(client: Client) -> None:
    c = await client("admin")
    r = await c.post("/admin/accounts", data={"csrftoken": csrf_of(c), "username": "lan.to", "role": "team-leader",
                                              "area": "phuong-an-hai"})
    assert r.status_code == 200 and "chỉ hiện một lần" in r.text
    r = await c.post("/admin/accounts", data={"csrftoken": csrf_of(c), "username": "khong.vung", "role": "team-leader"})
    assert r.status_code == 400 and "tổ trưởng cần mã phường" in r.text
    r = await c.post("/admin/accounts/lan.to", data={"csrftoken": csrf_of(c), "action": "role", "role": "editor"})
    assert r.status_code == 303
    r = await c.post("/admin/accounts/quantri", data={"csrftoken": csrf_of(c), "action": "role", "role": "editor"})
    assert r.status_code == 400 and "quyền quản trị" in r.text
    r = await c.post("/admin/accounts/quantri", data={"csrftoken": csrf_of(c), "action": "delete"})
    assert r.status_code == 400
    r = await c.post("/admin/accounts/lan.to", data={"csrftoken": csrf_of(c), "action": "delete"})
    assert r.status_code == 303
    r = await c.get("/admin/audit", params={"action": "account."})
    for action in ("account.create", "account.role", "account.delete"):
        assert action in r.text
    assert "mat-khau" not in r.text


async def test_team_leader_sees_only_their_area(client: Client, assistant: Assistant) -> None:
    async with assistant.db.engine.begin() as conn:
        for area, text in (("phuong-hai-chau", "phiếu Hải Châu"), ("phuong-an-hai", "phiếu An Hải")):
            await conn.execute(insert(Ticket.__table__).values(created_at=utcnow(), channel="web", chat="c", area_code=area,
                                                               question=text, suggestions=[], status="open"))
    tl = await client("team-leader")
    r = await tl.get("/admin/tickets", params={"area": "phuong-an-hai"})  # asking for another area changes nothing
    assert "phiếu Hải Châu" in r.text and "phiếu An Hải" not in r.text
    r = await (await client("editor")).get("/admin/tickets")
    assert "phiếu Hải Châu" in r.text and "phiếu An Hải" in r.text


async def test_a_removed_or_demoted_account_loses_its_session_at_once(client: Client) -> None:
    admin = await client("admin")
    editor = await client("editor")
    assert (await editor.get("/admin/kb")).status_code == 200
    r = await admin.post("/admin/accounts/bientap", data={"csrftoken": csrf_of(admin), "action": "role", "role": "team-leader",
                                                         "area": "phuong-hai-chau"})
    assert r.status_code == 303
    r = await editor.get("/admin/kb")  # the old cookie still says "editor"
    assert r.status_code == 303 and "/admin/login" in r.headers["location"]
    leader = await client("team-leader")
    assert (await leader.get("/admin/tickets")).status_code == 200
    assert (await admin.post("/admin/accounts/totruong", data={"csrftoken": csrf_of(admin), "action": "delete"})).status_code == 303
    r = await leader.get("/admin/tickets")
    assert r.status_code == 303 and "/admin/login" in r.headers["location"]
