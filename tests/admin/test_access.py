"""Every route under /admin is guarded: anonymous visitors are sent to the login page
and every role outside a page's set gets 403, for every method. Routes are enumerated
from the app itself, so a new page cannot escape these tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Mount, Route

from admin.app import PUBLIC
from admin.guard import ALL_ROLES
from bot.app import create_app
from bot.settings import Settings
from tests.admin.conftest import Client, csrf_of


def admin_routes() -> Iterator[tuple[str, Route]]:
    """(full path template, route) for every endpoint route under the /admin mount."""
    app = create_app(Settings(admin_secret_key="x" * 32))
    mounts = [r for r in app.routes if isinstance(r, Mount) and r.path == "/admin"]
    assert len(mounts) == 1

    def walk(prefix: str, routes: list[Any]) -> Iterator[tuple[str, Route]]:
        for r in routes:
            if isinstance(r, Mount):
                yield from walk(prefix + r.path, r.routes)
            elif isinstance(r, Route):
                yield prefix + r.path, r

    yield from walk("/admin", mounts[0].routes)


def concrete(path: str, route: Route) -> str:
    """The route's path with each parameter filled with a value its convertor accepts."""
    params = {name: 1 if type(conv).__name__ == "IntegerConvertor" else "x" for name, conv in route.param_convertors.items()}
    return path[: -len(route.path)] + str(route.url_path_for(route.name, **params)) if params else path


ROUTES = [(path, route) for path, route in admin_routes() if route.name not in PUBLIC]
CASES = [(concrete(path, route), method, route) for path, route in ROUTES for method in sorted(route.methods or ()) if method != "HEAD"]


def test_every_admin_route_is_guarded_or_public() -> None:
    names = {route.name for _, route in admin_routes()}
    assert PUBLIC <= names | {"static"}
    for path, route in ROUTES:
        roles = getattr(route.endpoint, "roles", None)
        assert roles, f"{path} ({route.name}) is not wrapped by admin.guard.require"
        assert roles <= ALL_ROLES
    assert len(CASES) >= 15


# One test walks every route (one app for all), so the suite stays quick as pages are added.
@pytest.mark.asyncio
async def test_anonymous_is_sent_to_login_everywhere(client: Client) -> None:
    c = await client(None)
    for path, method, _ in CASES:
        data = {"csrftoken": csrf_of(c)} if method == "POST" else None
        r = await c.request(method, path, data=data)
        assert r.status_code == 303, f"anonymous {method} {path}: {r.status_code}"
        assert r.headers["location"].startswith("/admin/login?next="), f"{method} {path}"


@pytest.mark.asyncio
async def test_wrong_roles_are_refused_everywhere(client: Client) -> None:
    clients = {role: await client(role) for role in sorted(ALL_ROLES)}
    refusals = 0
    for path, method, route in CASES:
        for role in sorted(ALL_ROLES - route.endpoint.roles):
            c = clients[role]
            data = {"csrftoken": csrf_of(c)} if method == "POST" else None
            r = await c.request(method, path, data=data)
            assert r.status_code == 403, f"{role} reached {method} {path} ({r.status_code})"
            assert "Không có quyền" in r.text
            refusals += 1
    assert refusals >= 20


@pytest.mark.asyncio
async def test_allowed_role_reaches_a_page(client: Client) -> None:
    c = await client("admin")
    r = await c.get("/admin/audit")
    assert r.status_code == 200 and "Nhật ký thay đổi" in r.text
