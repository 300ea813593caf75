"""The team inbox (issue 21) over HTTP: who sees and acts on which tickets (every inbox
route and the event stream), the same conditional UPDATE as the chat commands (a web
claim and a chat claim race, one loses cleanly), answers reaching the resident on the web
chat and on Telegram (the fake Bot API), the city queue, and the live event stream."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from admin.accounts import create_user
from bot.app import Assistant, create_app
from bot.services import teams
from bot.storage.models import AuditLog, TeamMember, Ticket
from tests.admin.conftest import PASSWORD, Client, _settings, csrf_of
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import free_port, prepared, serving

HAI_CHAU, AN_HAI, CAM_LE = "phuong-hai-chau", "phuong-an-hai", "phuong-cam-le"  # Cẩm Lệ has no team: the city's


async def seed(db: Any) -> dict[str, int]:
    """Two teams (Hải Châu, An Hải), a chat member of Hải Châu's, and one open ticket in
    each ward plus one of Cẩm Lệ (no team: the city queue)."""
    hai_chau = await teams.create_team(db, HAI_CHAU, "Tổ CNS Hải Châu")
    an_hai = await teams.create_team(db, AN_HAI, "Tổ CNS An Hải")
    ids: dict[str, int] = {"team_hai_chau": hai_chau, "team_an_hai": an_hai}
    async with db.session() as session, session.begin():
        session.add(TeamMember(team_id=hai_chau, channel="telegram", platform_user_id="5001", chat="5001",
                               display_name="Anh Tư (Telegram)", role="member"))
        for key, area, team, channel, chat in (("hai_chau", HAI_CHAU, hai_chau, "web", "phien-web-cua-ba-nam-0001"),
                                               ("an_hai", AN_HAI, an_hai, "telegram", "70002"),
                                               ("city", CAM_LE, None, "telegram", "70003")):
            t = Ticket(channel=channel, chat=chat, area_code=area, question=f"Câu hỏi của người dân {key}: làm sao cấp lại mật khẩu VNeID?",
                       suggestions=["vneid-la-gi"], display_name="Bà Năm", team_id=team)
            session.add(t)
            await session.flush()
            ids[key] = t.id
    return ids


async def status_of(db: Any, ticket_id: int) -> tuple[str, str | None, int | None]:
    async with db.session() as session:
        t = await session.get(Ticket, ticket_id)
        assert t is not None
        return t.status, t.claimed_by_user, t.claimed_by


async def post(c: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    return await c.post(path, data={"csrftoken": csrf_of(c), **data})


@pytest.mark.asyncio
async def test_a_member_sees_and_acts_on_their_wards_tickets_only(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    member = await client("team-member")
    page = await member.get("/admin/inbox")
    assert page.status_code == 200
    assert f"Số {ids['hai_chau']}" in page.text and f"Số {ids['an_hai']}" not in page.text and f"Số {ids['city']}" not in page.text
    assert "Hải Châu" in page.text and HAI_CHAU not in page.text.split("<main>")[1]  # ward names, not codes
    # Another ward's ticket and the city's: every inbox route refuses, and nothing changes.
    for other in (ids["an_hai"], ids["city"]):
        assert (await member.get(f"/admin/inbox/{other}")).status_code == 403
        for action, data in (("claim", {}), ("answer", {"answer": "x"}), ("reject", {}), ("close", {}),
                             ("transfer", {"area": HAI_CHAU}), ("propose", {})):
            r = await post(member, f"/admin/inbox/{other}/{action}", **data)
            assert r.status_code == 403, (action, other, r.status_code)
        assert (await status_of(assistant.db, other))[0] == "open"
    # ?area= is for city staff only: a member's scope stays their team's.
    assert f"Số {ids['an_hai']}" not in (await member.get(f"/admin/inbox?area={AN_HAI}")).text
    # Bad input: clear 4xx.
    assert (await member.get("/admin/inbox?f=moi-nhat")).status_code == 400
    assert (await member.get("/admin/inbox/999999")).status_code == 404
    assert (await member.get(f"/admin/inbox/{ids['hai_chau']}?faq=khong-co-muc-nay")).status_code == 404
    assert (await post(member, f"/admin/inbox/{ids['hai_chau']}/answer", answer="   ")).status_code == 400
    assert (await post(member, f"/admin/inbox/{ids['hai_chau']}/answer", answer="x" * 5000)).status_code == 400
    assert (await post(member, f"/admin/inbox/{ids['hai_chau']}/transfer", area="khong-co")).status_code == 400
    # Own ward: claim, and the "claimed by me" filter counts it.
    r = await post(member, f"/admin/inbox/{ids['hai_chau']}/claim")
    assert r.status_code == 303
    assert await status_of(assistant.db, ids["hai_chau"]) == ("claimed", "thanhvien", None)
    mine = await member.get("/admin/inbox?f=mine")
    assert f"Số {ids['hai_chau']}" in mine.text and "thanhvien (web)" in mine.text
    # A member reaches nothing else of the admin site.
    for path in ("/admin/tickets", "/admin/teams", "/admin/kb", "/admin/reports", "/admin/questions"):
        assert (await member.get(path)).status_code == 403, path


@pytest.mark.asyncio
async def test_the_leader_sees_their_ward_and_city_staff_the_city_queue_and_every_ward(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    leader = await client("team-leader")
    text = (await leader.get("/admin/inbox")).text
    assert f"Số {ids['hai_chau']}" in text and f"Số {ids['an_hai']}" not in text
    editor = await client("editor")
    every = (await editor.get("/admin/inbox")).text
    assert all(f"Số {ids[k]}" in every for k in ("hai_chau", "an_hai", "city"))
    city = (await editor.get("/admin/inbox?area=city")).text
    assert f"Số {ids['city']}" in city and f"Số {ids['hai_chau']}" not in city and "Hàng đợi của thành phố" in city
    assert (await editor.get("/admin/inbox?area=khong-co")).status_code == 400
    # City staff answer the city queue: signed with the city's name, stored for the resident.
    r = await post(editor, f"/admin/inbox/{ids['city']}/answer", answer="Bạn mở ứng dụng VNeID, chọn Quên mật khẩu.")
    assert r.status_code == 303
    async with assistant.db.session() as session:
        t = await session.get(Ticket, ids["city"])
        assert t is not None and (t.status, t.answered_by_user, t.claimed_by_user) == ("answered", "bientap", "bientap")
        audit = (await session.scalars(select(AuditLog.action).where(AuditLog.target == f"ticket:{ids['city']}"))).all()
    assert list(audit) == ["ticket.answer"]
    answered = await editor.get("/admin/inbox?f=answered")
    assert f"Số {ids['city']}" in answered.text
    # Propose the answer as an FAQ entry (a draft for the editors).
    assert (await post(editor, f"/admin/inbox/{ids['city']}/propose")).status_code == 303
    assert (await status_of(assistant.db, ids["city"]))[0] == "answered"
    async with assistant.db.session() as session:
        assert (await session.get(Ticket, ids["city"])).proposed_entry_id == f"de-xuat-{ids['city']}"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_a_web_claim_and_a_chat_claim_race_and_one_loses_cleanly(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    chat_member = await teams.member_of(assistant.db, "telegram", "5001")
    assert chat_member is not None
    member = await client("team-member")
    # The chat member claims first: the web claim loses, with a message, and changes nothing.
    assert await teams.claim(assistant.db, ids["hai_chau"], chat_member)
    r = await post(member, f"/admin/inbox/{ids['hai_chau']}/claim")
    assert r.status_code == 303
    page = await member.get(r.headers["location"])
    assert "đã có người khác nhận" in page.text and "Anh Tư (Telegram)" in page.text
    assert await status_of(assistant.db, ids["hai_chau"]) == ("claimed", None, chat_member.id)
    # The other way round, both at once: exactly one wins.
    await teams.transfer(assistant.db, ids["hai_chau"], chat_member, HAI_CHAU)  # back to open
    web, chat = await asyncio.gather(post(member, f"/admin/inbox/{ids['hai_chau']}/claim"),
                                     teams.claim(assistant.db, ids["hai_chau"], chat_member))
    status, by_user, by_member = await status_of(assistant.db, ids["hai_chau"])
    assert status == "claimed" and (by_user is None) == chat and (by_member is None) != chat
    # Two web members of the same ward: the second claim loses.
    await create_user(assistant.db, "thanhvien2", "team-member", password=PASSWORD, area_code=HAI_CHAU)
    second = await client(None)
    await login(second, "thanhvien2")
    await teams.transfer(assistant.db, ids["hai_chau"], chat_member, HAI_CHAU)
    first = await post(member, f"/admin/inbox/{ids['hai_chau']}/claim")
    late = await post(second, f"/admin/inbox/{ids['hai_chau']}/claim")
    assert first.status_code == late.status_code == 303
    assert "đã có người khác nhận" in (await second.get(late.headers["location"])).text
    assert await status_of(assistant.db, ids["hai_chau"]) == ("claimed", "thanhvien", None)


async def login(c: httpx.AsyncClient, name: str) -> None:
    await c.get("/admin/login")
    r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": name, "password": PASSWORD, "next": ""})
    assert r.status_code == 303, r.text


@pytest.mark.asyncio
async def test_a_web_answer_reaches_the_resident_in_the_web_chat(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    member = await client("team-member")
    page = await member.get(f"/admin/inbox/{ids['hai_chau']}?faq=vneid-la-gi")  # start from a published entry
    assert "VNeID" in page.text.split('name="answer"')[1].split("</textarea>")[0]
    r = await post(member, f"/admin/inbox/{ids['hai_chau']}/answer", answer="Dòng một.\nDòng hai: gọi 0236 1022.")
    assert r.status_code == 303
    assert "Đã gửi câu trả lời tới người hỏi" in (await member.get(r.headers["location"])).text
    chat = await client(None)
    got = await chat.get("/chat/api/messages", params={"session_id": "phien-web-cua-ba-nam-0001"})
    assert got.status_code == 200
    text = json.dumps(got.json(), ensure_ascii=False)
    assert "Trả lời từ Tổ CNS Hải Châu" in text and "Dòng một.\\nDòng hai: gọi 0236 1022." in text
    # Answered: a second answer (or a claim) loses.
    assert "không còn chờ trả lời" in (await member.get((await post(
        member, f"/admin/inbox/{ids['hai_chau']}/answer", answer="Lần hai")).headers["location"])).text


@pytest.mark.asyncio
async def test_a_web_answer_reaches_the_resident_on_telegram(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeTelegram().start()
    settings = _settings(tmp_path / "tg.sqlite3").model_copy(update={
        "telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url, "telegram_poll_timeout": 1})
    ready = await prepared(settings)
    await create_user(ready.db, "thanhvien", "team-member", password=PASSWORD, area_code=AN_HAI)
    ids = await seed(ready.db)
    port = free_port()
    try:
        async with serving(create_app(settings, ready), port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            await login(c, "thanhvien")
            r = await post(c, f"/admin/inbox/{ids['an_hai']}/answer", answer="Bạn mang CCCD tới UBND phường An Hải.")
            assert r.status_code == 303
            sent = [m for m in fake.sent("70002") if "An Hải" in str(m.get("text", ""))]
            assert sent and sent[0]["text"].startswith("Trả lời từ Tổ CNS An Hải cho câu hỏi của bạn")
            assert "Bạn mang CCCD tới UBND phường An Hải." in sent[0]["text"]
            assert await status_of(ready.db, ids["an_hai"]) == ("answered", "thanhvien", None)
    finally:
        await ready.db.dispose()
        fake.stop()


class Events:
    """Reads a text/event-stream response event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self, want: int = 1, timeout: float = 20.0) -> list[tuple[str, Any]]:
        """The next `want` events (name, data), waiting at most `timeout` s."""
        events: list[tuple[str, Any]] = []
        name, data = "", ""

        async def read() -> None:
            nonlocal name, data
            async for line in self.lines:
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and name:
                    events.append((name, json.loads(data)))
                    name, data = "", ""
                    if len(events) >= want:
                        return

        await asyncio.wait_for(read(), timeout)
        return events


