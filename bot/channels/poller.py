"""A channel's long-polling loop, stopped without losing what it fetched.

A poll waiting for updates is cancelled at once; a poll that has received updates and is
storing them in the inbox is not cancelled: it finishes storing, then sees `stopping`
and ends. The platform hands out again whatever was not stored (Telegram: the offset
did not move; Zalo: the update is still queued there).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from typing import Any

__all__ = ["Poller"]


class Poller:
    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self._storing = False

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        """Run `loop`, which polls `while not poller.stopping`."""
        self.task = asyncio.create_task(loop, name=name)

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        """Around storing what a poll returned: a stop waits for it instead of cancelling."""
        self._storing = True
        try:
            yield
        finally:
            self._storing = False

    async def stop(self) -> None:
        if self.task is None:
            return
        self.stopping = True
        if not self._storing:
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None
