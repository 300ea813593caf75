"""A fake Zalo Official Account API and OAuth server, real HTTP on 127.0.0.1 (stands in
for Zalo only), following `shared/reference/zalo-api.md` §2 and §4:

- OAuth v4: `POST /v4/oa/access_token` (form, `secret_key` header) issues an access
  token with `expires_in` as a string, rotates the refresh token and refuses the old one.
- `POST /v3.0/oa/message/{cs,promotion,transaction}` with the `access_token` header;
  errors come with HTTP 200 in `{error, message}`: -216 unknown token, -220 expired,
  -230 no interaction within 7 days (cs), -213 not a follower (promotion), -218 one
  promotion a day used, -234 at night (when `night` is set), -201 text over 2,000 or more
  than five buttons; -32 over the rate limit, with X-RateLimit headers.
- `GET /v3.0/oa/user/detail`, `POST /v3.0/oa/quota/message`.
- Webhook delivery: `event(...)` POSTs a signed event (`mac=` + sha256(app_id + body +
  timestamp + OA secret key)) to the assistant, with options for a bad signature, an old
  timestamp or a second copy. An event the webhook did not answer with 200 (an error, or
  the assistant down) is kept, and `redeliver()` sends the very same bytes again at
  Zalo's next retry time (`REDELIVERY`), moving the test clock there.

Refused as Zalo refuses (each rule in `_refusal` cites its source): a consultation text
outside 1-2,000 characters; a template with a `template_type` Zalo does not have (a
text with buttons carries none); more than five buttons, a button of an unknown type, a
title over 100 or a query payload over 1,000 characters (-201); the error codes a test
scripts with `fail(kind, code)` (-32 with X-RateLimit headers, -204, -205, -209, -212,
-219, -211, ...).

Control from tests, as methods and as HTTP routes under `/__fake__/`: inject events,
set faults, move the clock, read what was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot import clock
from tests.fakes import epoch_seconds
from tests.fakes.loopback import LoopbackServer

DAY_MS = 86_400_000
#: When Zalo sends an unanswered event again: seconds after the previous attempt. From
#: developers.zalo.me "Webhook > Tổng quan" as a third-party synthesis quotes it
#: (github.com/hoangnd25/monorepo wip/zalo-platform-integration.md, "Webhook Retry
#: Behavior"): 30 s, 5 min, 15 min, 30 min, 1 h (about 1.8 h in all), then the webhook is
#: disabled. Sources disagree on the schedule (shared/reference/zalo-api.md §2.6).
REDELIVERY = (30, 300, 900, 1800, 3600)
#: Consultation templates (developers.zalo.me "Gửi tin Tư vấn"; the official PHP SDK's
#: MessageBuilder builds media and list; request_user_info per the redai SDK's examples).
#: A text with buttons has no template_type at all (MessageBuilder, type "text").
TEMPLATE_TYPES = {"media", "list", "request_user_info"}
#: Button types (MessageBuilder buildAction*; redai SDK docs/BUTTON_TYPES_GUIDE.md).
BUTTON_TYPES = {"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.phone", "oa.open.sms"}


@dataclass
class User:
    follower: bool = False
    last_interaction_ms: int = 0
    promotions_today: int = 0
    banned: bool = False


@dataclass
class Sent:
    kind: str
    user_id: str
    message: dict[str, Any]
    token: str


@dataclass
class FakeZaloOA(LoopbackServer):
    app_id: str = "4321987654321"
    app_secret: str = "app-secret-xyz"
    oa_secret_key: str = "oa-secret-key-abc"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.users: dict[str, User] = {}
        self.sent: list[Sent] = []
        self.failed: list[tuple[str, str, int]] = []  # (kind, user, code) answered with an error
        self.faults: list[list[Any]] = []  # [kind, code, times, http_status]
        self.access: dict[str, int] = {}  # token -> expiry (ms, fake clock)
        self.refresh_tokens: set[str] = set()
        self.oauth_calls = 0
        self.oauth_delay = 0.0
        self.offset_ms = 0
        self.night = False
        self.rate_per_minute = 4000
        self._window: list[float] = []
        self.webhook_url = ""
        self.deliveries: list[tuple[int, float]] = []  # (status, seconds) of webhook calls; 0: unreachable
        self.unanswered: list[tuple[bytes, dict[str, str], int]] = []  # (body, headers, retries so far)
        self._ids = itertools.count(1)
        self.port = 0
        self.app = Starlette(routes=[
            Route("/v4/oa/access_token", self._oauth, methods=["POST"]),
            Route("/v3.0/oa/message/{kind}", self._message, methods=["POST"]),
            Route("/v3.0/oa/user/detail", self._user_detail, methods=["GET"]),
            Route("/v3.0/oa/quota/message", self._quota, methods=["POST"]),
            Route("/__fake__/event", self._control_event, methods=["POST"]),
            Route("/__fake__/fault", self._control_fault, methods=["POST"]),
            Route("/__fake__/clock", self._control_clock, methods=["POST"]),
            Route("/__fake__/sent", self._control_sent, methods=["GET"]),
        ])

    # -- running -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control -----------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(epoch_seconds() * 1000) + self.offset_ms

    def issue_tokens(self, lifetime_s: int = 90000) -> tuple[str, str]:
        """A valid access/refresh pair, as the developer console gives the first time."""
        with self.lock:
            n = next(self._ids)
            access, refresh = f"at-{n}-{secrets.token_hex(4)}", f"rt-{n}-{secrets.token_hex(4)}"
            self.access[access] = self.now_ms() + lifetime_s * 1000
            self.refresh_tokens.add(refresh)
        return access, refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access:
                self.access[token] = 0

    def user(self, user_id: str) -> User:
        with self.lock:
            return self.users.setdefault(user_id, User())

    def fail(self, kind: str, code: int, times: int = 1, http_status: int = 200) -> None:
        with self.lock:
            self.faults.append([kind, code, times, http_status])

    def messages(self, user_id: str | None = None, kind: str | None = None) -> list[Sent]:
        with self.lock:
            return [m for m in self.sent if (user_id is None or m.user_id == user_id) and (kind is None or m.kind == kind)]

    def texts(self, user_id: str) -> list[str]:
        out = []
        for m in self.messages(user_id):
            if "text" in m.message:
                out.append(m.message["text"])
            else:
                payload = m.message.get("attachment", {}).get("payload", {})
                out.append("\n".join(str(e.get("content", "")) for e in payload.get("elements", [])))
        return out

    def build_event(self, name: str, user: str, text: str = "", age_ms: int = 0) -> dict[str, Any]:
        ts = str(self.now_ms() - age_ms)
        if name in ("follow", "unfollow"):
            return {"app_id": self.app_id, "oa_id": "oa1", "event_name": name, "follower": {"id": user},
                    "source": "testing", "timestamp": ts, "user_id_by_app": "app-" + user}
        event: dict[str, Any] = {"app_id": self.app_id, "sender": {"id": user}, "recipient": {"id": "oa1"},
                                 "event_name": name, "timestamp": ts, "user_id_by_app": "app-" + user,
                                 "message": {"msg_id": secrets.token_hex(16)}}
        if name == "user_send_text":
            event["message"]["text"] = text
        else:
            event["message"]["attachments"] = [{"type": name.removeprefix("user_send_"), "payload": {"url": "https://x/y"}}]
        return event

    def sign(self, raw: bytes, event: dict[str, Any], key: str | None = None) -> str:
        digest = hashlib.sha256(str(event["app_id"]).encode() + raw + str(event["timestamp"]).encode()
                                + (key or self.oa_secret_key).encode()).hexdigest()
        return "mac=" + digest

    async def event(self, name: str, user: str, text: str = "", *, bad_signature: bool = False, age_ms: int = 0,
                    copies: int = 1, event: dict[str, Any] | None = None) -> int:
        """Deliver an event to the webhook as Zalo does; the status of the last call."""
        event = event or self.build_event(name, user, text, age_ms)
        if name != "unfollow":
            u = self.user(user)
            with self.lock:
                u.last_interaction_ms = self.now_ms()
                if name == "follow":
                    u.follower = True
        elif user in self.users:
            self.users[user].follower = False
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "X-ZEvent-Signature": self.sign(raw, event, "wrong-key" if bad_signature else None)}
        status = 0
        for _ in range(copies):
            status = await self._post_event(raw, headers)
        if status != 200:
            with self.lock:
                self.unanswered.append((raw, headers, 0))
        return status

    async def _post_event(self, raw: bytes, headers: dict[str, str]) -> int:
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                status = (await client.post(self.webhook_url, content=raw, headers=headers)).status_code
        except httpx.HTTPError:
            status = 0  # the assistant is down
        with self.lock:
            self.deliveries.append((status, time.monotonic() - started))
        return status

    async def redeliver(self) -> list[int]:
        """Zalo's next retry of every unanswered event: the clock moves on by the next delay
        of `REDELIVERY` and the same bytes (same timestamp, same signature) are POSTed again.
        Statuses of the calls; events still unanswered wait for the next retry."""
        with self.lock:
            pending, self.unanswered = self.unanswered, []
        if not pending:
            return []
        clock.advance(dt.timedelta(seconds=REDELIVERY[min(pending[0][2], len(REDELIVERY) - 1)]))
        statuses = []
        for raw, headers, tries in pending:
            status = await self._post_event(raw, headers)
            statuses.append(status)
            if status != 200 and tries + 1 < len(REDELIVERY):
                with self.lock:
                    self.unanswered.append((raw, headers, tries + 1))
        return statuses

    # -- API ---------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": code, "message": message}, headers=headers)

    async def _oauth(self, request: Request) -> JSONResponse:
        form = await request.form()
        if self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        with self.lock:
            self.oauth_calls += 1
            if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
                return JSONResponse({"error": -14001, "error_name": "Invalid app", "error_description": "bad app"})
            given = str(form.get("refresh_token", ""))
            if form.get("grant_type") != "refresh_token" or given not in self.refresh_tokens:
                return JSONResponse({"error": -14014, "error_name": "Invalid refresh token",
                                     "error_description": "refresh token is invalid or used"})
            self.refresh_tokens.discard(given)  # single use
        access, refresh = self.issue_tokens()
        return JSONResponse({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    def _token_error(self, request: Request) -> JSONResponse | None:
        token = request.headers.get("access_token", "")
        with self.lock:
            expiry = self.access.get(token)
        if expiry is None:
            return self._error(-216, "Access token is invalid")
        if expiry <= self.now_ms():
            return self._error(-220, "Access token has expired")
        return None

    def _rate_limited(self) -> JSONResponse | None:
        now = time.monotonic()
        with self.lock:
            self._window = [t for t in self._window if now - t < 60] + [now]
            if len(self._window) > self.rate_per_minute:
                return self._error(-32, "Exceed rate limit", {"X-RateLimit-Limit": str(self.rate_per_minute),
                                                             "X-RateLimit-Remain": "0"})
        return None

    async def _message(self, request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if (bad := self._token_error(request)) is not None:
            return bad
        if (limited := self._rate_limited()) is not None:
            return limited
        body = await request.json()
        user_id = str((body.get("recipient") or {}).get("user_id", ""))
        message = body.get("message") or {}
        with self.lock:
            for f in self.faults:
                if f[0] == kind and f[2] > 0:
                    f[2] -= 1
                    self.failed.append((kind, user_id, f[1]))
                    if f[3] != 200:
                        return JSONResponse({"error": f[1], "message": "fault"}, status_code=f[3], headers={"Retry-After": "1"})
                    if f[1] == -32:  # "Giới hạn tốc độ API": -32 with the X-RateLimit headers (reference §2.8)
                        return self._error(-32, "Exceed rate limit", {"X-RateLimit-Limit": str(self.rate_per_minute),
                                                                       "X-RateLimit-Remain": "0"})
                    return self._error(f[1], "fault")
        code = self._refusal(kind, user_id, message)
        if code:
            with self.lock:
                self.failed.append((kind, user_id, code))
            return self._error(code, "refused")
        with self.lock:
            self.sent.append(Sent(kind, user_id, message, request.headers.get("access_token", "")))
        return JSONResponse({"error": 0, "message": "Success", "data": {
            "message_id": secrets.token_hex(16), "user_id": user_id, "sent_time": str(self.now_ms()),
            "quota": {"quota_type": "reply", "remain": "8", "total": "8"}}})

    def _refusal(self, kind: str, user_id: str, message: dict[str, Any]) -> int:
        u = self.user(user_id)
        if kind not in ("cs", "promotion", "transaction"):
            return -233
        if u.banned:
            return -227
        if kind == "cs":
            text = message.get("text")
            attachment = message.get("attachment")
            # "Gửi tin Tư vấn dạng văn bản": text of at most 2,000 characters (reference §2.4).
            if attachment is None and (not isinstance(text, str) or not 1 <= len(text) <= 2000):
                return -201
            if attachment is not None and (refused := self._attachment_refusal(text, attachment)):
                return refused
            if self.now_ms() - u.last_interaction_ms > 7 * DAY_MS:
                return -230
            return 0
            if self.now_ms() - u.last_interaction_ms > 7 * DAY_MS:
                return -230
            return 0
        payload = (message.get("attachment") or {}).get("payload") or {}
        if kind == "promotion":
            if payload.get("template_type") != "promotion" or not payload.get("elements"):
                return -201
            if not u.follower:
                return -213
            if self.night:
                return -234
            if u.promotions_today >= 1:
                return -218
            with self.lock:
                u.promotions_today += 1
        return 0

    @staticmethod
    def _attachment_refusal(text: Any, attachment: Any) -> int:
        """-201 (invalid parameter, reference §2.8) for an attachment Zalo would refuse."""
        if not isinstance(attachment, dict) or attachment.get("type") != "template":
            return -201
        payload = attachment.get("payload")
        if not isinstance(payload, dict):
            return -201
        template = payload.get("template_type")
        if template is None:
            # A text with buttons (official PHP SDK, MessageBuilder type "text"): the text, then
            # 1-5 buttons (MessageBuilder refuses a sixth); each of a known type with a title
            # of at most 100 characters; a query payload of at most 1,000 characters
            # (redai SDK docs/BUTTON_TYPES_GUIDE.md).
            buttons = payload.get("buttons")
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return -201
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 5:
                return -201
            for b in buttons:
                if not isinstance(b, dict) or b.get("type") not in BUTTON_TYPES:
                    return -201
                if not isinstance(b.get("title"), str) or not 1 <= len(b["title"]) <= 100:
                    return -201
                if b["type"].startswith("oa.query.") and (not isinstance(b.get("payload"), str) or len(b["payload"]) > 1000):
                    return -201
            return 0
        if template not in TEMPLATE_TYPES or not payload.get("elements"):
            return -201  # e.g. "button": Zalo has no such template (a text with buttons carries none)
        if len(payload.get("buttons") or []) > 5:
            return -201
        return 0

    async def _user_detail(self, request: Request) -> JSONResponse:
        if (bad := self._token_error(request)) is not None:
            return bad
        user_id = str(json.loads(request.query_params.get("data", "{}")).get("user_id", ""))
        if user_id not in self.users:
            return self._error(-201, "user not found")
        u = self.users[user_id]
        day = time.strftime("%d/%m/%Y", time.gmtime(u.last_interaction_ms / 1000))
        return JSONResponse({"error": 0, "message": "Success", "data": {
            "user_id": user_id, "display_name": "Cư dân", "user_is_follower": u.follower,
            "user_last_interaction_date": day}})

    async def _quota(self, request: Request) -> JSONResponse:
        if (bad := self._token_error(request)) is not None:
            return bad
        body = await request.json()
        u = self.user(str(body.get("user_id", "")))
        return JSONResponse({"error": 0, "message": "Success", "data": {
            "last_interaction": str(u.last_interaction_ms),
            "promotion": {"daily_remain": str(1 - u.promotions_today), "daily_total": "1"}}})

    # -- control routes ------------------------------------------------------------------

    async def _control_event(self, request: Request) -> JSONResponse:
        body = await request.json()
        status = await self.event(body["event_name"], body["user"], body.get("text", ""),
                                  bad_signature=bool(body.get("bad_signature")), age_ms=int(body.get("age_ms", 0)))
        return JSONResponse({"status": status})

    async def _control_fault(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.fail(body["kind"], int(body["code"]), int(body.get("times", 1)), int(body.get("http_status", 200)))
        return JSONResponse({"ok": True})

    async def _control_clock(self, request: Request) -> JSONResponse:
        self.offset_ms += int((await request.json()).get("advance_ms", 0))
        return JSONResponse({"now_ms": self.now_ms()})

    async def _control_sent(self, request: Request) -> JSONResponse:
        return JSONResponse([{"kind": m.kind, "user_id": m.user_id, "message": m.message} for m in self.messages()])
