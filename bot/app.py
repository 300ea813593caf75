"""The ASGI app, declared in one place: web chat at /, admin at /admin, health at
/healthz, and a lifespan that opens the database, seeds an empty knowledge base and
builds the dispatcher every channel shares.

Run it with `cdsbot run` (uvicorn on HOST:PORT). Tests build it with `create_app`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.web import WebChat
from bot.handlers import Dispatcher
from bot.kb_files import read_dir
from bot.services import areas as areas_service
from bot.services.knowledge import KnowledgeBase, entry_count, import_groups
from bot.settings import Settings
from bot.storage.db import Database, open_database

__all__ = ["Assistant", "create_app", "prepare"]

logger = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs carry bot tokens


class Assistant:
    """The running parts of one process: database, knowledge base, dispatcher."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.kb = KnowledgeBase(db, settings)
        self.dispatcher = Dispatcher(db, self.kb, settings)
        self.telegram = None
        if settings.telegram_bot_token:
            from bot.channels.telegram import TelegramChannel

            self.telegram = TelegramChannel(settings, db, self.dispatcher.dispatch)

    async def start_channels(self) -> None:
        if self.telegram is not None:
            await self.telegram.start()

    async def stop_channels(self) -> None:
        """Stop receiving and finish in-flight work; what is left stays in the inbox."""
        if self.telegram is not None:
            await self.telegram.stop()


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
    return assistant


def create_app(settings: Settings, assistant: Assistant | None = None) -> Starlette:
    """The whole app. With `assistant` given (already prepared) the lifespan reuses it."""
    state: dict[str, Assistant] = {} if assistant is None else {"assistant": assistant}

    async def dispatch(msg):  # type: ignore[no-untyped-def]
        return await state["assistant"].dispatcher.dispatch(msg)

    web = WebChat(dispatch)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

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
    middleware = [Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"], allow_headers=["Content-Type"])] if origins else []
    routes = [
        Route("/healthz", healthz),
        Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
        *web.routes(),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    return app


def mount_admin_when_ready(app: Starlette, assistant: Assistant, settings: Settings) -> None:
    from admin.site import mount_admin

    secret = settings.admin_secret_key or secrets.token_urlsafe(32)
    if not settings.admin_secret_key:
        logger.warning("ADMIN_SECRET_KEY is not set: admin sessions end when the process restarts")
    mount_admin(app, assistant.db, secret)
