"""Messages for a resident that their channel cannot push (the web chat fetches them
when the page next asks), or that could not be sent yet."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.channels.base import Button, Link, Reply
from bot.clock import now as utcnow
from bot.storage.db import Database
from bot.storage.models import Delivery, Resident

__all__ = ["store", "take"]


async def store(db: Database, channel: str, chat: str, reply: Reply) -> None:
    payload = {
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
        "links": [{"label": x.label, "url": x.url} for x in reply.links],
    }
    async with db.session() as session, session.begin():
        session.add(Delivery(channel=channel, chat=chat, payload=payload))
        # Private chats: the chat id is the resident's id on the platform.
        await session.execute(
            update(Resident).where(Resident.channel == channel, Resident.platform_user_id == chat).values(waiting=True)
        )


async def take(db: Database, channel: str, chat: str) -> list[Reply]:
    """Pending messages for a chat, oldest first; marked delivered."""
    async with db.session() as session, session.begin():
        rows = (await session.scalars(
            select(Delivery).where(Delivery.channel == channel, Delivery.chat == chat, Delivery.delivered_at.is_(None))
            .order_by(Delivery.id)
        )).all()
        if rows:
            await session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows])).values(delivered_at=utcnow()))
        await session.execute(
            update(Resident).where(Resident.channel == channel, Resident.platform_user_id == chat).values(waiting=False)
        )
    return [
        Reply(r.payload["text"], tuple(Button(**b) for b in r.payload.get("buttons", [])),
              tuple(Link(**x) for x in r.payload.get("links", [])))
        for r in rows
    ]
