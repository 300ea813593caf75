"""The ASGI app, declared in one place: web chat at /, admin at /admin, health at
/healthz and /readyz, metrics at /metrics, and a lifespan that opens the database, seeds
an empty knowledge base and builds the dispatcher every channel shares.

Run it with `cdsbot run` (uvicorn on HOST:PORT). Tests build it with `create_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import html
import ipaddress
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from bot import metrics
from bot.campaigns import outbox
from bot.campaigns.sender import Sender
from bot.channels import inbox
from bot.channels.base import Delivered, Outcome, Reply
from bot.channels.web import IP_LIMIT, MAX_BODY, WebChat
from bot.clock import now as utcnow
from bot.handlers import Dispatcher
from bot.handlers.team_reply import notification
from bot.kb_files import read_dir
from bot.logs import RequestIds
from bot.middleware import BodyLimit, PathCORS, SecurityHeaders
from bot.ratelimit import SharedWindow
from bot.services import areas as areas_service
from bot.services import deliveries, history, teams
from bot.services.knowledge import KnowledgeBase, entry_count, import_groups
from bot.services.worktime import is_working_time, load_holidays
from bot.settings import Settings
from bot.storage.db import Database, open_database

__all__ = ["Assistant", "create_app", "prepare"]

logger = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs carry bot tokens
logging.getLogger("aiosqlite").setLevel(logging.WARNING)  # its debug lines carry SQL parameters (tokens)


class Assistant:
    """The running parts of one process: database, knowledge base, dispatcher."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.kb = KnowledgeBase(db, settings)
        self.dispatcher = Dispatcher(db, self.kb, settings, push=self.push, pending=self.pending)
        self.holidays = load_holidays(settings.knowledge_dir / "holidays.yaml")
        self._ticker: asyncio.Task[None] | None = None
        self._maintenance: asyncio.Task[None] | None = None
        self._sending: asyncio.Task[None] | None = None
        self.sender: Sender | None = None
        self.telegram = None
        if settings.telegram_bot_token:
            from bot.channels.telegram import TelegramChannel

            self.telegram = TelegramChannel(settings, db, self.dispatcher.dispatch)
        self.zalo_bot = None
        if settings.zalo_bot_token:
            from bot.channels.zalo_bot import ZaloBotChannel

            self.zalo_bot = ZaloBotChannel(settings, db, self.dispatcher.dispatch)
        self.zalo_oa = None
        if settings.zalo_oa_enabled:
            from bot.channels.zalo_oa import ZaloOAChannel

            self.zalo_oa = ZaloOAChannel(settings, db, self.dispatcher.dispatch)
        for name in ("web", *(c.name for c in self.receiving())):
            metrics.declare_channel(name)

    def receiving(self) -> list[Any]:
        """The channels this process receives on (each has `name`, `health`, `webhook_mode`)."""
        return [c for c in (self.telegram, self.zalo_bot, self.zalo_oa) if c is not None]

    async def push(self, channel: str, chat: str, reply: Reply) -> bool:
        """Send to a chat other than the one being answered (team members, later answers).
        Telegram sends now; the web chat fetches it when the page next asks."""
        if channel == "telegram" and self.telegram is not None and await self.telegram.send(chat, reply):
            return True
        if channel == "zalo" and self.zalo_bot is not None and await self.zalo_bot.send(chat, reply):
            return True
        if channel == "zalo_oa" and self.zalo_oa is not None and await self.zalo_oa.send(chat, reply):
            return True
        await deliveries.store(self.db, channel, chat, reply)  # handed over with their next message
        return channel == "web"

    async def pending(self, channel: str, chat: str) -> list[Reply]:
        """Messages stored for a chat that a push could not deliver (the web chat's page
        fetches its own)."""
        if channel == "web":
            return []
        return await deliveries.take(self.db, channel, chat)

    async def check_tickets(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """Remind teams of unclaimed tickets and escalate the old ones to the city.
        Runs every TICKET_CHECK_SECONDS in working time; returns (reminded, escalated)."""
        now = now or utcnow()
        s = self.settings
        if not is_working_time(now, s.team_working_hours, s.team_working_days, self.holidays):
            return 0, 0
        remind, escalate = await teams.due(self.db, now, dt.timedelta(hours=s.team_target_hours))
        for view in remind:
            for member in await teams.members_of(self.db, view.team_id or 0):
                await self.push(member.channel, member.chat, notification(view, reminder=True))
        for view in escalate:
            logger.warning("ticket %s unclaimed for %s h: escalated to the city's admins", view.id, 2 * s.team_target_hours)
        return len(remind), len(escalate)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.ticket_check_seconds)
            try:
                await self.check_tickets()
            except Exception:
                logger.exception("checking tickets failed")

    async def purge_old_questions(self) -> None:
        """Reduce question-log rows and ticket texts past QUESTION_RETENTION_DAYS to
        anonymous daily counts (bot/reports/retention.py)."""
        from bot.reports import retention

        if self.settings.question_retention_days:
            await retention.purge(self.db, retention.cutoff(self.settings.question_retention_days))

    async def _maintain(self) -> None:
        while True:  # once at start, then daily
            try:
                await self.purge_old_questions()
            except Exception:
                logger.exception("purging old questions failed")
            await asyncio.sleep(24 * 3600)

    async def deliver_web(self, chat: str, reply: Reply) -> Delivered:
        await deliveries.store(self.db, "web", chat, reply)
        return Delivered(Outcome.SENT)

    def make_sender(self) -> Sender:
        channels: dict[str, Any] = {"web": self.deliver_web}
        if self.telegram is not None:
            channels["telegram"] = self.telegram.deliver
        if self.zalo_bot is not None:
            channels["zalo"] = self.zalo_bot.deliver
        if self.zalo_oa is not None:
            channels["zalo_oa"] = self.zalo_oa.deliver
        rates = {"telegram": self.settings.telegram_broadcast_rate, "zalo": self.settings.zalo_broadcast_rate,
                 "zalo_oa": self.settings.zalo_broadcast_rate, "web": 200.0}
        return Sender(self.db, channels, rates)

    async def start_channels(self) -> None:
        await self.kb.start()
        if self.telegram is not None:
            await self.telegram.start()
        if self.zalo_bot is not None:
            await self.zalo_bot.start()
        if self.zalo_oa is not None:
            await self.zalo_oa.start()
        self._ticker = asyncio.create_task(self._tick(), name="tickets")
        self._maintenance = asyncio.create_task(self._maintain(), name="maintenance")
        self.sender = self.make_sender()
        self._sending = asyncio.create_task(self.sender.run_forever(), name="campaigns")

    async def stop_channels(self) -> None:
        """Graceful stop (SIGTERM): take no new work, finish what is in flight, close.
        1. stop polling, so nothing new comes in; 2. the sender finishes the batch it
        sends (its rows are marked sent), the rest stays queued in the outbox; 3. each
        channel answers the updates it already took, then closes. Whatever is left
        (an update Telegram still holds, an outbox row) is picked up at the next start."""
        for task in (self._ticker, self._maintenance):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.sender is not None:
            self.sender.stop()
        for channel in self.receiving():
            await channel.stop_receiving()
        if self._sending is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._sending
        for channel in self.receiving():
            await channel.stop()
        await self.kb.close()


