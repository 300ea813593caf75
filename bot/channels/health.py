"""How a channel's receiving is doing, for /readyz, /metrics and the log.

Each receiving channel owns one `ChannelHealth` and calls `ok()` after every successful
poll or webhook call and `failed(error)` after every failed poll. A channel that keeps
failing is said in so many words: a WARNING on the first failures, an ERROR line on the
`ALERT_AFTER`th failure in a row (and every `ALERT_AFTER` after), and one INFO line when
it recovers; /readyz shows the count, the error class and since when.
"""

from __future__ import annotations

import logging
import time

from bot import metrics

__all__ = ["ALERT_AFTER", "ChannelHealth", "FRESH_SECONDS"]

logger = logging.getLogger(__name__)
ALERT_AFTER = 5
#: A polling channel that has not polled successfully for this long is not ready.
FRESH_SECONDS = 120.0


class ChannelHealth:
    """Last success and failures in a row of one channel (monotonic clock, Unix time in metrics)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.last_ok: float | None = None  # time.monotonic() of the last success
        self.failures = 0  # in a row, since the last success
        self.last_error = ""
        self.failing_since: float | None = None  # time.monotonic() of the first failure in a row
        self._last_success = metrics.CHANNEL_LAST_SUCCESS.labels(channel)
        self._in_a_row = metrics.CHANNEL_CONSECUTIVE_FAILURES.labels(channel)

    def ok(self) -> None:
        if self.failures >= ALERT_AFTER:
            logger.info("%s: receiving again after %s failures in a row", self.channel, self.failures)
        self.last_ok = time.monotonic()
        self.failures = 0
        self.failing_since = None
        self._last_success.set(time.time())  # a Unix timestamp for Prometheus (`time() - x` alerts), not a rule
        self._in_a_row.set(0)

    def failed(self, error: str, detail: str = "") -> None:
        """Record a failed poll; `error` is a class name or code, never a secret."""
        self.failures += 1
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        metrics.CHANNEL_FAILURES.labels(self.channel, error).inc()
        self._in_a_row.set(self.failures)
        if self.failures % ALERT_AFTER == 0:
            logger.error("%s: receiving has failed %s times in a row (last error: %s %s); residents get no answers "
                         "until it recovers", self.channel, self.failures, error, detail)
        else:
            logger.warning("%s: receiving failed (%s %s), attempt %s in a row", self.channel, error, detail, self.failures)

    def report(self, polling: bool) -> tuple[bool, dict[str, object]]:
        """(ready, details) for /readyz. In webhook mode silence can just mean no resident
        wrote, so only a polling channel must have succeeded within `FRESH_SECONDS`."""
        now = time.monotonic()
        fresh = self.last_ok is not None and now - self.last_ok < FRESH_SECONDS
        details: dict[str, object] = {
            "mode": "polling" if polling else "webhook",
            "status": "ok" if fresh and not self.failures else ("failing" if self.failures else ("no contact yet" if self.last_ok is None else "quiet")),
            "last_success_seconds_ago": None if self.last_ok is None else round(now - self.last_ok),
        }
        if self.failures:
            details["failures_in_a_row"] = self.failures
            details["last_error"] = self.last_error
            details["failing_for_seconds"] = round(now - (self.failing_since or now))
        return (fresh or not polling), details
