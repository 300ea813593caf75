"""/xoadulieu: after a confirmation, delete everything stored about the resident."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, forget_resident, save_resident
from bot.replies import t

DELETE = "x:"  # x:yes | x:no
PENDING = "delete"


async def ask(msg: Incoming, ctx: Context) -> list[Reply]:
    """Say what will be deleted and ask to confirm."""
    words = t(ctx.english)
    state = ctx.state
    state["pending"] = PENDING
    await save_resident(ctx.db, ctx.resident, state=state)
    return [Reply(words["delete_confirm"], buttons=(Button(words["delete_yes"], DELETE + "yes"), Button(words["delete_no"], DELETE + "no")))]


async def confirm(msg: Incoming, ctx: Context) -> list[Reply]:
    words = t(ctx.english)
    if (msg.button or "") != DELETE + "yes":
        from bot.handlers import prompt

        await prompt.drop(ctx)
        return [Reply(words["kept"])]
    counts = await forget_resident(ctx.db, ctx.resident, ctx.settings.resident_id_salt)
    ctx.forgotten = True
    return [Reply(words["deleted"].format(**counts))]
