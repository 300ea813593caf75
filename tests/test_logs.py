"""Logs: one JSON object per line (or readable text), request ids, and nothing personal or
secret in any line; the question log stores the same redacted text (one rule, bot/redact.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.logs import setup
from bot.settings import ROOT, Settings
from bot.storage.models import QuestionLog
from tests.helpers import prepared

CCCD = "079203001234"  # a 12-digit căn cước number
PHONE = "0905 123 456"
SESSION = "logsession-0123456789"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`setup` replaces the root handlers; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@pytest.mark.asyncio
async def test_question_with_id_card_and_phone_number_reaches_neither_log_nor_question_log(tmp_path, restore_logging) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}", knowledge_dir=ROOT / "knowledge",
                        log_level="DEBUG", log_format="json")
    out = io.StringIO()
    setup(settings, stream=out)
    assistant = await prepared(settings)
    question = f"Tôi làm mất căn cước {CCCD}, cán bộ gọi lại giúp tôi qua số {PHONE} nhé"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
        r = await c.post("/chat/api/messages", json={"session_id": SESSION, "text": question})
        also = await c.post("/chat/api/messages", json={"session_id": SESSION, "text": "số 0905.123.457 có dùng VNeID được không"})
    assert r.status_code == 200 and also.status_code == 200
    async with assistant.db.session() as s:
        logged = (await s.scalars(select(QuestionLog.normalized).order_by(QuestionLog.id))).all()
    await assistant.db.dispose()

    lines = [json.loads(line) for line in out.getvalue().splitlines()]  # every line is one JSON object
    text = out.getvalue()
    # The question was logged (at DEBUG), with its words and without its numbers.
    assert any("căn cước" in line["message"] and "[số]" in line["message"] for line in lines), text[:2000]
    for needle in (CCCD, PHONE, "0905123456", "0905.123.457", "905 123 456"):
        assert needle not in text
        assert all(needle not in q for q in logged)
    assert len(logged) == 2 and all("[số]" in q for q in logged)
    assert all(CCCD not in digits_of(q) and "0905123456" not in digits_of(q) for q in logged)


def test_secrets_and_tokens_are_masked_in_text_logs(tmp_path, restore_logging) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}", telegram_bot_token="7781234567:AAH-real-looking-token_abcdefghijklmnop",
                        zalo_bot_token="zalo-bot-token-value-xyz", admin_secret_key="very-secret-admin-key",
                        metrics_token="metrics-scrape-token")
    out = io.StringIO()
    setup(settings, stream=out)
    log = logging.getLogger("bot.test")
    log.warning("calling https://api.telegram.org/bot%s/getUpdates", settings.telegram_bot_token)
    log.warning("zalo url https://bot-api.zaloplatforms.com/bot%s/sendMessage", settings.zalo_bot_token)
    log.warning("headers: Authorization: Bearer %s; access_token=%s", settings.metrics_token, "abc.def.ghi")
    log.warning("another bot's token 123456789:AAEabcdefghijklmnopqrstuvwxyz0123456 leaked")
    try:
        raise RuntimeError(f"key {settings.admin_secret_key} in an exception, phone 0905123456")
    except RuntimeError:
        log.exception("failure")
    text = out.getvalue()
    for secret in (settings.telegram_bot_token, settings.zalo_bot_token, settings.admin_secret_key, settings.metrics_token,
                   "abc.def.ghi", "AAEabcdefghijklmnopqrstuvwxyz0123456", "0905123456"):
        assert secret not in text
    assert text.count("[secret]") >= 6 and "WARNING bot.test: calling https://api.telegram.org/bot[secret]/getUpdates" in text
    assert "Traceback" in text and "RuntimeError" in text


@pytest.mark.asyncio
async def test_every_request_has_an_id_in_its_log_lines_and_response(tmp_path, restore_logging) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.sqlite3'}", log_level="DEBUG", log_format="json")
    out = io.StringIO()
    setup(settings, stream=out)
    assistant = await prepared(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, assistant)), base_url="http://t") as c:
        given = await c.post("/chat/api/messages", json={"session_id": SESSION, "text": "vneid là gì"},
                             headers={"X-Request-ID": "proxy-id-42"})
        fresh = await c.get("/healthz")
        bad = await c.get("/healthz", headers={"X-Request-ID": "no spaces or {json} allowed"})
    await assistant.db.dispose()
    assert given.headers["x-request-id"] == "proxy-id-42"
    assert len(fresh.headers["x-request-id"]) == 16 and bad.headers["x-request-id"] != "no spaces or {json} allowed"
    question_lines = [json.loads(line) for line in out.getvalue().splitlines() if "vneid" in line]
    assert question_lines and all(line["request_id"] == "proxy-id-42" for line in question_lines)
