"""The Zalo Bot Platform channel, over the project's own httpx client: translation only.

Receiving: long polling (`getUpdates` returns one update or HTTP 408 when idle; there is
no offset, so updates can be replayed: each is stored in the inbox keyed by its
`message_id` and processed once; at least `ZALO_BOT_POLL_INTERVAL` between polls), or
a webhook at /zalo/bot/webhook (`X-Bot-Api-Secret-Token` checked in constant time;
wrapped `{"ok", "result"}` and unwrapped bodies accepted; an event without `message` is
answered 200 and ignored).

Sending: plain text of at most 2,000 characters, split on paragraphs. The platform has
no buttons: a reply's buttons become a numbered list, remembered for the resident, and
an answer that is just a number is turned back into that button press before the shared
handlers see it. Links become "label: url" lines. The token is in the URL path, so URLs
are never logged (httpx's logger is kept at WARNING by the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import metrics
from bot.channels import inbox
from bot.channels.base import Delivered, Incoming, Outcome, Reply, replies_or_apology
from bot.channels.health import ChannelHealth
from bot.channels.locks import ResidentLocks
from bot.channels.ordered import ResidentOrder
from bot.channels.poller import Poller
from bot.channels.telegram import split_text
from bot.conversation import handling, load_resident
from bot.logs import bind
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Resident

__all__ = ["ZaloBotChannel", "ZaloBotClient", "ZaloError", "chosen", "remember_choices", "render"]

logger = logging.getLogger(__name__)
MAX_TEXT = 2000
RESENDS_AFTER_TIMEOUT = 1  # a message that may have arrived is sent again at most once
# A reply's outcome → the error class counted in cdsbot_replies_failed_total.
_ERROR_CLASS = {Outcome.RETRY_LATER: "rate_limited", Outcome.TRANSIENT: "network", Outcome.BLOCKED: "blocked",
                Outcome.GONE: "gone", Outcome.FAILED: "refused"}


class ZaloError(Exception):
    """The platform answered `ok: false` (or an HTTP error): `code` and `description`."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


