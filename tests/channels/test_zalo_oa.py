"""Zalo Official Account end to end: the assistant served on 127.0.0.1, the fake OA and
OAuth servers signing webhook events and receiving consultation and promotion messages.
Covers the signature check, conversations (buttons and numbered lists), Tổ CNS replies,
subscriptions with follow/unfollow, token rotation (also two refreshes at once), the
7-day window, rate limits and the error codes that stop a campaign."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import Assistant, create_app
from bot.campaigns import outbox, service
from bot.campaigns.sender import Sender
from bot.channels.base import Button, Outcome, Reply
from bot.channels.zalo_oa import ZaloOAChannel, next_morning, render
from bot.channels.zalo_oa_api import TokenStore, check_signature, signature
from bot.clock import now as utcnow
from bot.services import teams
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Resident, Subscription, ZaloOAToken
from tests.fakes.zalo_oa_api import DAY_MS, FakeZaloOA
from tests.helpers import assert_kept_only_redacted, free_port, prepared, serving

USER = "8461727310123456789"


def oa_settings(fake: FakeZaloOA, url: str, access: str, refresh: str) -> Settings:
    return Settings(database_url=url, zalo_oa_app_id=fake.app_id, zalo_app_secret=fake.app_secret,
                    zalo_oa_secret_key=fake.oa_secret_key, zalo_oa_access_token=access, zalo_oa_refresh_token=refresh,
                    zalo_oa_api_base_url=fake.base_url, zalo_oauth_base_url=fake.base_url)


class OA:
    """The fake OA, the running assistant, and a resident's side of the chat."""

    def __init__(self, fake: FakeZaloOA, assistant: Assistant) -> None:
        self.fake = fake
        self.assistant = assistant

    @property
    def channel(self) -> ZaloOAChannel:
        assert self.assistant.zalo_oa is not None
        return self.assistant.zalo_oa

    async def wait_for(self, user: str, count: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(self.fake.messages(user)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; got {self.fake.texts(user)}")
            await asyncio.sleep(0.02)

    async def say(self, text: str, user: str = USER, replies: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.messages(user))
        assert await self.fake.event("user_send_text", user, text) == 200
        await self.wait_for(user, before + replies)
        await asyncio.sleep(0.05)
        return [m.message for m in self.fake.messages(user)[before:]]

    async def tap(self, messages: list[dict[str, Any]], label_part: str, user: str = USER, replies: int = 1) -> list[dict[str, Any]]:
        return await self.say(button_payload(messages, label_part), user, replies)


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for m in messages for b in ((m.get("attachment") or {}).get("payload") or {}).get("buttons", [])]


def button_payload(messages: list[dict[str, Any]], label_part: str) -> str:
    for b in buttons(messages):
        if label_part in b["title"]:
            return str(b["payload"])
    for line in joined(messages).splitlines():  # more than five choices: a numbered list
        number, _, label = line.partition(". ")
        if number.isdigit() and label_part in label:
            return number
    raise AssertionError(f"no button {label_part!r} in {[b['title'] for b in buttons(messages)]}")


@pytest_asyncio.fixture
async def oa(tmp_path) -> AsyncIterator[OA]:  # type: ignore[no-untyped-def]
    fake = FakeZaloOA().start()
    access, refresh = fake.issue_tokens()
    port = free_port()
    settings = oa_settings(fake, f"sqlite+aiosqlite:///{tmp_path / 'oa.sqlite3'}", access, refresh)
    assistant = await prepared(settings)
    async with serving(create_app(settings, assistant), port):
        fake.webhook_url = f"http://127.0.0.1:{port}/zalo/oa/webhook"
        yield OA(fake, assistant)
    await assistant.db.dispose()
    fake.stop()


# -- the webhook signature -----------------------------------------------------------


def test_signature_is_plain_sha256_of_app_id_body_timestamp_and_key() -> None:
    body = b'{"app_id":"123","event_name":"user_send_text","timestamp":"1700000000000"}'
    expected = "mac=" + hashlib.sha256(b"123" + body + b"1700000000000" + b"key").hexdigest()
    assert signature("123", body, "1700000000000", "key") == expected
    now = dt.datetime(2023, 11, 14, 22, 13, 20)  # the timestamp above, in UTC
    assert check_signature(expected, "123", body, "1700000000000", "key", now=now) is None
    assert check_signature(expected, "123", body + b" ", "1700000000000", "key", now=now) == "bad signature"
    assert check_signature(expected.replace("mac=", ""), "123", body, "1700000000000", "key", now=now) == "bad signature"
    assert check_signature("", "123", body, "1700000000000", "key", now=now) == "no signature"
    assert check_signature(expected, "123", body, "1700000000000", "key", now=now + dt.timedelta(hours=2)) is None  # a redelivery
    assert check_signature(expected, "123", body, "1700000000000", "key", now=now + dt.timedelta(hours=25)) == "old timestamp"
    assert check_signature(expected, "123", body, "1700000000000", "key", now=now - dt.timedelta(minutes=11)) == "timestamp in the future"


@pytest.mark.asyncio
async def test_bad_old_or_foreign_events_are_refused_and_copies_answered_once(oa: OA) -> None:
    fake = oa.fake
    assert await fake.event("user_send_text", USER, "vneid là gì", bad_signature=True) == 403
    assert await fake.event("user_send_text", USER, "vneid là gì", age_ms=25 * 3_600_000) == 403  # replayed a day later
    foreign = fake.build_event("user_send_text", USER, "vneid là gì")
    foreign["app_id"] = "999"
    assert await fake.event("user_send_text", USER, event=foreign) == 403
    assert oa.channel.refused == 3
    await asyncio.sleep(0.3)
    assert fake.messages(USER) == []
    assert await fake.event("user_send_text", USER, "vneid là gì", copies=3) == 200  # Zalo retried twice
    await oa.wait_for(USER, 1)
    await asyncio.sleep(0.5)
    assert len(fake.messages(USER)) == 1
    assert all(status == 200 and seconds < 2 for status, seconds in fake.deliveries[-3:])


# -- conversations -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_answer_with_buttons_and_a_suggestion_chosen_by_tapping(oa: OA) -> None:
    answer = await oa.say("vneid la gi")
    assert "Bộ Công an" in joined(answer)
    payloads = [b["payload"] for b in buttons(answer)]
    assert payloads and all(p.startswith("cds:") for p in payloads) and len(payloads) <= 5
    assert all(b["type"] == "oa.query.hide" for b in buttons(answer))
    suggest = await oa.say("hồ sơ")
    assert "Có phải bạn muốn hỏi" in joined(suggest)
    first = buttons(suggest)[0]
    chosen = await oa.say(first["payload"])
    assert "hồ sơ" in joined(chosen).lower()
    thanks = await oa.tap(answer, "👍")
    assert thanks and all(len(m["text"]) <= 2000 for m in oa.fake.messages() for m in [m.message] if "text" in m)


@pytest.mark.asyncio
async def test_a_handled_message_stays_in_the_inbox_only_redacted(oa: OA) -> None:
    assert joined(await oa.say("số 0905 123 456 của tôi có dùng VNeID được không")).strip()
    await assert_kept_only_redacted(oa.assistant.db, "zalo_oa", "có dùng VNeID")  # answered or not, the item is finished


@pytest.mark.asyncio
async def test_a_long_menu_is_a_numbered_list_answered_by_number(oa: OA) -> None:
    menu = await oa.say("/menu")
    text = joined(menu)
    assert "1. " in text and "Trả lời bằng số" in text and not buttons(menu)
    topic = await oa.say("1")
    assert "1. " in joined(topic) or buttons(topic)


@pytest.mark.asyncio
async def test_a_photo_or_sticker_gets_a_sensible_reply(oa: OA) -> None:
    before = len(oa.fake.messages(USER))
    assert await oa.fake.event("user_send_sticker", USER) == 200
    await oa.wait_for(USER, before + 1)
    assert oa.fake.texts(USER)[-1].strip()


@pytest.mark.asyncio
async def test_escalation_to_the_team_and_its_answer_come_back(oa: OA) -> None:
    team = await teams.create_team(oa.assistant.db, "phuong-hai-chau", "Tổ CNS phường Hải Châu")
    code = await teams.create_invite(oa.assistant.db, team)
    member = "member-1"
    assert "Chào mừng" in joined(await oa.say(f"/thamgia {code}", user=member))
    unknown = await oa.say("khi nào có sóng 5G ở khu phố tôi")
    try:
        step = await oa.tap(unknown, "Hỏi người thật")
    except AssertionError:  # "Không phải" first, then the offer to ask a person
        step = await oa.tap(await oa.tap(unknown, "Không phải"), "Hỏi người thật")
    assert "phường, xã nào" in joined(step)
    done = await oa.say("Hải Châu", replies=2)
    assert "Tổ CNS phường Hải Châu" in joined(done)
    note = oa.fake.texts(member)[-1]
    number = note.split("(số ")[1].split(")")[0]
    await oa.say(f"/traloi {number} Quý sau có sóng 5G.", user=member)
    deadline = time.monotonic() + 10
    while not any("Quý sau có sóng" in t for t in oa.fake.texts(USER)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_subscribe_unfollow_follow_unsubscribe_and_delete_my_data(oa: OA) -> None:
    db = oa.assistant.db
    assert "phường, xã nào" in joined(await oa.say("/dangky"))
    topics = await oa.say("Sơn Trà", replies=2)
    assert "Đã đăng ký" in joined(await oa.tap(topics, "Đồng ý nhận thông báo"))

    async def subscription() -> Subscription:
        async with db.session() as session:
            resident = await session.scalar(select(Resident).where(Resident.platform_user_id == USER))
            assert resident is not None
            sub = await session.scalar(select(Subscription).where(Subscription.resident_id == resident.id))
            assert sub is not None
            return sub

    assert await oa.fake.event("unfollow", USER) == 200
    deadline = time.monotonic() + 5
    while (await subscription()).active:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert (await subscription()).end_reason == "unfollowed"
    before = len(oa.fake.messages(USER))
    assert await oa.fake.event("follow", USER) == 200
    await oa.wait_for(USER, before + 1)  # the welcome
    assert (await subscription()).active
    confirm = await oa.say("/huy")
    assert "Đã hủy" in joined(await oa.tap(confirm, "Hủy nhận tin"))
    assert not (await subscription()).active
    ask = await oa.say("/xoadulieu")
    assert "Đã xóa" in joined(await oa.tap(ask, "Xóa hết"))
    async with db.session() as session:
        assert await session.scalar(select(Resident).where(Resident.platform_user_id == USER)) is None


# -- tokens --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_expired_token_is_refreshed_once_and_the_rotated_one_stored(oa: OA, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = oa.fake
    await oa.say("vneid là gì")
    first = fake.messages(USER)[-1].token
    calls = fake.oauth_calls
    fake.expire_access_tokens()
    await oa.say("cảm ơn")
    assert fake.oauth_calls == calls + 1
    assert fake.messages(USER)[-1].token != first
    async with oa.assistant.db.session() as session:
        row = await session.get(ZaloOAToken, 1)
    assert row is not None and row.refresh_token in fake.refresh_tokens and row.access_token == fake.messages(USER)[-1].token
    assert row.expires_at is not None and row.expires_at > utcnow() + dt.timedelta(hours=24)
    secrets = [first, row.access_token, row.refresh_token, fake.app_secret, fake.oa_secret_key]
    assert not any(s in caplog.text for s in secrets)


@pytest.mark.asyncio
async def test_two_refreshes_at_once_make_one_call_and_keep_the_rotated_token(db: Database) -> None:
    fake = FakeZaloOA().start()
    try:
        access, refresh = fake.issue_tokens()
        fake.oauth_delay = 0.3
        settings = oa_settings(fake, "sqlite+aiosqlite://", access, refresh)
        async with httpx.AsyncClient() as h1, httpx.AsyncClient() as h2:
            a, b = TokenStore(db, settings, h1), TokenStore(db, settings, h2)
            assert await a.access_token() == access and await b.access_token() == access
            # Two stores: two processes of the assistant sharing a database.
            new_a, new_b = await asyncio.gather(a.refresh(access), b.refresh(access))
        assert new_a == new_b != access
        assert fake.oauth_calls in (1, 2)  # SQLite: the loser's call is refused, and it takes the winner's tokens
        async with db.session() as session:
            row = await session.get(ZaloOAToken, 1)
        assert row is not None and row.access_token == new_a and row.refresh_token in fake.refresh_tokens
        assert row.version == 1
        if not db.is_sqlite:
            assert fake.oauth_calls == 1  # the row lock makes the second wait and reuse
    finally:
        fake.stop()


@pytest.mark.asyncio
async def test_new_tokens_in_the_settings_replace_the_stored_ones(db: Database) -> None:
    fake = FakeZaloOA().start()
    try:
        a1, r1 = fake.issue_tokens()
        async with httpx.AsyncClient() as http:
            store = TokenStore(db, oa_settings(fake, "sqlite+aiosqlite://", a1, r1), http)
            await store.refresh(None)  # unknown expiry: refreshed before use
            rotated = await store.access_token()
            assert rotated != a1
            again = TokenStore(db, oa_settings(fake, "sqlite+aiosqlite://", a1, r1), http)
            assert await again.access_token() == rotated  # same settings: the stored tokens win
            a2, r2 = fake.issue_tokens()  # the operator authorised again
            fresh = TokenStore(db, oa_settings(fake, "sqlite+aiosqlite://", a2, r2), http)
            assert await fresh.access_token() == a2
    finally:
        fake.stop()


# -- campaigns: the 7-day window, promotion, errors ------------------------------------


async def add_resident(db: Database, user: str, last: dt.datetime | None, follower: bool | None) -> int:
    async with db.engine.begin() as conn:
        result = await conn.execute(Resident.__table__.insert().values(
            channel="zalo_oa", platform_user_id=user, language="vi", display_name="", state={}, created_at=utcnow(),
            last_seen_at=utcnow(), waiting=False, last_inbound_at=last, follower=follower))
        rid = int(result.inserted_primary_key[0])
        await conn.execute(Subscription.__table__.insert().values(resident_id=rid, area_code=None, topics=[],
                                                                  active=True, consented_at=utcnow()))
    return rid


def at_noon() -> dt.datetime:
    """Noon in Đà Nẵng today (UTC, naive): promotion messages are allowed."""
    return dt.datetime.combine(utcnow().date(), dt.time(5, 0))


@pytest.mark.asyncio
async def test_campaign_messages_respect_the_7_day_window_and_followers(oa: OA) -> None:
    db, fake, ch = oa.assistant.db, oa.fake, oa.channel
    now = utcnow()
    cases = {  # user: (last interaction, follower) → what Zalo receives
        "recent": (now - dt.timedelta(hours=2), False),
        "follower": (now - dt.timedelta(days=20), True),
        "inwindow": (now - dt.timedelta(days=5), False),
        "closed": (now - dt.timedelta(days=8), False),
        "unknown": (None, None),
    }
    for user, (last, follower) in cases.items():
        await add_resident(db, user, last, follower)
        u = fake.user(user)
        u.follower = bool(follower)
        u.last_interaction_ms = int((last or now - dt.timedelta(days=30)).replace(tzinfo=dt.UTC).timestamp() * 1000)
    assert next_morning(utcnow()) is None  # the test clock stands at 10:00 in Đà Nẵng: promotions may go
    reply = Reply("Thông báo: ngày hội chuyển đổi số\nChủ nhật này tại Công viên APEC.", buttons=(Button("Hủy nhận tin", "u:off"),))
    results = {user: await ch.deliver(user, reply) for user in cases}
    assert results["recent"].outcome == Outcome.SENT and fake.messages("recent", "cs")
    assert results["follower"].outcome == Outcome.SENT and fake.messages("follower", "promotion")
    assert results["inwindow"].outcome == Outcome.SENT and fake.messages("inwindow", "cs")
    assert results["closed"].outcome == Outcome.SKIPPED and not fake.messages("closed")
    assert results["unknown"].outcome == Outcome.SKIPPED and not fake.messages("unknown")
    assert not [f for f in fake.failed if f[1] in ("closed", "unknown")]  # never even tried outside the window
    # A second promotion the same day is refused by Zalo (-218): skipped, subscription kept.
    again = await ch.deliver("follower", reply)
    assert again.outcome == Outcome.SKIPPED and again.description.startswith("-218")


@pytest.mark.asyncio
async def test_zalo_says_the_window_closed_and_the_next_message_reopens_it(oa: OA) -> None:
    db, fake, ch = oa.assistant.db, oa.fake, oa.channel
    await add_resident(db, "drifted", utcnow() - dt.timedelta(days=6), False)
    fake.user("drifted").last_interaction_ms = fake.now_ms() - 8 * DAY_MS  # Zalo counts otherwise
    result = await ch.deliver("drifted", Reply("Thông báo"))
    assert result.outcome == Outcome.SKIPPED and result.description.startswith("-230")
    assert (await ch.deliver("drifted", Reply("Thông báo"))).description.startswith("no interaction")
    await oa.say("xin chào", user="drifted")
    assert (await ch.deliver("drifted", Reply("Thông báo"))).outcome == Outcome.SENT


def test_promotions_wait_for_the_morning() -> None:
    night = dt.datetime(2026, 11, 26, 16, 0)  # 23:00 in Đà Nẵng
    assert next_morning(night) == pytest.approx(7 * 3600 + 300)
    assert next_morning(dt.datetime(2026, 11, 26, 5, 0)) is None  # 12:00


@pytest.mark.asyncio
async def test_rate_limits_are_waited_out_as_zalo_asks_for_replies_and_deferred_for_campaigns(oa: OA) -> None:
    fake, ch = oa.fake, oa.channel
    waits: list[float] = []

    async def record(seconds: float) -> None:  # the channel's waits, recorded instead of slept
        waits.append(seconds)

    ch.sleep = record
    fake.fail("cs", -32)  # no Retry-After: the limit counts per minute
    answer = await oa.say("vneid là gì")
    assert "Bộ Công an" in joined(answer) and waits == [60.0]  # not 1 s and 2 s: Zalo would refuse again
    fake.fail("cs", 429, http_status=429)  # Retry-After: 1
    await oa.say("cảm ơn")
    assert waits == [60.0, 1.0]
    assert [f[2] for f in fake.failed if f[1] == USER][:2] == [-32, 429]
    await add_resident(oa.assistant.db, "limited", utcnow(), False)
    fake.user("limited").last_interaction_ms = fake.now_ms()
    fake.fail("cs", -32)
    result = await ch.deliver("limited", Reply("Thông báo"))
    assert result.outcome == Outcome.RETRY_LATER and result.retry_after == 60.0


@pytest.mark.asyncio
async def test_a_campaign_goes_out_by_the_rules_and_pauses_when_the_oa_is_out_of_quota(oa: OA) -> None:
    db, fake, ch = oa.assistant.db, oa.fake, oa.channel
    for i in range(6):
        await add_resident(db, f"r{i}", utcnow() - dt.timedelta(hours=1), False)
        fake.user(f"r{i}").last_interaction_ms = fake.now_ms()
    await add_resident(db, "gone", utcnow() - dt.timedelta(days=9), False)
    fake.fail("cs", 429, http_status=429)  # the first message waits Retry-After, then goes
    sender = Sender(db, {"zalo_oa": ch.deliver}, {"zalo_oa": 50.0})
    first = await service.create(db, "Thông báo thứ nhất", channels=["zalo_oa"], now=True)
    deadline = time.monotonic() + 20
    while (await service.status(db, first))["state"] != "done":
        await sender.run_once()
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    counts = await outbox.counts(db, first)
    assert counts["sent"] == 6 and counts["skipped"] == 1 and counts["failed"] == 0
    fake.fail("cs", -211, times=100)
    second = await service.create(db, "Thông báo thứ hai", channels=["zalo_oa"], now=True)
    await sender.run_once()
    assert (await service.status(db, second))["state"] == "paused"
    assert (await outbox.counts(db, second))["queued"] >= 6  # nothing lost: sent after an operator resumes


def test_render_buttons_links_and_long_lists() -> None:
    message, numbered = render(Reply("Chọn:", buttons=(Button("A", "e:a"),)))
    # The official SDK's text with buttons: attachment {type: template, payload: {buttons}}, no template_type.
    assert message == {"text": "Chọn:", "attachment": {"type": "template", "payload": {
        "buttons": [{"type": "oa.query.hide", "title": "A", "payload": "cds:e:a"}]}}}
    assert numbered == []
    many = Reply("Chọn:", buttons=tuple(Button(str(i), f"m:{i}") for i in range(7)))
    message, numbered = render(many)
    assert "attachment" not in message and "7. 6" in message["text"] and numbered[0] == "m:0"


@pytest.mark.asyncio
async def test_readyz_shows_a_failing_token_refresh(oa: OA) -> None:
    app = create_app(oa.assistant.settings, oa.assistant)
    tokens = oa.channel.client.tokens
    deadline = time.monotonic() + 10
    while tokens.expires_at is None:  # the start-up refresh (tokens from the settings have no expiry) is done
        assert time.monotonic() < deadline, "the start-up token refresh did not happen"
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/readyz")).json()["checks"]["zalo_oa_token"] == "ok"
        oa.fake.refresh_tokens.clear()  # Zalo forgot us: an operator must authorise again
        oa.fake.expire_access_tokens()
        with pytest.raises(Exception):
            await oa.channel.client.tokens.refresh(await oa.channel.client.tokens.access_token())
        body = (await c.get("/readyz")).json()
    assert body["checks"]["zalo_oa_token"].startswith("refresh failing") and body["status"] == "not ready"
    assert oa.fake.app_secret not in str(body)


# -- what Zalo's servers expect (issue 25) ----------------------------------------------


@pytest.mark.asyncio
async def test_the_fake_refuses_a_button_template_type_and_takes_the_sdk_shape(oa: OA) -> None:
    """A text with buttons has no template_type (official PHP SDK); "button" is refused."""
    fake = oa.fake
    fake.user(USER).last_interaction_ms = fake.now_ms()
    access, _ = fake.issue_tokens()
    button = {"type": "oa.query.hide", "title": "A", "payload": "cds:e:a"}
    shapes = {
        "ours": render(Reply("Chọn:", buttons=(Button("A", "e:a"),)))[0],
        "template_type button": {"text": "Chọn:", "attachment": {"type": "template", "payload": {
            "template_type": "button", "buttons": [button]}}},
        "six buttons": {"text": "Chọn:", "attachment": {"type": "template", "payload": {"buttons": [button] * 6}}},
        "unknown button type": {"text": "Chọn:", "attachment": {"type": "template", "payload": {
            "buttons": [{**button, "type": "postback"}]}}},
    }
    codes = {}
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        for name, message in shapes.items():
            r = await client.post("/v3.0/oa/message/cs", headers={"access_token": access},
                                  json={"recipient": {"user_id": USER}, "message": message})
            codes[name] = r.json()["error"]
    assert codes == {"ours": 0, "template_type button": -201, "six buttons": -201, "unknown button type": -201}
    refused = len(fake.failed)
    answer = await oa.say("vneid la gi")  # end to end: the reply with buttons is accepted
    assert buttons(answer) and len(fake.failed) == refused


@pytest.mark.asyncio
async def test_zalo_redelivering_an_unanswered_event_hours_later_is_answered_once(oa: OA) -> None:
    fake = oa.fake
    webhook = fake.webhook_url
    fake.webhook_url = f"http://127.0.0.1:{free_port()}/zalo/oa/webhook"  # the assistant is down
    assert await fake.event("user_send_text", USER, "vneid là gì") == 0
    for _ in range(3):  # Zalo retries after 30 s, 5 min and 15 min: still down
        assert await fake.redeliver() == [0]
    fake.webhook_url = webhook  # back up 50 minutes after the message; Zalo retries after 30 more
    assert await fake.redeliver() == [200]
    await oa.wait_for(USER, 1)
    assert "Bộ Công an" in joined([m.message for m in fake.messages(USER)])
    raw, headers, _ = fake.unanswered[0] if fake.unanswered else (None, None, None)
    assert raw is None  # answered: Zalo stops
    # A copy of an event already answered (Zalo retried after a slow answer) is not answered again.
    event = fake.build_event("user_send_text", USER, "cảm ơn", age_ms=2 * 3_600_000)
    assert await fake.event("user_send_text", USER, event=event, copies=2) == 200
    await oa.wait_for(USER, 2)
    await asyncio.sleep(0.3)
    assert len(fake.messages(USER)) == 2 and oa.channel.refused == 0


@pytest.mark.parametrize("code", [-204, -205, -209, -212, -219])
@pytest.mark.asyncio
async def test_an_oa_or_app_disabled_pauses_the_campaign_and_shows_on_readyz(oa: OA, code: int) -> None:
    db, fake, ch = oa.assistant.db, oa.fake, oa.channel
    for i in range(3):
        await add_resident(db, f"h{i}", utcnow() - dt.timedelta(hours=1), False)
        fake.user(f"h{i}").last_interaction_ms = fake.now_ms()
    fake.fail("cs", code, times=100)
    campaign = await service.create(db, "Thông báo", channels=["zalo_oa"], now=True)
    await Sender(db, {"zalo_oa": ch.deliver}, {"zalo_oa": 50.0}).run_once()
    assert (await service.status(db, campaign))["state"] == "paused"
    counts = await outbox.counts(db, campaign)
    # Nothing failed: sent after an operator resumes (the app's own sender may hold rows mid-batch).
    assert counts["queued"] + counts["sending"] == 3 and counts["failed"] == 0
    app = create_app(oa.assistant.settings, oa.assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["zalo_oa_sending"].startswith(f"halted: {code} ")
        fake.faults.clear()  # the operator fixed the app in the developer console
        assert (await ch.deliver("h0", Reply("Thông báo"))).outcome == Outcome.SENT
        assert (await c.get("/readyz")).json()["checks"]["zalo_oa_sending"] == "ok"


@pytest.mark.asyncio
async def test_a_reply_that_timed_out_is_sent_again_once_at_most(oa: OA) -> None:
    """A timeout after the request went out may mean Zalo delivered it: one more try, never two."""
    fake, ch = oa.fake, oa.channel
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    ch.sleep = record
    fake.user(USER).last_interaction_ms = fake.now_ms()
    fake.fail("cs", 408, times=5, http_status=408)  # what the client reports for a read timeout
    assert not await ch.send(USER, Reply("Thông báo"))
    assert len([f for f in fake.failed if f[1] == USER]) == 2 and len(waits) == 1


def test_the_home_page_carries_zalos_domain_verification_tag(settings: Settings) -> None:
    """Zalo verifies the domain of an OA app by a meta tag on the site's home page."""
    from starlette.testclient import TestClient

    code = "SeEEB8ES51jdZCu-hOfK5MQ3rGw_AyW9"
    with TestClient(create_app(settings.model_copy(update={"zalo_site_verification": code}))) as client:
        page = client.get("/")
    head = page.text.split("</head>")[0]
    assert page.status_code == 200 and f'<meta name="zalo-platform-site-verification" content="{code}">' in head
    assert 'aria-live="polite"' in page.text  # still the web chat
    with TestClient(create_app(settings)) as client:
        assert "zalo-platform-site-verification" not in client.get("/").text  # not set: no tag
    with pytest.raises(ValueError, match="ZALO_SITE_VERIFICATION"):
        Settings(zalo_site_verification='"><script>alert(1)</script>')


# -- order across workers ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_residents_events_go_in_zalos_time_order_whichever_worker_gets_them(db_url: str) -> None:
    """Two workers on one PostgreSQL database (one worker on SQLite, which serves one
    process). "/khuvuc" and then "Hải Châu" (by Zalo's event time) arrive the other way
    round: the ward's name at worker 1, then a moment later the command at worker 2
    (on SQLite both at the one worker). The later event waits its `ZALO_ORDER_WAIT` by its own time, the
    earlier one goes first, and the resident's ward is set; handled as they arrived, the
    ward's name would be a question and "/khuvuc" would be left asking."""
    from bot.replies import t
    from tests.conftest import drop_postgres_database, fresh_postgres_database

    fake = FakeZaloOA().start()
    name, url = (await fresh_postgres_database()) if db_url == "postgresql" else (None, db_url)
    access, refresh = fake.issue_tokens()
    settings = oa_settings(fake, url, access, refresh)
    workers = [await prepared(settings)] + ([] if name is None else [await prepared(settings)])
    ports = [free_port() for _ in workers]
    try:
        async with contextlib.AsyncExitStack() as stack:
            for worker, port in zip(workers, ports, strict=True):
                await stack.enter_async_context(serving(create_app(settings, worker), port))
            command = fake.build_event("user_send_text", USER, "/khuvuc", age_ms=60)
            ward = fake.build_event("user_send_text", USER, "Hải Châu", age_ms=50)
            for port, event in ((ports[0], ward), (ports[-1], command)):
                fake.webhook_url = f"http://127.0.0.1:{port}/zalo/oa/webhook"
                assert await fake.event("user_send_text", USER, event=event) == 200
            await OA(fake, workers[0]).wait_for(USER, 2)
            await asyncio.sleep(0.3)
    finally:
        for worker in workers:
            await worker.db.dispose()
        fake.stop()
        if name:
            await drop_postgres_database(name)
    said = fake.texts(USER)
    assert said[0] == t(False)["ask_area"] and said[1].startswith(t(False)["area_saved"].split("{area}")[0]), said
    assert len(said) == 2, said
