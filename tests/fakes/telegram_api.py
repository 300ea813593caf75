"""A fake Telegram Bot API server that speaks real HTTP on 127.0.0.1.

It stands in for Telegram's servers only. python-telegram-bot talks to it through
`base_url=http://127.0.0.1:PORT/bot`; tests drive it through `FakeTelegram`:
- `message(user, text)`, `callback(user, data)`, `photo(user)`, ... queue updates that
  `getUpdates` (long polling) hands out, or that `post_webhook` delivers;
- `fail(method, code, description, times=1, chat_id=None, retry_after=None, raw=None)`
  scripts errors (429 with `retry_after`, 403 blocked, 400 chat not found, 5xx, 401, 409,
  or a `raw` body that is not JSON);
- `migrate(chat_id, new_chat_id)`: the group became a supergroup (400 with
  `parameters.migrate_to_chat_id`, as the Bot API's ResponseParameters describe);
- `slow(method, seconds)` delays answers;
- `sent(chat_id)` / `calls(method)` read back what the bot sent.
Methods: getMe, getUpdates, sendMessage, editMessageText, answerCallbackQuery,
setMyCommands, setWebhook, deleteWebhook, getWebhookInfo, sendChatAction.
Control routes (for a bot in another process): POST /_inject, GET /_sent, POST /_fail.

Refused as the real server refuses them (each rule in `_refusal` cites its source), so a
malformed message fails here as it would in production, with Telegram's 400 and
description: an empty or too long text, HTML that is not Telegram's HTML, a caption over
1,024 characters, callback data outside 1-64 bytes, a migrated chat, a webhook secret
outside 1-256 of `A-Z a-z 0-9 _ -`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import epoch_seconds
from tests.fakes.loopback import LoopbackServer

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Trợ lý CĐS", "username": "cdsdanang_bot"}
SENDS = ("sendMessage", "sendPhoto", "editMessageText")
# Bot API, Formatting options > HTML style: the tags Telegram understands.
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
             "code", "pre", "blockquote"}


def _html_text(text: str) -> tuple[str, str]:
    """The visible text of a Telegram-HTML message, and why it cannot be parsed ("" if it can)."""
    visible: list[str] = []
    for m in re.finditer(r"<[^>]*>?|[^<]+", text):
        piece = m.group()
        if piece.startswith("<"):
            name = re.match(r"</?\s*([A-Za-z][A-Za-z0-9-]*)", piece)
            offset = len(text[:m.start()].encode())
            if name is None or name.group(1).lower() not in HTML_TAGS or not piece.endswith(">"):
                tag = name.group(1) if name else piece[1:2]
                return "", f'Unsupported start tag "{tag}" at byte offset {offset}'
        else:
            visible.append(html.unescape(piece))
    return "".join(visible), ""


@dataclass
class Fault:
    method: str
    code: int
    description: str
    times: int
    chat_id: str | None = None
    retry_after: int | None = None
    raw: str | None = None  # a body that is not JSON (PTB raises a plain TelegramError)


@dataclass
class State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    migrated: dict[str, int] = field(default_factory=dict)  # group chat id -> its supergroup's id
    rate: float = 0.0  # sendMessage calls allowed per second (0: no limit); above it: 429 retry_after 1
    window: list[float] = field(default_factory=list)
    confirmed: int = 0  # highest offset a getUpdates call confirmed
    # Running totals for /_count, so reading them costs nothing however long the run.
    accepted: int = 0
    refused: int = 0
    chats: set[str] = field(default_factory=set)
    first: float | None = None
    last: float | None = None


def _decode(form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):  # an uploaded file: what arrived of it
            out[key] = {"filename": getattr(value, "filename", None), "size": getattr(value, "size", None)}
            continue
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


async def _params(request: Request) -> dict[str, Any]:
    """A call's parameters, sent as Telegram accepts them: in the query string, a form
    (each value JSON-encoded, as PTB's httpx transport sends them) or a JSON body."""
    params = _decode(request.query_params)
    if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        params.update(json.loads(body) if body else {})
    elif request.method == "POST":
        async with request.form() as form:  # closes uploaded files
            params.update(_decode(form))
    chat = params.get("chat_id")
    if isinstance(chat, str) and chat.lstrip("-").isdigit():  # Telegram reads "42" as the chat 42
        params["chat_id"] = int(chat)
    return params


class FakeTelegram(LoopbackServer):
    """The fake server, run by uvicorn in a background thread (`start()` / `stop()`)."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.state = State()
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new = threading.Event()
        self.port = 0
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["POST", "GET"]),
                Route("/_inject", self._inject, methods=["POST"]),
                Route("/_sent", self._sent, methods=["GET"]),
                Route("/_fail", self._fail, methods=["POST"]),
                Route("/_rate", self._rate, methods=["POST"]),
                Route("/_count", self._count, methods=["GET"]),
            ]
        )

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- building updates ----------------------------------------------------------------

    def _user(self, user: int, name: str = "Cư dân", lang: str = "vi") -> dict[str, Any]:
        return {"id": user, "is_bot": False, "first_name": name, "language_code": lang}

    def _push(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            update = {"update_id": next(self._ids), **payload}
            self.state.updates.append(update)
        self._new.set()
        return update

    def _message(self, user: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(epoch_seconds()),
            "chat": {"id": user, "type": "private", "first_name": "Cư dân"},
            "from": self._user(user),
            **content,
        }

    def message(self, user: int, text: str, reply_to: str | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if reply_to is not None:  # the user replies to one of the bot's messages
            content["reply_to_message"] = {"message_id": next(self._message_ids), "date": int(epoch_seconds()),
                                           "chat": {"id": user, "type": "private"}, "from": BOT_USER, "text": reply_to}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._push({"message": self._message(user, **content)})

    def callback(self, user: int, data: str) -> dict[str, Any]:
        bot_msg = {"message_id": next(self._message_ids), "date": int(epoch_seconds()),
                   "chat": {"id": user, "type": "private"}, "from": BOT_USER, "text": "…"}
        return self._push({"callback_query": {"id": str(next(self._ids)) + "cb", "from": self._user(user),
                                              "chat_instance": "ci", "data": data, "message": bot_msg}})

    def photo(self, user: int) -> dict[str, Any]:
        return self._push({"message": self._message(user, photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}])})

    def sticker(self, user: int) -> dict[str, Any]:
        return self._push({"message": self._message(user, sticker={"file_id": "s1", "file_unique_id": "s1", "width": 1, "height": 1,
                                                                     "is_animated": False, "is_video": False, "type": "regular"})})

    def voice(self, user: int) -> dict[str, Any]:
        return self._push({"message": self._message(user, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 2})})

    def forwarded(self, user: int, text: str) -> dict[str, Any]:
        origin = {"type": "hidden_user", "date": int(epoch_seconds()), "sender_user_name": "Ai đó"}
        return self._push({"message": self._message(user, text=text, forward_origin=origin)})

    def take_update(self) -> dict[str, Any] | None:
        """Remove and return the oldest queued update (for webhook delivery by a test)."""
        with self.lock:
            return self.state.updates.pop(0) if self.state.updates else None

    # -- scripting and reading back ------------------------------------------------------

    def fail(self, method: str, code: int, description: str, times: int = 1, chat_id: int | None = None,
             retry_after: int | None = None, raw: str | None = None) -> None:
        with self.lock:
            self.state.faults.append(Fault(method, code, description, times, str(chat_id) if chat_id else None,
                                           retry_after, raw))

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group `chat_id` was upgraded to a supergroup: sends to it are refused from now on."""
        with self.lock:
            self.state.migrated[str(chat_id)] = new_chat_id

    def slow(self, method: str, seconds: float) -> None:
        with self.lock:
            self.state.delays[method] = seconds

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [p for _, m, p in self.state.calls if method is None or m == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [p for p in self.calls("sendMessage") if chat_id is None or str(p.get("chat_id")) == str(chat_id)]

    def pending(self) -> int:
        with self.lock:
            return len(self.state.updates)

    # -- the API -----------------------------------------------------------------------

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self.lock:
            for f in self.state.faults:
                if f.method == method and f.times > 0 and (f.chat_id is None or f.chat_id == str(params.get("chat_id"))):
                    f.times -= 1
                    return f
        return None

    @staticmethod
    def _ok(result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})

    async def _api(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        params = await _params(request)
        delay = self.state.delays.get(method)
        if delay:
            await asyncio.sleep(delay)
        fault = self._fault_for(method, params)
        if fault is not None:
            with self.lock:
                self.state.calls.append((time.monotonic(), method + ":failed", params))
            if fault.raw is not None:
                return Response(fault.raw, status_code=fault.code, media_type="text/html")
            body: dict[str, Any] = {"ok": False, "error_code": fault.code, "description": fault.description}
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            return JSONResponse(body, status_code=fault.code)
        refused = self._refusal(method, params)
        if refused is not None:
            with self.lock:
                self.state.calls.append((time.monotonic(), method + ":refused", params))
            return refused
        if method == "getUpdates":
            return self._ok(await self._get_updates(params))
        if method == "sendMessage" and self.state.rate:
            now = time.monotonic()
            with self.lock:
                self.state.window = [t for t in self.state.window if now - t < 1.0]
                over = len(self.state.window) >= self.state.rate
                if not over:
                    self.state.window.append(now)
            if over:
                with self.lock:
                    self.state.calls.append((now, "sendMessage:429", params))
                    self.state.refused += 1
                return JSONResponse({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                     "parameters": {"retry_after": 1}}, status_code=429)
        with self.lock:
            now = time.monotonic()
            self.state.calls.append((now, method, params))
            if method in ("sendMessage", "sendPhoto"):
                self.state.accepted += 1
                self.state.chats.add(str(params.get("chat_id")))
                self.state.first = self.state.first if self.state.first is not None else now
                self.state.last = now
        if method == "getMe":
            return self._ok(BOT_USER)
        if method == "sendPhoto":
            return self._ok({"message_id": next(self._message_ids), "date": int(epoch_seconds()),
                             "chat": {"id": int(params.get("chat_id", 0)), "type": "private"}, "from": BOT_USER,
                             "photo": [{"file_id": "ph", "file_unique_id": "ph", "width": 1, "height": 1}],
                             "caption": str(params.get("caption", ""))})
        if method in ("sendMessage", "editMessageText"):
            return self._ok({"message_id": next(self._message_ids), "date": int(epoch_seconds()),
                             "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                             "from": BOT_USER, "text": str(params.get("text", ""))})
        if method == "setWebhook":
            with self.lock:
                self.state.webhook = params
        if method == "deleteWebhook":
            with self.lock:
                self.state.webhook = {}
        if method == "getWebhookInfo":
            return self._ok({"url": self.state.webhook.get("url", ""), "has_custom_certificate": False,
                             "pending_update_count": self.pending()})
        return self._ok(True)

    def _refusal(self, method: str, params: dict[str, Any]) -> JSONResponse | None:
        """What the real Bot API refuses, with its status and description (None: accepted)."""
        def bad(description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
            body: dict[str, Any] = {"ok": False, "error_code": 400, "description": "Bad Request: " + description}
            if parameters:
                body["parameters"] = parameters
            return JSONResponse(body, status_code=400)

        chat = str(params.get("chat_id"))
        if method in SENDS and chat in self.state.migrated:
            # Bot API, ResponseParameters: "migrate_to_chat_id: The group has been migrated to a
            # supergroup with the specified identifier" (description as tdlib/telegram-bot-api sends it).
            return bad("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self.state.migrated[chat]})
        if method in SENDS:
            field_name, limit = ("caption", 1024) if method == "sendPhoto" else ("text", 4096)
            raw = params.get(field_name)
            visible = str(raw or "")
            if params.get("parse_mode") == "HTML" and raw is not None:
                # Bot API, Formatting options > HTML style: only the listed tags are supported, and
                # every "<" that is not part of a tag must be written "&lt;".
                visible, problem = _html_text(str(raw))
                if problem:
                    return bad(f"can't parse entities: {problem}")
            if method == "sendMessage" and not visible.strip():
                # Bot API, sendMessage: text is required, "1-4096 characters after entities parsing".
                return bad("message text is empty")
            if len(visible) > limit:
                # Bot API, sendMessage (text 1-4096) and sendPhoto (caption 0-1024 characters).
                return bad("message is too long" if field_name == "text" else "message caption is too long")
            for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    # Bot API, InlineKeyboardButton: callback_data is "1-64 bytes".
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        return bad("BUTTON_DATA_INVALID")
        if method == "setWebhook" and "secret_token" in params:
            # Bot API, setWebhook: secret_token is "1-256 characters. Only characters A-Z, a-z,
            # 0-9, _ and - are allowed" (the description here is ours: not confirmed).
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(params["secret_token"])):
                return bad("secret token contains unallowed characters")
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if offset:
                    # Asking from `offset` confirms everything before it (Telegram forgets them).
                    self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                    self.state.confirmed = max(self.state.confirmed, offset)
                batch = self.state.updates[:limit]
                self._new.clear()
            if batch or time.monotonic() >= deadline:
                return batch
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    # -- control routes (for a bot in another process) ----------------------------------

    async def _inject(self, request: Request) -> JSONResponse:
        body = await request.json()
        for item in body:
            if item.get("data") is not None:
                self.callback(int(item["user"]), item["data"])
            else:
                self.message(int(item["user"]), item["text"])
        return JSONResponse({"queued": len(body)})

    async def _sent(self, request: Request) -> JSONResponse:
        with self.lock:
            rows = [{"t": t, "method": m, "chat_id": p.get("chat_id"), "text": p.get("text")}
                    for t, m, p in self.state.calls if m == "sendMessage"]
        return JSONResponse(rows)

    async def _rate(self, request: Request) -> JSONResponse:
        self.state.rate = float((await request.json())["per_second"])
        return JSONResponse({"ok": True})

    async def _count(self, request: Request) -> JSONResponse:
        """sendMessage counts: accepted, refused with 429, distinct chats, first and last time."""
        st = self.state
        with self.lock:
            return JSONResponse({"sent": st.accepted, "refused": st.refused, "chats": len(st.chats),
                                 "first": st.first, "last": st.last})

    async def _fail(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.fail(body["method"], int(body["code"]), body["description"], int(body.get("times", 1)),
                  body.get("chat_id"), body.get("retry_after"))
        return JSONResponse({"ok": True})


if __name__ == "__main__":  # a fake in its own process: python -m tests.fakes.telegram_api
    import sys

    server = FakeTelegram().start()
    print(server.port, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our standard input
    finally:
        server.stop()
