"""Group commit: many concurrent small writes (or reads) of the same kind done as one
database transaction, each caller still awaiting its own result.

On the hot path every message needs the same few statements (load the resident, log
the question with the new state, mark the inbox item done). One transaction through
SQLAlchemy's async engine costs about a millisecond of CPU whatever it holds, so a
process answering many residents at once spends most of its time opening and closing
transactions. A `GroupCommit` collects the requests that arrive while the previous
group is being written (or within the same turn of the event loop) and hands them to
one `flush` call:

- under light load a request waits for one turn of the event loop, no timer;
- under heavy load the groups grow by themselves (up to `max_group`);
- when a group fails, each of its requests is retried alone, so one bad request fails
  only its own caller;
- the order of requests is kept, and a caller's request is written before its `submit`
  returns, so a caller that awaits its write sees it in its next read.

`flush(items)` returns one result per item, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, name: str, flush: Callable[[Sequence[T]], Awaitable[Sequence[R]]], max_group: int = 256) -> None:
        self.name = name
        self._flush = flush
        self.max_group = max_group
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.groups = 0  # how many flushes ran (for benchmarks and tests)
        self.items = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run(), name=f"group-commit-{self.name}")
        return await future

    async def _run(self) -> None:
        group: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
                await self._write(group)
        except BaseException:  # cancelled with the loop: nobody waits forever
            for _, future in group + self._queue:
                _settle(future, exc=RuntimeError(f"group commit {self.name} stopped"))
            self._queue.clear()
            raise

    async def _write(self, group: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.groups += 1
        self.items += len(group)
        try:
            results = await self._flush([item for item, _ in group])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], exc=exc)
                return
            logger.debug("group commit %s: a group of %s failed (%s); writing each alone",
                         self.name, len(group), exc.__class__.__name__)
            for one in group:
                await self._write([one])
            return
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, result=result)


def _settle(future: asyncio.Future[R], result: R | None = None, exc: Exception | None = None) -> None:
    if future.done():  # the caller was cancelled: the write happened anyway
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
