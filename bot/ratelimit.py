"""Sliding-window counters, per key, in this process: flood protection for residents,
request limits per address for the web chat, login attempts on the admin site."""

from __future__ import annotations

import time
from collections import defaultdict, deque

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most `limit` events per `window` seconds per key."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def _events(self, key: str, now: float) -> deque[float]:
        q = self._seen[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def full(self, key: str, now: float | None = None) -> bool:
        """Whether the key has used its budget (without counting a new event)."""
        return len(self._events(key, time.monotonic() if now is None else now)) >= self.limit

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one event."""
        now = time.monotonic() if now is None else now
        self._events(key, now).append(now)

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event if the budget allows it; False when it does not."""
        now = time.monotonic() if now is None else now
        if self.full(key, now):
            return False
        self.hit(key, now)
        return True
