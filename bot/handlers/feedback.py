"""👍/👎 on an answer, and the reason for a 👎 — stored on the logged question."""

from __future__ import annotations

from sqlalchemy import update

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context
from bot.replies import ESCALATE, RATE, t
from bot.storage.models import QuestionLog

REASON = "f:"  # f:<reason>:<entry id>


async def store(ctx: Context, value: str) -> None:
    """Note `value` on the resident's last logged question: up | down | down:<reason> |
    none (none of the suggestions fitted)."""
    await _store(ctx, value)


async def _store(ctx: Context, value: str) -> None:
    last = ctx.state.get("last_question") or {}
    if not last.get("id"):
        return
    async with ctx.db.session() as session, session.begin():
        await session.execute(update(QuestionLog).where(QuestionLog.id == int(last["id"])).values(feedback=value))


async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
    """Thank for a rating; on 👎 ask why with a few buttons."""
    words = t(ctx.english)
    payload = msg.button or ""
    if payload.startswith(REASON):
        reason = payload[len(REASON):].split(":", 1)[0]
        if reason not in words["reasons"]:
            reason = "khac"
        await _store(ctx, f"down:{reason}")
        return [Reply(words["thanks_down"], buttons=(Button(words["escalate"], ESCALATE),))]
    vote, _, entry_id = payload[len(RATE):].partition(":")
    if vote == "up":
        await _store(ctx, "up")
        return [Reply(words["thanks_up"])]
    await _store(ctx, "down")
    buttons = tuple(Button(label, f"{REASON}{key}:{entry_id}") for key, label in words["reasons"].items())
    return [Reply(words["why"], buttons=buttons)]
