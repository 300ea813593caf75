"""Input builders for tests (like python-telegram-bot's make_message)."""

from __future__ import annotations

import socket

from bot.channels.base import Incoming, Reply


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server started by a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_incoming(text: str | None = None, button: str | None = None, user: str = "u1", channel: str = "web") -> Incoming:
    return Incoming(channel=channel, user=user, chat=user, text=text, button=button, display_name="Bà Năm")


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


def button(replies: list[Reply], label_part: str) -> str:
    for r in replies:
        for b in r.buttons:
            if label_part in b.label:
                return b.payload
    raise AssertionError(f"no button containing {label_part!r} in {[b.label for r in replies for b in r.buttons]}")
