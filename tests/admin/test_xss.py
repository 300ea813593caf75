"""Markup typed into any text field (by an editor, a team or a resident) is shown as
text on every admin page, never run."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import insert

from bot.app import Assistant
from bot.clock import now as utcnow
from bot.kb_files import Entry
from bot.services.knowledge import save_draft, save_entry
from bot.storage.models import Campaign, QuestionLog, Team, TeamMember, Ticket
from tests.admin.conftest import Client, csrf_of
from tests.admin.test_access import CASES

pytestmark = pytest.mark.asyncio
ATTACKS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
GET_PAGES = sorted({path for path, method, _ in CASES if method == "GET" and "{" not in path and "/x/" not in path})


async def _plant(assistant: Assistant, attack: str) -> None:
    """The attack in every text field an admin page shows."""
    entry = Entry(id="xss-thu", question=f"Câu hỏi {attack}", answer=f"Trả lời {attack}", status="draft",
                  alternates=[f"cách hỏi {attack}"], answer_en=f"Answer {attack}", tags=[f"the{attack}"],
                  links=[{"label": f"nhãn {attack}", "url": f"https://danang.gov.vn/?q={attack}"}], sources=[f"nguồn {attack}"])
    await save_entry(assistant.db, entry, "dinh-danh", by=f"người {attack}")
    live = Entry(id="xss-live", question="Câu hỏi đang xuất bản", answer="Trả lời đang xuất bản", status="published")
    await save_entry(assistant.db, live, "dinh-danh", by="bientap")
    draft = Entry(id="xss-live", question=f"Nháp {attack}", answer=f"Trả lời nháp {attack}", status="published",
                  alternates=[f"nháp {attack}"], links=[{"label": f"nhãn nháp {attack}", "url": "https://danang.gov.vn"}])
    await save_draft(assistant.db, draft, "dinh-danh", by=f"người nháp {attack}")
    async with assistant.db.engine.begin() as conn:
        await conn.execute(insert(QuestionLog.__table__).values(
            asked_at=utcnow(), channel="web", resident_hash="h", normalized=f"hỏi {attack}", decision="unknown",
            entry_id=None, score=0.0, suggestions=[], area_code="phuong-hai-chau", language="vi", feedback="down:sai"))
        await conn.execute(insert(Ticket.__table__).values(
            created_at=utcnow(), channel="web", chat="c", area_code="phuong-hai-chau", question=f"phiếu {attack}",
            suggestions=[], status="answered", display_name=f"Bà {attack}", answer=f"đáp {attack}"))
        await conn.execute(insert(Team.__table__).values(id=1, area_code="phuong-hai-chau", name=f"Tổ {attack}", created_at=utcnow()))
        await conn.execute(insert(TeamMember.__table__).values(
            team_id=1, channel="telegram", platform_user_id="77", chat="77", display_name=f"Anh {attack}", role="leader",
            joined_at=utcnow()))
        await conn.execute(insert(Ticket.__table__).values(  # a waiting one, for the inbox (issue 21)
            created_at=utcnow(), channel="web", chat="c2", area_code="phuong-hai-chau", question=f"phiếu mở {attack}",
            suggestions=[f"gợi ý {attack}"], status="claimed", team_id=1, claimed_by=1, display_name=f"Bà {attack}"))
        await conn.execute(insert(Campaign.__table__).values(
            id=1, text=f"Tin {attack}", links=[{"label": f"nút {attack}", "url": "https://danang.gov.vn"}], channels=[],
            areas=[], topics=[], state="draft", created_at=utcnow(), created_by="bientap"))


@pytest.mark.parametrize("attack", ATTACKS)
async def test_every_page_escapes_markup_in_every_field(client: Client, assistant: Assistant, attack: str) -> None:
    await _plant(assistant, attack)
    c = await client("admin")
    # an audit row carrying the attack in before/after
    await c.post("/admin/kb/save", data={"csrftoken": csrf_of(c), "original": "xss-thu", "action": "save", "id": "xss-thu",
                                         "group": "dinh-danh", "question": f"Câu hỏi {attack}", "answer": f"Trả lời mới {attack}",
                                         "links": f"nhãn {attack} | https://danang.gov.vn"})
    pages = [*GET_PAGES, f"/admin/kb/new?question={quote(attack)}", "/admin/kb/xss-thu/edit", "/admin/kb/xss-thu/history", "/admin/kb?q=xss",
             "/admin/kb/xss-live/edit", "/admin/kb/xss-live/history", "/admin/kb?status=pending",
             "/admin/questions/gaps?days=all", "/admin/kb/export?format=csv",
             "/admin/inbox?f=answered", "/admin/inbox/1", "/admin/inbox/2", "/admin/audit"]  # teams/1 and campaigns/1 are among GET_PAGES
    for page in pages:
        r = await c.get(page)
        assert r.status_code == 200, page
        if not r.headers["content-type"].startswith("text/html"):  # downloads (zip, csv, xlsx)
            continue
        # The start page, the import and compose forms and the accounts (names are a-z 0-9 . _ -) show no planted field;
        # the scam-check counts and lists keep no resident text at all.
        assert "alert(1)" in r.text or page in ("/admin/", "/admin/kb/new", "/admin/kb/transfer", "/admin/accounts", "/admin/campaigns/new",
                                                "/admin/scam-checks", "/admin/scam-lists"), f"{page} does not show the planted text"
        assert attack not in r.text, f"{page} shows {attack!r} unescaped"
    r = await c.post("/admin/kb/save", data={"csrftoken": csrf_of(c), "original": "", "action": "try", "id": "xss-hai",
                                             "group": "dinh-danh", "question": attack, "answer": attack, "try_question": attack})
    assert attack not in r.text and "alert(1)" in r.text
    r = await c.post("/admin/kb/preview", data={"answer": attack, "links": f"{attack} | https://danang.gov.vn"},
                     headers={"x-csrftoken": csrf_of(c)})
    assert attack not in r.text and "alert(1)" in r.text
    r = await c.post("/admin/accounts", data={"csrftoken": csrf_of(c), "username": attack, "role": "editor"})
    assert r.status_code == 400 and attack not in r.text
    tl = await client("team-leader")
    r = await tl.get("/admin/tickets")
    assert "alert(1)" in r.text and attack not in r.text
