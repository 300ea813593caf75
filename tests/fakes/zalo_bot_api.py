"""A fake Zalo Bot Platform API server, real HTTP on 127.0.0.1 (stands in for Zalo only).

As the reference measured: `getUpdates` hands out ONE update (no offset) or answers
HTTP 408 after its timeout; an update can be handed out again (`replay=True`) so the
client must deduplicate by `message_id`; `sendMessage` takes JSON, form or query and
refuses texts over 2,000 characters. Control: `message(user, text)`, `fail(...)`,
`sent(chat)`, and for webhook tests `take_update()`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes import epoch_seconds
from tests.fakes.loopback import LoopbackServer


class FakeZaloBot(LoopbackServer):
    def __init__(self, token: str = "12345:zalo-secret") -> None:
        self.token = token
        self.lock = threading.Lock()
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: list[list[Any]] = []  # [method, code, description, times, chat]
        self.webhook: dict[str, Any] = {}
        self.replay = False
        self._ids = itertools.count(1)
        self.port = 0
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._api, methods=["GET", "POST"])])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def message(self, user: str, text: str, event: str = "message.text.received") -> dict[str, Any]:
        update = {"event_name": event, "message": {
            "from": {"id": user, "display_name": "Cư dân Zalo", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"}, "text": text,
            "message_id": secrets.token_hex(10), "date": int(epoch_seconds() * 1000)}}
        with self.lock:
            self.updates.append(update)
        return update

    def take_update(self) -> dict[str, Any] | None:
        with self.lock:
            return self.updates.pop(0) if self.updates else None

    def fail(self, method: str, code: int, description: str, times: int = 1, chat: str | None = None) -> None:
        with self.lock:
            self.faults.append([method, code, description, times, chat])

    def sent(self, chat: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [p for m, p in self.calls if m == "sendMessage" and (chat is None or str(p.get("chat_id")) == chat)]

    @staticmethod
    def _error(code: int, description: str) -> JSONResponse:
        return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)

    async def _api(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.path_params["method"]
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        elif request.method == "POST":
            params = dict(await request.form())
        else:
            params = dict(request.query_params)
        with self.lock:
            for f in self.faults:
                if f[0] == method and f[3] > 0 and (f[4] is None or f[4] == str(params.get("chat_id"))):
                    f[3] -= 1
                    self.calls.append((method + ":failed", params))
                    return self._error(f[1], f[2])
        if method == "getUpdates":
            deadline = time.monotonic() + float(params.get("timeout") or 30)
            while time.monotonic() < deadline:
                with self.lock:
                    if self.updates:
                        update = self.updates[0] if self.replay else self.updates.pop(0)
                        if self.replay:
                            self.replay = False  # hand it out once more, then normally
                        return JSONResponse({"ok": True, "result": update})
                await asyncio.sleep(0.02)
            return self._error(408, "Request timeout")
        with self.lock:
            self.calls.append((method, params))
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if not 1 <= len(text) <= 2000:
                return self._error(400, "text must be 1-2000 characters")
            return JSONResponse({"ok": True, "result": {"message_id": secrets.token_hex(10), "date": int(epoch_seconds() * 1000)}})
        if method == "getMe":
            return JSONResponse({"ok": True, "result": {"id": "bot1", "account_name": "Bot CĐS", "account_type": "BASIC"}})
        if method == "setWebhook":
            self.webhook = params
            return JSONResponse({"ok": True, "result": {"url": params.get("url"), "updated_at": int(epoch_seconds() * 1000)}})
        if method == "deleteWebhook":
            self.webhook = {}
            return JSONResponse({"ok": True, "result": {"url": "", "updated_at": int(epoch_seconds() * 1000)}})
        return JSONResponse({"ok": True, "result": True})
