"""What the assistant does with each kind of input — one ordered table, channel-agnostic.

`dispatch` loads the resident, applies flood protection, and routes:
1. commands (`/start`, `/menu`, ...), by name;
2. button payloads, by prefix (each prefix belongs to one handler module);
3. free text while the assistant waits for something (a ward name, a question for a person,
   a message to check);
4. a forwarded message, or a pasted one (a link, phone or account number with a request):
   checked for the signs of a scam;
5. any other free text: a question.
No prompt is a trap: a command, or a button that is not the prompt's own, drops what the
assistant was waiting for; "thôi", "hủy", "không", /huy and the Thôi / Cancel button leave
it; a clear question typed at a prompt is answered (see `prompt`).
Each handler is `async def handle(msg: Incoming, ctx: Context) -> list[Reply]`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import metrics
from bot.channels.base import Incoming, Reply
from bot.conversation import Context, FloodGuard, StaleResident, load_resident, replayed
from bot.handlers import area, escalate, feedback, general, menu, privacy, prompt, question, scamcheck, subscribe, team_reply
from bot.replies import CANCEL, ESCALATE, NOT_THIS, RATE, SHOW, t
from bot.services import history
from bot.services.knowledge import KnowledgeBase
from bot.settings import Settings
from bot.storage.db import Database

__all__ = ["COMMANDS", "BUTTONS", "Dispatcher"]

logger = logging.getLogger(__name__)
Handler = Callable[[Incoming, Context], Awaitable[list[Reply]]]
area.AFTER_AREA.update(escalate=escalate.create, subscribe=subscribe.topics)
STALE_RETRIES = 3  # a message handled again at most this often when its resident's state moved on


async def _not_this(msg: Incoming, ctx: Context) -> list[Reply]:
    """None of the suggestions fits: noted on the logged question (feedback `none`, so the
    gaps page lists it), then offer to ask a person."""
    from bot.channels.base import Button

    await feedback.store(ctx, "none")
    words = t(ctx.english)
    return [Reply(words["rephrase"], buttons=(Button(words["escalate"], ESCALATE),))]


COMMANDS: dict[str, Handler] = {
    "start": general.start,
    "menu": menu.handle,
    "trogiup": general.help_command,
    "help": general.help_command,
    "ngonngu": general.language,
    "khuvuc": area.handle_command,
    "hoi": escalate.handle_command,
    "xoadulieu": privacy.ask,
    "dangky": subscribe.start,
    "huy": subscribe.stop,
    "thamgia": team_reply.join,
    "traloi": team_reply.reply_command,
    "thoi": prompt.cancel,
    "cancel": prompt.cancel,
    "kiemtra": scamcheck.command,
}
# While a prompt waits, these commands leave it (/huy means "cancel this", not "unsubscribe").
LEAVE_COMMANDS = {"huy", "thoi", "cancel"}

BUTTONS: list[tuple[str, Handler]] = [
    (menu.MENU, menu.handle),
    (SHOW, menu.handle),
    (RATE, feedback.handle),
    (feedback.REASON, feedback.handle),
    (ESCALATE, escalate.handle_button),
    (escalate.NEW, escalate.handle_new),
    (NOT_THIS, _not_this),
    (area.AREA, area.handle_button),
    (general.LANG, general.set_language),
    (privacy.DELETE, privacy.confirm),
    (team_reply.TEAM, team_reply.button),
    (subscribe.SUB, subscribe.button),
    (subscribe.UNSUB, subscribe.stop_button),
    (CANCEL, prompt.cancel),
    (scamcheck.CHECK, scamcheck.button),
]

PENDING: dict[str, Handler] = {
    area.PENDING: area.handle_text,
    escalate.PENDING: escalate.handle_text,
    team_reply.PENDING_MOVE: team_reply.move_text,
    team_reply.PENDING_ANSWER: team_reply.answer_text,
    subscribe.PENDING: prompt.leave_and_answer,
    privacy.PENDING: prompt.leave_and_answer,
    scamcheck.PENDING: scamcheck.handle_text,
}
# The buttons that answer a prompt (any other button leaves it).
OWN_BUTTONS: dict[str, tuple[str, ...]] = {
    escalate.PENDING: (ESCALATE, CANCEL),
    area.PENDING: (area.AREA, CANCEL),
    subscribe.PENDING: (subscribe.SUB, CANCEL),
    privacy.PENDING: (privacy.DELETE, CANCEL),
}


class Dispatcher:
    """Routes every incoming message of every channel to its handler.

    Parameters:
        db, kb, settings: what handlers need.
        flood: per-resident rate limit (20 messages a minute by default; in the database on
            PostgreSQL, so it holds across workers).
    """

    def __init__(
        self,
        db: Database,
        kb: KnowledgeBase,
        settings: Settings,
        flood: FloodGuard | None = None,
        push: Callable[[str, str, Reply], Awaitable[bool]] | None = None,
        pending: Callable[[str, str], Awaitable[list[Reply]]] | None = None,
    ) -> None:
        self.db = db
        self.push = push
        self.pending = pending
        self.kb = kb
        self.settings = settings
        self.flood = flood or FloodGuard(settings.flood_messages_per_minute, 60.0, shared=not db.is_sqlite)

    async def dispatch(self, msg: Incoming) -> list[Reply]:
        """The replies to one incoming message (never raises for a resident's input).

        A resident's messages are handled one at a time (the channels see to it, across
        workers too); should their state still change between the read and the write,
        the write is refused (`StaleResident`) and the message handled again on a fresh
        read, at most `STALE_RETRIES` times. Replies are sent only after this returns."""
        for attempt in range(STALE_RETRIES + 1):
            try:
                return await self._dispatch(msg, counted=attempt > 0)
            except StaleResident:
                metrics.STALE_RETRIES.inc()
                if attempt == STALE_RETRIES:
                    raise
                logger.info("%s: a resident's state changed while a message was handled; handling it again", msg.channel)
        raise AssertionError("unreachable")

    async def _dispatch(self, msg: Incoming, counted: bool = False) -> list[Reply]:
        resident = await load_resident(self.db, msg.channel, msg.user, msg.display_name)
        if replayed(resident):
            logger.info("%s: a message whose change was saved but not finished is handled again from before it", msg.channel)
        ctx = Context(self.db, self.kb, self.settings, resident)
        if self.push is not None:
            ctx.push = self.push
        # Typed messages count toward the flood limit; taps on buttons are cheap and
        # a resident browsing the menu quickly must not be told to slow down.
        if msg.button is None and not counted and not await self.flood.allow(self.db, f"{msg.channel}:{msg.user}"):
            return [Reply(t(ctx.english)["flood"])]
        await self.leave_prompt(msg, ctx)
        handler = self.route(msg, ctx)
        replies = await handler(msg, ctx)
        # Answers that could not reach this resident earlier (blocked for a while, a closed
        # platform window) are handed over with their next message.
        if self.pending is not None and resident.waiting:
            replies += await self.pending(msg.channel, msg.chat)
        if msg.channel in history.CHANNELS and not ctx.forgotten:
            await self._record(msg, replies)
        return replies

    async def _record(self, msg: Incoming, replies: list[Reply]) -> None:
        """The web chat's history (shown again after a reload): what the resident typed or
        the label of the button tapped, then the replies."""
        said: str | None
        if msg.button is not None:
            said = await history.label_of(self.db, msg.channel, msg.chat, msg.button)
            if said is None and msg.button in (menu.MENU, escalate.NEW):  # the web chat's own buttons
                resident = await load_resident(self.db, msg.channel, msg.user)
                words = t(resident.language == "en")
                said = words["topics"] if msg.button == menu.MENU else words["person_button"]
        else:
            said = (msg.text or "").strip()
            said = None if said in ("/start", "") else said
        await history.record(self.db, msg.channel, msg.chat, said, replies)

    @staticmethod
    def _command(msg: Incoming) -> str | None:
        text = (msg.text or "").strip()
        if msg.button is not None or not text.startswith("/"):
            return None
        return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""

    async def leave_prompt(self, msg: Incoming, ctx: Context) -> None:
        """A command or another button drops what the assistant was waiting for."""
        pending = ctx.state.get("pending")
        if not any(k in ctx.state for k in prompt.KEYS):
            return
        name = self._command(msg)
        if msg.button is not None:
            if not msg.button.startswith(OWN_BUTTONS.get(pending or "", (CANCEL,))):
                await prompt.drop(ctx)
        elif name is not None and name in COMMANDS and name not in LEAVE_COMMANDS:
            await prompt.drop(ctx)

    def route(self, msg: Incoming, ctx: Context) -> Handler:
        if msg.button is not None:
            for prefix, handler in BUTTONS:
                if msg.button.startswith(prefix):
                    return handler
            return menu.handle
        text = (msg.text or "").strip()
        if text.startswith("/"):
            name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
            if name in LEAVE_COMMANDS and ctx.state.get("pending"):
                return prompt.cancel
            if name in COMMANDS:
                return COMMANDS[name]
        pending = ctx.state.get("pending")
        if pending in PENDING:
            if prompt.is_cancel(text):
                return prompt.cancel
            return PENDING[pending]
        if team_reply.replied_ticket(msg) is not None:
            return team_reply.reply_to_notification
        if scamcheck.wants_check(msg):  # a forwarded or pasted message: checked before answering
            return scamcheck.handle_text
        return question.handle
