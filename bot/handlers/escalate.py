"""Passing a question to a person: the resident's last question (or the one typed after
/hoi) becomes a ticket for the Tổ CNS of their ward, with the assistant's best guesses.
The resident is told honestly when to expect an answer."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, await_reply, save_resident
from bot.handlers import area
from bot.redact import redact
from bot.replies import ESCALATE, cancel_button, t
from bot.services import teams
from bot.storage.models import Ticket

PENDING = "person"
NEW = "h:new"  # the web chat's always-visible "Gặp người thật"


async def handle_button(msg: Incoming, ctx: Context) -> list[Reply]:
    """The one-tap offer after "no answer yet" (or after a 👎, or asking for a person in
    words): the last question goes to a person; without one, the resident is asked for it."""
    if not (ctx.state.get("last_question") or {}).get("text"):
        return await ask_question(ctx)
    if not ctx.resident.area_code:
        return await area.ask(ctx, then="escalate")
    return await create(ctx)


async def handle_command(msg: Incoming, ctx: Context) -> list[Reply]:
    """/hoi [question]: ask a person directly."""
    text = (msg.text or "").partition(" ")[2].strip()
    if not text:
        return await ask_question(ctx)
    return await handle_text(Incoming(**{**msg.__dict__, "text": text}), ctx)


async def handle_new(msg: Incoming, ctx: Context) -> list[Reply]:
    """"Gặp người thật" at any time: type what to ask; the last question (if any) can be
    passed on with one tap instead."""
    replies = await ask_question(ctx)
    last = (ctx.state.get("last_question") or {}).get("text")
    if last:
        words = t(ctx.english)
        short = last if len(last) <= 80 else last[:77] + "…"
        replies = [Reply(words["ask_person_or_last"].format(question=short),
                         buttons=(Button(words["pass_last"], ESCALATE), cancel_button(ctx.english)))]
    return replies


async def ask_question(ctx: Context) -> list[Reply]:
    """"What would you like to ask a person?" (with a Thôi / Cancel button)."""
    return await await_reply(ctx, PENDING, t(ctx.english)["ask_person"])


async def handle_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """The question typed after /hoi."""
    state = ctx.state
    state.pop("pending", None)
    state["last_question"] = {"id": None, "text": redact(msg.text or "")[:1000], "suggestions": []}
    await save_resident(ctx.db, ctx.resident, state=state)
    if not ctx.resident.area_code:
        return await area.ask(ctx, then="escalate")
    return await create(ctx)


async def create(ctx: Context) -> list[Reply]:
    """Make the ticket, tell the area's team, and tell the resident what to expect."""
    from bot.handlers.team_reply import notification

    last = ctx.state.get("last_question") or {}
    text = last.get("text")
    if not text:
        return [Reply(t(ctx.english)["no_question"])]
    team = await teams.team_for_area(ctx.db, ctx.resident.area_code)
    async with ctx.db.session() as session, session.begin():
        ticket = Ticket(
            resident_id=ctx.resident.id, channel=ctx.resident.channel, chat=ctx.resident.platform_user_id,
            area_code=ctx.resident.area_code, question=redact(text), suggestions=list(last.get("suggestions") or []),
            display_name=ctx.resident.display_name, team_id=team[0] if team else None,
        )
        session.add(ticket)
        await session.flush()
        ticket_id = ticket.id
        # In the ticket's transaction: should the resident's state have changed since it
        # was read (`StaleResident`, the message is handled again), no ticket is left behind.
        state = ctx.state
        state.pop("last_question", None)
        await save_resident(await session.connection(), ctx.resident, state=state)
    view = await teams.ticket(ctx.db, ticket_id)
    if team is not None and view is not None:
        for member in await teams.members_of(ctx.db, team[0]):
            await ctx.push(member.channel, member.chat, notification(view))
        label = team[1]
        key = "escalated"
    else:
        label = await area.label_of(ctx, ctx.resident.area_code)
        key = "escalated_city"
    return [Reply(t(ctx.english)[key].format(ticket=ticket_id, area=label, hours=ctx.settings.team_target_hours))]
