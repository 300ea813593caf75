"""Fixtures for the admin site: the whole app (web chat and admin) on a seeded SQLite
copy, one account per role, and signed-in httpx clients talking ASGI in-process."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from admin.accounts import create_user
from bot.app import Assistant, create_app, prepare
from bot.settings import ROOT, Settings

PASSWORD = "mat-khau-thu-nghiem"
USERS = {"admin": ("quantri", None), "editor": ("bientap", None), "team-leader": ("totruong", "phuong-hai-chau"),
         "team-member": ("thanhvien", "phuong-hai-chau")}
_TEMPLATE: dict[str, Path] = {}


def _settings(path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{path}", knowledge_dir=ROOT / "knowledge",
                    admin_secret_key="khoa-bi-mat-cho-thu-nghiem-0123456789")


@pytest_asyncio.fixture
async def assistant(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Assistant]:
    """A prepared assistant on a copy of a database seeded once per run from knowledge/,
    with one account per role."""
    if "db" not in _TEMPLATE:
        template = tmp_path_factory.mktemp("admin-template") / "seeded.sqlite3"
        seeded = await prepare(_settings(template))
        for role, (name, area) in USERS.items():
            await create_user(seeded.db, name, role, password=PASSWORD, area_code=area)
        await seeded.db.dispose()
        _TEMPLATE["db"] = template
    path = tmp_path / "admin.sqlite3"
    shutil.copy(_TEMPLATE["db"], path)
    ready = await prepare(_settings(path))
    try:
        yield ready
    finally:
        await ready.db.dispose()


Client = Callable[..., Awaitable[httpx.AsyncClient]]


def csrf_of(client: httpx.AsyncClient) -> str:
    return str(client.cookies.get("csrftoken", path="/admin") or "")


@pytest_asyncio.fixture
async def client(assistant: Assistant) -> AsyncIterator[Client]:
    """`await client(role)` gives an httpx client signed in with that role (None: anonymous);
    `client.csrf` is its CSRF token."""
    app = create_app(assistant.settings, assistant)
    opened: list[httpx.AsyncClient] = []

    async def make(role: str | None = None, scheme: str = "http") -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://testserver", follow_redirects=False)
        opened.append(c)
        page = await c.get("/admin/login")
        assert page.status_code == 200
        if role is not None:
            name = USERS[role][0]
            r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": name, "password": PASSWORD, "next": ""})
            assert r.status_code == 303, r.text
        return c

    yield make
    for c in opened:
        await c.aclose()


def form_token(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)
