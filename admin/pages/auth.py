"""Signing in and out. Passwords are checked with argon2 (admin/accounts.py); five
failures for one address and name within five minutes make it wait, counted in the
database (every worker sees them, a restart keeps them). Signing out ends every session
of the account (its session version moves on)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from admin.accounts import end_sessions, verify
from admin.context import assistant
from admin.guard import current_user, still_valid
from admin.render import flash, render, url
from admin.security import CSRF_FAILED, is_multipart, multipart_token_ok
from bot.ratelimit import SharedWindow

__all__ = ["ROUTES", "NAV"]


def failures() -> SharedWindow:
    """Five failed logins for one address and name within five minutes: wait."""
    return SharedWindow("login", 5, 300.0)


def _safe_next(request: Request, value: str) -> str:
    """Only a path inside the admin site: never an open redirect."""
    home = url(request, "home")
    prefix = home.rstrip("/") + "/"
    if value.startswith(prefix) and not value.startswith("//") and "\\" not in value:
        return value
    return home


async def _csrf_refused(request: Request) -> Response | None:
    """asgi-csrf lets multipart posts through (admin/security.py); these two pages are
    not behind `require`, so they check the token of such a post themselves."""
    if is_multipart(request.scope) and not await multipart_token_ok(request):
        return HTMLResponse(CSRF_FAILED, status_code=403)
    return None


async def login(request: Request) -> Response:
    return render(request, "login.html", {"next": request.query_params.get("next", "")})


async def login_post(request: Request) -> Response:
    if (refused := await _csrf_refused(request)) is not None:
        return refused
    form = await request.form()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = _safe_next(request, str(form.get("next", "")))
    key = f"{request.client.host if request.client else '?'}:{username}"
    window = request.app.state.login_failures
    db = assistant(request).db
    if await window.full(db, key):
        return render(request, "login.html", {"next": target, "error": "Sai quá nhiều lần. Hãy thử lại sau 5 phút.", "username": username}, 429)
    user = await verify(db, username, password)
    if user is None:
        await window.hit(db, key)
        return render(request, "login.html", {"next": target, "error": "Tên đăng nhập hoặc mật khẩu không đúng.", "username": username}, 400)
    request.session.clear()
    request.session.update({"user": user.username, "role": user.role, "area": user.area_code or "", "v": user.session_version or 0})
    flash(request, f"Xin chào {user.username}.")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    if (refused := await _csrf_refused(request)) is not None:
        return refused
    user = current_user(request)
    if user is not None and await still_valid(request, user):  # a stale cookie ends nothing
        await end_sessions(assistant(request).db, user.name)
    request.session.clear()
    return RedirectResponse(url(request, "login"), status_code=303)


ROUTES = [
    Route("/login", login, methods=["GET"], name="login"),
    Route("/login", login_post, methods=["POST"], name="login_post"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
NAV: list = []
