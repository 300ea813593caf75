"""Per-resident conversation state: who they are on which channel, their language and
ward, and what the assistant is waiting for from them.

Handlers get a `Context` with the resident already loaded; they change the state
through the helpers here, so the rules of what is stored live in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels.base import Reply
from bot.clock import now as utcnow
from bot.pseudonyms import resident_hash
from bot.ratelimit import SlidingWindow
from bot.services.knowledge import KnowledgeBase
from bot.settings import Settings
from bot.storage.db import Database, rowcount
from bot.storage.models import ChatHistory, QuestionLog, Resident, Ticket

__all__ = ["Context", "FloodGuard", "load_resident", "save_resident", "save_states", "forget_resident"]


async def _no_push(channel: str, chat: str, reply: Reply) -> bool:
    return False


@dataclass
class Context:
    """What a handler needs besides the message."""

    db: Database
    kb: KnowledgeBase
    settings: Settings
    resident: Resident
    # Send a message to another chat (a team member, a resident answered later):
    # push(channel, chat, reply) -> delivered now (False: stored for later, or unreachable).
    push: Callable[[str, str, Reply], Awaitable[bool]] = field(default=_no_push)
    # Set when the resident's data was deleted (/xoadulieu): nothing more is stored.
    forgotten: bool = False

    @property
    def english(self) -> bool:
        return self.resident.language == "en"

    @property
    def state(self) -> dict[str, Any]:
        return dict(self.resident.state or {})


async def load_resident(db: Database, channel: str, user: str, display_name: str = "") -> Resident:
    """The resident for a chat account, created on first contact.

    On the hot path of every message: the loads of residents writing at the same time
    are one SELECT (plus one INSERT for the new ones) through the database's group
    commit; `last_seen_at` is refreshed by `save_resident`, not here.
    """
    row = await db.group("residents", _load_residents).submit((channel, user, display_name))
    return Resident(**row)


async def _load_residents(db: Database, wanted: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Rows for (channel, user, display name) requests, creating the missing ones
    (a resident created meanwhile by another process is read, not duplicated)."""
    table = Resident.__table__
    found: dict[tuple[str, str], dict[str, Any]] = {}

    async def read(conn: AsyncConnection, keys: set[tuple[str, str]]) -> None:
        for channel in {c for c, _ in keys}:
            users = sorted(u for c, u in keys if c == channel)
            rows = await conn.execute(select(table).where(table.c.channel == channel, table.c.platform_user_id.in_(users)))
            for row in rows.mappings():
                found[(row["channel"], row["platform_user_id"])] = dict(row)

    async with db.engine.begin() as conn:
        await read(conn, {(c, u) for c, u, _ in wanted})
        now = utcnow()
        new: dict[tuple[str, str], dict[str, Any]] = {}
        for channel, user, name in wanted:
            if (channel, user) not in found and (channel, user) not in new:
                new[(channel, user)] = {"channel": channel, "platform_user_id": user, "display_name": name[:100],
                                        "state": {}, "language": "vi", "created_at": now, "last_seen_at": now}
        if new:
            await conn.execute(db.insert_new(table), list(new.values()))
            await read(conn, set(new))
    return [found[(c, u)] for c, u, _ in wanted]


async def save_resident(db: Database | AsyncConnection, resident: Resident, **changes: Any) -> None:
    """Change fields of a resident (state, language, area_code, consent times...).
    Given a connection, it writes inside that transaction."""
    for name, value in changes.items():
        setattr(resident, name, value)
    changes.setdefault("last_seen_at", utcnow())
    statement = update(Resident.__table__).where(Resident.__table__.c.id == resident.id).values(**changes)
    if isinstance(db, AsyncConnection):
        await db.execute(statement)
        return
    async with db.engine.begin() as conn:
        await conn.execute(statement)


async def save_states(conn: AsyncConnection, states: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Save the conversation state of several residents (resident id, state) in the
    caller's transaction: one statement, run for each, in the order of their ids (two
    PostgreSQL workers saving overlapping groups then lock rows in the same order and
    cannot deadlock)."""
    table = Resident.__table__
    statement = (update(table).where(table.c.id == bindparam("resident_id"))
                 .values(state=bindparam("new_state"), last_seen_at=bindparam("seen_at")))
    now = utcnow()
    await conn.execute(statement, [{"resident_id": rid, "new_state": state, "seen_at": now}
                                   for rid, state in sorted(states, key=lambda s: s[0])])


async def forget_resident(db: Database, resident: Resident, salt: str) -> dict[str, int]:
    """Delete everything stored about a resident. Question-log rows lose the link to the
    person (the hash is replaced) and keep only the anonymous counts; open tickets are
    closed and their text removed. Returns what was deleted, for the reply."""
    h = resident_hash(resident.channel, resident.platform_user_id, salt)
    async with db.session() as session, session.begin():
        questions = await session.execute(
            update(QuestionLog).where(QuestionLog.resident_hash == h).values(resident_hash="deleted", normalized="")
        )
        tickets = await session.execute(
            update(Ticket)
            .where(Ticket.resident_id == resident.id)
            .values(question="", chat="", status="closed", resident_id=None)
        )
        await session.execute(delete(Resident).where(Resident.id == resident.id))
        await session.execute(delete(ChatHistory).where(ChatHistory.channel == resident.channel,
                                                        ChatHistory.chat == resident.platform_user_id))
    return {"questions": rowcount(questions), "tickets": rowcount(tickets)}


class FloodGuard(SlidingWindow):
    """At most `limit` typed messages per `window` seconds per resident (this process)."""

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        super().__init__(limit, window)


def today() -> dt.date:
    return utcnow().date()
