"""The resident's ward or commune: asked once by typed name (fuzzy, accent-free, old
names from before 1 July 2025 understood), then remembered; used to route questions to
the right Tổ CNS and for subscriptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, save_resident
from bot.handlers import prompt
from bot.replies import cancel_button, t
from bot.services.areas import AreaRow, find_area, list_areas
from bot.services.old_units import DISTRICT_KINDS, OldUnit, current, find_old, strip_kind

AREA = "a:"  # a:<area code>
PENDING = "area"
# What follows once the ward is known, by the name a caller gave `ask(..., then=NAME)`:
# "escalate" (pass the question to the team) and "subscribe" (choose topics). Filled by
# bot/handlers/__init__.py, which knows every handler, so this module imports none of them.
AFTER_AREA: dict[str, Callable[[Context], Awaitable[list[Reply]]]] = {}


async def old_units(ctx: Context) -> list[OldUnit]:
    return await current(ctx.db, ctx.settings.knowledge_dir / "old-units.csv")


def _in_sentence(label: str) -> str:
    """"Phường Thanh Khê" → "phường Thanh Khê" inside a sentence."""
    return label[:1].lower() + label[1:]


def resolve_old(typed: str, units: list[OldUnit], areas: list[AreaRow], english: bool = False) -> Reply | None:
    """What to tell a resident who typed the name of a former unit, with a button for
    each unit of today it went to (None: not an old name)."""
    found = find_old(typed, units)
    if not found:
        return None
    by_code = {a.code: a for a in areas}
    words = t(english)
    unit = found[0][0]
    targets: list[AreaRow] = []
    for u, _ in found:
        targets += [by_code[c] for c in u.new_codes if c in by_code and by_code[c] not in targets]
    if not targets:
        return None
    names = [_in_sentence(a.label) for a in targets]
    old = unit.label if len(found) == 1 else " / ".join(f"{u.label} ({u.district or u.province})" for u, _ in found)
    if len(found) == 1 and unit.kind in DISTRICT_KINDS:
        text = words["old_district"].format(old=old, news=", ".join(names))
    elif len(targets) == 1:
        text = words["old_one"].format(old=old, new=names[0])
    else:
        joiner = " or " if english else " hoặc "
        text = words["old_many"].format(old=old, news=", ".join(names[:-1]) + joiner + names[-1])
    buttons = tuple(Button(a.label, AREA + a.code) for a in targets) + (cancel_button(english),)
    return Reply(text, buttons=buttons)


async def ask(ctx: Context, then: str | None = None) -> list[Reply]:
    """Ask the resident for their ward; `then` names what to do once it is known."""
    state = ctx.state
    state["pending"] = PENDING
    state.pop("area_options", None)
    if then:
        state["after_area"] = then
    else:
        state.pop("after_area", None)
    await save_resident(ctx.db, ctx.resident, state=state)
    return [Reply(t(ctx.english)["ask_area"], buttons=(cancel_button(ctx.english),))]


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


async def _offer(ctx: Context, reply: Reply) -> list[Reply]:
    """Show choices and remember them (a typed "có" takes the only one)."""
    state = ctx.state
    state["area_options"] = [b.payload[len(AREA):] for b in reply.buttons if b.payload.startswith(AREA)]
    await save_resident(ctx.db, ctx.resident, state=state)
    return [reply]


async def handle_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """The resident typed something while we were asking for their ward."""
    words = t(ctx.english)
    text = (msg.text or "").strip()
    areas = await list_areas(ctx.db)
    options = ctx.state.get("area_options") or []
    if prompt.is_yes(text) and len(options) == 1:
        chosen = next((a for a in areas if a.code == options[0]), None)
        if chosen is not None:
            return await _set(ctx, chosen)
    _, kind = strip_kind(text)
    found = [] if kind in DISTRICT_KINDS else find_area(text, areas)
    score = found[0][1] if found else 0.0
    units = await old_units(ctx)
    old = find_old(text, units)
    old_score = old[0][1] if old else 0.0
    if score >= 90 and (len(found) < 2 or found[1][1] < score) and (score == 100 or score > old_score):
        return await _set(ctx, found[0][0])
    if old:
        reply = resolve_old(text, units, areas, ctx.english)
        if reply is not None:
            return await _offer(ctx, reply)
    if (score < 80 or len(text.split()) >= 5 or "?" in text) and await prompt.looks_like_question(text, ctx):
        return await prompt.leave_and_answer(msg, ctx)
    if score < 60:
        return [Reply(words["area_not_found"], buttons=(cancel_button(ctx.english),))]
    best = found[0][0]
    close = [a for a, s in found if s >= 60 and best.name != a.name or a is best]
    buttons = tuple(Button(a.label, AREA + a.code) for a in close[:3]) + (cancel_button(ctx.english),)
    return await _offer(ctx, Reply(words["area_choose"], buttons=buttons))


async def handle_button(msg: Incoming, ctx: Context) -> list[Reply]:
    code = (msg.button or "")[len(AREA):]
    area = next((a for a in await list_areas(ctx.db) if a.code == code), None)
    if area is None:
        return await ask(ctx, then=ctx.state.get("after_area"))
    return await _set(ctx, area)


async def _set(ctx: Context, area: AreaRow) -> list[Reply]:
    state = ctx.state
    state.pop("pending", None)
    state.pop("area_options", None)
    then = state.pop("after_area", None)
    await save_resident(ctx.db, ctx.resident, area_code=area.code, state=state)
    replies = [Reply(t(ctx.english)["area_saved"].format(area=area.label))]
    if then in AFTER_AREA:
        replies += await AFTER_AREA[then](ctx)
    return replies
