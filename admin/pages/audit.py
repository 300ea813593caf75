"""The audit log (admins only): who changed what, when, before and after."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.audit import recent
from admin.context import assistant
from admin.guard import ADMIN, User, require
from admin.render import NavItem, render

__all__ = ["ROUTES", "NAV"]


@require({ADMIN})
async def audit_list(request: Request, user: User) -> Response:
    action = request.query_params.get("action", "")
    username = request.query_params.get("user", "")
    rows = await recent(assistant(request).db, action=action, username=username)
    return render(request, "audit.html", {"rows": rows, "action": action, "username": username})


ROUTES = [Route("/audit", audit_list, methods=["GET"], name="audit_list")]
NAV = [NavItem("Nhật ký thay đổi", "audit_list", frozenset({ADMIN}))]
