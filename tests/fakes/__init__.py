"""Fakes of the platforms' servers (Telegram's Bot API, Zalo's Bot Platform and Official
Account API), served over real HTTP on 127.0.0.1.

The fakes tell the time by the test clock (`bot.clock`), as the real servers and the
assistant agree on the real time: a test that sets the clock moves the platforms too."""

from __future__ import annotations

import datetime as dt

from bot import clock


def epoch_seconds() -> float:
    """Now, by the test clock, as a Unix time (what the platforms put in their messages)."""
    return clock.now().replace(tzinfo=dt.UTC).timestamp()
