"""Sessions and CSRF: cookie flags, every form's token, and refusals without it."""

from __future__ import annotations

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
