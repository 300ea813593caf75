"""The one clock of the assistant: every rule that depends on the date or the hour reads it.

Tickets, reminders and escalation, working hours and holidays, campaign schedules, the
Zalo OA message windows and promotion hours, retention, report periods and the admin's
dates all take "now" from here. Durations that only measure elapsed time (timeouts,
rate limits, back-off) use `time.monotonic()` instead and are not this clock's business.

Times in the database are naive UTC (`now()`); what a person reads is Đà Nẵng time
(`local_now()`, `local_today()`, `TZ`; Việt Nam has no daylight saving time).

Tests set the clock explicitly (`set_now`), so nothing depends on the real date or hour:
a set clock runs on from the set instant (`frozen=False`, the default) or stands still
(`frozen=True`) until set again. A process started by a test (e.g. `cdsbot run`) gets
the instant through the environment variable `CDSBOT_CLOCK_START` (ISO 8601, UTC when
no offset is given); a production deployment never sets it, and `cdsbot run` warns when
it is set.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

__all__ = [
    "ENV_START", "TZ", "is_set", "local_day_start", "local_now", "local_today", "now", "reset",
    "set_now", "to_local", "advance",
]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ENV_START = "CDSBOT_CLOCK_START"

_base: dt.datetime | None = None  # naive UTC of the set instant; None: the system clock
_base_mono = 0.0
_frozen = False


def _naive_utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def set_now(when: dt.datetime, *, frozen: bool = False) -> None:
    """Set the clock to `when` (aware, or naive UTC). It runs on from there unless frozen."""
    global _base, _base_mono, _frozen
    _base, _base_mono, _frozen = _naive_utc(when), time.monotonic(), frozen


def advance(delta: dt.timedelta) -> None:
    """Move a set clock forward (tests of reminders, windows and expiry)."""
    if _base is None:
        raise RuntimeError("the clock is not set: call set_now() first")
    set_now(now() + delta, frozen=_frozen)


def reset() -> None:
    """Back to the system clock (or to `CDSBOT_CLOCK_START` when the environment sets it)."""
    global _base, _frozen
    _base, _frozen = None, False
    start = os.environ.get(ENV_START, "").strip()
    if start:
        set_now(dt.datetime.fromisoformat(start))


def is_set() -> bool:
    return _base is not None


def now() -> dt.datetime:
    """Now, as the naive UTC time the database stores."""
    if _base is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if _frozen:
        return _base
    return _base + dt.timedelta(seconds=time.monotonic() - _base_mono)


def to_local(when_utc: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) time as Đà Nẵng time."""
    return when_utc.replace(tzinfo=dt.UTC).astimezone(TZ)


def local_now() -> dt.datetime:
    """Now in Đà Nẵng (aware)."""
    return to_local(now())


def local_today(when_utc: dt.datetime | None = None) -> dt.date:
    """Today in Đà Nẵng (or the Đà Nẵng date of a stored time)."""
    return to_local(when_utc if when_utc is not None else now()).date()


def local_day_start(day: dt.date) -> dt.datetime:
    """Midnight of a Đà Nẵng day as the naive UTC time the database stores."""
    return dt.datetime.combine(day, dt.time(), TZ).astimezone(dt.UTC).replace(tzinfo=None)


reset()
