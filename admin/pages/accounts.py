"""Accounts of the admin site (admins only): create, change role or area, set a new
password, delete. Passwords are never shown again after the page that made them, and
never written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import accounts
from admin.audit import record
from admin.context import assistant
from admin.guard import ADMIN, ROLE_NAMES, User, require
from admin.render import NavItem, flash, render, url
from bot.storage.models import AdminUser, Area

__all__ = ["ROUTES", "NAV"]


def _db(request: Request) -> Any:
    return assistant(request).db


def _public(user: AdminUser) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "area": user.area_code}


async def _page(request: Request, *, error: str = "", password: str = "", status_code: int = 200) -> Response:
    async with _db(request).session() as session:
        users = list((await session.scalars(select(AdminUser).order_by(AdminUser.username))).all())
        areas = list((await session.scalars(select(Area).order_by(Area.name))).all())
    return render(request, "accounts.html", {"users": users, "areas": areas, "roles": ROLE_NAMES, "error": error,
                                             "password": password}, status_code=status_code)


@require({ADMIN})
async def account_list(request: Request, user: User) -> Response:
    return await _page(request)


@require({ADMIN})
async def account_create(request: Request, user: User) -> Response:
    data = await request.form()
    username, role = str(data.get("username", "")).strip(), str(data.get("role", ""))
    area = str(data.get("area", "")).strip() or None
    try:
        password = await accounts.create_user(_db(request), username, role, password=str(data.get("password", "")) or None,
                                              area_code=area if role == "team-leader" else None)
    except ValueError as exc:
        return await _page(request, error=str(exc), status_code=400)
    await record(_db(request), user, "account.create", f"account:{username}", None, {"username": username, "role": role, "area": area})
    shown = password if not data.get("password") else ""
    flash(request, f"Đã tạo tài khoản '{username}'.")
    return await _page(request, password=f"{username}: {shown}" if shown else "")


@require({ADMIN})
async def account_update(request: Request, user: User) -> Response:
    data = await request.form()
    username, action = request.path_params["username"], str(data.get("action", ""))
    db = _db(request)
    try:
        if action == "delete":
            if username == user.name:
                raise ValueError("không xoá được tài khoản đang đăng nhập")
            before = await accounts.delete_user(db, username)
            await record(db, user, "account.delete", f"account:{username}", before, None)
            flash(request, f"Đã xoá tài khoản '{username}'.")
        elif action == "password":
            password = await accounts.set_password(db, username, str(data.get("password", "")) or None)
            await record(db, user, "account.password", f"account:{username}", None, {"password": "(đã đổi)"})
            return await _page(request, password=f"{username}: {password}" if not data.get("password") else "")
        else:
            role = str(data.get("role", ""))
            if username == user.name and role != ADMIN:
                raise ValueError("không tự bỏ quyền quản trị của mình")
            before, after = await accounts.change_role(db, username, role, str(data.get("area", "")).strip() or None)
            await record(db, user, "account.role", f"account:{username}", before, after)
            flash(request, f"Đã cập nhật '{username}'.")
    except ValueError as exc:
        return await _page(request, error=str(exc), status_code=400)
    return RedirectResponse(url(request, "account_list"), status_code=303)


ROUTES = [
    Route("/accounts", account_list, methods=["GET"], name="account_list"),
    Route("/accounts", account_create, methods=["POST"], name="account_create"),
    Route("/accounts/{username:str}", account_update, methods=["POST"], name="account_update"),
]
NAV = [NavItem("Tài khoản", "account_list", frozenset({ADMIN}))]
