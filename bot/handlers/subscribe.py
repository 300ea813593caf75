"""/dangky and /huy: announcements by ward and topic, with explicit consent; stopping
them in one tap (also from the button under every announcement)."""

from __future__ import annotations

from bot.campaigns.service import subscribe as store_subscription
from bot.campaigns.service import unsubscribe
from bot.channels.base import Button, Incoming, Reply
from bot.clock import now as utcnow
from bot.conversation import Context, save_resident
from bot.handlers import area

SUB = "d:"  # d:t:<group> toggles a topic, d:all, d:ok (consent)
UNSUB = "u:"  # u:off stops, u:keep keeps

CONSENT = (
    "Bằng cách bấm \"Đồng ý\", bạn đồng ý nhận thông báo về chuyển đổi số của thành phố và của Tổ Công nghệ số "
    "cộng đồng {area} qua kênh trò chuyện này. Bạn có thể hủy bất cứ lúc nào bằng /huy hoặc nút dưới mỗi thông báo."
)


async def start(msg: Incoming, ctx: Context) -> list[Reply]:
    """/dangky: ward first (asked once), then topics, then consent."""
    if not ctx.resident.area_code:
        return await area.ask(ctx, then="subscribe")
    return await topics(ctx)


async def topics(ctx: Context) -> list[Reply]:
    await ctx.kb.matcher()
    chosen = set(ctx.state.get("sub_topics") or [])
    groups = [g for g in ctx.kb.groups if any(e.kind == "faq" and e.status == "published" for e in g.entries)]
    buttons = [Button(("✅ " if g.group in chosen else "") + g.title, f"{SUB}t:{g.group}") for g in groups]
    buttons.append(Button(("✅ " if not chosen else "") + "Tất cả chủ đề", f"{SUB}all"))
    buttons.append(Button("Đồng ý nhận thông báo", f"{SUB}ok"))
    label = await area.label_of(ctx, ctx.resident.area_code)
    text = "Chọn chủ đề bạn quan tâm (bấm để chọn/bỏ), rồi bấm Đồng ý.\n\n" + CONSENT.format(area=label)
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
        await save_resident(ctx.db, ctx.resident, state=state, consent_subscribe_at=utcnow())
        label = await area.label_of(ctx, ctx.resident.area_code)
        return [Reply(f"Đã đăng ký nhận thông báo cho {label}. Gõ /huy để ngừng nhận.")]
    return await topics(ctx)


async def stop(msg: Incoming, ctx: Context) -> list[Reply]:
    """/huy: confirm stopping announcements."""
    return [Reply("Bạn muốn ngừng nhận thông báo?",
                  buttons=(Button("Hủy nhận tin", f"{UNSUB}off"), Button("Vẫn nhận", f"{UNSUB}keep")))]


async def stop_button(msg: Incoming, ctx: Context) -> list[Reply]:
    if (msg.button or "") != f"{UNSUB}off":
        return [Reply("Bạn vẫn tiếp tục nhận thông báo.")]
    if await unsubscribe(ctx.db, ctx.resident.id):
        return [Reply("Đã hủy: bạn sẽ không nhận thông báo nữa. Gõ /dangky nếu muốn nhận lại.")]
    return [Reply("Bạn chưa đăng ký nhận thông báo nào. Gõ /dangky để đăng ký.")]
