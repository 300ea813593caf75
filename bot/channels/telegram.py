"""The Telegram channel on python-telegram-bot 22: translation only.

Receiving: long polling by default, or a webhook at /telegram/webhook (the
`secret_token` header checked in constant time). Either way every update is stored in
the inbox *before* Telegram is told it arrived (the next `getUpdates` offset, or the
webhook's 2xx), then handed to PTB's `Application` (`updater=None`), whose one
`TypeHandler` decodes it into an `Incoming`, calls the shared dispatcher, sends the
replies and marks the inbox item done. At start, items received but not answered are
processed first. PTB's own Updater is not used: it confirms updates before they are
handled, so a crash would lose them.

Sending: replies go out on the Application's own connections with no rate limiter,
campaigns on a `Bot` of their own paced by the campaign sender, so a broadcast never
makes a resident wait. Texts are HTML-escaped and split on paragraph boundaries under
Telegram's 4096 characters; buttons become inline keyboards (callback data ≤ 64 bytes,
which `Button` guarantees), links become URL buttons. Each message is sent as the Bot
API's JSON (`JsonBody`) through PTB's request object, which turns Telegram's refusals
into PTB's errors. In PTB `BadRequest` (400) and `TimedOut` are subclasses of
`NetworkError`, so they are caught first: a 400 is never retried; after a timeout the
message may have arrived, so it is sent again once at most; a migrated group chat is
followed to its new id.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import html
import json
import logging
import os
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

# Read RetryAfter.retry_after as a timedelta (the int form is deprecated since PTB 22.2).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import update  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from telegram import Bot, BotCommand, Update  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler  # noqa: E402

from bot import metrics  # noqa: E402
from bot.channels import inbox  # noqa: E402
from bot.channels.base import Button, Delivered, Incoming, Link, Outcome, Reply, replies_or_apology  # noqa: E402
from bot.channels.health import ChannelHealth  # noqa: E402
from bot.channels.ordered import ResidentOrder, Watermark  # noqa: E402
from bot.channels.poller import Poller  # noqa: E402
from bot.channels.telegram_http import AiohttpRequest, JsonBody  # noqa: E402
from bot.conversation import handling  # noqa: E402
from bot.logs import bind  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.models import TeamMember  # noqa: E402

__all__ = ["TelegramChannel", "split_text", "COMMANDS_VI", "COMMANDS_EN"]

logger = logging.getLogger(__name__)
MAX_TEXT = 4096
MAX_CAPTION = 1024
ALLOWED_UPDATES = ["message", "callback_query"]
#: Updates handled at once when TELEGRAM_CONCURRENCY is unset. More at once make the group
#: commits larger and each message cheaper: on SQLite, 128 instead of 32 take the serving
#: process's CPU per question from about 1.9 to 1.3 ms (`bench/telegram_throughput.py`).
#: On PostgreSQL each one also holds a connection of its own for its resident's advisory
#: lock (`bot/channels/ordered.py`), and 32 keep a worker well inside `max_connections`.
SQLITE_CONCURRENCY = 128
POSTGRES_CONCURRENCY = 32
SEND_CONNECTIONS = 8  # replies in flight at once (Telegram's own limit is about 30 messages a second)
SEND_ATTEMPTS = 4  # a reply part is tried at most this often on network errors and 429s
#: After a timeout the message may have been delivered (the Bot API has no idempotency key):
#: it is sent again at most this often, so a resident sees a part at most twice.
RESENDS_AFTER_TIMEOUT = 1

COMMANDS_VI = [
    ("start", "Bắt đầu, giới thiệu trợ lý"),
    ("menu", "Xem các chủ đề"),
    ("hoi", "Hỏi người thật (Tổ Công nghệ số cộng đồng)"),
    ("khuvuc", "Chọn phường, xã của bạn"),
    ("dangky", "Đăng ký nhận thông báo"),
    ("huy", "Ngừng nhận thông báo"),
    ("ngonngu", "Đổi ngôn ngữ Tiếng Việt / English"),
    ("xoadulieu", "Xóa dữ liệu của bạn"),
    ("trogiup", "Hướng dẫn sử dụng"),
]
COMMANDS_EN = [
    ("start", "Start, about this assistant"),
    ("menu", "Browse topics"),
    ("hoi", "Ask a person (community digital team)"),
    ("khuvuc", "Choose your ward or commune"),
    ("dangky", "Subscribe to announcements"),
    ("huy", "Stop announcements"),
    ("ngonngu", "Switch Vietnamese / English"),
    ("xoadulieu", "Delete your data"),
    ("trogiup", "Help"),
]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split on paragraph, then line, then word boundaries so every part fits."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        pieces = [para] if len(para) <= limit else _split_long(para, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


def _split_long(text: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in text.replace("\n", " \n ").split(" "):
        while len(word) > limit:
            out.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return [p.strip() for p in out if p.strip()]


def _seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for (a timedelta with PTB_TIMEDELTA, else a number)."""
    wait = exc.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


