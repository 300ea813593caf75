"""Editing a published entry makes a pending draft: residents keep getting the published
answer (asked through the web chat API of the real app) until an editor publishes the
draft; discarding it changes nothing; try-it runs against the draft."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest
from sqlalchemy import select

from admin.kb_form import form_from_entry
from bot.app import Assistant, create_app
from bot.storage.models import KbHistory
from tests.admin.conftest import Client, csrf_of

pytestmark = pytest.mark.asyncio

ENTRY = "vneid-la-gi"
QUESTION = "vneid là gì"
# The same numbers as the English answer (levels 1 and 2), or the content checks refuse it.
NEW_TEXT = "VNeID là ứng dụng định danh điện tử quốc gia, có mức 1 và mức 2 (câu trả lời mới, đã duyệt)."


async def ask(assistant: Assistant, text: str = QUESTION) -> str:
    """What a resident reads in the web chat, after the matcher picked up any change."""
    await assistant.kb.reload()  # what matcher() does within a second of a change
    app = create_app(assistant.settings, assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        r = await web.post("/chat/api/messages", json={"session_id": uuid.uuid4().hex, "text": text})
    assert r.status_code == 200, r.text
    return "\n".join(x["text"] for x in r.json()["replies"])


def edit_form(assistant: Assistant, **changes: str) -> dict[str, str]:
    entry = assistant.kb.entries[ENTRY]
    group = next(g.group for g in assistant.kb.groups if any(e.id == ENTRY for e in g.entries))
    return {**dataclasses.asdict(form_from_entry(entry, group)), "original": ENTRY, **changes}


async def save_draft(c: httpx.AsyncClient, assistant: Assistant, **changes: str) -> httpx.Response:
    await assistant.kb.matcher()
    data = {"csrftoken": csrf_of(c), "action": "save", **edit_form(assistant, answer=NEW_TEXT, **changes)}
    return await c.post("/admin/kb/save", data=data)


async def test_an_edit_of_a_published_entry_waits_for_publish_draft(client: Client, assistant: Assistant) -> None:
    old = await ask(assistant)
    assert old.startswith("VNeID") and NEW_TEXT not in old
    c = await client("editor")
    r = await save_draft(c, assistant)
    assert r.status_code == 303, r.text
    assert await ask(assistant) == old  # the live answer is unchanged
    r = await c.get(f"/admin/kb/{ENTRY}/edit")
    assert NEW_TEXT in r.text and "bản nháp chờ xuất bản" in r.text and "Xuất bản bản nháp" in r.text
    r = await c.get("/admin/kb", params={"status": "pending"})
    assert f"/admin/kb/{ENTRY}/edit" in r.text and "có bản nháp chờ xuất bản" in r.text and "1 mục" in r.text
    r = await c.get("/admin/kb", params={"status": "published"})
    assert ENTRY in r.text  # still published
    # export gives the published fields, not the draft
    r = await c.get("/admin/kb/export", params={"format": "csv"})
    assert NEW_TEXT not in r.content.decode("utf-8-sig")

    r = await c.post(f"/admin/kb/{ENTRY}/draft/publish", data={"csrftoken": csrf_of(c)})
    assert r.status_code == 303
    assert NEW_TEXT in await ask(assistant)
    r = await c.get("/admin/kb", params={"status": "pending"})
    assert f"/admin/kb/{ENTRY}/edit" not in r.text and "0 mục" in r.text
    async with assistant.db.session() as session:
        rows = (await session.scalars(select(KbHistory).where(KbHistory.entry_id == ENTRY).order_by(KbHistory.id))).all()
    assert [r.action for r in rows][-2:] == ["draft", "publish"]
    assert rows[-1].before["answer"] in old and rows[-1].after["answer"] == NEW_TEXT
    r = await (await client("admin")).get("/admin/audit", params={"action": "kb.draft"})
    assert "kb.draft.save" in r.text and "kb.draft.publish" in r.text


async def test_discarding_the_draft_changes_nothing(client: Client, assistant: Assistant) -> None:
    old = await ask(assistant)
    c = await client("editor")
    assert (await save_draft(c, assistant)).status_code == 303
    r = await c.post(f"/admin/kb/{ENTRY}/draft/discard", data={"csrftoken": csrf_of(c)})
    assert r.status_code == 303
    assert await ask(assistant) == old
    r = await c.get(f"/admin/kb/{ENTRY}/edit")
    assert NEW_TEXT not in r.text and "Xuất bản bản nháp" not in r.text
    r = await c.post(f"/admin/kb/{ENTRY}/draft/publish", data={"csrftoken": csrf_of(c)})
    assert r.status_code == 404  # nothing left to publish
    assert await ask(assistant) == old
    r = await (await client("admin")).get("/admin/audit", params={"action": "kb.draft"})
    assert "kb.draft.discard" in r.text


async def test_try_it_on_the_draft_finds_the_draft_text(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    assert (await save_draft(c, assistant)).status_code == 303
    r = await c.post("/admin/kb/save", data={"csrftoken": csrf_of(c), "action": "try", "try_question": QUESTION,
                                             **edit_form(assistant, answer=NEW_TEXT)})
    assert r.status_code == 200
    assert "Trợ lý sẽ trả lời bằng mục này" in r.text and NEW_TEXT in r.text
    assert "Xuất bản bản nháp" in r.text  # the draft's actions stay on the page
    assert NEW_TEXT not in await ask(assistant)


async def test_publishing_a_draft_checks_the_writing_rules(client: Client, assistant: Assistant) -> None:
    old = await ask(assistant)
    c = await client("editor")
    r = await save_draft(c, assistant, links="Trang lạ | https://evil.example.com/vneid")
    assert r.status_code == 303  # kept as a draft: the writing rules apply when it is published
    r = await c.post(f"/admin/kb/{ENTRY}/draft/publish", data={"csrftoken": csrf_of(c)}, follow_redirects=True)
    assert "Chưa xuất bản được" in r.text and "evil.example.com" in r.text
    assert await ask(assistant) == old
    r = await save_draft(c, assistant, id="Not Kebab")
    assert r.status_code == 400  # what `cdsbot kb import` refuses is refused for drafts too


async def test_draft_actions_need_the_role_and_the_csrf_token(client: Client, assistant: Assistant) -> None:
    editor = await client("editor")
    assert (await save_draft(editor, assistant)).status_code == 303
    leader = await client("team-leader")
    for action in ("publish", "discard"):
        r = await leader.post(f"/admin/kb/{ENTRY}/draft/{action}", data={"csrftoken": csrf_of(leader)})
        assert r.status_code == 403
        r = await editor.post(f"/admin/kb/{ENTRY}/draft/{action}", data={})
        assert r.status_code == 403
    r = await editor.get(f"/admin/kb/{ENTRY}/edit")
    assert NEW_TEXT in r.text and "Xuất bản bản nháp" in r.text  # the draft is still pending
    assert NEW_TEXT not in await ask(assistant)


async def test_archiving_drops_the_pending_draft(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    assert (await save_draft(c, assistant)).status_code == 303
    r = await c.post(f"/admin/kb/{ENTRY}/status", data={"csrftoken": csrf_of(c), "status": "archived"})
    assert r.status_code == 303
    r = await c.get(f"/admin/kb/{ENTRY}/edit")
    assert NEW_TEXT not in r.text and "Xuất bản bản nháp" not in r.text
    async with assistant.db.session() as session:
        actions = (await session.scalars(select(KbHistory.action).where(KbHistory.entry_id == ENTRY))).all()
    assert "discard:status" in actions


async def test_an_alternate_added_from_the_questions_page_survives_publishing_a_pending_draft(
        client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    assert (await save_draft(c, assistant)).status_code == 303
    wording = "vneid dùng để làm chi rứa"
    r = await c.post("/admin/questions/alternate", data={"csrftoken": csrf_of(c), "text": wording, "entry_id": ENTRY})
    assert r.status_code == 303
    await assistant.kb.reload()
    assert wording in assistant.kb.entries[ENTRY].alternates  # live at once, as before
    r = await c.post(f"/admin/kb/{ENTRY}/draft/publish", data={"csrftoken": csrf_of(c)})
    assert r.status_code == 303, r.text
    await assistant.kb.reload()
    entry = assistant.kb.entries[ENTRY]
    assert entry.answer == NEW_TEXT and wording in entry.alternates  # the draft carried it
