"""How python-telegram-bot reaches the Bot API: over aiohttp instead of httpx.

PTB leaves its networking to a `BaseRequest`; its default, `HTTPXRequest`, spends about
1.6 ms of CPU per sendMessage on this project's 2-core reference machine, where aiohttp
spends 0.3 ms. At hundreds of replies a second that is most of a core, so replies and
polling go through `AiohttpRequest` (`bench/telegram_throughput.py` runs PTB's echo bot
on both transports).

Requests without files are sent as one JSON body (the Bot API accepts
`application/json`), which spares percent-encoding long Vietnamese answers; uploads go
as multipart. Timeouts and errors map onto PTB's (`TimedOut`, `NetworkError`), so the
channel's retry rules do not depend on the transport.

`JsonBody` lets the channel send a message it already has as JSON (text, parse mode,
keyboard) through `BaseRequest.post`, which maps Telegram's answers to PTB's errors
(`RetryAfter`, `Forbidden`, `BadRequest`...), without building PTB objects for the call
and its answer: half the CPU of `Bot.send_message` per reply.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB marks "no timeout given for this call" with `BaseRequest.DEFAULT_NONE`, an instance
# of a class that lives in its private `telegram._utils`; comparing types with that public
# attribute keeps this module on PTB's public API.
_DEFAULT = type(BaseRequest.DEFAULT_NONE)
Timeout = float | None | object  # a number of seconds, None for no limit, or DEFAULT_NONE

__all__ = ["AiohttpRequest", "JsonBody"]


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession` with a bounded connection pool.

    Parameters:
        connection_pool_size: connections kept open to the Bot API at most.
        read_timeout, write_timeout, connect_timeout, pool_timeout: defaults in seconds,
            used unless PTB passes its own for a call (long polling does).
    """

    __slots__ = ("_pool_size", "_session", "_timeouts")

    def __init__(self, connection_pool_size: int = 8, read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout, "pool": pool_timeout}
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The session belongs to the running event loop, so it is made here, not in __init__.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                json_serialize=lambda obj: json.dumps(obj, ensure_ascii=False),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, name: str, given: Timeout) -> float | None:
        return self._timeouts[name] if isinstance(given, _DEFAULT) else given  # type: ignore[return-value]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._timeout("read", read_timeout)
        connect = self._timeout("connect", connect_timeout)
        pool = self._timeout("pool", pool_timeout)
        write = self._timeout("write", write_timeout)
        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        # aiohttp has no write timeout of its own: the whole call is bounded instead.
        total = None if None in (read, write, connect, pool) else read + write + connect + pool  # type: ignore[operator]
        timeout = aiohttp.ClientTimeout(total=total, connect=None if None in (connect, pool) else connect + pool,  # type: ignore[operator]
                                        sock_connect=connect, sock_read=read)
        kwargs: dict[str, Any] = {}
        if files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            kwargs["data"] = form
        elif request_data is not None and request_data.parameters:
            kwargs["json"] = request_data.parameters
        try:
            async with self._session.request(method, url, timeout=timeout, **kwargs) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


# PTB marks RequestData final; subclassing it is this module's one reliance on PTB beyond
# its documented API. PTB is pinned to 22.x (pyproject) and tests/channels/test_telegram_http.py
# sends through it on every run, so a release that changes RequestData fails there first.
class JsonBody(RequestData):  # type: ignore[misc]
    """The parameters of one Bot API call, given as the JSON that is sent (no files)."""

    __slots__ = ("_body",)

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self._body = body

    @property
    def parameters(self) -> dict[str, Any]:
        return self._body

    @property
    def json_parameters(self) -> dict[str, str]:
        return {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in self._body.items()}
