"""Reports: the figures of any period, the plan's 6-month and yearly reports in one
click, charts (Chart.js, served by the app) and the XLSX/CSV files of the same tables.

Admins and editors see the whole city and may pick one area; a team leader sees only
their own area (the area comes from the session, never from the query).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import EVERYONE, TEAM_LEADER, User, require
from admin.render import NavItem, render, render_error
from bot.reports import Period, Report, compute, sheets, six_month, to_csv, to_xlsx, yearly
from bot.reports.periods import due_next, local_today
from bot.reports.tables import CHANNEL_NAMES
from bot.storage.models import Area

__all__ = ["ROUTES", "NAV"]


class _BadQuery(ValueError):
    pass


def _period(request: Request) -> Period:
    """The period the query asks for: ?plan=six-month|year&year=Y, or ?from=&to= (both
    days included), or the plan's report due next."""
    q = request.query_params
    try:
        if q.get("plan") in ("six-month", "year"):
            year = int(q.get("year", ""))
            if not 2000 <= year <= 2100:
                raise ValueError
            return six_month(year) if q["plan"] == "six-month" else yearly(year)
        if q.get("from") or q.get("to"):
            return Period.of_days(dt.date.fromisoformat(q.get("from", "")), dt.date.fromisoformat(q.get("to", "")))
    except ValueError as exc:
        raise _BadQuery("Kỳ báo cáo không hợp lệ: cần ngày đầu và ngày cuối (YYYY-MM-DD), ngày cuối không trước ngày đầu.") from exc
    return due_next(local_today())


def _area(request: Request, user: User) -> str | None:
    if user.role == TEAM_LEADER:
        return user.area
    return request.query_params.get("area") or None


async def _report(request: Request, user: User) -> Report:
    if user.role == TEAM_LEADER and not user.area:
        raise PermissionError
    return await compute(assistant(request).db, _period(request), _area(request, user))


def _chart_data(r: Report) -> dict[str, object]:
    """What the charts draw (reports.js); the page embeds it as JSON, escaped."""
    return {
        "days": [d.isoformat() for d, _, _ in r.per_day],
        "questions": [n for _, n, _ in r.per_day],
        "answered": [a for _, _, a in r.per_day],
        "outcomes": {"labels": ["Trợ lý trả lời", "Gợi ý câu gần đúng", "Ngoài phạm vi", "Chưa có câu trả lời"],
                     "values": [r.answered, r.suggested, r.out_of_scope, r.unanswered]},
        "channels": {"labels": [CHANNEL_NAMES.get(c, c) for c in r.questions_by_channel],
                     "values": list(r.questions_by_channel.values())},
        "topics": {"labels": [(title or e)[:40] for e, title, *_ in r.top_topics[:10]], "values": [n for _, _, n, _, _ in r.top_topics[:10]]},
    }


async def _report_or_error(request: Request, user: User) -> Report | Response:
    """The report the query asks for, or the error page saying why there is none."""
    try:
        return await _report(request, user)
    except _BadQuery as exc:
        return render_error(request, 400, str(exc))
    except PermissionError:
        return render_error(request, 403, "Tài khoản tổ trưởng chưa gắn với phường, xã nào.")


@require(EVERYONE)
async def reports(request: Request, user: User) -> Response:
    report = await _report_or_error(request, user)
    if isinstance(report, Response):
        return report
    areas: list[tuple[str, str]] = []
    if user.role != TEAM_LEADER:
        async with assistant(request).db.session() as session:
            areas = [(c, n) for c, n in (await session.execute(select(Area.code, Area.name).order_by(Area.name))).all()]
    year = local_today().year
    query = {"from": report.period.start.isoformat(), "to": report.period.last_day.isoformat()}
    if report.area and user.role != TEAM_LEADER:
        query["area"] = report.area
    return render(request, "reports.html", {
        "r": report, "tables": sheets(report), "chart": _chart_data(report), "areas": areas, "query": query,
        "years": [year + 1, year, year - 1] if local_today() >= dt.date(year, 12, 1) else [year, year - 1],
    })


def _download(kind: str):
    @require(EVERYONE)
    async def download(request: Request, user: User) -> Response:
        report = await _report_or_error(request, user)
        if isinstance(report, Response):
            return report
        name = f"bao-cao-{report.period.start:%Y%m%d}-{report.period.last_day:%Y%m%d}{'-' + report.area if report.area else ''}"
        if kind == "xlsx":
            body, media = to_xlsx(report), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body, media = to_csv(report), "text/csv; charset=utf-8"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'})

    download.__name__ = f"report_{kind}"
    return download


ROUTES = [
    Route("/reports", reports, methods=["GET"], name="reports"),
    Route("/reports/export.xlsx", _download("xlsx"), methods=["GET"], name="reports_xlsx"),
    Route("/reports/export.csv", _download("csv"), methods=["GET"], name="reports_csv"),
]
NAV = [NavItem("Báo cáo", "reports", EVERYONE)]
