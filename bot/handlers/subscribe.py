"""/dangky and /huy: announcements by ward and topic, with explicit consent; stopping
them in one tap (also from the button under every announcement)."""

from __future__ import annotations

from bot.campaigns.service import subscribe as store_subscription
from bot.campaigns.service import unsubscribe
from bot.channels.base import Button, Incoming, Reply
from bot.clock import now as utcnow
from bot.conversation import Context, save_resident
from bot.handlers import area
from bot.replies import cancel_button, t

SUB = "d:"  # d:t:<group> toggles a topic, d:all, d:ok (consent)
UNSUB = "u:"  # u:off stops, u:keep keeps
PENDING = "subscribe"



async def start(msg: Incoming, ctx: Context) -> list[Reply]:
    """/dangky: ward first (asked once), then topics, then consent."""
    if not ctx.resident.area_code:
        return await area.ask(ctx, then="subscribe")
    return await topics(ctx)


async def topics(ctx: Context) -> list[Reply]:
    await ctx.kb.matcher()
    words = t(ctx.english)
    state = ctx.state
    if state.get("pending") != PENDING:
        state["pending"] = PENDING
        await save_resident(ctx.db, ctx.resident, state=state)
    chosen = set(state.get("sub_topics") or [])
    groups = [g for g in ctx.kb.groups if any(e.kind == "faq" and e.status == "published" for e in g.entries)]
    buttons = [Button(("✅ " if g.group in chosen else "") + (g.title_en if ctx.english and g.title_en else g.title),
                      f"{SUB}t:{g.group}") for g in groups]
    buttons.append(Button(("✅ " if not chosen else "") + words["sub_all"], f"{SUB}all"))
    buttons.append(Button(words["sub_ok"], f"{SUB}ok"))
    buttons.append(cancel_button(ctx.english))
    label = await area.label_of(ctx, ctx.resident.area_code)
    text = words["sub_topics"] + "\n\n" + words["sub_consent"].format(area=label)
    return [Reply(text, buttons=tuple(buttons))]


async def button(msg: Incoming, ctx: Context) -> list[Reply]:
    action = (msg.button or "")[len(SUB):]
    state = ctx.state
    chosen = list(state.get("sub_topics") or [])
    if action.startswith("t:"):
        group = action[2:]
        chosen = [g for g in chosen if g != group] if group in chosen else [*chosen, group]
        state["sub_topics"] = chosen
        await save_resident(ctx.db, ctx.resident, state=state)
        return await topics(ctx)
    if action == "all":
        state["sub_topics"] = []
        await save_resident(ctx.db, ctx.resident, state=state)
        return await topics(ctx)
    if action == "ok":
        if not ctx.resident.area_code:
            return await area.ask(ctx, then="subscribe")
        await store_subscription(ctx.db, ctx.resident.id, ctx.resident.area_code, chosen)
        state.pop("sub_topics", None)
        state.pop("pending", None)
        await save_resident(ctx.db, ctx.resident, state=state, consent_subscribe_at=utcnow())
        label = await area.label_of(ctx, ctx.resident.area_code)
        return [Reply(t(ctx.english)["sub_done"].format(area=label))]
    return await topics(ctx)


async def stop(msg: Incoming, ctx: Context) -> list[Reply]:
    """/huy: confirm stopping announcements."""
    words = t(ctx.english)
    return [Reply(words["unsub_ask"], buttons=(Button(words["unsub_yes"], f"{UNSUB}off"), Button(words["unsub_no"], f"{UNSUB}keep")))]


async def stop_button(msg: Incoming, ctx: Context) -> list[Reply]:
    words = t(ctx.english)
    if (msg.button or "") != f"{UNSUB}off":
        return [Reply(words["unsub_kept"])]
    if await unsubscribe(ctx.db, ctx.resident.id):
        return [Reply(words["unsub_done"])]
    return [Reply(words["unsub_none"])]
