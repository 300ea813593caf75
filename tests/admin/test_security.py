"""Sessions and CSRF: cookie flags, every form's token, and refusals without it; and the admin
site's part of issue 20 (multipart CSRF, sessions ended by logout and new passwords, lockouts
in the database, out-of-range input, report file names, campaign links)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.admin.conftest import PASSWORD, Client, csrf_of, form_token
from tests.admin.test_access import CASES

pytestmark = pytest.mark.asyncio


async def test_session_cookie_is_signed_httponly_lax_and_secure_over_https(client: Client) -> None:
    for scheme, secure in (("http", False), ("https", True)):
        c = await client(None, scheme=scheme)
        r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": "quantri", "password": PASSWORD})
        cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
        session = next(v for v in cookies if v.startswith("cdsbot_admin="))
        assert "httponly" in session.lower() and "samesite=lax" in session.lower()
        assert ("secure" in session.lower().split("; ")) is secure
        c.cookies.set("cdsbot_admin", "forged" + session.split("=", 1)[1].split(";")[0][6:], path="/admin")
        assert (await c.get("/admin/")).status_code == 303  # a tampered cookie signs nobody in


POSTS = [(path, route) for path, method, route in CASES if method == "POST"]


async def test_every_post_without_the_token_is_refused(client: Client) -> None:
    clients = {role: await client(role) for role in ("admin", "editor", "team-leader")}
    for path, route in POSTS:
        c = clients[sorted(route.endpoint.roles)[0]]
        for data in ({}, {"csrftoken": "not-the-token"}):
            r = await c.post(path, data=data)
            assert r.status_code == 403 and "CSRF" in r.text, f"{path} {data}"
        r = await c.post(path, data={"csrftoken": "x"}, files={"file": ("a.csv", b"group,id\n", "text/csv")})
        assert r.status_code == 403 and "CSRF" in r.text, f"{path} multipart"
    assert len(POSTS) >= 7


async def test_login_needs_the_token_even_without_cookies(client: Client) -> None:
    c = await client(None)
    c.cookies.clear()
    r = await c.post("/admin/login", data={"username": "quantri", "password": PASSWORD})
    assert r.status_code == 403


async def test_every_form_carries_the_token(client: Client) -> None:
    c = await client("admin")
    for page in ("/admin/", "/admin/kb/new", "/admin/kb/vneid-la-gi/edit", "/admin/kb/transfer", "/admin/accounts",
                 "/admin/questions/gaps"):
        html = (await c.get(page)).text
        forms = html.count('method="post"')
        assert forms >= 1
        assert html.count('name="csrftoken" value="') == forms, page
        assert form_token(html) == csrf_of(c)


async def test_login_is_rate_limited_and_next_cannot_leave_the_site(client: Client) -> None:
    c = await client(None)
    r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": "quantri", "password": PASSWORD,
                                          "next": "https://evil.example.com/"})
    assert r.headers["location"] == "/admin/"
    c = await client(None)
    for _ in range(5):
        r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": "bientap", "password": "sai-mat-khau-roi"})
        assert r.status_code == 400
    r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": "bientap", "password": PASSWORD})
    assert r.status_code == 429 and "5 phút" in r.text


# -- issue 20: what a probe of the running assistant found --------------------------------


async def test_multipart_login_and_logout_without_the_token_are_refused(client: Client) -> None:
    c = await client(None)
    fields = {"username": (None, "quantri"), "password": (None, PASSWORD)}
    r = await c.post("/admin/login", files=fields)
    assert r.status_code == 403 and "CSRF" in r.text
    r = await c.post("/admin/login", files={**fields, "csrftoken": (None, "not-the-token")})
    assert r.status_code == 403
    r = await c.post("/admin/login", files={**fields, "csrftoken": (None, csrf_of(c))})
    assert r.status_code == 303  # a multipart form with its token still signs in
    signed_in = await client("admin")
    r = await signed_in.post("/admin/logout", files={"x": (None, "y")})
    assert r.status_code == 403
    assert (await signed_in.get("/admin/")).status_code == 200  # still signed in


def _copy(c: httpx.AsyncClient, into: httpx.AsyncClient) -> None:
    for cookie in c.cookies.jar:
        into.cookies.set(cookie.name, cookie.value, path=cookie.path)


async def test_logout_and_a_new_password_end_every_session(client: Client) -> None:
    a = await client("editor")
    stolen = await client(None)
    _copy(a, stolen)  # the same session on another device (or a copied cookie)
    assert (await stolen.get("/admin/kb")).status_code == 200
    r = await a.post("/admin/logout", data={"csrftoken": csrf_of(a)})
    assert r.status_code == 303
    assert (await stolen.get("/admin/kb")).status_code == 303  # signed out everywhere
    b = await client("editor")
    other = await client(None)
    _copy(b, other)
    admin = await client("admin")
    r = await admin.post("/admin/accounts/bientap", data={"csrftoken": csrf_of(admin), "action": "password",
                                                           "password": "mot-mat-khau-moi-dai"})
    assert r.status_code == 200
    assert (await b.get("/admin/kb")).status_code == 303 and (await other.get("/admin/kb")).status_code == 303
    assert (await admin.get("/admin/kb")).status_code == 200  # the admin who changed it stays signed in


async def test_login_lockout_is_shared_by_workers_and_kept_over_a_restart(assistant: Any) -> None:
    from admin.accounts import verify
    from bot.app import create_app

    async def attempt(app: Any, password: str) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            await c.get("/admin/login")
            r = await c.post("/admin/login", data={"csrftoken": csrf_of(c), "username": "bientap", "password": password})
            return r.status_code

    workers = [create_app(assistant.settings, assistant) for _ in range(2)]
    codes = [await attempt(workers[i % 2], "sai-mat-khau-roi") for i in range(5)]
    assert codes == [400] * 5
    assert await attempt(workers[1], PASSWORD) == 429
    restarted = create_app(assistant.settings, assistant)
    assert await attempt(restarted, PASSWORD) == 429
    assert await verify(assistant.db, "bientap", PASSWORD) is not None


async def test_report_export_refuses_an_area_it_does_not_know(client: Client) -> None:
    c = await client("editor")
    for area in ('x"; filename=evil.exe', "Hải Châu", "x\\r\\nSet-Cookie: a=b", "../../etc"):
        r = await c.get("/admin/reports/export.csv", params={"area": area})
        assert r.status_code == 400, area
        assert "content-disposition" not in r.headers
    r = await c.get("/admin/reports/export.csv", params={"area": "phuong-hai-chau"})
    assert r.status_code == 200 and 'filename="bao-cao-' in r.headers["content-disposition"]


@pytest.mark.parametrize("path", [
    "/admin/questions?page=" + "9" * 30, "/admin/questions?since=0001-01-01", "/admin/questions?until=9999-12-31",
    "/admin/questions/gaps?days=99999999999", "/admin/reports?from=0001-01-01&to=0001-01-02",
    "/admin/reports?from=9999-12-31&to=9999-12-31", "/admin/reports/export.csv?from=0001-01-01&to=2026-01-01",
    "/admin/campaigns/" + "9" * 30, "/admin/teams/" + "9" * 30,
])
async def test_numbers_and_dates_out_of_range_are_400_not_500(client: Client, path: str) -> None:
    c = await client("admin")
    r = await c.get(path)
    assert r.status_code == 400, (path, r.status_code)


async def test_campaign_links_and_images_obey_the_link_allow_list(client: Client) -> None:
    c = await client("editor")
    base = {"csrftoken": csrf_of(c), "text": "Ngày hội chuyển đổi số", "when": "draft"}
    for extra in ({"links": "Chi tiết | https://evil.example.com/x"}, {"image_url": "https://evil.example.com/a.jpg"},
                  {"links": "Chi tiết | https://danang.gov.vn.evil.example.com/"}):
        r = await c.post("/admin/campaigns/new", data={**base, **extra})
        assert r.status_code == 400 and "không nằm trong danh sách cho phép" in r.text, extra
    r = await c.post("/admin/campaigns/new", data={**base, "links": "Chi tiết | https://danang.gov.vn/ngay-hoi",
                                               "image_url": "https://danang.gov.vn/a.jpg"})
    assert r.status_code == 303


async def test_a_username_with_a_trailing_newline_is_refused(assistant: Any) -> None:
    from admin.accounts import create_user

    with pytest.raises(ValueError):
        await create_user(assistant.db, "quantri2\n", "editor", password=PASSWORD)
