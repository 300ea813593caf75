"""The resident's ward or commune: asked once by typed name (fuzzy, accent-free), then
remembered; used to route questions to the right Tổ CNS and for subscriptions."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, save_resident
from bot.replies import t
from bot.services.areas import AreaRow, find_area, list_areas

AREA = "a:"  # a:<area code>
PENDING = "area"


async def ask(ctx: Context, then: str | None = None) -> list[Reply]:
    """Ask the resident for their ward; `then` names what to do once it is known."""
    state = ctx.state
    state["pending"] = PENDING
    if then:
        state["after_area"] = then
    await save_resident(ctx.db, ctx.resident, state=state)
    return [Reply(t(ctx.english)["ask_area"])]


async def handle_command(msg: Incoming, ctx: Context) -> list[Reply]:
    """/khuvuc: (re)choose the ward."""
    return await ask(ctx)


async def label_of(ctx: Context, code: str | None) -> str:
    if not code:
        return ""
    for a in await list_areas(ctx.db):
        if a.code == code:
            return a.label
    return code


async def handle_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """The resident typed a ward name while we were asking for it."""
    words = t(ctx.english)
    areas = await list_areas(ctx.db)
    found = find_area(msg.text or "", areas)
    if not found or found[0][1] < 60:
        return [Reply(words["area_not_found"])]
    best, score = found[0]
    close = [a for a, s in found if s >= 60 and best.name != a.name or a is best]
    if score >= 90 and (len(found) < 2 or found[1][1] < score):
        return await _set(ctx, best)
    return [Reply(words["area_choose"], buttons=tuple(Button(a.label, AREA + a.code) for a in close[:3]))]


async def handle_button(msg: Incoming, ctx: Context) -> list[Reply]:
    code = (msg.button or "")[len(AREA):]
    area = next((a for a in await list_areas(ctx.db) if a.code == code), None)
    if area is None:
        return await ask(ctx)
    return await _set(ctx, area)


async def _set(ctx: Context, area: AreaRow) -> list[Reply]:
    state = ctx.state
    state.pop("pending", None)
    then = state.pop("after_area", None)
    await save_resident(ctx.db, ctx.resident, area_code=area.code, state=state)
    replies = [Reply(t(ctx.english)["area_saved"].format(area=area.label))]
    if then == "escalate":
        from bot.handlers import escalate

        replies += await escalate.create(ctx)
    elif then == "subscribe":
        from bot.handlers import subscribe

        replies += await subscribe.topics(ctx)
    return replies
