"""Signing up from a team's invite link (issue 21): `/admin/join/CODE` shows the team and
a form; the account made is a team member (team leader for a leader's code) of the
team's ward, and the code is used (the same one-time codes as `/thamgia` in the chat).
Public routes: the code is the permission. The form posts to the fixed path `/admin/join`
so that CSRF protects it even before any cookie (see `create_admin`'s login paths)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.accounts import create_from_invite, invite_team
from admin.context import assistant
from admin.render import flash, render, url

__all__ = ["NAV", "ROUTES"]


def _db(request: Request):
    return assistant(request).db


async def join(request: Request) -> Response:
    code = request.path_params["code"]
    team = await invite_team(_db(request), code)
    if team is None:
        return render(request, "join.html", {"error": "Mã mời không đúng hoặc đã được dùng. Hãy xin mã mới từ tổ trưởng.",
                                             "code": ""}, 404)
    return render(request, "join.html", {"team": team, "code": code})


async def join_post(request: Request) -> Response:
    form = await request.form()
    code, username = str(form.get("code", "")).strip(), str(form.get("username", "")).strip().lower()
    password, again = str(form.get("password", "")), str(form.get("password2", ""))
    team = await invite_team(_db(request), code)
    if team is None:
        return render(request, "join.html", {"error": "Mã mời không đúng hoặc đã được dùng. Hãy xin mã mới từ tổ trưởng.",
                                             "code": ""}, 404)
    if password != again:
        return render(request, "join.html", {"team": team, "code": code, "username": username,
                                             "error": "Hai lần nhập mật khẩu không giống nhau."}, 400)
    try:
        await create_from_invite(_db(request), code, username, password)
    except ValueError as exc:
        return render(request, "join.html", {"team": team, "code": code, "username": username, "error": str(exc)}, 400)
    flash(request, f"Đã tạo tài khoản {username} cho {team[0]}. Mời bạn đăng nhập.")
    return RedirectResponse(url(request, "login") + "?next=" + url(request, "inbox_list"), status_code=303)


ROUTES = [
    Route("/join/{code:str}", join, methods=["GET"], name="join"),
    Route("/join", join_post, methods=["POST"], name="join_post"),
]
NAV: list = []