async def prepare(settings: Settings) -> Assistant:
    """Open and migrate the database; on an empty one import knowledge/ and the areas."""
    db = await open_database(settings.database_url)
    if await entry_count(db) == 0:
        report = await import_groups(db, read_dir(settings.entries_dir), by="seed")
        logger.info("knowledge base seeded with %s entries", report.created)
    areas_file = settings.knowledge_dir / "areas.csv"
    if areas_file.exists() and await areas_service.count(db) == 0:
        await areas_service.import_csv(db, areas_file)
    assistant = Assistant(db, settings)
    await assistant.kb.matcher()
    await asyncio.to_thread(_warm_up)
    return assistant


def _warm_up() -> None:
    """Build now what the first messages would otherwise wait for, while they wait: the
    scam checker's patterns (half a second) and the modules of the purge that runs when
    the channels start."""
    from bot import scamcheck
    from bot.reports import retention  # noqa: F401

    scamcheck.default_checker()


def home_page(settings: Settings) -> list[Route]:
    """GET /: the web chat page, with Zalo's domain-verification tag
    (`<meta name="zalo-platform-site-verification" content=ZALO_SITE_VERIFICATION>`) in its
    head when the setting is given: Zalo reads the site's home page to verify the domain
    before an OA app goes live. Without the setting the web chat serves / unchanged."""
    if not settings.zalo_site_verification:
        return []
    from bot.channels.web import STATIC

    tag = f'<meta name="zalo-platform-site-verification" content="{html.escape(settings.zalo_site_verification)}">'
    page = (STATIC / "chat.html").read_text(encoding="utf-8").replace("<head>", f"<head>\n{tag}", 1)

    async def home(request: Request) -> Response:
        return HTMLResponse(page)

    return [Route("/", home, methods=["GET"])]


