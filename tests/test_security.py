"""Security and privacy probes of the whole app over HTTP (issue 20): what an attacker
on the internet can send to the web chat and the webhooks, and what is left of a
resident after they asked and after `/xoadulieu`. The admin site's probes are in
tests/admin/test_security.py; those that need a real `cdsbot run` in
tests/test_security_run.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select, update

from bot.app import Assistant, create_app
from bot.channels import inbox
from bot.channels.base import Incoming, Reply
from bot.channels.zalo_oa_api import signature
from bot.redact import redact
from bot.services import deliveries, teams
from bot.settings import Settings
from bot.storage.models import Delivery, InboxItem, QuestionLog, Resident, Ticket
from tests.fakes import epoch_seconds
from tests.helpers import prepared

SESSION = "0123456789abcdef0123"
OA_APP, OA_KEY = "app-123", "oa-secret-key-456"
ORIGIN = "https://danang.gov.vn"


@pytest_asyncio.fixture
async def assistant(settings: Settings) -> AsyncIterator[Assistant]:
    ready = await prepared(settings.model_copy(update={
        "zalo_oa_app_id": OA_APP, "zalo_oa_secret_key": OA_KEY, "zalo_oa_access_token": "access-token-0",
        "web_chat_origins": ORIGIN}))
    try:
        yield ready
    finally:
        await ready.db.dispose()


@pytest_asyncio.fixture
async def client(assistant: Assistant) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(assistant.settings, assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def ask(text: str, session: str = SESSION) -> dict[str, str]:
    return {"session_id": session, "text": text}


# -- 4. bodies are capped while they stream ---------------------------------------------


class Feed:
    """A chunked body without Content-Length that counts what the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"[" * self.chunk


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/chat/api/messages", "/zalo/oa/webhook", "/admin/login"])
async def test_a_chunked_body_is_refused_at_the_cap_not_read_whole(client: httpx.AsyncClient, path: str) -> None:
    feed = Feed(50 * 1024 * 1024)
    kind = "application/x-www-form-urlencoded" if path.startswith("/admin") else "application/json"
    r = await client.post(path, content=feed, headers={"content-type": kind})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    assert feed.pulled <= 7 * 1024 * 1024, f"{path} read {feed.pulled} bytes"  # 6 MB for admin uploads, 1 MB webhooks, 8 KB chat
    declared = await client.post(path, content=b"{}", headers={"content-length": str(400 * 1024 * 1024)})
    assert declared.status_code == 413


# -- 11. malformed input is a 400, never a 500 ------------------------------------------


