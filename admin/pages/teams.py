"""Teams (Tổ CNS) and areas: the list, each team's members, invite codes and tickets
with their ages. Admins and editors see every team and create teams; a team leader
sees only their own area's team and invites members to it (checked on the server)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.audit import record
from admin.guard import CITY, EVERYONE, TEAM_LEADER, User, require
from admin.render import NavItem, flash, render, render_error, url
from bot.services import areas as areas_service
from bot.services import teams
from bot.services.inbox import area_labels

__all__ = ["ROUTES", "NAV"]

STATUS = {"open": "chờ nhận", "claimed": "đang xử lý", "answered": "đã trả lời", "rejected": "không thuộc phạm vi",
          "closed": "người dân đã xóa dữ liệu"}


def _db(request: Request):  # type: ignore[no-untyped-def]
    from admin.app import assistant

    return assistant(request).db


@require(EVERYONE)
async def team_list(request: Request, user: User) -> Response:
    db = _db(request)
    await area_labels(db)  # ward names, not codes
    rows = await teams.overview(db, user.area if user.role == TEAM_LEADER else None)
    free: list[areas_service.AreaRow] = []
    if user.role != TEAM_LEADER:
        free = [a for a, team_id, _ in await areas_service.with_teams(db) if team_id is None]
    return render(request, "teams.html", {"rows": rows, "free_areas": free})


@require(CITY)
async def team_create(request: Request, user: User) -> Response:
    form = await request.form()
    area_code, name = str(form.get("area", "")).strip(), str(form.get("name", "")).strip()
    if not name:
        flash(request, "Cần tên tổ.", "error")
        return RedirectResponse(url(request, "team_list"), status_code=303)
    try:
        team_id = await teams.create_team(_db(request), area_code, name[:200])
    except ValueError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(url(request, "team_list"), status_code=303)
    await record(_db(request), user, "team.create", f"team:{team_id}", None, {"area": area_code, "name": name})
    waiting = await teams.city_waiting(_db(request), area_code)
    flash(request, f"Đã tạo {name}." + (f" Phường, xã này có {waiting} câu hỏi đang chờ ở hàng đợi của thành phố: "
                                       "bấm “Chuyển cho tổ” bên dưới để tổ nhận." if waiting else ""))
    return RedirectResponse(url(request, "team_detail", team_id=team_id), status_code=303)


async def _team_for(request: Request, user: User) -> teams.TeamRow | Response:
    team = await teams.team_row(_db(request), request.path_params["team_id"])
    if team is None:
        return render_error(request, 404, "Không có tổ này.")
    if user.role == TEAM_LEADER and team.area_code != user.area:
        return render_error(request, 403, "Bạn chỉ xem được tổ của phường, xã mình.")
    return team


@require(EVERYONE)
async def team_detail(request: Request, user: User) -> Response:
    team = await _team_for(request, user)
    if isinstance(team, Response):
        return team
    db = _db(request)
    await area_labels(db)
    return render(request, "team.html", {
        "team": team, "members": await teams.members_of(db, team.id), "invites": await teams.unused_invites(db, team.id),
        "tickets": await teams.tickets_of(db, team.id), "status": STATUS,
        "city_waiting": await teams.city_waiting(db, team.area_code) if user.role != TEAM_LEADER else 0,
    })


@require(CITY)
async def take_city_tickets(request: Request, user: User) -> Response:
    """Give a team the open tickets of its area that waited in the city queue."""
    from bot.handlers.team_reply import notification

    team = await _team_for(request, user)
    if isinstance(team, Response):
        return team
    db = _db(request)
    moved = await teams.move_city_tickets(db, team.area_code, team.id)
    await record(db, user, "team.take_city_tickets", f"team:{team.id}", None, {"moved": moved})
    if moved:
        members = await teams.members_of(db, team.id)
        for t in (t for t in await teams.tickets_of(db, team.id) if t.status == "open"):
            for m in members:
                await assistant_push(request, m.channel, m.chat, notification(t))
    flash(request, f"Đã chuyển {moved} câu hỏi cho {team.name}.")
    return RedirectResponse(url(request, "team_detail", team_id=team.id), status_code=303)


async def assistant_push(request: Request, channel: str, chat: str, reply) -> None:  # type: ignore[no-untyped-def]
    from admin.app import assistant

    await assistant(request).push(channel, chat, reply)


@require(EVERYONE)
async def invite_create(request: Request, user: User) -> Response:
    team = await _team_for(request, user)
    if isinstance(team, Response):
        return team
    form = await request.form()
    leader = form.get("leader") == "1" and user.role != TEAM_LEADER  # leaders are named by the city
    code = await teams.create_invite(_db(request), team.id, leader=leader)
    await record(_db(request), user, "team.invite", f"team:{team.id}", None, {"role": "leader" if leader else "member"})
    flash(request, f"Mã mời mới: {code}. Người được mời gửi /thamgia {code} cho trợ lý trên Telegram hoặc Zalo.")
    return RedirectResponse(url(request, "team_detail", team_id=team.id), status_code=303)


@require(EVERYONE)
async def area_list(request: Request, user: User) -> Response:
    from bot.campaigns.service import subscriber_stats

    db = _db(request)
    rows = await areas_service.with_teams(db)
    if user.role == TEAM_LEADER:
        rows = [r for r in rows if r[0].code == user.area]
    waiting = {t.area_code: t.waiting for t in await teams.overview(db)}
    subscribers = (await subscriber_stats(db))["by_area"]
    return render(request, "areas.html", {"rows": rows, "waiting": waiting, "subscribers": subscribers})


ROUTES = [
    Route("/teams", team_list, methods=["GET"], name="team_list"),
    Route("/teams", team_create, methods=["POST"], name="team_create"),
    Route("/teams/{team_id:int}", team_detail, methods=["GET"], name="team_detail"),
    Route("/teams/{team_id:int}/invites", invite_create, methods=["POST"], name="invite_create"),
    Route("/teams/{team_id:int}/take-city-tickets", take_city_tickets, methods=["POST"], name="take_city_tickets"),
    Route("/areas", area_list, methods=["GET"], name="area_list"),
]
NAV = [NavItem("Tổ CNS", "team_list", EVERYONE), NavItem("Phường, xã", "area_list", EVERYONE)]
