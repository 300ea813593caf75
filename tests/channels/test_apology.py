"""What every channel does when handling a message fails: the resident is told, the
failure is logged, and the channel marks the item failed (`replies_or_apology`)."""

from __future__ import annotations

import logging

import pytest

from bot.channels.base import APOLOGY, Incoming, Reply, replies_or_apology


@pytest.mark.asyncio
async def test_a_failed_message_gets_the_apology_and_a_logged_error(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[tuple[str, Reply]] = []

    async def send(chat: str, reply: Reply) -> bool:
        sent.append((chat, reply))
        return True

    async def broken(msg: Incoming) -> list[Reply]:
        raise RuntimeError("the database went away")

    async def fine(msg: Incoming) -> list[Reply]:
        return [Reply("Chào bạn")]

    msg = Incoming(channel="zalo", user="u1", chat="c1", text="vneid")
    with caplog.at_level(logging.ERROR):
        assert await replies_or_apology("zalo", broken, msg, send) is None
    assert sent == [("c1", APOLOGY)] and "thử lại" in APOLOGY.text
    assert "zalo: handling a message failed" in caplog.text and "RuntimeError" in caplog.text
    sent.clear()
    assert await replies_or_apology("zalo", fine, msg, send) == [Reply("Chào bạn")]
    assert sent == []  # the caller sends the replies