def signed(event: object, raw: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    raw = raw if raw is not None else json.dumps(event).encode()
    ts = str(event["timestamp"]) if isinstance(event, dict) else "0"
    return raw, {"content-type": "application/json", "x-zevent-signature": signature(OA_APP, raw, ts, OA_KEY)}


@pytest.mark.asyncio
async def test_deeply_nested_json_and_malformed_signed_events_are_400(client: httpx.AsyncClient) -> None:
    nested = b"[" * 4000 + b"]" * 4000
    assert (await client.post("/chat/api/messages", content=nested)).status_code == 400
    assert (await client.post("/zalo/oa/webhook", content=nested)).status_code == 400
    ts = str(int(epoch_seconds() * 1000))
    for sender in ("x", 5, ["id"]):
        event = {"app_id": OA_APP, "event_name": "user_send_text", "timestamp": ts, "sender": sender,
                 "message": {"msg_id": "m1", "text": "chào"}}
        raw, headers = signed(event)
        r = await client.post("/zalo/oa/webhook", content=raw, headers=headers)
        assert r.status_code == 400, sender
    event = {"app_id": OA_APP, "event_name": "user_send_text", "timestamp": ts, "sender": {"id": "9"}, "message": "x"}
    raw, headers = signed(event)
    assert (await client.post("/zalo/oa/webhook", content=raw, headers=headers)).status_code == 400


# -- 13. session ids are matched in full ------------------------------------------------


@pytest.mark.asyncio
async def test_a_session_id_with_a_trailing_newline_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/chat/api/messages", json=ask("xin chào", SESSION + "\n"))
    assert r.status_code == 400
    r = await client.get("/chat/api/messages", params={"session_id": SESSION + "\n"})
    assert r.status_code == 400


# -- 7 and 15. headers: security everywhere, CORS only on the chat API -------------------


@pytest.mark.asyncio
async def test_security_headers_and_only_the_embed_page_may_be_framed(client: httpx.AsyncClient) -> None:
    for path in ("/", "/admin/login", "/healthz", "/chat/api/messages?session_id=" + SESSION):
        h = (await client.get(path)).headers
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert "script-src 'self'" in h["content-security-policy"] and "default-src 'self'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "same-origin"
        assert h["x-frame-options"] == "DENY"
    embed = (await client.get("/chat/embed")).headers
    assert f"frame-ancestors 'self' {ORIGIN}" in embed["content-security-policy"] and "x-frame-options" not in embed


@pytest.mark.asyncio
async def test_cors_headers_only_under_the_chat_api(client: httpx.AsyncClient) -> None:
    preflight = {"origin": ORIGIN, "access-control-request-method": "POST"}
    api = await client.options("/chat/api/messages", headers=preflight)
    assert api.headers.get("access-control-allow-origin") == ORIGIN
    for path in ("/admin/login", "/metrics", "/telegram/webhook", "/zalo/oa/webhook"):
        r = await client.options(path, headers=preflight)
        assert "access-control-allow-origin" not in r.headers, path
        r = await client.get(path, headers={"origin": ORIGIN})
        assert "access-control-allow-origin" not in r.headers, path


# -- 14. the web chat's limit per address is shared by workers and kept over a restart ----


@pytest.mark.asyncio
async def test_web_chat_limit_is_counted_in_the_database(assistant: Assistant) -> None:
    worker_a = create_app(assistant.settings, assistant)
    worker_b = create_app(assistant.settings, assistant)  # another worker on the same database
    codes = []
    for i in range(121):
        app = worker_a if i % 2 else worker_b
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            codes.append((await c.get("/chat/api/messages", params={"session_id": SESSION})).status_code)
    assert codes[:120] == [200] * 120 and codes[120] == 429
    restarted = create_app(assistant.settings, assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=restarted), base_url="http://t") as c:
        assert (await c.get("/chat/api/messages", params={"session_id": SESSION})).status_code == 429


# -- 3. no raw phone, ID-card number or e-mail address is stored --------------------------

PHONE, CARD, MAIL = "(0905) 777 888", "048 199 277 355", "lan.nguyen@gmail.com"
QUESTION = f"Tôi là Lan, sđt {PHONE}, cccd {CARD}, email {MAIL}: đăng ký tài khoản định danh điện tử ở đâu?"
TRACES = ("777", "199", "355", "lan.nguyen", "gmail")


def test_redact_masks_every_written_form() -> None:
    forms = ["(0905) 123 456", "0905 / 123 / 456", "0905_123_456", "+84 905 123 456", "0905.123.456", "048 123 456 789",
             "an.nguyen+cds@danang.gov.vn"]
    masked = [redact(f"gọi {text} nhé") for text in forms]
    assert all(m in ("gọi [số] nhé", "gọi [email] nhé") for m in masked), masked


async def _stored_text(assistant: Assistant) -> str:
    async with assistant.db.session() as s:
        states = [json.dumps(r.state, ensure_ascii=False) for r in (await s.scalars(select(Resident))).all()]
        tickets = [t.question + t.answer + t.display_name for t in (await s.scalars(select(Ticket))).all()]
        logged = [q.normalized for q in (await s.scalars(select(QuestionLog))).all()]
        raw = [json.dumps(i.payload, ensure_ascii=False) for i in (await s.scalars(select(InboxItem))).all()]
    return "\n".join(states + tickets + logged + raw)


