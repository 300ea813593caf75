"""The start page: what each role can do here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.guard import EVERYONE, User, require
from admin.render import render

__all__ = ["ROUTES", "NAV"]


@require(EVERYONE)
async def home(request: Request, user: User) -> Response:
    return render(request, "home.html")


ROUTES = [Route("/", home, methods=["GET"], name="home")]
NAV: list = []
