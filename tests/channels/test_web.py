"""The web chat adapter: translation and input checks only (rules are tested in handlers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.app import create_app

SESSION = "0123456789abcdef0123"


@pytest.fixture
def client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings)) as c:
        yield c


def test_question_round_trip(client: TestClient) -> None:
    r = client.post("/chat/api/messages", json={"session_id": SESSION, "text": "dvc truc tuyen la gi"})
    assert r.status_code == 200
    reply = r.json()["replies"][0]
    assert set(reply) == {"text", "buttons", "links"} and "trực tuyến" in reply["text"]
    assert all(set(b) == {"label", "payload"} for b in reply["buttons"])
    assert any(link["url"].startswith("https://dichvucong") for link in reply["links"])


def test_button_round_trip(client: TestClient) -> None:
    r = client.post("/chat/api/messages", json={"session_id": SESSION, "button": "m:"})
    assert r.status_code == 200 and r.json()["replies"][0]["buttons"]


@pytest.mark.parametrize(
    "body",
    [
        {"session_id": "short", "text": "x"},
        {"session_id": SESSION},
        {"session_id": SESSION, "text": "a", "button": "m:"},
        {"session_id": SESSION, "text": 5},
        {"session_id": SESSION, "button": "x" * 65},
        ["not", "an", "object"],
    ],
)
def test_bad_requests_are_refused_clearly(client: TestClient, body: object) -> None:
    r = client.post("/chat/api/messages", json=body)
    assert r.status_code == 400 and "error" in r.json()


def test_oversized_body_is_refused(client: TestClient) -> None:
    r = client.post("/chat/api/messages", content=b'{"session_id": "' + b"a" * 10_000 + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_not_json_is_refused(client: TestClient) -> None:
    r = client.post("/chat/api/messages", content=b"hello", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_rate_limit_per_address(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    with TestClient(app) as c:
        codes = [c.post("/chat/api/messages", json={"session_id": f"{SESSION}{i:03d}", "button": "m:"}).status_code
                 for i in range(125)]
    assert codes[:120] == [200] * 120 and codes[-1] == 429


def test_page_and_widget_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'aria-live="polite"' in page.text and '<label for="text"' in page.text
    assert "iframe" in client.get("/chat/static/widget.js").text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_fetching_later_replies(client: TestClient) -> None:
    assert client.get("/chat/api/messages", params={"session_id": SESSION}).json() == {"replies": []}
    assert client.get("/chat/api/messages", params={"session_id": "bad"}).status_code == 400


def test_readyz_reports_database_and_migrations(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