class ZaloBotClient:
    """Calls `{base}/bot{token}/{method}` with a JSON body and unwraps the envelope."""

    def __init__(self, base_url: str, token: str, timeout: float = 40.0) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self.http = httpx.AsyncClient(timeout=timeout)

    async def call(self, method: str, payload: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        try:
            r = await self.http.post(self._url + method, json=payload or {},
                                     timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.ConnectTimeout as exc:  # never sent
            raise ZaloError(599, "network: ConnectTimeout") from exc
        except httpx.TimeoutException as exc:  # sent: it may have been delivered
            raise ZaloError(408, "client timeout") from exc
        except httpx.HTTPError as exc:
            raise ZaloError(599, f"network: {exc.__class__.__name__}") from exc
        try:
            body = r.json()
        except ValueError as exc:
            raise ZaloError(r.status_code, "not JSON") from exc
        if not isinstance(body, dict) or not body.get("ok"):
            code = int(body.get("error_code") or r.status_code) if isinstance(body, dict) else r.status_code
            raise ZaloError(code, str(body.get("description", "")) if isinstance(body, dict) else "")
        return body.get("result")

    async def close(self) -> None:
        await self.http.aclose()


def order_of(update: dict[str, Any]) -> tuple[str | None, int | None]:
    """Whose an update is (the sender) and its time in ms (`date`), Zalo's order."""
    message = update.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    user = str(sender.get("id") or "") if isinstance(sender, dict) else ""
    date = message.get("date") if isinstance(message, dict) else None
    return (user or None), (date if isinstance(date, int) and 0 < date < 10**15 else None)


def render(reply: Reply) -> tuple[str, list[str]]:
    """The text to send and the button payloads, in the order of their numbers."""
    parts = [reply.text]
    payloads = [b.payload for b in reply.buttons]
    if reply.buttons:
        parts.append("\n".join(f"{i}. {b.label}" for i, b in enumerate(reply.buttons, 1)))
        parts.append("(Trả lời bằng số để chọn)")
    if reply.links:
        parts.append("\n".join(f"{link.label}: {link.url}" for link in reply.links))
    return "\n\n".join(parts), payloads


Dispatch = Callable[[Incoming], Awaitable[list[Reply]]]


def chosen(state: dict[str, Any] | None, text: str) -> str | None:
    """The payload of the numbered choice `text` names, from the list last sent
    (`remember_choices`); None when it names none."""
    choices = (state or {}).get("zalo_choices") or []
    number = int(text.strip()) if text.strip().isdigit() else 0
    return str(choices[number - 1]) if 1 <= number <= len(choices) else None


async def remember_choices(db: Database, channel: str, user: str, payloads: list[str]) -> None:
    """Keep the payloads of the numbered list just sent (or forget an older list), for
    a resident who still exists: after "delete my data" nothing is created again."""
    r = Resident.__table__
    async with db.engine.begin() as conn:
        row = (await conn.execute(select(r.c.id, r.c.state).where(r.c.channel == channel, r.c.platform_user_id == user))).first()
        if row is None:
            return
        state = dict(row.state or {})
        if payloads:
            state["zalo_choices"] = payloads
        elif state.pop("zalo_choices", None) is None:
            return
        await conn.execute(update(r).where(r.c.id == row.id).values(state=state))


class ZaloBotChannel:
    """Receives from and replies on the Zalo Bot Platform.

    Parameters:
        settings: token, base URL, webhook URL and secret, poll interval.
        db: the inbox and the residents' remembered choices.
        dispatch: the shared dispatcher's coroutine.
        concurrency: updates handled at once.
    """

    name = "zalo"

    def __init__(self, settings: Settings, db: Database, dispatch: Dispatch, concurrency: int = 8) -> None:
        self.settings = settings
        self.db = db
        self.dispatch = dispatch
        self.client = ZaloBotClient(settings.zalo_bot_api_base_url, settings.zalo_bot_token)
        self._slots = asyncio.Semaphore(concurrency)
        self._locks = ResidentLocks()
        self._poller = Poller()
        self._tasks: set[asyncio.Task[None]] = set()
        # A resident's updates one at a time in Zalo's time order, across workers (ordered.py).
        # Long polling hands updates out one at a time, in order: no wait needed there.
        settle = settings.zalo_order_wait if settings.zalo_bot_webhook_url else 0.0
        self.order = ResidentOrder(db, self.name, self._handle_item, concurrency, settle=settle)
        self.health = ChannelHealth(self.name)
        self._sent = metrics.REPLIES_SENT.labels(self.name)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.settings.zalo_bot_webhook_url)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self.order.start()
        for _, payload in await inbox.pending(self.db, self.name):  # stored before updates had a resident
            self._spawn(payload)
        await self.order.resume()
        if self.settings.zalo_bot_webhook_url:
            await self.client.call("setWebhook", {"url": self.settings.zalo_bot_webhook_url,
                                                  "secret_token": self.settings.zalo_bot_webhook_secret})
            logger.info("zalo bot: webhook mode")
        else:
            with contextlib.suppress(ZaloError):
                await self.client.call("deleteWebhook")
            self._poller.start(self._poll(), name="zalo-bot-poller")
            logger.info("zalo bot: long polling")

    async def stop_receiving(self) -> None:
        """Stop polling (a poll in the middle of storing its update finishes that first)."""
        await self._poller.stop()

    async def stop(self) -> None:
        """Stop receiving, answer what was received, close. Unfinished items stay in the inbox."""
        await self.stop_receiving()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.order.stop()
        await self.client.close()

    # -- receiving -------------------------------------------------------------------

    async def _poll(self) -> None:
        backoff = 1.0
        floor = self.settings.zalo_bot_poll_interval
        timeout = self.settings.zalo_bot_poll_timeout
        loop = asyncio.get_running_loop()
        while not self._poller.stopping:
            started = loop.time()
            try:
                update = await self.client.call("getUpdates", {"timeout": timeout}, timeout=timeout + 10)
                backoff = 1.0
                self.health.ok()
                if isinstance(update, dict):
                    with self._poller.storing():
                        await self._receive(update)
            except asyncio.CancelledError:
                raise
            except ZaloError as exc:
                if exc.code == 408:  # the normal idle answer
                    self.health.ok()
                else:
                    if exc.code == 429:
                        metrics.RATE_LIMITED.labels(self.name, "poll").inc()
                    self.health.failed(str(exc.code), f"retrying in {backoff:.0f} s")
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 60.0)
            # Updates can be replayed while the queue is non-empty: never poll in a tight loop.
            await asyncio.sleep(max(0.0, floor - (loop.time() - started)))

    async def _receive(self, update: dict[str, Any]) -> bool:
        message = update.get("message") or {}
        if not isinstance(message, dict):  # cannot even be keyed: never stored, never blocks the poller
            logger.warning("zalo bot: an update without a message object was skipped")
            metrics.INBOX_UNDECODABLE.labels(self.name).inc()
            return False
        external = str(message.get("message_id") or "")
        if not external:
            return False
        fresh = await inbox.store(self.db, self.name, [(external, update)], order_of)  # stored before processing
        for _, payload in fresh:
            resident, _ = order_of(payload)
            if resident is not None:
                self.order.schedule(resident)
            else:
                self._spawn(payload)
        return bool(fresh)

    def _spawn(self, payload: dict[str, Any]) -> None:
        task = asyncio.create_task(self._handle(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def webhook(self, request: Request) -> Response:
        """POST /zalo/bot/webhook: check the secret, store, answer 200, process after."""
        expected = self.settings.zalo_bot_webhook_secret
        given = request.headers.get("x-bot-api-secret-token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            return JSONResponse({"error": "not JSON"}, status_code=400)
        update = body.get("result") if isinstance(body, dict) and "result" in body else body
        self.health.ok()
        if not isinstance(update, dict) or not isinstance(update.get("message"), dict):
            # An event we do not handle (no `message`): answered 200 and ignored, as webhook
            # senders expect; an error would only make Zalo send it again.
            logger.debug("zalo bot: webhook event %s without a message ignored", str((update or {}).get("event_name", ""))[:40]
                         if isinstance(update, dict) else "?")
            return JSONResponse({"ok": True})
        await self._receive(update)
        return JSONResponse({"ok": True})

    # -- handling --------------------------------------------------------------------

    async def decode(self, update: dict[str, Any]) -> Incoming | None:
        message = update.get("message") or {}
        sender = message.get("from") or {}
        chat = str((message.get("chat") or {}).get("id") or sender.get("id") or "")
        user = str(sender.get("id") or chat)
        if not user:
            return None
        name = str(sender.get("display_name") or sender.get("first_name") or "")
        event = str(update.get("event_name") or "")
        text = message.get("text") if event in ("message.text.received", "") else message.get("caption")
        if isinstance(text, str) and text.strip().isdigit():
            payload = chosen((await load_resident(self.db, self.name, user)).state, text)
            if payload is not None:
                return Incoming(self.name, user, chat, button=payload, display_name=name)
        return Incoming(self.name, user, chat, text=text if isinstance(text, str) else None, display_name=name)

    async def _handle(self, update: dict[str, Any]) -> None:
        """An update stored without its resident (by an older version): on its own."""
        async with self._slots, self._locks.hold(order_of(update)[0] or ""):
            await self._handle_update(update)

    async def _handle_item(self, external: str, update: dict[str, Any]) -> None:
        """One update of a resident's drain (ordered.py): handled, answered and marked
        finished (committed) before the resident's next one is taken."""
        await self._handle_update(update)

    async def _handle_update(self, update: dict[str, Any]) -> None:
        external = str((update.get("message") or {}).get("message_id") or "")
        bind(channel=self.name, update_id=external)  # each update runs in its own task
        handling(self.name, external)
        try:
            msg = await self.decode(update)
        except Exception as exc:  # malformed: failed and counted, the updates behind it go on
            await inbox.reject(self.db, self.name, external, exc)
            return
        if msg is None:
            await inbox.finish(self.db, self.name, external, payload=update)
            return
        replies = await replies_or_apology(self.name, self.dispatch, msg, self.send)
        if replies is None:
            await inbox.finish(self.db, self.name, external, "failed", update)
            return
        choices: list[str] = []
        for reply in replies:
            choices = render(reply)[1] or choices
            await self.send(msg.chat, reply)
        await remember_choices(self.db, self.name, msg.user, choices)
        await inbox.finish(self.db, self.name, external, payload=update)

    # -- sending ---------------------------------------------------------------------

    async def send(self, chat: str, reply: Reply) -> bool:
        """Send a reply (split under 2,000 characters). False when it cannot be delivered."""
        text, _ = render(reply)
        for part in split_text(text, MAX_TEXT):
            result = await self._send_part(chat, part)
            if result.outcome != Outcome.SENT:
                metrics.REPLIES_FAILED.labels(self.name, _ERROR_CLASS.get(result.outcome, "refused")).inc()
                return False
        self._sent.inc()
        return True

    async def _send_part(self, chat: str, text: str, attempts: int = 3) -> Delivered:
        result = Delivered(Outcome.FAILED)
        timeouts = 0
        for attempt in range(attempts):
            result = await self.deliver_text(chat, text)
            if result.outcome == Outcome.RETRY_LATER:
                metrics.RATE_LIMITED.labels(self.name, "reply").inc()
            if result.outcome not in (Outcome.RETRY_LATER, Outcome.TRANSIENT):
                return result
            if result.maybe_delivered:
                timeouts += 1
                if timeouts > RESENDS_AFTER_TIMEOUT:
                    return result  # it may have arrived twice already: never a third copy
            await asyncio.sleep(min(result.retry_after or 0.5 * 2**attempt, 10.0))
        return result

    async def deliver(self, chat: str, reply: Reply) -> Delivered:
        """Bulk path for campaigns: one attempt, the answer mapped to an `Outcome`."""
        return await self.deliver_text(chat, render(reply)[0][:MAX_TEXT])

    async def deliver_text(self, chat: str, text: str) -> Delivered:
        try:
            await self.client.call("sendMessage", {"chat_id": chat, "text": text})
        except ZaloError as exc:
            # The platform documents few codes (see shared/reference/zalo-api.md §1.2): rate and
            # server errors are retried, refusals about the chat stop sending to it.
            if exc.code == 429:
                return Delivered(Outcome.RETRY_LATER, 1.0, exc.description)
            if exc.code >= 500 or exc.code == 408:  # 408: sent, then timed out: it may have arrived
                return Delivered(Outcome.TRANSIENT, description=exc.description, maybe_delivered=exc.code == 408)
            if exc.code == 403:
                return Delivered(Outcome.BLOCKED, description=exc.description)
            if exc.code == 404:
                return Delivered(Outcome.GONE, description=exc.description)
            return Delivered(Outcome.FAILED, description=f"{exc.code} {exc.description}")
        return Delivered(Outcome.SENT)
