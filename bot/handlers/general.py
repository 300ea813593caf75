"""/start, /trogiup and /ngonngu: welcome, help and language."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, save_resident
from bot.handlers import menu
from bot.replies import t

LANG = "l:"  # l:vi | l:en


async def start(msg: Incoming, ctx: Context) -> list[Reply]:
    """Welcome, what the assistant does, privacy pointer, and the menu. A deep-link
    parameter (/start <code>) records where the resident came from."""
    code = (msg.text or "").partition(" ")[2].strip()[:64]
    if code and not ctx.resident.source:
        await save_resident(ctx.db, ctx.resident, source=code)
    welcome = Reply(t(ctx.english)["welcome"])
    return [welcome, *await menu.handle(Incoming(msg.channel, msg.user, msg.chat, button=menu.MENU), ctx)]


async def help_command(msg: Incoming, ctx: Context) -> list[Reply]:
    """/trogiup: the commands."""
    return [Reply(t(ctx.english)["help"])]


async def language(msg: Incoming, ctx: Context) -> list[Reply]:
    """/ngonngu: choose Vietnamese or English."""
    return [Reply(t(ctx.english)["lang_choose"], buttons=(Button("Tiếng Việt", LANG + "vi"), Button("English", LANG + "en")))]


async def set_language(msg: Incoming, ctx: Context) -> list[Reply]:
    lang = "en" if (msg.button or "").endswith("en") else "vi"
    await save_resident(ctx.db, ctx.resident, language=lang)
    return [Reply(t(lang == "en")["lang_set"])]
