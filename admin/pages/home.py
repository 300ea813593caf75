"""The start page: what each role can do here, and for editors the knowledge-base
entries whose facts are past their `review_by` date (issue 18)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import CITY, EVERYONE, User, require
from admin.render import render
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


@require(EVERYONE)
async def home(request: Request, user: User) -> Response:
    due = await _due(request) if user.may(CITY) else []
    return render(request, "home.html", {"due": due})


ROUTES = [Route("/", home, methods=["GET"], name="home")]
NAV: list = []
