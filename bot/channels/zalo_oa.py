"""The Zalo Official Account channel (the city's production path on Zalo): translation
and Zalo's sending rules. The API itself (signature, tokens, error codes) is in
`bot/channels/zalo_oa_api.py`.

Receiving: POST /zalo/oa/webhook. The signature and the event's age are checked, the
event is stored in the inbox (keyed by `msg_id`, or by event, user and time for
follow/unfollow) and answered 200 at once (Zalo wants an answer within 2 s); the work is
done after. Events other than messages, follow and unfollow are logged and ignored.

Replying: consultation ("tư vấn", `/v3.0/oa/message/cs`) messages of at most 2,000
characters, split on paragraphs. Up to five buttons become OA buttons: the text with
`attachment {type: "template", payload: {buttons: [...]}}` and no `template_type`, as
the official PHP SDK's MessageBuilder sends a text with buttons (`oa.query.hide`: a tap
sends `cds:<payload>` back as a text the resident does not see); more become a numbered
list answered with a number, as on the Bot Platform. A rate limit (-32, 429) is waited
out as Zalo asks (its Retry-After, else the minute its limit counts) before the one
retry, up to a minute; a message that timed out after it was sent is sent again once at
most. Error codes that mean the OA or the app cannot send at all (`Outcome.HALT`) are
kept in `halted` for /readyz until a message goes through again.

Campaigns (`deliver`), by the resident's last interaction (stored on every event) and
whether they follow the OA:
- interaction within 48 h: a consultation message (free);
- a follower: a promotion message ("truyền thông"; one a day; not at night: held until
  06:00 Đà Nẵng time);
- interaction within 7 days: a consultation message;
- otherwise nothing is sent (the message is skipped, never sent outside the window).
Error codes become `Outcome`s by the table in `zalo_oa_api.ERRORS`.

Follow and unfollow keep subscriptions in step: unfollowing ends an active subscription
(reason `unfollowed`); following again restores one that unfollowing ended, and the
new follower gets the welcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import metrics
from bot.campaigns.service import resubscribe, unsubscribe
from bot.channels import inbox
from bot.channels.base import APOLOGY, Delivered, Incoming, Outcome, Reply
from bot.channels.health import ChannelHealth
from bot.channels.locks import ResidentLocks
from bot.channels.ordered import ResidentOrder
from bot.channels.telegram import split_text
from bot.channels.zalo_bot import chosen, remember_choices
from bot.channels.zalo_bot import render as numbered
from bot.channels.zalo_oa_api import WINDOW_CLOSED, TokenError, ZaloOAClient, ZaloOAError, action_for, check_signature
from bot.clock import TZ
from bot.clock import now as utcnow
from bot.conversation import handling, load_resident, save_resident
from bot.logs import bind
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Resident

__all__ = ["ZaloOAChannel", "render"]

logger = logging.getLogger(__name__)
MAX_TEXT = 2000
MAX_BUTTONS = 5
BUTTON_PREFIX = "cds:"
FREE_WINDOW = dt.timedelta(hours=48)
WINDOW = dt.timedelta(days=7) - dt.timedelta(minutes=10)  # a margin for clocks and queues
NIGHT = (22, 6)  # promotion messages are refused from 22:00 to 06:00 (-234)
REPLY_WAIT_LIMIT = 60.0  # the longest a reply waits for Zalo's rate limit (it counts per minute)
RESENDS_AFTER_TIMEOUT = 1  # a reply that may have arrived is sent again at most once
MESSAGE_EVENTS = ("user_send_text", "user_send_image", "user_send_link", "user_send_audio", "user_send_video",
                  "user_send_sticker", "user_send_location", "user_send_business_card", "user_send_file", "user_send_gif")
Dispatch = Callable[[Incoming], Awaitable[list[Reply]]]
ERROR_CLASS = {Outcome.RETRY_LATER: "rate_limited", Outcome.TRANSIENT: "network", Outcome.BLOCKED: "blocked",
               Outcome.GONE: "gone", Outcome.SKIPPED: "window_closed", Outcome.HALT: "halted", Outcome.FAILED: "refused"}


def render(reply: Reply) -> tuple[dict[str, Any], list[str]]:
    """The `message` object of a consultation message, and the payloads of a numbered
    list (empty when the buttons are the OA's own)."""
    if len(reply.buttons) > MAX_BUTTONS:
        text, payloads = numbered(reply)
        return {"text": text}, payloads
    text = reply.text
    if reply.links:
        text += "\n\n" + "\n".join(f"{link.label}: {link.url}" for link in reply.links)
    message: dict[str, Any] = {"text": text}
    if reply.buttons:  # no template_type: text + buttons, as the official SDK builds it
        message["attachment"] = {"type": "template", "payload": {"buttons": [
            {"type": "oa.query.hide", "title": b.label[:100], "payload": BUTTON_PREFIX + b.payload}
            for b in reply.buttons]}}
    elif reply.image:
        message["attachment"] = {"type": "template", "payload": {"template_type": "media", "elements": [
            {"media_type": "image", "url": reply.image}]}}
    return message, []


def promotion(reply: Reply) -> dict[str, Any]:
    """A campaign as a promotion message: optional banner, a header (≤100), the text."""
    head, _, rest = reply.text.strip().partition("\n")
    elements: list[dict[str, Any]] = []
    if reply.image:
        elements.append({"type": "banner", "image_url": reply.image})
    elements.append({"type": "header", "content": head[:100]})
    body = (head[100:] + "\n" + rest).strip()
    if reply.links:
        body += "\n\n" + "\n".join(f"{link.label}: {link.url}" for link in reply.links)
    if body:
        elements.append({"type": "text", "content": body})
    buttons = [{"type": "oa.query.hide", "title": b.label[:100], "payload": BUTTON_PREFIX + b.payload}
               for b in reply.buttons[:MAX_BUTTONS]]
    return {"attachment": {"type": "template", "payload": {"template_type": "promotion", "language": "VI",
                                                           "elements": elements, "buttons": buttons}}}


def next_morning(now: dt.datetime) -> float | None:
    """Seconds until 06:05 Đà Nẵng time when `now` (UTC, naive) is at night, else None."""
    local = now.replace(tzinfo=dt.UTC).astimezone(TZ)
    if NIGHT[1] <= local.hour < NIGHT[0]:
        return None
    morning = local.replace(hour=NIGHT[1], minute=5, second=0, microsecond=0)
    if local.hour >= NIGHT[0]:
        morning += dt.timedelta(days=1)
    return (morning - local).total_seconds()


def _field(event: dict[str, Any], part: str, name: str) -> Any:
    """event[part][name], or "" when the part is missing or not an object."""
    found = event.get(part)
    return (found.get(name) or "") if isinstance(found, dict) else ""


def order_of(event: dict[str, Any]) -> tuple[str | None, int | None]:
    """Whose an event is (the sender, or the follower) and its time in ms, Zalo's order."""
    name = str(event.get("event_name", ""))
    part = "sender" if name in MESSAGE_EVENTS else "follower" if name in ("follow", "unfollow") else None
    user = str(_field(event, part, "id")) if part else ""
    stamp = str(event.get("timestamp", ""))
    return (user or None), (int(stamp) if stamp.isdigit() and len(stamp) < 16 else None)


class ZaloOAChannel:
    """Receives from and replies on a Zalo Official Account.

    Parameters:
        settings: app id, secret keys, first tokens, base URLs.
        db: the inbox, residents (last interaction, follower) and subscriptions.
        dispatch: the shared dispatcher's coroutine.
        concurrency: events handled at once.
    """

    name = "zalo_oa"

    def __init__(self, settings: Settings, db: Database, dispatch: Dispatch, concurrency: int = 8) -> None:
        self.settings = settings
        self.db = db
        self.dispatch = dispatch
        self.client = ZaloOAClient(db, settings)
        self._slots = asyncio.Semaphore(concurrency)
        self._locks = ResidentLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        # A resident's events one at a time in Zalo's time order, across workers (ordered.py).
        self.order = ResidentOrder(db, self.name, self._handle_item, concurrency, settle=settings.zalo_order_wait)
        self._refresher: asyncio.Task[None] | None = None
        self.health = ChannelHealth(self.name)
        self.webhook_mode = True  # the OA API has no polling
        self.refused = 0  # webhook calls refused (bad signature, old, wrong app)
        self.halted = ""  # why the OA cannot send (a HALT error code), until a message goes through
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # waits for the platform (tests record them)
        self._sent = metrics.REPLIES_SENT.labels(self.name)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self.order.start()
        for _, payload in await inbox.pending(self.db, self.name):  # stored before events had a resident
            self._spawn(payload)
        await self.order.resume()
        self._refresher = asyncio.create_task(self._keep_token_fresh(), name="zalo-oa-token")
        logger.info("zalo oa: webhook mode (/zalo/oa/webhook)")

    async def stop_receiving(self) -> None:
        """Webhook only: uvicorn stops taking requests; events stored so far are answered
        by `stop`, or at the next start from the inbox."""

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.order.stop()
        await self.client.close()

    async def _keep_token_fresh(self, every: float = 300.0) -> None:
        """Refresh the access token before it expires (checked every five minutes)."""
        tokens = self.client.tokens
        while True:
            try:
                await tokens.access_token()
                if tokens.expiring():
                    await tokens.refresh(None)
            except asyncio.CancelledError:
                raise
            except TokenError:
                pass  # logged by the store; the next check tries again
            except Exception:
                logger.exception("zalo oa: checking the token failed")
            await asyncio.sleep(every)

    # -- receiving -------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """POST /zalo/oa/webhook: check, store, answer 200 at once, process after."""
        raw = await request.body()  # capped at 1 MB while it streams (bot/middleware.py), before the signature
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested thousands deep
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(event, dict):
            return JSONResponse({"error": "not an event"}, status_code=400)
        app_id, timestamp = str(event.get("app_id", "")), str(event.get("timestamp", ""))
        why = check_signature(request.headers.get("x-zevent-signature", ""), app_id, raw, timestamp,
                              self.settings.zalo_oa_secret_key)
        if why is None and app_id != self.settings.zalo_oa_app_id:
            why = "another app's event"
        if why is not None:
            self.refused += 1
            logger.warning("zalo oa: webhook event refused (%s)", why)
            return JSONResponse({"error": "forbidden"}, status_code=403)
        self.health.ok()
        name = str(event.get("event_name", ""))
        if not self._well_formed(name, event):
            return JSONResponse({"error": "malformed event"}, status_code=400)
        key = self._key(name, event)
        if key is None:
            logger.debug("zalo oa: event %s ignored", name)
            return JSONResponse({"ok": True})
        for _, payload in await inbox.store(self.db, self.name, [(key, event)], order_of):  # stored before the 200
            resident, _ = order_of(payload)
            if resident is not None:
                self.order.schedule(resident)
            else:
                self._spawn(payload)
        return JSONResponse({"ok": True})

    @staticmethod
    def _well_formed(name: str, event: dict[str, Any]) -> bool:
        """The parts of an event we read are objects (a signed event can still be malformed)."""
        parts = ("message", "sender") if name in MESSAGE_EVENTS else ("follower",) if name in ("follow", "unfollow") else ()
        return all(isinstance(event.get(part) or {}, dict) for part in parts)

    @staticmethod
    def _key(name: str, event: dict[str, Any]) -> str | None:
        if name in MESSAGE_EVENTS:
            msg_id = str(_field(event, "message", "msg_id"))
            user = str(_field(event, "sender", "id"))
            return msg_id or (f"{name}:{user}:{event.get('timestamp')}" if user else None)
        if name in ("follow", "unfollow"):
            user = str(_field(event, "follower", "id"))
            return f"{name}:{user}:{event.get('timestamp')}" if user else None
        return None

    def _spawn(self, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- handling --------------------------------------------------------------------

    async def _handle(self, event: dict[str, Any]) -> None:
        """An event stored without its resident (by an older version): on its own."""
        user = str(_field(event, "follower" if event.get("event_name") in ("follow", "unfollow") else "sender", "id"))
        async with self._slots, self._locks.hold(user):
            await self._handle_event(event)

    async def _handle_item(self, external: str, event: dict[str, Any]) -> None:
        """One event of a resident's drain (ordered.py): handled, answered and marked
        finished (committed) before the resident's next one is taken."""
        await self._handle_event(event)

    async def _handle_event(self, event: dict[str, Any]) -> None:
        name = str(event.get("event_name", ""))
        key = self._key(name, event) or ""
        bind(channel=self.name, update_id=key)  # each event runs in its own task
        handling(self.name, key)
        if not self._well_formed(name, event):  # stored by an older version: failed, counted, skipped
            await inbox.reject(self.db, self.name, key, "malformed event")
            return
        user = str(_field(event, "follower" if name in ("follow", "unfollow") else "sender", "id"))
        try:
            msg = await self._record(name, user, event)
            if msg is not None:
                await self._answer(msg)
        except Exception:
            logger.exception("zalo oa: handling event %s failed", name)
            if name in MESSAGE_EVENTS:
                await self.send(user, APOLOGY)
            await inbox.finish(self.db, self.name, key, "failed", event)
            return
        await inbox.finish(self.db, self.name, key, payload=event)

    async def _record(self, name: str, user: str, event: dict[str, Any]) -> Incoming | None:
        """Store the interaction (the 7-day window starts again) and follow state; the
        message to answer, if any."""
        if name == "unfollow":  # not an interaction: it opens no window, and stores no one new
            r = Resident.__table__
            async with self.db.engine.begin() as conn:
                found = (await conn.execute(select(r.c.id).where(r.c.channel == self.name, r.c.platform_user_id == user))).first()
                if found is not None:
                    await conn.execute(update(r).where(r.c.id == found[0]).values(follower=False))
            if found is not None:
                await self._end_subscription(int(found[0]))
            return None
        resident = await load_resident(self.db, self.name, user)
        changes: dict[str, Any] = {"last_inbound_at": utcnow()}
        if name == "follow":
            changes["follower"] = True
        await save_resident(self.db, resident, **changes)
        if name == "follow":
            await resubscribe(self.db, resident.id, ended_by="unfollowed")
            return Incoming(self.name, user, user, text="/start")
        text = (event.get("message") or {}).get("text") if name == "user_send_text" else None
        if isinstance(text, str) and text.startswith(BUTTON_PREFIX):
            return Incoming(self.name, user, user, button=text[len(BUTTON_PREFIX):])
        if isinstance(text, str) and (payload := chosen(resident.state, text)) is not None:
            return Incoming(self.name, user, user, button=payload)
        return Incoming(self.name, user, user, text=text if isinstance(text, str) else None)

    async def _end_subscription(self, resident_id: int) -> None:
        if await unsubscribe(self.db, resident_id, reason="unfollowed"):
            logger.info("zalo oa: a subscriber unfollowed; subscription ended")

    async def _answer(self, msg: Incoming) -> None:
        replies = await self.dispatch(msg)
        choices: list[str] = []
        for reply in replies:
            choices = render(reply)[1] or choices
            await self.send(msg.chat, reply)
        await remember_choices(self.db, self.name, msg.user, choices)

    # -- sending ---------------------------------------------------------------------

    async def send(self, chat: str, reply: Reply) -> bool:
        """A consultation message (split under 2,000 characters, buttons on the last
        part). False when it cannot be delivered (e.g. the 7-day window has closed)."""
        message, _ = render(reply)
        parts = split_text(message["text"], MAX_TEXT) or [""]
        for i, part in enumerate(parts):
            piece = {**message, "text": part} if i == len(parts) - 1 else {"text": part}
            result = await self._send_with_retries(chat, piece)
            if result.outcome != Outcome.SENT:
                logger.warning("zalo oa: a reply was not delivered (%s)", result.description)
                metrics.REPLIES_FAILED.labels(self.name, ERROR_CLASS.get(result.outcome, "refused")).inc()
                return False
        self._sent.inc()
        return True

    async def _send_with_retries(self, chat: str, message: dict[str, Any], attempts: int = 3) -> Delivered:
        result = Delivered(Outcome.FAILED)
        timeouts = 0
        for attempt in range(attempts):
            result = await self._post("cs", chat, message)
            if result.outcome == Outcome.RETRY_LATER:
                metrics.RATE_LIMITED.labels(self.name, "reply").inc()
                wait = result.retry_after or 2.0**attempt
                if wait > REPLY_WAIT_LIMIT or attempt == attempts - 1:
                    return result
                await self.sleep(wait)  # as Zalo asks: retrying sooner is refused again
                continue
            if result.outcome != Outcome.TRANSIENT:
                return result
            if result.maybe_delivered:
                timeouts += 1
                if timeouts > RESENDS_AFTER_TIMEOUT:
                    return result  # it may have arrived twice already: never a third copy
            if attempt < attempts - 1:
                await self.sleep(2.0**attempt)
        return result

    async def _post(self, kind: str, chat: str, message: dict[str, Any]) -> Delivered:
        try:
            await self.client.call("POST", f"/v3.0/oa/message/{kind}", json={"recipient": {"user_id": chat}, "message": message})
        except ZaloOAError as exc:
            action = action_for(exc.code)
            if action.outcome == Outcome.HALT:
                if not self.halted:
                    logger.error("zalo oa: %s (error %s): sending stopped until an operator acts", action.why, exc.code)
                self.halted = f"{exc.code} {action.why}"
            if exc.code in WINDOW_CLOSED:
                await self._close_window(chat)
            retry = exc.retry_after or action.retry_after
            if exc.code == -234:
                retry = next_morning(utcnow()) or action.retry_after
            return Delivered(action.outcome, retry, f"{exc.code} {action.why}", maybe_delivered=exc.code == 408)
        if self.halted:
            logger.info("zalo oa: sending works again (was: %s)", self.halted)
            self.halted = ""
        return Delivered(Outcome.SENT)

    async def _close_window(self, chat: str) -> None:
        """Zalo says the window is closed: forget the interaction until the next one."""
        r = Resident.__table__
        async with self.db.engine.begin() as conn:
            await conn.execute(update(r).where(r.c.channel == self.name, r.c.platform_user_id == chat)
                               .values(last_inbound_at=None))

    async def deliver(self, chat: str, reply: Reply) -> Delivered:
        """Campaign path: one attempt, by Zalo's rules (module docstring)."""
        r = Resident.__table__
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(select(r.c.last_inbound_at, r.c.follower)
                                      .where(r.c.channel == self.name, r.c.platform_user_id == chat))).first()
        last, follower = (row[0], row[1]) if row else (None, None)
        now = utcnow()
        age = now - last if last is not None else None
        if age is not None and age < FREE_WINDOW:
            return await self._campaign_cs(chat, reply)
        if follower is None:
            follower = await self._is_follower(chat)
        if follower:
            if (wait := next_morning(now)) is not None:
                return Delivered(Outcome.RETRY_LATER, wait, "promotion messages wait for the morning")
            result = await self._post("promotion", chat, promotion(reply))
            if not (result.outcome == Outcome.SKIPPED and result.description.startswith("-213")):
                return result
            await self._set_follower(chat, False)
        if age is not None and age < WINDOW:
            return await self._campaign_cs(chat, reply)
        return Delivered(Outcome.SKIPPED, description="no interaction within 7 days and not a follower")

    async def _campaign_cs(self, chat: str, reply: Reply) -> Delivered:
        message, _ = render(reply)
        message["text"] = message["text"][:MAX_TEXT]
        return await self._post("cs", chat, message)

    async def _is_follower(self, chat: str) -> bool:
        """Ask Zalo once (user detail) and remember the answer."""
        try:
            data = await self.client.call("GET", "/v3.0/oa/user/detail", params={"data": json.dumps({"user_id": chat})})
        except ZaloOAError:
            return False
        follower = bool(data.get("user_is_follower"))
        await self._set_follower(chat, follower)
        return follower

    async def _set_follower(self, chat: str, follower: bool) -> None:
        r = Resident.__table__
        async with self.db.engine.begin() as conn:
            await conn.execute(update(r).where(r.c.channel == self.name, r.c.platform_user_id == chat)
                               .values(follower=follower))
