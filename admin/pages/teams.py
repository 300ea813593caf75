"""Teams (Tổ CNS) and areas: the list, each team's members, invite codes and tickets
with their ages. Admins and editors see every team and create teams; a team leader
sees only their own area's team and invites members to it (checked on the server)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.audit import record
from admin.context import assistant
from admin.guard import ADMIN, CITY, EVERYONE, TEAM_LEADER, User, require
from admin.render import NavItem, flash, render, render_error, url
from bot.services import areas as areas_service
from bot.services import old_units, teams

__all__ = ["ROUTES", "NAV"]

STATUS = {"open": "chờ nhận", "claimed": "đang xử lý", "answered": "đã trả lời", "rejected": "không thuộc phạm vi",
          "closed": "người dân đã xóa dữ liệu"}


def _db(request: Request):
    return assistant(request).db


@require(EVERYONE)
async def team_list(request: Request, user: User) -> Response:
    db = _db(request)
    rows = await teams.overview(db, user.area if user.role == TEAM_LEADER else None)
    free: list[areas_service.AreaRow] = []
    if user.role != TEAM_LEADER:
        free = [a for a, team_id, _ in await areas_service.with_teams(db) if team_id is None]
    return render(request, "teams.html", {"rows": rows, "free_areas": free})


def _knowledge(request: Request):
    return assistant(request).settings.knowledge_dir


@require(CITY)
async def team_create(request: Request, user: User) -> Response:
    form = await request.form()
    area_code, name = str(form.get("area", "")).strip(), str(form.get("name", "")).strip()
    typed = str(form.get("area_name", "")).strip()
    if typed:  # a name typed instead of picked: a name of today or a former one ("Thạc Gián")
        db = _db(request)
        units = await old_units.current(db, _knowledge(request) / "old-units.csv")
        meant = old_units.resolve(typed, await areas_service.list_areas(db), units)
        if len(meant) != 1:
            found = ", ".join(a.label for a in meant)
            flash(request, f"'{typed}' (tên cũ) nay thuộc nhiều đơn vị: {found}. Chọn một đơn vị trong danh sách."
                  if meant else f"Không tìm thấy phường, xã '{typed}'.", "error")
            return RedirectResponse(url(request, "team_list"), status_code=303)
        area_code = meant[0].code
    if not name:
        flash(request, "Cần tên tổ.", "error")
        return RedirectResponse(url(request, "team_list"), status_code=303)
    try:
        team_id = await teams.create_team(_db(request), area_code, name[:200])
    except ValueError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(url(request, "team_list"), status_code=303)
    await record(_db(request), user, "team.create", f"team:{team_id}", None, {"area": area_code, "name": name})
    flash(request, f"Đã tạo {name}.")
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
    return render(request, "team.html", {
        "team": team, "members": await teams.members_of(db, team.id), "invites": await teams.unused_invites(db, team.id),
        "tickets": await teams.tickets_of(db, team.id), "status": STATUS,
    })


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
    units = await old_units.current(db, _knowledge(request) / "old-units.csv")
    former = {code: ", ".join(u.name + ("" if u.confirmed else "*") for u in found)
              for code, found in old_units.names_by_area(units).items()}
    return render(request, "areas.html", {"rows": rows, "waiting": waiting, "subscribers": subscribers, "former": former,
                                          "old_count": len(units), "can_upload": user.role == ADMIN})


@require(frozenset({ADMIN}))
async def old_units_upload(request: Request, user: User) -> Response:
    """An admin puts a corrected old-units CSV in use (checked first; nothing changes on an error)."""
    from starlette.datastructures import UploadFile

    async with request.form() as form:
        upload = form.get("file")
        data = await upload.read(2_000_001) if isinstance(upload, UploadFile) and upload.filename else b""
    if not data or len(data) > 2_000_000:
        flash(request, "Chọn một tệp CSV (tối đa 2 MB).", "error")
        return RedirectResponse(url(request, "area_list"), status_code=303)
    try:
        n = await old_units.save(_db(request), data.decode("utf-8-sig"), user.name)
    except (ValueError, UnicodeDecodeError) as exc:
        flash(request, "Không nhập gì: " + str(exc)[:2000], "error")
        return RedirectResponse(url(request, "area_list"), status_code=303)
    await record(_db(request), user, "areas.old_units", "old-units.csv", None, {"rows": n})
    flash(request, f"Đã dùng bảng tên cũ mới: {n} đơn vị.")
    return RedirectResponse(url(request, "area_list"), status_code=303)


ROUTES = [
    Route("/teams", team_list, methods=["GET"], name="team_list"),
    Route("/teams", team_create, methods=["POST"], name="team_create"),
    Route("/teams/{team_id:int}", team_detail, methods=["GET"], name="team_detail"),
    Route("/teams/{team_id:int}/invites", invite_create, methods=["POST"], name="invite_create"),
    Route("/areas", area_list, methods=["GET"], name="area_list"),
    Route("/areas/old-units", old_units_upload, methods=["POST"], name="old_units_upload"),
]
NAV = [NavItem("Tổ CNS", "team_list", EVERYONE), NavItem("Phường, xã", "area_list", EVERYONE)]
