"""Who may see what: the roles, the signed-in user, and `require`, the one guard every
admin page and action goes through.

`require(roles)` wraps an endpoint `async def page(request, user) -> Response`:
anonymous visitors are sent to the login page (303), and so is a session whose account
was deleted or changed since it signed in; a signed-in user whose role is not in `roles` gets 403, and a file upload without the CSRF token gets 403 (other posts are
checked before they get here: admin/security.py). The wrapper carries `.roles` so that tests/admin/test_access.py can
enumerate every route under /admin and try each with every other role.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from admin.context import assistant
from admin.security import CSRF_FAILED, is_multipart, multipart_token_ok

__all__ = ["ADMIN", "CITY", "EDITOR", "EVERYONE", "ROLE_NAMES", "TEAM_LEADER", "User", "current_user", "require"]

ADMIN = "admin"  # everything, and the accounts
EDITOR = "editor"  # knowledge base, questions, city campaigns, reports
TEAM_LEADER = "team-leader"  # their area's tickets, team and campaigns
CITY = frozenset({ADMIN, EDITOR})
EVERYONE = frozenset({ADMIN, EDITOR, TEAM_LEADER})
ROLE_NAMES = {ADMIN: "Quản trị", EDITOR: "Biên tập viên", TEAM_LEADER: "Tổ trưởng Tổ CNS"}

Endpoint = Callable[[Request, "User"], Awaitable[Response]]


@dataclass(frozen=True)
class User:
    """The signed-in account, as the session holds it."""

    name: str
    role: str
    area: str = ""  # area code; only team leaders have one

    def may(self, roles: Iterable[str]) -> bool:
        return self.role in roles


def current_user(request: Request) -> User | None:
    """The user of this request's session, or None when signed out."""
    session = request.session
    name, role = session.get("user"), session.get("role")
    if not name or role not in EVERYONE:
        return None
    return User(str(name), str(role), str(session.get("area") or ""))


async def _still_valid(request: Request, user: User) -> bool:
    """The session's account still exists with the same role and area (one indexed
    read per admin request), so removing or demoting an account takes effect at once."""
    from sqlalchemy import select

    from bot.storage.models import AdminUser

    async with assistant(request).db.engine.connect() as conn:
        row = (await conn.execute(select(AdminUser.role, AdminUser.area_code).where(AdminUser.username == user.name))).first()
    return row is not None and row.role == user.role and (row.area_code or "") == user.area


def require(roles: Iterable[str]) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate an endpoint so that only `roles` reach it (see the module docstring)."""
    allowed = frozenset(roles)
    unknown = allowed - EVERYONE
    if unknown or not allowed:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user is not None and not await _still_valid(request, user):
                request.session.clear()  # deleted, or given another role or area, since signing in
                user = None
            if user is None:
                login = request.url_for("admin:login").path
                if request.method != "GET":  # after signing in, come back to a page, not to a form's action
                    return RedirectResponse(f"{login}?next={quote(request.url_for('admin:home').path)}", status_code=303)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{login}?next={quote(target)}", status_code=303)
            if not user.may(allowed):  # rendered as the error page by the handler in admin/app.py
                raise HTTPException(403, "Bạn không có quyền xem trang này.")
            try:
                if request.method == "POST" and is_multipart(request.scope) and not await multipart_token_ok(request):
                    return HTMLResponse(CSRF_FAILED, status_code=403)
                return await endpoint(request, user)
            finally:
                await request.close()  # an uploaded file's temporary copy

        guarded.roles = allowed  # type: ignore[attr-defined]
        return guarded

    return decorate
