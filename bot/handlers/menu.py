"""The topic menu: pillar groups → questions → the answer, in at most three taps."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context
from bot.handlers import scamcheck
from bot.replies import SHOW, question_label, render_entry, t

MENU = "m:"  # m: (top) | m:<group>


async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
    """Show the groups, the questions of a group, or an entry."""
    payload = msg.button or ""
    words = t(ctx.english)
    await ctx.kb.matcher()  # makes sure ctx.kb.groups is current
    if payload.startswith(SHOW):
        entry = ctx.kb.entries.get(payload[len(SHOW):])
        if entry is None or entry.status != "published":
            return [Reply(words["rephrase"])]
        return [render_entry(entry, ctx.kb.entries, ctx.english, ctx.settings)]
    group_id = payload[len(MENU):] if payload.startswith(MENU) else ""
    groups = [g for g in ctx.kb.groups if any(e.status == "published" and e.kind == "faq" for e in g.entries)]
    group = next((g for g in groups if g.group == group_id), None)
    if group is None:
        buttons = tuple(Button((g.title_en if ctx.english and g.title_en else g.title), MENU + g.group) for g in groups)
        buttons += (scamcheck.menu_button(ctx.english),)
        return [Reply(words["menu"], buttons=buttons)]
    buttons = tuple(
        Button(question_label(e, ctx.english), SHOW + e.id) for e in group.entries if e.status == "published" and e.kind == "faq"
    ) + (Button(words["back"], MENU),)
    return [Reply(words["menu_group"], buttons=buttons)]
