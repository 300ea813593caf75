"""Masking personal data and secrets: the one rule the question log and the logs share.

- `redact(text)`: phone numbers and ID-card numbers (9-digit CMND, 12-digit căn cước),
  written with or without spaces, dots, dashes, slashes, underscores, parentheses or a
  leading `+`, become `[số]`; e-mail addresses become `[email]`. The question log, the
  residents' remembered question, tickets and answered inbox items keep only redacted text.
- `Redactor`: `redact` plus secrets (the configured tokens, keys and passwords, Telegram
  bot tokens, bearer and access tokens), for every log line (`bot/logs.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["EMAIL_MASK", "MASK", "Redactor", "mask_emails", "redact"]

MASK = "[số]"
EMAIL_MASK = "[email]"
SECRET_MASK = "[secret]"

# 9-12 digit runs (phone numbers, 9/12-digit ID cards), the digits possibly apart by up to
# three of space . - / _ ( ): "0905 123 456", "(0905) 123 456", "0905 / 123 / 456",
# "0905_123_456", "+84 905 123 456" (the + goes too).
_NUMBER = re.compile(r"(?<![\d+])(?:\+\s?)?\(?(?:\d[\s.\-/_()]{0,3}){8,11}\d(?!\d)")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A Telegram bot token (bot id, a colon, 35 characters), with or without a "bot" prefix in URLs.
_BOT_TOKEN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}")
# "Bearer …", "access_token=…", "secret_key: …" as they appear in headers, URLs and bodies.
_NAMED = re.compile(
    r"(?i)\b(bearer\s+|(?:access_token|refresh_token|secret_key|secret_token|secret|password|token)[\"']?\s*[=:]\s*[\"']?)"
    r"[^\s&\"',;]+"
)


def mask_emails(text: str) -> str:
    """Mask e-mail addresses: an.nguyen@gmail.com → [email]."""
    return _EMAIL.sub(EMAIL_MASK, text)


def redact(text: str) -> str:
    """Mask e-mail addresses, phone and ID-card numbers: 0905 123 456 → [số]."""
    return _NUMBER.sub(MASK, mask_emails(text))


class Redactor:
    """Masks personal numbers and secrets in a text.

    Parameters:
        secrets: values to mask wherever they appear (the process's tokens and keys);
            values shorter than 6 characters are ignored, they would mask ordinary words.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self._secrets = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __call__(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(SECRET_MASK, text)
        text = _BOT_TOKEN.sub(SECRET_MASK, text)
        text = _NAMED.sub(lambda m: m.group(1) + SECRET_MASK, text)
        return redact(text)
