"""The start page as a dashboard (issue 21): what needs doing now, each with a number
and a link. Every role: the tickets waiting and overdue in its inbox scope. City staff
also: this week's unanswered questions (out-of-scope refusals counted apart), 👎
questions and their largest clusters, entries past their `review_by` date (issue 18),
drafts waiting, campaigns sending or awaiting approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import ALL_ROLES, CITY, User, require
from admin.render import render, ward_names
from bot import clock
from bot.kb_rules import past_review_by

__all__ = ["ROUTES", "NAV"]


async def _due(request: Request) -> list[dict]:
    """Entries (not archived) whose facts had to be checked again by a date now past."""
    from bot.services.knowledge import export_groups

    today = clock.local_today()
    groups = await export_groups(assistant(request).db)
    due = [{"entry": e, "group": g} for g in groups for e in g.entries if e.status != "archived" and past_review_by(e, today)]
    return sorted(due, key=lambda r: r["entry"].review_by)


async def _city_figures(request: Request) -> dict[str, Any]:
    from bot.services.gaps import gaps
    from bot.services.knowledge import drafts
    from bot.storage.models import Campaign, KbEntry, QuestionLog

    a = assistant(request)
    since_day = clock.local_today() - dt.timedelta(days=6)
    since = clock.local_day_start(since_day)
    async with a.db.session() as session:
        def count(*where: Any) -> Any:
            return session.scalar(select(func.count()).select_from(QuestionLog).where(QuestionLog.asked_at >= since, *where))

        unanswered = int(await count(QuestionLog.decision == "unknown", QuestionLog.entry_id.is_(None)) or 0)
        out_of_scope = int(await count(QuestionLog.decision == "unknown", QuestionLog.entry_id.is_not(None)) or 0)
        disliked = int(await count(QuestionLog.feedback.startswith("down")) or 0)
        draft_entries = int(await session.scalar(select(func.count()).select_from(KbEntry).where(KbEntry.status == "draft")) or 0)
        sending = int(await session.scalar(select(func.count()).select_from(Campaign).where(Campaign.state == "sending")) or 0)
        awaiting = 0
        if a.settings.campaign_approval_required:
            awaiting = int(await session.scalar(select(func.count()).select_from(Campaign).where(
                Campaign.state == "draft", Campaign.sender_area.is_not(None), Campaign.approved_by.is_(None))) or 0)
    clusters = [g for g in await gaps(a.db, since=since) if g.unanswered or g.disliked][:3]
    return {"since": since_day.strftime("%d/%m"), "since_iso": since_day.isoformat(), "unanswered": unanswered,
            "out_of_scope": out_of_scope, "disliked": disliked, "clusters": clusters, "draft_entries": draft_entries,
            "pending_drafts": len(await drafts(a.db)), "sending": sending, "awaiting": awaiting}


@require(ALL_ROLES)
async def home(request: Request, user: User) -> Response:
    from admin.pages.inbox import _scope
    from bot.services import inbox

    a = assistant(request)
    scope = await _scope(request, user)
    tickets = await inbox.counts(a.db, scope, user.name, a.settings, a.holidays) if isinstance(scope, inbox.Scope) else {}
    waiting = tickets.get("open", 0)
    city_queue = 0
    if user.may(CITY):
        city_queue = (await inbox.counts(a.db, inbox.Scope(city=True, area="city"), user.name, a.settings, a.holidays))["open"]
    due = await _due(request) if user.may(CITY) else []
    figures = await _city_figures(request) if user.may(CITY) else {}
    return render(request, "home.html", {"due": due, "tickets": tickets, "waiting": waiting, "city_queue": city_queue,
                                         "figures": figures, "now": clock.now(),
                                         "ward_label": (await ward_names(a.db)).get(user.area, "") if user.area else ""})


ROUTES = [Route("/", home, methods=["GET"], name="home")]
NAV: list = []