@pytest.mark.asyncio
async def test_questions_tickets_and_answered_inbox_items_keep_no_number_or_address(
        assistant: Assistant, client: httpx.AsyncClient) -> None:
    assert (await client.post("/chat/api/messages", json=ask(QUESTION))).status_code == 200
    async with assistant.db.engine.begin() as conn:
        await conn.execute(update(Resident).where(Resident.platform_user_id == SESSION).values(area_code="phuong-hai-chau"))
    assert (await client.post("/chat/api/messages", json=ask("/hoi " + QUESTION))).status_code == 200
    # A Telegram update, answered: its text stays only masked for the days it is kept.
    update_ = {"update_id": 81, "message": {"message_id": 1, "date": 0, "text": QUESTION,
                                            "chat": {"id": 5001, "type": "private"}, "from": {"id": 5001, "is_bot": False, "first_name": "Lan"}}}
    await inbox.store(assistant.db, "telegram", [("81", update_)])
    await inbox.finish(assistant.db, "telegram", "81")
    stored = await _stored_text(assistant)
    assert "định danh" in stored and "[số]" in stored  # the question is there, masked
    assert not [t for t in TRACES if t in stored], stored


# -- 2. /xoadulieu leaves nothing about the resident ----------------------------------------


async def _say(assistant: Assistant, channel: str, user: str, text: str | None = None, button: str | None = None) -> list[Reply]:
    return await assistant.dispatcher.dispatch(Incoming(channel, user, user, text=text, button=button, display_name="Lan Nguyễn"))


@pytest.mark.asyncio
async def test_xoadulieu_leaves_no_personal_data_and_keeps_the_team_figures(assistant: Assistant) -> None:
    user = "5001"
    update_ = {"update_id": 91, "message": {"message_id": 1, "date": 0, "text": "Tôi là Lan Nguyễn",
                                            "chat": {"id": 5001, "type": "private"}, "from": {"id": 5001, "first_name": "Lan Nguyễn"}}}
    other = {"update_id": 92, "message": {"message_id": 2, "date": 0, "text": "người khác",
                                          "chat": {"id": 6001, "type": "private"}, "from": {"id": 6001, "first_name": "Bình"}}}
    await inbox.store(assistant.db, "telegram", [("91", update_), ("92", other)])
    await inbox.finish(assistant.db, "telegram", "91")
    await _say(assistant, "telegram", user, "thủ tục đăng ký định danh điện tử")
    async with assistant.db.engine.begin() as conn:
        await conn.execute(update(Resident).where(Resident.platform_user_id == user).values(area_code="phuong-hai-chau"))
    await _say(assistant, "telegram", user, "/hoi Tôi là Lan Nguyễn, hỏi về định danh")
    await _say(assistant, "telegram", user, "/hoi câu thứ hai còn chờ")
    team = await teams.create_team(assistant.db, "phuong-hai-chau", "Tổ CNS Hải Châu")
    async with assistant.db.session() as s, s.begin():
        first = (await s.scalars(select(Ticket).order_by(Ticket.id))).first()
        assert first is not None
        first.status, first.answer, first.team_id = "answered", "Chị Lan Nguyễn mang căn cước tới phường.", team
    await deliveries.store(assistant.db, "telegram", user, Reply("Trả lời cho Lan Nguyễn"))
    await _say(assistant, "telegram", user, "/xoadulieu")
    await _say(assistant, "telegram", user, button="x:yes")

    async with assistant.db.session() as s:
        tickets = (await s.scalars(select(Ticket).order_by(Ticket.id))).all()
        assert [t.status for t in tickets] == ["answered", "closed"]  # the answered one keeps its state
        assert all(t.question == t.answer == t.display_name == t.chat == "" and t.resident_id is None for t in tickets)
        assert (await s.scalars(select(Resident).where(Resident.platform_user_id == user))).first() is None
        assert (await s.scalars(select(Delivery).where(Delivery.chat == user))).first() is None
        left = [i.external_id for i in (await s.scalars(select(InboxItem).where(InboxItem.channel == "telegram"))).all()]
    assert left == ["92"]  # the other resident's item stays
    assert "Lan" not in await _stored_text(assistant)