def keyboard(reply: Reply) -> dict[str, Any] | None:
    """The inline keyboard of a reply as the Bot API's `reply_markup` JSON: one button
    per row, then its links (https only)."""
    return _keyboard(reply.buttons, reply.links) if reply.buttons or reply.links else None


@functools.lru_cache(maxsize=2048)
def _keyboard(buttons: tuple[Button, ...], links: tuple[Link, ...]) -> dict[str, Any] | None:
    # Cached (never changed by callers): an answer's keyboard depends only on its entry and language.
    # Every payload fits Telegram's 1-64 bytes of callback data: `Button` refuses longer ones.
    rows = [[{"text": b.label[:120], "callback_data": b.payload}] for b in buttons]
    rows += [[{"text": link.label[:120], "url": link.url}] for link in links if link.url.startswith("https://")]
    return {"inline_keyboard": rows} if rows else None


def _message(chat: str, text: str, markup: dict[str, Any] | None, image: str | None = None) -> tuple[str, JsonBody]:
    """A sendMessage (or, with an image URL, sendPhoto) call in HTML parse mode."""
    body: dict[str, Any] = {"chat_id": chat, "parse_mode": ParseMode.HTML.value}
    if image:
        body.update(photo=image, caption=text[:MAX_CAPTION])
    else:
        body["text"] = text
    if markup is not None:
        body["reply_markup"] = markup
    return ("sendPhoto" if image else "sendMessage"), JsonBody(body)


def decode(update: Update) -> Incoming | None:
    """An `Incoming` for a message or a button press; None for what we do not handle."""
    if update.callback_query is not None:
        q = update.callback_query
        chat = q.message.chat.id if q.message is not None else q.from_user.id
        return Incoming("telegram", str(q.from_user.id), str(chat), button=q.data or "", display_name=q.from_user.first_name or "")
    msg = update.message
    if msg is None or msg.from_user is None:
        return None
    text = msg.text if msg.text is not None else msg.caption
    meta = {}
    replied = msg.reply_to_message
    if replied is not None and replied.text:
        meta["reply_to"] = replied.text[:300]  # a team member replying to a notification
    if msg.forward_origin is not None:
        meta["forwarded"] = "1"  # a message the resident received elsewhere: checked for scam signs
    return Incoming("telegram", str(msg.from_user.id), str(msg.chat.id), text=text,
                    display_name=msg.from_user.first_name or "", meta=meta)


#: The fields of a plain typed message that `decode` reads or may ignore; a message with
#: any other field (a reply, a forward, a caption, a photo...) is decoded by PTB.
_PLAIN_FIELDS = frozenset({"message_id", "date", "chat", "from", "text", "entities", "link_preview_options"})


