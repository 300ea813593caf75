"""ASGI middleware of the whole app (bot/app.py), one class per concern, each wrapping
the app it is given (as Starlette's own middleware do):

- `BodyLimit`: every request body is capped while it is read, per path prefix. A
  declared Content-Length over the cap is refused before reading; a chunked body is
  counted as it streams and refused at the first byte over. Nothing past the cap is
  ever held in memory, and no signature or JSON is looked at before the cap is known
  to hold.
- `SecurityHeaders`: Content-Security-Policy, `frame-ancestors` (only `/chat/embed`
  may be framed, by the WEB_CHAT_ORIGINS sites), X-Content-Type-Options,
  Referrer-Policy and X-Frame-Options on every response.
- `PathCORS`: CORS headers (WEB_CHAT_ORIGINS) only under `/chat/api`, never on the
  admin site, the webhooks or the metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "PathCORS", "SecurityHeaders", "TooLarge"]


class TooLarge(Exception):
    """A request body went over its cap while it was being read."""


class BodyLimit:
    """Caps request bodies while they stream.

    Parameters:
        app: the app to wrap.
        limits: (path prefix, bytes) pairs; the first prefix that matches wins.
        default: bytes for any other path.
    """

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, int]], default: int = 1024 * 1024) -> None:
        self.app = app
        self.limits = list(limits)
        self.default = default

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _error(400, "Content-Length không hợp lệ (invalid Content-Length)")(scope, receive, send)
                return
            if int(declared) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:  # the app answered before reading it all: nothing more to say
                return
            await _too_large(limit)(scope, receive, send)


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status, headers={"Connection": "close"})


def _too_large(limit: int) -> JSONResponse:
    return _error(413, f"Nội dung quá lớn, tối đa {limit} byte (request body too large, at most {limit} bytes)")


class SecurityHeaders:
    """Adds the security headers to every HTTP response (a header the app set itself is kept).

    Parameters:
        app: the app to wrap.
        embed_path: the one page other sites may frame.
        frame_origins: the sites that may frame it (WEB_CHAT_ORIGINS).
    """

    POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
              "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; ")

    def __init__(self, app: ASGIApp, embed_path: str = "/chat/embed", frame_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.embed_path = embed_path
        self.embed_ancestors = " ".join(["'self'", *frame_origins])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embed = scope.get("path") == self.embed_path

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                ancestors = self.embed_ancestors if embed else "'none'"
                headers.setdefault("content-security-policy", self.POLICY + f"frame-ancestors {ancestors}")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                if not embed:
                    headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, with_headers)


class PathCORS:
    """Starlette's CORSMiddleware, for the paths under `prefix` only.

    Parameters:
        app: the app to wrap.
        prefix: the path prefix CORS applies to (`/chat/api`).
        origins: the allowed origins; none: no CORS at all.
    """

    def __init__(self, app: ASGIApp, prefix: str, origins: Sequence[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(app, allow_origins=list(origins), allow_methods=["GET", "POST"],
                                   allow_headers=["Content-Type"]) if origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if self.cors is not None and scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)
