"""Questions passed to people (tickets): a team leader sees their own area's only, the
city's editors and admins see all."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import EVERYONE, TEAM_LEADER, User, require
from admin.render import NavItem, render
from bot.storage.models import Ticket

__all__ = ["ROUTES", "NAV", "STATUS_NAMES"]

STATUS_NAMES = {"open": "Chờ nhận", "claimed": "Đang xử lý", "answered": "Đã trả lời", "rejected": "Ngoài phạm vi"}


@require(EVERYONE)
async def ticket_list(request: Request, user: User) -> Response:
    status = request.query_params.get("status", "")
    query = select(Ticket).order_by(Ticket.id.desc()).limit(300)
    if user.role == TEAM_LEADER:  # decided here, never by what the request says
        query = query.where(Ticket.area_code == user.area)
    elif area := request.query_params.get("area", ""):
        query = query.where(Ticket.area_code == area)
    if status:
        query = query.where(Ticket.status == status)
    async with assistant(request).db.session() as session:
        rows = list((await session.scalars(query)).all())
    return render(request, "tickets.html", {"rows": rows, "status": status, "statuses": STATUS_NAMES})


ROUTES = [Route("/tickets", ticket_list, methods=["GET"], name="ticket_list")]
NAV = [NavItem("Câu hỏi chờ người trả lời", "ticket_list", EVERYONE)]