def create_app(settings: Settings, assistant: Assistant | None = None) -> Starlette:
    """The whole app. With `assistant` given (already prepared) the lifespan reuses it."""
    state: dict[str, Assistant] = {} if assistant is None else {"assistant": assistant}

    async def dispatch(msg):
        return await state["assistant"].dispatcher.dispatch(msg)

    async def pending(session: str) -> list[Reply]:
        replies = await deliveries.take(state["assistant"].db, "web", session)
        await history.record(state["assistant"].db, "web", session, None, replies)
        return replies

    web_requests = SharedWindow("web", IP_LIMIT, 60.0)

    async def allow(address: str) -> bool:
        return await web_requests.allow(state["assistant"].db, address)

    async def past(session: str) -> list[dict[str, object]]:
        return await history.messages(state["assistant"].db, "web", session)

    web = WebChat(dispatch, pending, allow, history=past)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """Ready: database reachable, migrations current, each polling channel heard from
        within two minutes (a failing channel shows its failures in a row and last error),
        the Zalo OA's token refreshing and its sending not halted by Zalo.
        Never a secret or a resident's data in the body."""
        assistant = state.get("assistant")
        checks: dict[str, object] = {}
        ok = assistant is not None
        if assistant is not None:
            try:
                current = await assistant.db.current_revision()
                checks["database"] = "ok"
                checks["migrations"] = "ok" if current == Database.head_revision() else f"at {current}, head is {Database.head_revision()}"
                ok = ok and checks["migrations"] == "ok"
            except Exception as exc:  # the database is down: say so, do not raise
                checks["database"] = f"unreachable: {exc.__class__.__name__}"
                ok = False
            for channel in assistant.receiving():
                fresh, checks[channel.name] = channel.health.report(polling=not channel.webhook_mode)
                ok = ok and fresh
            if assistant.zalo_oa is not None:  # webhook only: the token is what can go wrong
                tokens = assistant.zalo_oa.client.tokens
                checks["zalo_oa_token"] = f"refresh failing: {tokens.last_error}" if tokens.last_error else "ok"
                halted = assistant.zalo_oa.halted  # an error code that stops all sending (-204, -219, ...)
                checks["zalo_oa_sending"] = f"halted: {halted}" if halted else "ok"
                ok = ok and not tokens.last_error and not halted
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    def may_read_metrics(request: Request) -> bool:
        """With METRICS_TOKEN: the bearer token. Without: direct requests from loopback only
        (a request a reverse proxy forwarded carries X-Forwarded-For and is refused)."""
        if settings.metrics_token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            return hmac.compare_digest(given.encode(), settings.metrics_token.encode())
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        return loopback and "x-forwarded-for" not in request.headers and "forwarded" not in request.headers

    async def metrics_endpoint(request: Request) -> Response:
        """GET /metrics: the Prometheus text format (bot/metrics.py lists every metric)."""
        if not may_read_metrics(request):
            return JSONResponse({"error": "forbidden: set METRICS_TOKEN, or ask from 127.0.0.1"}, status_code=403)
        assistant = state.get("assistant")
        if assistant is not None:
            try:
                metrics.set_backlogs(await inbox.backlog(assistant.db), await outbox.backlog(assistant.db),
                                     await teams.open_ages_hours(assistant.db))
            except Exception as exc:  # the database is down: the process's own metrics still help
                logger.warning("metrics: reading backlogs failed (%s)", exc.__class__.__name__)
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    async def telegram_webhook(request: Request) -> Response:
        channel = state["assistant"].telegram
        if channel is None:
            return JSONResponse({"error": "telegram is not configured"}, status_code=404)
        return await channel.webhook(request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = assistant is None
        state["assistant"] = assistant or await prepare(settings)
        await state["assistant"].start_channels()
        try:
            yield
        finally:
            await state["assistant"].stop_channels()
            if own:
                await state["assistant"].db.dispose()

    origins = [o.strip() for o in settings.web_chat_origins.split(",") if o.strip()]
    # Bodies are capped while they stream: the web chat's messages are small, the admin
    # site takes uploads of up to 5 MB (admin/pages/kb_transfer.py), a platform's
    # webhook call fits in 1 MB.
    middleware = [
        Middleware(RequestIds),
        Middleware(SecurityHeaders, embed_path="/chat/embed", frame_origins=origins),
        Middleware(PathCORS, prefix="/chat/api", origins=origins),
        Middleware(BodyLimit, limits=[("/chat/", MAX_BODY), ("/admin/", 6 * 1024 * 1024)], default=1024 * 1024),
    ]
    async def zalo_bot_webhook(request: Request) -> Response:
        channel = state["assistant"].zalo_bot
        if channel is None:
            return JSONResponse({"error": "zalo bot is not configured"}, status_code=404)
        return await channel.webhook(request)

    async def zalo_oa_webhook(request: Request) -> Response:
        channel = state["assistant"].zalo_oa
        if channel is None:
            return JSONResponse({"error": "zalo oa is not configured"}, status_code=404)
        return await channel.webhook(request)

    from admin.app import create_admin

    secret = settings.admin_secret_key or secrets.token_urlsafe(32)
    if not settings.admin_secret_key:
        logger.warning("ADMIN_SECRET_KEY is not set: admin sessions end when the process restarts")
    admin = create_admin(lambda: state["assistant"], secret)
    routes = [
        *home_page(settings),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/zalo/bot/webhook", zalo_bot_webhook, methods=["POST"]),
        Route("/zalo/oa/webhook", zalo_oa_webhook, methods=["POST"]),
        Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
        *web.routes(),
        Mount("/admin", app=admin, name="admin"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    return app

