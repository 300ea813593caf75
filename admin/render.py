"""Rendering admin pages: the Jinja2 templates of admin/templates, the navigation each
role sees, flash messages, and the CSRF token every form carries.

Templates autoescape everything; nothing typed by a resident or an editor is marked safe.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from admin.guard import ROLE_NAMES, User, current_user
from bot import clock

__all__ = ["NavItem", "flash", "render", "render_error", "templates", "url"]

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


@dataclass(frozen=True)
class NavItem:
    """A link of the navigation bar, shown to `roles` only."""

    label: str
    route: str  # route name inside the admin app
    roles: frozenset[str]


#: Filled by admin/app.py from each page module's NAV, in the order of its PAGES.
NAVIGATION: list[NavItem] = []


def url(request: Request, name: str, **params: Any) -> str:
    """The path of an admin route by name (`url(request, "kb_list")`)."""
    return str(request.url_for(f"admin:{name}", **params).path)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A message shown once, on the next page rendered (kind: ok | error)."""
    request.session.setdefault("flash", []).append({"text": text, "kind": kind})
    request.session["flash"] = request.session["flash"]  # mark the session changed


def csrf_token(request: Request) -> str:
    getter = request.scope.get("csrftoken")
    return str(getter()) if getter else ""


def _vn_time(value: dt.datetime | None) -> str:
    """UTC database time shown in Đà Nẵng time."""
    if value is None:
        return ""
    return clock.to_local(value).strftime("%d/%m/%Y %H:%M")


def _age(value: dt.datetime | None) -> str:
    """How long ago a UTC database time was, in words: "2 ngày 3 giờ", "45 phút"."""
    if value is None:
        return ""
    minutes = max(0, int((clock.now() - value).total_seconds() // 60))
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    return f"{hours} giờ {minutes % 60} phút" if hours else f"{minutes} phút"


#: Area code → "Phường Hải Châu", refreshed from the database whenever a page reads the
#: areas through `ward_names` (the home page, the inbox, tickets, teams, questions); the
#: `ward` filter shows a code by its name, and the code itself for one not seen yet.
AREA_NAMES: dict[str, str] = {}


async def ward_names(db: Any) -> dict[str, str]:
    """Area code → its name, read now (and kept for the `ward` filter)."""
    from bot.services.inbox import area_labels

    labels = await area_labels(db)
    AREA_NAMES.clear()
    AREA_NAMES.update(labels)
    return labels


def _ward(code: str | None) -> str:
    if not code:
        return ""
    return AREA_NAMES.get(code, code)


templates.env.filters["ward"] = _ward
templates.env.filters["vn_time"] = _vn_time
templates.env.filters["age"] = _age


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    """Render `template` inside the base layout with the user, navigation, flash
    messages and CSRF token."""
    user: User | None = current_user(request)
    nav = [(item, url(request, item.route)) for item in NAVIGATION if user is not None and user.may(item.roles)]
    fragment = Path(template).name.startswith("_")  # a piece fetched by a script keeps the flash for the page
    messages = request.session.pop("flash", []) if "session" in request.scope and not fragment else []
    base = {
        "user": user,
        "role_name": ROLE_NAMES.get(user.role, "") if user else "",
        "nav": nav,
        "messages": messages,
        "csrf": csrf_token(request),
        "url": lambda name, **params: url(request, name, **params),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status_code)


def render_error(request: Request, status_code: int, message: str) -> Response:
    return render(request, "error.html", {"status": status_code, "message": message}, status_code=status_code)
