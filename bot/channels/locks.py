"""One lock per resident, so a resident's messages are handled in the order they came
while different residents are handled at the same time. A lock exists only while a
message of that resident is being handled or waits (the map does not grow with every
resident ever seen)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["ResidentLocks"]


class ResidentLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    def __contains__(self, resident: object) -> bool:
        """Whether a message of `resident` is being handled or waits here."""
        return resident in self._locks

    @contextlib.asynccontextmanager
    async def hold(self, resident: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(resident, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[resident] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[resident]
            if users <= 1:
                del self._locks[resident]
            else:
                self._locks[resident] = (lock, users - 1)