def decode_plain(payload: dict[str, Any]) -> Incoming | None:
    """`decode(Update.de_json(payload))` for the commonest update, a plain typed message,
    read straight from the JSON; None for any other update (PTB decodes those). Building
    PTB's objects costs more than the rest of receiving a message (`bench/telegram_throughput.py`);
    `tests/channels/test_telegram.py` checks both ways agree."""
    if len(payload) != 2 or not isinstance(payload.get("update_id"), int):
        return None
    msg = payload.get("message")
    if not isinstance(msg, dict) or not _PLAIN_FIELDS.issuperset(msg):
        return None
    user, chat, text = msg.get("from"), msg.get("chat"), msg.get("text")
    if not (isinstance(text, str) and isinstance(msg.get("message_id"), int) and isinstance(msg.get("date"), int)
            and isinstance(user, dict) and isinstance(chat, dict)):
        return None
    uid, name, cid = user.get("id"), user.get("first_name"), chat.get("id")
    if not (type(uid) is int and type(cid) is int and isinstance(name, str) and isinstance(user.get("is_bot"), bool)
            and isinstance(chat.get("type"), str)):
        return None
    return Incoming("telegram", str(uid), str(cid), text=text, display_name=name)


def order_of(payload: dict[str, Any]) -> tuple[str | None, int | None]:
    """Whose an update is (the sender's user id) and its place in Telegram's order."""
    for kind in ("message", "callback_query", "edited_message"):
        part = payload.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict) and part["from"].get("id") is not None:
            seq = payload.get("update_id")
            return str(part["from"]["id"]), seq if isinstance(seq, int) else None
    return None, None


Dispatch = Callable[[Incoming], Awaitable[list[Reply]]]


def default_concurrency(db: Database) -> int:
    """Updates handled at once when TELEGRAM_CONCURRENCY is unset (see SQLITE_CONCURRENCY)."""
    return SQLITE_CONCURRENCY if db.is_sqlite else POSTGRES_CONCURRENCY


