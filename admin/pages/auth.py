"""Signing in and out. Passwords are checked with argon2 (admin/accounts.py); five
failures for one address and name within five minutes make it wait."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.accounts import verify
from admin.context import assistant
from admin.render import flash, render, url
from bot.ratelimit import SlidingWindow

__all__ = ["ROUTES", "NAV"]



def failures() -> SlidingWindow:
    """Five failed logins for one address and name within five minutes: wait."""
    return SlidingWindow(5, 300.0)


def _safe_next(request: Request, value: str) -> str:
    """Only a path inside the admin site: never an open redirect."""
    home = url(request, "home")
    prefix = home.rstrip("/") + "/"
    if value.startswith(prefix) and not value.startswith("//") and "\\" not in value:
        return value
    return home


async def login(request: Request) -> Response:
    return render(request, "login.html", {"next": request.query_params.get("next", "")})


async def login_post(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = _safe_next(request, str(form.get("next", "")))
    key = f"{request.client.host if request.client else '?'}:{username}"
    window = request.app.state.login_failures
    if window.full(key):
        return render(request, "login.html", {"next": target, "error": "Sai quá nhiều lần. Hãy thử lại sau 5 phút.", "username": username}, 429)
    user = await verify(assistant(request).db, username, password)
    if user is None:
        window.hit(key)
        return render(request, "login.html", {"next": target, "error": "Tên đăng nhập hoặc mật khẩu không đúng.", "username": username}, 400)
    request.session.clear()
    request.session.update({"user": user.username, "role": user.role, "area": user.area_code or ""})
    flash(request, f"Xin chào {user.username}.")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(url(request, "login"), status_code=303)


ROUTES = [
    Route("/login", login, methods=["GET"], name="login"),
    Route("/login", login_post, methods=["POST"], name="login_post"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
NAV: list = []
