"""Sessions and CSRF for the admin site, from well-kept libraries.

- Sessions live in a cookie signed with ADMIN_SECRET_KEY (Starlette's SessionMiddleware,
  itsdangerous): HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS.
- Every POST needs the CSRF token (asgi-csrf, double-submit of a signed cookie): forms
  carry it in a hidden `csrftoken` field, scripts in the `x-csrftoken` header. The login
  form is protected even before any cookie exists. asgi-csrf's own reading of
  multipart bodies does not work with the current python-multipart, so multipart
  posts (file uploads) are let through it and checked by `multipart_token_ok`, which
  `admin.guard.require` calls before any endpoint runs.

Because the cookies' Secure flag is fixed when a middleware is built, two stacks are
built, one per scheme, and each request goes through the one that matches
(`uvicorn --proxy-headers` makes `https` reach us from a TLS-terminating proxy).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SESSION_COOKIE", "Protected", "SESSION_MAX_AGE", "is_multipart", "multipart_token_ok"]

SESSION_COOKIE = "cdsbot_admin"
SESSION_MAX_AGE = 8 * 3600  # a working day; then sign in again


def is_multipart(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    return headers.get(b"content-type", b"").split(b";", 1)[0].strip() == b"multipart/form-data"


async def multipart_token_ok(request: Request) -> bool:
    """For a multipart POST: the form's `csrftoken` equals the signed cookie's token.
    (asgi-csrf puts that token in the scope; without a valid cookie it is a fresh one,
    which no form can carry.)"""
    getter: Callable[[], str] | None = request.scope.get("csrftoken")
    form = await request.form()
    sent = form.get("csrftoken")
    return getter is not None and isinstance(sent, str) and secrets.compare_digest(sent, getter())


CSRF_FAILED = (
    "<!doctype html><html lang=vi><meta charset=utf-8><title>Phiên làm việc hết hạn</title>"
    "<p>Biểu mẫu đã hết hạn hoặc không hợp lệ (CSRF). Hãy tải lại trang và thử lại.</p></html>"
)


async def _csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
    await HTMLResponse(CSRF_FAILED, status_code=403)(scope, _no_receive, send)


async def _no_receive() -> dict[str, Any]:  # the failure page reads no body
    return {"type": "http.disconnect"}


class Protected:
    """The admin app behind sessions and CSRF, with the cookies' Secure flag set by scheme.

    Parameters:
        app: the admin Starlette app (its `routes` stay visible through this wrapper).
        secret_key: signs the session and CSRF cookies.
        login_paths: full paths protected by CSRF even without any cookie (login CSRF).
    """

    def __init__(self, app: ASGIApp, secret_key: str, login_paths: set[str]) -> None:
        self.app = app
        self._stacks = {secure: self._stack(app, secret_key, login_paths, secure) for secure in (False, True)}

    @staticmethod
    def _stack(app: ASGIApp, secret_key: str, login_paths: set[str], secure: bool) -> ASGIApp:
        csrf = asgi_csrf(
            app, signing_secret=secret_key, always_protect=login_paths, cookie_path="/admin", skip_if_scope=is_multipart,
            cookie_secure=secure, cookie_samesite="Lax", send_csrf_failed=_csrf_failed,
        )
        return SessionMiddleware(
            csrf, secret_key=secret_key, session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE,
            path="/admin", same_site="lax", https_only=secure,
        )

    @property
    def routes(self) -> list[Any]:
        return list(getattr(self.app, "routes", []))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope.get("scheme") in ("https", "wss")
        await self._stacks[secure](scope, receive, send)