class TelegramChannel:
    """Receives from and replies on Telegram.

    Parameters:
        settings: token, Bot API base URL, webhook URL and secret, poll timeout.
        db: where the inbox lives.
        dispatch: the shared dispatcher's coroutine.
        concurrency: updates handled at once (PTB `concurrent_updates`, default
            TELEGRAM_CONCURRENCY, else `default_concurrency`); a resident's own messages are
            still handled in order. Their database writes are group-committed, so more at
            once costs less each.
    """

    name = "telegram"

    def __init__(self, settings: Settings, db: Database, dispatch: Dispatch, concurrency: int | None = None) -> None:
        self.settings = settings
        self.db = db
        self.dispatch = dispatch
        self.concurrency = concurrency = concurrency or settings.telegram_concurrency or default_concurrency(db)
        self._poll_request = AiohttpRequest(connection_pool_size=1)
        self._reply_request = AiohttpRequest(connection_pool_size=SEND_CONNECTIONS)
        self.app: Application = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .base_url(settings.telegram_api_base_url)
            .updater(None)
            .concurrent_updates(concurrency)
            .request(self._reply_request)
            .get_updates_request(self._poll_request)
            .build()
        )
        # Campaign messages go out on a Bot of their own, with its own connection pool.
        self.bulk_bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url,
                            request=AiohttpRequest(connection_pool_size=16))
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._poller = Poller()
        # Replies beyond SEND_CONNECTIONS wait here, not in httpx's pool, whose pool timeout
        # would fail them while the connections are busy.
        self._sending = asyncio.Semaphore(SEND_CONNECTIONS)
        # A resident's updates one at a time in update_id order, across workers (ordered.py);
        # in webhook mode an update also waits for earlier ones still on their way.
        watermark = Watermark(db, self.name, settings.telegram_order_wait) if self.webhook_mode else None
        self.order = ResidentOrder(db, self.name, self._handle_item, concurrency, watermark)
        self.health = ChannelHealth(self.name)
        self._sent = metrics.REPLIES_SENT.labels(self.name)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.settings.telegram_webhook_url)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, register commands, resume the inbox, then poll or set the webhook."""
        await self.app.initialize()
        await self.bulk_bot.initialize()
        await self.app.start()
        bot = self.app.bot
        await bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS_VI])
        await bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS_EN], language_code="en")
        self.order.start()
        resumed = await inbox.pending(self.db, self.name)  # stored before updates had a resident
        for external, payload in resumed:  # no resident recorded: PTB's queue, not a drain
            if (update := await self._decode(external, payload)) is not None:
                await self.app.update_queue.put(update)
        residents = await self.order.resume()
        if resumed or residents:
            logger.info("telegram: resuming received but unanswered updates (%s residents)", residents + len(resumed))
        if self.webhook_mode:
            await bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret or None,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("telegram: webhook mode, Telegram posts to %s", self.settings.telegram_webhook_url.split("?")[0])
        else:
            await bot.delete_webhook()
            self._poller.start(self._poll(), name="telegram-poller")
            logger.info("telegram: long polling")

    async def stop_receiving(self) -> None:
        """Stop polling (a poll in the middle of storing its updates finishes that first).
        Updates Telegram sends meanwhile wait there, or in the inbox, for the next start."""
        await self._poller.stop()

    async def stop(self) -> None:
        """Stop receiving, answer what is queued, close. Unfinished items stay in the inbox
        and are answered at the next start."""
        await self.stop_receiving()
        await self.order.stop()
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.app.stop()
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.app.shutdown()
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.bulk_bot.shutdown()

    # -- receiving -------------------------------------------------------------------

    async def _enqueue(self, payload: dict[str, Any]) -> None:
        """Hand a stored update on: its resident's drain (ordered.py), or, for an update
        from no one (or stored before updates had a resident), PTB's queue. An update PTB
        cannot decode is rejected (failed, counted), never raised: it must not stop the
        start or the updates behind it."""
        resident, _ = order_of(payload)
        if resident is not None:
            self.order.schedule(resident)
            return
        update = await self._decode(str(payload.get("update_id")), payload)
        if update is not None:
            await self.app.update_queue.put(update)

    async def _decode(self, external: str, payload: dict[str, Any]) -> Update | None:
        try:
            return Update.de_json(payload, self.app.bot)
        except Exception as exc:
            await inbox.reject(self.db, self.name, external, exc)
            return None

    async def _handle_item(self, external: str, payload: dict[str, Any]) -> None:
        """One update of a resident's drain: handled, answered and marked finished
        (committed) before the next one of this resident is taken."""
        msg = decode_plain(payload)
        if msg is not None:
            self._begin(external)
            await self._answer(external, msg, payload)
            return
        update = await self._decode(external, payload)
        if update is not None:
            await self._process(update, payload)

    async def _poll(self) -> None:
        offset = 0
        backoff = 1.0
        timeout = self.settings.telegram_poll_timeout
        while not self._poller.stopping:
            try:
                updates = await self._get_updates(offset, timeout)
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                metrics.RATE_LIMITED.labels(self.name, "poll").inc()
                self.health.failed("RetryAfter")
                await asyncio.sleep(min(_seconds(exc), 60.0))
                continue
            except (TimedOut, NetworkError) as exc:
                self.health.failed(exc.__class__.__name__, f"retrying in {backoff:.0f} s")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            except TelegramError as exc:  # e.g. the token was revoked: say so, keep trying
                self.health.failed(exc.__class__.__name__, f"{exc}; retrying in 30 s")
                await asyncio.sleep(30)
                continue
            backoff = 1.0
            self.health.ok()
            if not updates:
                continue
            with self._poller.storing():
                items = [(str(u["update_id"]), u) for u in updates]
                fresh = await inbox.store(self.db, self.name, items, order_of)  # stored first
                offset = max(u["update_id"] for u in updates) + 1
                for _, payload in fresh:
                    await self._enqueue(payload)

    async def _get_updates(self, offset: int, timeout: int) -> list[dict[str, Any]]:
        """getUpdates, its updates as Telegram sent them: they go to the inbox as they
        are, and become PTB `Update`s once, when handled (`Bot.get_updates` would build
        them here and `to_dict` would undo it, a third of the cost of receiving).
        PTB's own request object sends it and maps the errors (`RetryAfter`...)."""
        query = urllib.parse.urlencode({"offset": offset, "timeout": timeout, "allowed_updates": json.dumps(ALLOWED_UPDATES)})
        result = await self._poll_request.post(f"{self.app.bot.base_url}/getUpdates?{query}", read_timeout=timeout + 10)
        return [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)] if isinstance(result, list) else []

    async def webhook(self, request: Request) -> Response:
        """POST /telegram/webhook: check the secret, store, answer 200, process after."""
        expected = self.settings.telegram_webhook_secret
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            payload = json.loads(await request.body())
            external = str(int(payload["update_id"]))
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": "not an update"}, status_code=400)
        fresh = await inbox.store(self.db, self.name, [(external, payload)], order_of)  # a failure here answers 500: Telegram retries
        self.health.ok()
        for _, item in fresh:
            await self._enqueue(item)
        return JSONResponse({"ok": True})

    # -- handling --------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._process(update)

    async def _process(self, update: Update, payload: dict[str, Any] | None = None) -> None:
        """Handle one update; `payload` is the update as stored, when at hand."""
        external = str(update.update_id)
        self._begin(external)
        if update.callback_query is not None:
            # Telegram shows a spinner on the button until the query is answered.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        try:
            msg = decode(update)
        except Exception as exc:
            await inbox.reject(self.db, self.name, external, exc)
            return
        if msg is None:
            await inbox.finish(self.db, self.name, external, payload=payload)
            return
        await self._answer(external, msg, payload)

    def _begin(self, external: str) -> None:
        """This task now handles update `external`: its log lines say so (PTB runs each update
        in its own task) and its resident's changes are marked with it (`conversation.handling`)."""
        bind(channel=self.name, update_id=external)
        handling(self.name, external)

    async def _answer(self, external: str, msg: Incoming, payload: dict[str, Any] | None) -> None:
        """Dispatch one decoded update, send its replies, mark it finished."""
        replies = await replies_or_apology(self.name, self.dispatch, msg, self.send)
        if replies is None:
            await inbox.finish(self.db, self.name, external, "failed", payload)
            return
        for reply in replies:
            await self.send(msg.chat, reply)
        await inbox.finish(self.db, self.name, external, payload=payload)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("telegram: %s", context.error.__class__.__name__ if context.error else "error", exc_info=context.error)

    # -- sending ---------------------------------------------------------------------

    async def deliver(self, chat: str, reply: Reply) -> Delivered:
        """Bulk path for campaigns: one attempt on a Bot of its own (so a 429 here never
        delays replies to residents), the platform's answer mapped to an `Outcome`;
        nothing escapes but cancellation. A migrated group chat is followed once."""
        method, body = _message(chat, html.escape(reply.text, quote=False)[:MAX_TEXT], keyboard(reply), reply.image)
        url = f"{self.bulk_bot.base_url}/{method}"
        try:
            try:
                await self.bulk_bot.request.post(url, body)
            except ChatMigrated as exc:
                new = await self._migrated(chat, exc)
                await self.bulk_bot.request.post(url, JsonBody({**body.parameters, "chat_id": new}))
                return Delivered(Outcome.SENT, description=f"chat migrated to {new}")
        except RetryAfter as exc:
            return Delivered(Outcome.RETRY_LATER, _seconds(exc), str(exc))
        except Forbidden as exc:
            return Delivered(Outcome.BLOCKED, description=str(exc))
        except BadRequest as exc:  # before NetworkError, its base class in PTB
            if "chat not found" in str(exc).lower():
                return Delivered(Outcome.GONE, description=str(exc))
            return Delivered(Outcome.FAILED, description=str(exc))
        except TimedOut as exc:  # sent, maybe delivered: sent again once at most (sender.py)
            return Delivered(Outcome.TRANSIENT, description=str(exc) or "timed out", maybe_delivered=True)
        except NetworkError as exc:
            return Delivered(Outcome.TRANSIENT, description=str(exc) or exc.__class__.__name__)
        except InvalidToken as exc:
            return Delivered(Outcome.HALT, description=f"Telegram refused the bot token ({exc}): check TELEGRAM_BOT_TOKEN")
        except Conflict as exc:
            return Delivered(Outcome.TRANSIENT, description=f"conflict: {exc}")
        except ChatMigrated as exc:  # migrated again: give up on this row
            return Delivered(Outcome.FAILED, description=f"chat migrated twice (to {exc.new_chat_id})")
        except TelegramError as exc:  # e.g. an answer that is not JSON
            return Delivered(Outcome.FAILED, description=f"{exc.__class__.__name__}: {exc}")
        return Delivered(Outcome.SENT)

    async def _migrated(self, chat: str, exc: ChatMigrated) -> str:
        """A group became a supergroup with a new id: team chats stored with the old id
        follow it; the message goes to the new id."""
        new = str(exc.new_chat_id)
        t = TeamMember.__table__
        async with self.db.engine.begin() as conn:
            await conn.execute(update(t).where(t.c.channel == self.name, t.c.chat == chat).values(chat=new))
        logger.info("telegram: chat …%s migrated to a supergroup (…%s); following it", chat[-3:], new[-3:])
        return new

    async def send(self, chat: str, reply: Reply) -> bool:
        """Send one reply (split when long). False when the resident cannot be reached."""
        parts = split_text(html.escape(reply.text, quote=False))
        markup = keyboard(reply)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            error = await self._send_part(chat, part, markup if last else None)
            if error:
                metrics.REPLIES_FAILED.labels(self.name, error).inc()
                return False
        self._sent.inc()
        return True

    async def _send_part(self, chat: str, text: str, markup: dict[str, Any] | None) -> str:
        """Send with retries; returns "" when sent, else the error class."""
        error = ""
        method, body = _message(chat, text, markup)
        timeouts = 0
        for attempt in range(SEND_ATTEMPTS):
            try:
                async with self._sending:
                    await self._reply_request.post(f"{self.app.bot.base_url}/{method}", body)
                return ""
            except RetryAfter as exc:
                metrics.RATE_LIMITED.labels(self.name, "reply").inc()
                error = "rate_limited"
                await asyncio.sleep(min(_seconds(exc), 30.0))
            except Forbidden:
                logger.info("telegram: chat %s blocked the bot", "…" + chat[-3:])
                return "blocked"
            except ChatMigrated as exc:
                chat = await self._migrated(chat, exc)
                body = JsonBody({**body.parameters, "chat_id": chat})
                error = "gone"
            except BadRequest as exc:  # before NetworkError, its base class in PTB: a 400 is never retried
                if "chat not found" in str(exc).lower():
                    return "gone"
                logger.warning("telegram: Telegram refused a message to chat …%s (%s)", chat[-3:], exc)
                return "refused"
            except TimedOut:
                error = "network"
                timeouts += 1
                if timeouts > RESENDS_AFTER_TIMEOUT:
                    break  # it may have arrived: never a third copy
                await asyncio.sleep(0.5 * (2**attempt))
            except NetworkError:
                error = "network"
                await asyncio.sleep(0.5 * (2**attempt))
            except TelegramError as exc:  # refused (the token, an answer that is not JSON): retrying would not help
                logger.warning("telegram: sending to chat …%s refused (%s: %s)", chat[-3:], exc.__class__.__name__, exc)
                return "refused"
        logger.warning("telegram: gave up sending to chat …%s (%s)", chat[-3:], error)
        return error