@pytest.mark.asyncio
async def test_the_event_stream_tells_each_account_about_its_own_scope_only(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from admin.pages import inbox

    monkeypatch.setattr(inbox, "POLL_SECONDS", 0.2)
    settings = _settings(tmp_path / "sse.sqlite3")
    ready = await prepared(settings)
    for name, role, area in (("thanhvien", "team-member", HAI_CHAU), ("khac", "team-member", AN_HAI),
                             ("bientap", "editor", None)):
        await create_user(ready.db, name, role, password=PASSWORD, area_code=area)
    ids = await seed(ready.db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        async with serving(create_app(settings, ready), port):
            anonymous = httpx.AsyncClient(base_url=base)
            r = await anonymous.get("/admin/inbox/events")
            assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
            await anonymous.aclose()
            clients = {}
            for name in ("thanhvien", "khac", "bientap"):
                clients[name] = httpx.AsyncClient(base_url=base, timeout=30)
                await login(clients[name], name)
            assert (await clients["bientap"].get("/admin/inbox/events?area=khong-co")).status_code == 400
            responses, streams = [], {}
            for name, c in clients.items():
                response = await c.send(c.build_request("GET", "/admin/inbox/events"), stream=True)
                responses.append(response)
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                streams[name] = Events(response)
                assert (await streams[name].next())[0][0] == "hello"
            # The Hải Châu member claims from the web; the editor and the member see it,
            # the An Hải member does not (their first event is about their own ward).
            t0 = time.monotonic()
            assert (await post(clients["thanhvien"], f"/admin/inbox/{ids['hai_chau']}/claim")).status_code == 303
            for name in ("thanhvien", "bientap"):
                (event, data), = await streams[name].next()
                assert event == "tickets" and {"id": ids["hai_chau"], "status": "claimed", "by": "thanhvien"} in data
            async with ready.db.session() as session, session.begin():  # a new ticket in An Hải, as a resident's /hoi makes it
                session.add(Ticket(channel="web", chat="phien-moi-0000000001", area_code=AN_HAI, question="Câu hỏi mới?",
                                   team_id=ids["team_an_hai"]))
            (event, data), = await streams["khac"].next()
            assert event == "tickets" and all(d["id"] not in (ids["hai_chau"], ids["city"]) for d in data)
            assert [d["status"] for d in data] == ["open"]
            assert time.monotonic() - t0 < 60  # a deadline, not a speed claim
            for response in responses:
                await response.aclose()
            for c in clients.values():
                await c.aclose()
    finally:
        await ready.db.dispose()


@pytest.mark.asyncio
async def test_a_team_member_account_needs_an_area(assistant: Assistant) -> None:
    with pytest.raises(ValueError, match="cần mã phường"):
        await create_user(assistant.db, "thieuphuong", "team-member", password=PASSWORD)
    await create_user(assistant.db, "cophuong", "team-member", password=PASSWORD, area_code=CAM_LE)


@pytest.mark.asyncio
async def test_a_new_team_is_offered_its_wards_tickets_from_the_city_queue(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    editor = await client("editor")
    r = await post(editor, "/admin/teams", area=CAM_LE, name="Tổ CNS Cẩm Lệ")
    assert r.status_code == 303
    page = await editor.get(r.headers["location"])
    assert "1 câu hỏi đang chờ ở hàng đợi của thành phố" in page.text and "Chuyển cho tổ" in page.text
    assert (await status_of(assistant.db, ids["city"]))[0] == "open"
    team_id = int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])
    leader = await client("team-leader")  # a leader of another ward may not take them
    assert (await post(leader, f"/admin/teams/{team_id}/take-city-tickets")).status_code == 403
    r = await post(editor, f"/admin/teams/{team_id}/take-city-tickets")
    assert r.status_code == 303 and "Đã chuyển 1 câu hỏi" in (await editor.get(r.headers["location"])).text
    async with assistant.db.session() as session:
        assert (await session.get(Ticket, ids["city"])).team_id == team_id  # type: ignore[union-attr]
    assert f"Số {ids['city']}" not in (await editor.get("/admin/inbox?area=city")).text


@pytest.mark.asyncio
async def test_the_home_page_is_a_dashboard_of_what_needs_doing(assistant: Assistant, client: Client) -> None:
    import re

    from bot import clock
    from bot.storage.models import QuestionLog

    await seed(assistant.db)
    async with assistant.db.session() as session, session.begin():
        for decision, entry, feedback in (("unknown", None, None), ("unknown", None, None), ("unknown", "ngoai-pham-vi-gia-vang", None),
                                          ("answer", "vneid-la-gi", "down:sai thông tin")):
            session.add(QuestionLog(asked_at=clock.now(), channel="web", resident_hash="h", normalized="gia vang hom nay",
                                    decision=decision, entry_id=entry, score=0.0, suggestions=[], feedback=feedback))

    def figure(html: str, key: str) -> int:
        found = re.search(rf'id="dash-{key}">(\d+)<', html)
        assert found, key
        return int(found.group(1))

    editor = (await (await client("editor")).get("/admin/")).text
    assert (figure(editor, "open"), figure(editor, "city")) == (3, 1)
    assert (figure(editor, "unanswered"), figure(editor, "out-of-scope"), figure(editor, "disliked")) == (2, 1, 1)
    assert "giờ Đà Nẵng" in editor and 'href="/admin/inbox?f=overdue"' in editor
    member = (await (await client("team-member")).get("/admin/")).text
    assert figure(member, "open") == 1 and "dash-unanswered" not in member  # their ward's tickets, nothing of the city's


@pytest.mark.asyncio
async def test_a_member_signs_up_from_the_team_invite_link(assistant: Assistant, client: Client) -> None:
    import re

    ids = await seed(assistant.db)
    leader = await client("team-leader")
    r = await post(leader, f"/admin/teams/{ids['team_hai_chau']}/invites")
    team_page = (await leader.get(r.headers["location"])).text
    link = re.search(r'href="(/admin/join/([A-Z2-9]{10}))"', team_page)
    assert link, "the team page shows the invite link"
    path, code = link.group(1), link.group(2)
    visitor = await client(None)
    page = await visitor.get(path)
    assert page.status_code == 200 and "Tham gia Tổ CNS Hải Châu" in page.text
    assert (await visitor.post("/admin/join", data={"code": code, "username": "ba.sau", "password": "x" * 12,
                                                    "password2": "x" * 12})).status_code == 403  # no CSRF token
    short = await post(visitor, "/admin/join", code=code, username="ba.sau", password="ngan", password2="ngan")
    assert short.status_code == 400 and "ít nhất 10 ký tự" in short.text
    taken = await post(visitor, "/admin/join", code=code, username="thanhvien", password="x" * 12, password2="x" * 12)
    assert taken.status_code == 400 and "đã có người dùng" in taken.text
    done = await post(visitor, "/admin/join", code=code, username="ba.sau", password="mat-khau-cua-ba-sau", password2="mat-khau-cua-ba-sau")
    assert done.status_code == 303 and done.headers["location"].startswith("/admin/login")
    again = await post(visitor, "/admin/join", code=code, username="ba.bay", password="x" * 12, password2="x" * 12)
    assert again.status_code == 404  # one code, one account
    assert (await visitor.get("/admin/join/ZZZZZZZZ")).status_code == 404
    member = await client(None)
    await member.get("/admin/login")
    r = await member.post("/admin/login", data={"csrftoken": csrf_of(member), "username": "ba.sau",
                                                "password": "mat-khau-cua-ba-sau", "next": "/admin/inbox"})
    assert r.status_code == 303
    inbox_page = await member.get("/admin/inbox")
    assert f"Số {ids['hai_chau']}" in inbox_page.text and f"Số {ids['an_hai']}" not in inbox_page.text


def test_the_audit_diff_names_fields_in_vietnamese_and_shows_only_what_changed() -> None:
    from admin.audit import changes

    before = {"group": "dinh-danh", "entry": {"question": "VNeID là gì?", "answer": "Cũ", "tags": ["a"]}}
    after = {"group": "dinh-danh", "entry": {"question": "VNeID là gì?", "answer": "Tổ CNS hướng dẫn\nhai dòng", "tags": ["a"]}}
    (change,) = changes(before, after)
    assert (change.label, change.before, change.after) == ("Mục › Câu trả lời", "Cũ", "Tổ CNS hướng dẫn\nhai dòng")
    assert [c.label for c in changes(None, {"role": "editor", "area": None})] == ["Vai trò"]


@pytest.mark.asyncio
async def test_the_audit_page_is_readable(assistant: Assistant, client: Client) -> None:
    ids = await seed(assistant.db)
    member = await client("team-member")
    await post(member, f"/admin/inbox/{ids['hai_chau']}/answer", answer="Bà mang CCCD tới Tổ CNS phường.")
    page = (await (await client("admin")).get("/admin/audit", params={"action": "ticket."})).text
    assert "Trả lời câu hỏi" in page and "Câu trả lời" in page and "Bà mang CCCD tới Tổ CNS phường." in page
    assert "\\u" not in page


@pytest.mark.asyncio
async def test_a_ticket_shows_what_the_resident_asked_earlier_that_day_and_their_thumbs_down(assistant: Assistant, client: Client) -> None:
    import datetime as dt

    from bot import clock
    from bot.services.questions import resident_hash
    from bot.storage.models import QuestionLog

    salt = assistant.settings.resident_id_salt
    async with assistant.db.session() as session, session.begin():
        for who, text, feedback, ago in (("phien-web-cua-ba-nam-0001", "cap lai mat khau vneid", "down:sai", 20),
                                         ("phien-web-cua-ba-nam-0001", "quen mat khau vneid lam sao", None, 10),
                                         ("phien-web-cua-ba-nam-0001", "hom qua hoi", None, 60 * 30),  # yesterday
                                         ("nguoi-khac-000000000001", "cau hoi cua nguoi khac", None, 5)):
            session.add(QuestionLog(asked_at=clock.now() - dt.timedelta(minutes=ago), channel="web",
                                    resident_hash=resident_hash("web", who, salt), normalized=text, decision="suggest",
                                    score=50.0, suggestions=["vneid-la-gi"], feedback=feedback))
    ids = await seed(assistant.db)
    page = (await (await client("team-member")).get(f"/admin/inbox/{ids['hai_chau']}")).text
    assert "Người dân đã hỏi trong ngày" in page
    assert page.index("cap lai mat khau vneid") < page.index("quen mat khau vneid lam sao")
    assert "👎 sai" in page
    assert "hom qua hoi" not in page and "cau hoi cua nguoi khac" not in page
    assert "VNeID là gì, dùng để làm gì?" in page  # the assistant's guess, by its question
