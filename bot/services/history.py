"""The web chat's conversation as the resident saw it, so that a reload (or coming back
the next day) shows it again: `GET /chat/api/history`. Only the web chat keeps one (the
other channels' apps keep their own). Kept as long as the question log, deleted by
/xoadulieu (`bot.conversation.forget_resident`) and by the retention purge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select

from bot.channels.base import Reply
from bot.storage.db import Database
from bot.storage.models import ChatHistory

__all__ = ["CHANNELS", "record", "messages", "purge", "LIMIT"]

CHANNELS = {"web"}
LIMIT = 200  # the last messages shown after a reload


def _buttons(reply: Reply) -> list[dict[str, str]]:
    return [{"label": b.label, "payload": b.payload} for b in reply.buttons]


async def record(db: Database, channel: str, chat: str, said: str | None, replies: list[Reply]) -> None:
    """Add what the resident said (None: nothing to show, e.g. the automatic /start) and
    the replies."""
    if channel not in CHANNELS:
        return
    rows = []
    if said:
        rows.append(ChatHistory(channel=channel, chat=chat, sender="resident", text=said[:4000], buttons=[], links=[]))
    rows += [ChatHistory(channel=channel, chat=chat, sender="assistant", text=r.text, buttons=_buttons(r),
                         links=[{"label": x.label, "url": x.url} for x in r.links]) for r in replies]
    if not rows:
        return
    async with db.session() as session, session.begin():
        session.add_all(rows)


async def label_of(db: Database, channel: str, chat: str, payload: str) -> str | None:
    """The label of a button the resident tapped (from the last replies that showed it)."""
    async with db.session() as session:
        rows = (await session.scalars(
            select(ChatHistory.buttons).where(ChatHistory.channel == channel, ChatHistory.chat == chat,
                                              ChatHistory.sender == "assistant")
            .order_by(ChatHistory.id.desc()).limit(20))).all()
    for buttons in rows:
        for b in buttons or []:
            if b.get("payload") == payload:
                return str(b.get("label") or "") or None
    return None


async def messages(db: Database, channel: str, chat: str, limit: int = LIMIT) -> list[dict[str, Any]]:
    async with db.session() as session:
        rows = (await session.scalars(
            select(ChatHistory).where(ChatHistory.channel == channel, ChatHistory.chat == chat)
            .order_by(ChatHistory.id.desc()).limit(limit))).all()
    return [{"from": r.sender, "text": r.text, "buttons": list(r.buttons or []), "links": list(r.links or [])}
            for r in reversed(rows)]


async def purge(db: Database, before: dt.datetime) -> int:
    async with db.engine.begin() as conn:
        t = ChatHistory.__table__
        return int((await conn.execute(delete(t).where(t.c.created_at < before))).rowcount or 0)
