"""The web chat channel: a JSON API for the chat page and the embeddable widget.

`GET /chat/api/history?session_id=…` gives the conversation so far (a reload shows it again).
`POST /chat/api/messages` takes `{"session_id", "text"}` or `{"session_id", "button"}`
and answers `{"replies": [{"text", "buttons": [{"label", "payload"}], "links": [...]}]}`.
The adapter only translates: size, shape and rate checks here, every rule in the handlers.
Sessions are anonymous random ids kept in the browser (channel `web`).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import metrics
from bot.channels.base import Incoming, Reply
from bot.ratelimit import SlidingWindow

__all__ = ["WebChat"]

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "web_static"
MAX_BODY = 8 * 1024
MAX_TEXT = 4000
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def encode(replies: list[Reply]) -> dict[str, object]:
    return {
        "replies": [
            {
                "text": r.text,
                "buttons": [{"label": b.label, "payload": b.payload} for b in r.buttons],
                "links": [{"label": x.label, "url": x.url} for x in r.links],
            }
            for r in replies
        ]
    }


class WebChat:
    """Routes of the web chat. `dispatch` is the dispatcher's coroutine."""

    name = "web"

    def __init__(self, dispatch, pending=None, ip_limit: int = 120, history=None) -> None:
        self.dispatch = dispatch
        self.pending = pending  # coroutine(session) -> replies waiting for this session (team answers)
        self.history = history  # coroutine(session) -> the conversation so far, oldest first
        self.ip_limiter = SlidingWindow(ip_limit, 60.0)

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/chat/embed", self.page, methods=["GET"]),
            Route("/chat/api/messages", self.messages, methods=["POST"]),
            Route("/chat/api/messages", self.fetch, methods=["GET"]),
            Route("/chat/api/history", self.past, methods=["GET"]),
            Route("/favicon.ico", self.favicon, methods=["GET"]),
            Mount("/chat/static", StaticFiles(directory=STATIC), name="chat-static"),
        ]

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "chat.html", media_type="text/html; charset=utf-8")

    async def favicon(self, request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})

    async def past(self, request: Request) -> Response:
        """GET /chat/api/history?session_id=…: {"messages": [{"from": "resident"|"assistant",
        "text", "buttons": [{"label", "payload"}], "links"}]}, oldest first (after a reload)."""
        client = request.client.host if request.client else "?"
        if not self.ip_limiter.allow(client):
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "30"})
        session = request.query_params.get("session_id", "")
        if not _SESSION.match(session):
            return JSONResponse({"error": "session_id must be 16-64 letters, digits, - or _"}, status_code=400)
        found = await self.history(session) if self.history else []
        return JSONResponse({"messages": found}, headers={"Cache-Control": "no-store"})

    async def fetch(self, request: Request) -> Response:
        """GET /chat/api/messages?session_id=…: replies that arrived later (a team's answer)."""
        client = request.client.host if request.client else "?"
        if not self.ip_limiter.allow(client):
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "30"})
        session = request.query_params.get("session_id", "")
        if not _SESSION.match(session):
            return JSONResponse({"error": "session_id must be 16-64 letters, digits, - or _"}, status_code=400)
        replies = await self.pending(session) if self.pending else []
        return JSONResponse(encode(replies))

    async def messages(self, request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not self.ip_limiter.allow(client):
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "30"})
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        session = data.get("session_id")
        text, button = data.get("text"), data.get("button")
        if not isinstance(session, str) or not _SESSION.match(session):
            return JSONResponse({"error": "session_id must be 16-64 letters, digits, - or _"}, status_code=400)
        if (text is None) == (button is None) or not isinstance(text if text is not None else button, str):
            return JSONResponse({"error": "give exactly one of text or button, as a string"}, status_code=400)
        if isinstance(button, str) and len(button) > 64:
            return JSONResponse({"error": "button payload too long"}, status_code=400)
        msg = Incoming(
            channel=self.name, user=session, chat=session,
            text=text[:MAX_TEXT] if isinstance(text, str) else None, button=button,
        )
        replies = await self.dispatch(msg)
        metrics.REPLIES_SENT.labels(self.name).inc(len(replies))
        return JSONResponse(encode(replies))
