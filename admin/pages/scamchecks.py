"""What scams circulate where this week (editors and admins): messages residents checked
with /kiemtra, counted by kind, sign and ward (no message text is kept), with one link
to compose a campaign warning for the wards concerned."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import NavItem, render, url
from bot.scamcheck import SIGNS
from bot.scamcheck.kinds import KINDS
from bot.services.scamchecks import week_report

__all__ = ["ROUTES", "NAV"]


@require(CITY)
async def scam_week(request: Request, user: User) -> Response:
    a = assistant(request)
    try:
        day = dt.date.fromisoformat(request.query_params.get("week", ""))
    except ValueError:
        day = None
    week = await week_report(a.db, day)
    top = week.kinds.most_common(1)[0][0] if week.kinds else None
    warning = ""
    if top is not None:
        warning = (f"CẢNH BÁO LỪA ĐẢO: tuần này nhiều người dân nhận tin nhắn kiểu “{KINDS[top][0].lower()}”. "
                   "Không bấm đường link lạ, không cài ứng dụng theo lời người lạ, không chuyển tiền, không đọc mã OTP cho ai. "
                   "Nghi ngờ thì gửi tin nhắn cho trợ lý bằng lệnh /kiemtra hoặc hỏi Tổ Công nghệ số cộng đồng. "
                   "Lỡ chuyển tiền: gọi ngay ngân hàng, rồi báo Công an phường hoặc gọi 113.")
    compose = url(request, "campaign_new") + "?" + urlencode([("text", warning), *[("area", c) for c in sorted(week.area_codes)]]) if warning else ""
    return render(request, "scamchecks.html", {
        "week": week, "kinds": KINDS, "signs": SIGNS, "compose": compose, "wards": len(week.area_codes),
        "previous": (week.first - dt.timedelta(days=7)).isoformat(), "next": (week.first + dt.timedelta(days=7)).isoformat(),
    })


ROUTES = [Route("/scam-checks", scam_week, methods=["GET"], name="scam_week")]
NAV = [NavItem("Tin nhắn lừa đảo", "scam_week", CITY)]
