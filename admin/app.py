"""The admin site as one ASGI app, mounted at /admin by bot/app.py.

`PAGES` is the one ordered list of page modules. Each module holds:

- `ROUTES`: Starlette routes whose endpoints are wrapped by `admin.guard.require(...)`
  (tests/admin/test_access.py fails for any route under /admin that is not guarded,
  except those in `PUBLIC`);
- `NAV`: the navigation links it adds, each with the roles that see it.

See admin/README.md for how to add a page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from admin import render
from admin.pages import (
    accounts,
    audit,
    auth,
    campaigns,
    home,
    inbox,
    join,
    kb,
    kb_history,
    kb_transfer,
    questions,
    reports,
    scamchecks,
    scamlists,
    teams,
    tickets,
)
from admin.security import Protected

if TYPE_CHECKING:
    from bot.app import Assistant

__all__ = ["PAGES", "PUBLIC", "create_admin"]

STATIC = Path(__file__).parent / "static"
PAGES = (auth, join, home, inbox, kb, kb_history, kb_transfer, questions, tickets, campaigns, reports, scamchecks, scamlists, teams,
         accounts, audit)
#: Route names anyone may reach: the login form and the stylesheet and script it uses.
PUBLIC = frozenset({"login", "login_post", "logout", "static", "join", "join_post"})  # join: a team's invite link


async def _forbidden(request: Request, exc: Exception) -> Response:
    """A page the signed-in user's role may not see (raised by `admin.guard.require`)."""
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    return render.render_error(request, 403, detail or "Bạn không có quyền xem trang này.")


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number or date too large for the database or the calendar (a 30-digit id, year 1): 400, not 500."""
    from admin.render import render_error

    return render_error(request, 400, "Giá trị ngoài phạm vi cho phép (value out of range).")


def create_admin(get_assistant: Callable[[], Assistant], secret_key: str, prefix: str = "/admin") -> Protected:
    """The admin app, behind sessions and CSRF; `get_assistant` is called per request
    because the assistant is built in the lifespan, after the app."""
    routes = [route for page in PAGES for route in page.ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    render.NAVIGATION[:] = [item for page in PAGES for item in getattr(page, "NAV", [])]
    app = Starlette(routes=routes, exception_handlers={403: _forbidden, OverflowError: _out_of_range})
    app.state.get_assistant = get_assistant
    app.state.login_failures = auth.failures()  # per app, so tests and processes do not share it
    return Protected(app, secret_key, login_paths={f"{prefix}/login", f"{prefix}/join"})