@pytest.mark.asyncio
async def test_xoadulieu_on_the_web_chat_deletes_its_stored_answers(assistant: Assistant, client: httpx.AsyncClient) -> None:
    await client.post("/chat/api/messages", json=ask("xin chào"))
    await deliveries.store(assistant.db, "web", SESSION, Reply("Câu trả lời của Tổ CNS cho chị Lan"))
    async with assistant.db.engine.begin() as conn:  # one already fetched, one waiting
        await conn.execute(insert(Delivery).values(channel="web", chat=SESSION, payload={"text": "cũ"}, delivered_at=None))
    await client.post("/chat/api/messages", json=ask("/xoadulieu"))
    await client.post("/chat/api/messages", json={"session_id": SESSION, "button": "x:yes"})
    async with assistant.db.session() as s:
        assert (await s.scalars(select(Delivery).where(Delivery.chat == SESSION))).first() is None


# -- 8. team codes: not from the web chat, they expire, attempts are limited ----------------


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.asyncio
async def test_team_codes_cannot_be_used_from_the_web_chat_expire_and_limit_attempts(
        assistant: Assistant, client: httpx.AsyncClient) -> None:
    from bot import clock

    team = await teams.create_team(assistant.db, "phuong-hai-chau", "Tổ CNS Hải Châu")
    code = await teams.create_invite(assistant.db, team)
    assert len(code) == 10 and code.isalnum()
    r = await client.post("/chat/api/messages", json=ask(f"/thamgia {code}"))
    assert "Telegram hoặc Zalo" in r.json()["replies"][0]["text"]
    assert await teams.member_of(assistant.db, "web", SESSION) is None

    for i in range(5):  # a Telegram account guessing
        assert "không đúng" in _text(await _say(assistant, "telegram", "7001", f"/thamgia SAI{i:07d}"))
    assert "quá nhiều lần" in _text(await _say(assistant, "telegram", "7001", f"/thamgia {code}"))
    assert await teams.member_of(assistant.db, "telegram", "7001") is None
    assert "Chào mừng" in _text(await _say(assistant, "telegram", "7002", f"/thamgia {code}"))  # another account, the code still good

    old = await teams.create_invite(assistant.db, team)
    clock.set_now(clock.now() + dt.timedelta(days=8))
    assert "hết hạn" in _text(await _say(assistant, "telegram", "7003", f"/thamgia {old}"))
    assert await teams.member_of(assistant.db, "telegram", "7003") is None


# -- docs/security.md names a test for each promise, and the test exists ---------------------


def test_every_test_named_in_the_security_promises_exists() -> None:
    import re

    from bot.settings import ROOT

    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", doc))
    files = set(re.findall(r"`(tests/[\w/]+\.py)`", doc))
    defined = set(re.findall(r"def (test_[a-z0-9_]+)", "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))))
    assert len(named) >= 25 and not named - defined, named - defined
    assert all((ROOT / f).exists() for f in files), files


# -- 1. on every channel: an undecodable stored item is failed and counted, never raised ------


@pytest.mark.asyncio
async def test_undecodable_zalo_items_left_in_the_inbox_are_failed_and_counted(assistant: Assistant) -> None:
    from bot import metrics
    from bot.channels.zalo_bot import ZaloBotChannel

    zalo = ZaloBotChannel(assistant.settings.model_copy(update={"zalo_bot_token": "123:zalo-token"}), assistant.db,
                          assistant.dispatcher.dispatch)
    oa = assistant.zalo_oa
    assert oa is not None
    await inbox.store(assistant.db, "zalo", [("z1", {"message": {"message_id": "z1", "from": "x", "text": "chào"}})])
    await inbox.store(assistant.db, "zalo_oa", [("o1", {"event_name": "user_send_text", "sender": "x",
                                                        "message": {"msg_id": "o1", "text": "chào"}})])
    before = {c: metrics.INBOX_UNDECODABLE.labels(c)._value.get() for c in ("zalo", "zalo_oa")}
    for channel, handler in (("zalo", zalo._handle), ("zalo_oa", oa._handle)):  # what start() does with each pending item
        for _, payload in await inbox.pending(assistant.db, channel):
            await handler(payload)
    await zalo.client.close()
    async with assistant.db.session() as s:
        rows = {(i.channel, i.external_id): i.status for i in (await s.scalars(select(InboxItem))).all()}
    assert rows == {("zalo", "z1"): "failed", ("zalo_oa", "o1"): "failed"}
    assert all(metrics.INBOX_UNDECODABLE.labels(c)._value.get() == before[c] + 1 for c in before)
