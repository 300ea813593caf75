"""Logging for the people who run the assistant: one setup, redacted lines, request ids.

`setup(settings)` sends every logger's records (ours, python-telegram-bot's, uvicorn's)
to standard error through one handler:
- `LOG_FORMAT=text`: `2026-05-01 08:00:00 WARNING bot.channels.telegram: … [update=42]`;
- `LOG_FORMAT=json`: one JSON object per line with `time`, `level`, `logger`, `message`,
  the ids of what was being handled (`request_id`, `update_id`, `channel`) and `error`
  (the exception's class) and `traceback` when there is one.
Every message and traceback passes through `bot.redact.Redactor`: phone and ID-card
numbers, the configured tokens, keys and passwords never reach a log line.

The ids come from context variables: `RequestIds` (ASGI middleware) sets `request_id`
for each HTTP request (taken from a valid `X-Request-ID` header, else new, and sent back
in the response); channels call `bind(update_id=…, channel=…)` for each update.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import IO, Any

from bot.redact import Redactor
from bot.settings import Settings

__all__ = ["RequestIds", "bind", "secret_values", "setup"]

# Never mutated in place (always replaced with .set), so one shared empty default is safe.
_IDS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("cdsbot_log_ids", default=MappingProxyType({}))
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Settings whose values are secrets, by name (also the Zalo OA settings added later).
_SECRET_NAME = re.compile(r"(token|secret|password|salt|key)$")


def bind(**ids: str) -> None:
    """Attach ids (update_id, channel, campaign_id) to every log line of the current task."""
    _IDS.set({**_IDS.get(), **ids})


def secret_values(settings: Settings) -> list[str]:
    """The values of every setting named like a secret (…_token, …_secret, …_key, …)."""
    return [str(v) for name, v in settings.model_dump().items() if _SECRET_NAME.search(name) and v]


class _Formatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
            **_IDS.get(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = record.exc_info[1].__class__.__name__
            out["traceback"] = self.redact(self.formatException(record.exc_info))
        return out


class JsonFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), ensure_ascii=False)


class TextFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        f = self.fields(record)
        ids = " ".join(f"{k}={f[k]}" for k in ("request_id", "update_id", "channel", "campaign_id") if k in f)
        line = f"{f['time'][:19].replace('T', ' ')} {f['level']} {f['logger']}: {f['message']}"
        line += f" [{ids}]" if ids else ""
        return line + ("\n" + f["traceback"] if "traceback" in f else "")


def setup(settings: Settings, level: str | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """Route all logging through one redacting handler in the configured format."""
    redactor = Redactor(secret_values(settings))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if settings.log_format == "json" else TextFormatter(redactor))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    # Request URLs carry bot tokens; the redactor masks them, and these are noise anyway.
    for noisy in ("httpx", "httpcore", "alembic", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


class RequestIds:
    """ASGI middleware: a request id for every HTTP request, in the logs and the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex[:16]
        token = _IDS.set({"request_id": request_id})

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _IDS.reset(token)
