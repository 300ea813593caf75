"""Per-resident conversation state: who they are on which channel, their language and
ward, and what the assistant is waiting for from them.

Handlers get a `Context` with the resident already loaded; they change the state
through the helpers here, so the rules of what is stored live in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels.base import Reply
from bot.clock import now as utcnow
from bot.pseudonyms import resident_hash
from bot.ratelimit import SharedWindow, SlidingWindow
from bot.replies import cancel_button
from bot.services.knowledge import KnowledgeBase
from bot.settings import Settings
from bot.storage.db import Database, rowcount
from bot.storage.models import ChatHistory, Delivery, OutboxItem, QuestionLog, Resident, Ticket

__all__ = ["Context", "FloodGuard", "StaleResident", "await_reply", "handling", "load_resident", "replayed", "save_resident",
           "save_states", "forget_resident"]

#: The inbox item being handled in this task ("channel:external id"), set by the channel.
HANDLING: ContextVar[str | None] = ContextVar("handling", default=None)
#: Where the state keeps what the resident was before the item being handled changed it.
REPLAY = "_replay"
#: The fields a handler may change, restored when an item is handled again.
RESTORED = ("state", "area_code", "language", "source", "consent_subscribe_at")


class StaleResident(Exception):
    """A resident's state was written by someone else since it was read (its `version`
    moved on): the write is refused, and the message is handled again on a fresh read."""


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
    Given a connection, it writes inside that transaction.

    Compare-and-set: the row is written only if its `version` is still the one read
    (then bumped); otherwise `StaleResident` is raised and nothing is written, so a
    write based on an older read never overwrites a newer one."""
    changes = _stamped(resident, changes)
    changes.setdefault("last_seen_at", utcnow())
    version = resident.version or 0
    table = Resident.__table__
    statement = (update(table).where(table.c.id == resident.id, table.c.version == version)
                 .values(**changes, version=version + 1))
    if isinstance(db, AsyncConnection):
        result = await db.execute(statement)
    else:
        async with db.engine.begin() as conn:
            result = await conn.execute(statement)
    if result.rowcount != 1:
        raise StaleResident(f"resident {resident.id} changed since it was read (version {version})")
    for name, value in changes.items():
        setattr(resident, name, value)
    resident.version = version + 1


def handling(channel: str, external: str) -> None:
    """Mark the inbox item this task now handles (see `replayed`)."""
    HANDLING.set(f"{channel}:{external}")


def _stamped(resident: Resident, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes, with the resident as they were before the item being handled first
    changed them (kept in the state, written in the same UPDATE). A write outside an
    item's handling drops it."""
    item = HANDLING.get()
    current = resident.state or {}
    if item is None:
        if "state" in changes and REPLAY in (changes["state"] or {}):
            changes = {**changes, "state": {k: v for k, v in changes["state"].items() if k != REPLAY}}
        return changes
    mark = current.get(REPLAY)
    if isinstance(mark, dict) and mark.get("item") == item:
        before = mark["before"]
    else:
        before = {name: getattr(resident, name) for name in RESTORED}
        before["state"] = {k: v for k, v in current.items() if k != REPLAY}
        if isinstance(before["consent_subscribe_at"], dt.datetime):
            before["consent_subscribe_at"] = before["consent_subscribe_at"].isoformat()
    state = dict(changes.get("state", current) or {})
    state[REPLAY] = {"item": item, "before": before}
    return {**changes, "state": state}


def replayed(resident: Resident) -> bool:
    """Put back what the resident was before the item being handled changed them, when
    its change was committed but the item was not finished (a worker killed between
    the two): handled again from where it started, the item gets the same replies, not
    the ones its own change would give (a ward name taken for a question)."""
    item = HANDLING.get()
    mark = (resident.state or {}).get(REPLAY)
    if item is None or not isinstance(mark, dict) or mark.get("item") != item:
        return False
    before = dict(mark["before"])
    if before.get("consent_subscribe_at"):
        before["consent_subscribe_at"] = dt.datetime.fromisoformat(before["consent_subscribe_at"])
    for name in RESTORED:
        setattr(resident, name, before.get(name))
    resident.state = {**(before.get("state") or {}), REPLAY: mark}
    return True


async def await_reply(ctx: Context, pending: str, text: str) -> list[Reply]:
    """Ask `text` and take the resident's next message as the answer (state `pending`),
    with the cancel button every prompt has."""
    state = ctx.state
    state["pending"] = pending
    await save_resident(ctx.db, ctx.resident, state=state)
    return [Reply(text, buttons=(cancel_button(ctx.english),))]


async def save_states(conn: AsyncConnection, states: Sequence[tuple[int, int, dict[str, Any]]]) -> list[bool]:
    """Save the conversation state of several residents (resident id, version read,
    state) in the caller's transaction, each only if its version is still the one read
    (compare-and-set; the version is bumped). Run in the order of their ids (two
    PostgreSQL workers saving overlapping groups then lock rows in the same order and
    cannot deadlock). Returns, per item in the given order, whether it was written; where
    the driver counts the rows of a many-row statement (SQLite) the group is one
    statement, and one refused write marks every item False (the caller rolls back)."""
    table = Resident.__table__
    now = utcnow()
    ordered = sorted(states, key=lambda s: s[0])
    if len(ordered) > 1 and conn.dialect.supports_sane_multi_rowcount:
        # One statement for the group (executemany). Each row is one resident (its id), so
        # the rows written add up to the group's size exactly when every one was written;
        # otherwise the caller's transaction is rolled back and the writes retried alone.
        statement = (update(table).where(table.c.id == bindparam("rid"), table.c.version == bindparam("read"))
                     .values(state=bindparam("new_state"), last_seen_at=now, version=bindparam("bumped")))
        result = await conn.execute(statement, [{"rid": rid, "read": version, "new_state": state, "bumped": version + 1}
                                                for rid, version, state in ordered])
        every = result.rowcount == len(ordered)
        return [every] * len(states)
    written: dict[int, bool] = {}
    for rid, version, state in ordered:
        result = await conn.execute(
            update(table).where(table.c.id == rid, table.c.version == version)
            .values(state=state, last_seen_at=now, version=version + 1))
        written[rid] = result.rowcount == 1
    return [written[rid] for rid, _, _ in states]


async def forget_resident(db: Database, resident: Resident, salt: str) -> dict[str, int]:
    """Delete everything stored about a resident (`/xoadulieu`):
    - the resident's row (conversation state, name, consents; subscriptions go with it);
    - question-log rows lose the link to the person (the hash is replaced) and their text,
      keeping only the anonymous counts;
    - tickets lose the question, the answer, the name and the chat; a waiting ticket
      (open, claimed) is closed, an answered or refused one keeps its state, so the
      teams' figures do not change;
    - the raw inbox items from or to the account, the messages kept for it
      (`deliveries`, the web chat's later answers), and its chat id in campaign rows.
    Returns what was deleted, for the reply."""
    from bot.channels import inbox

    h = resident_hash(resident.channel, resident.platform_user_id, salt)
    async with db.session() as session, session.begin():
        questions = await session.execute(
            update(QuestionLog).where(QuestionLog.resident_hash == h).values(resident_hash="deleted", normalized="")
        )
        await session.execute(
            update(Ticket).where(Ticket.resident_id == resident.id, Ticket.status.in_(("open", "claimed"))).values(status="closed")
        )
        tickets = await session.execute(
            update(Ticket).where(Ticket.resident_id == resident.id)
            .values(question="", answer="", display_name="", chat="", resident_id=None)
        )
        await session.execute(delete(Delivery).where(Delivery.channel == resident.channel,
                                                     Delivery.chat == resident.platform_user_id))
        await session.execute(update(OutboxItem).where(OutboxItem.resident_id == resident.id, OutboxItem.status == "queued")
                              .values(status="skipped", chat=""))
        await session.execute(update(OutboxItem).where(OutboxItem.resident_id == resident.id, OutboxItem.status != "sending")
                              .values(chat=""))
        await session.execute(delete(Resident).where(Resident.id == resident.id))
        await session.execute(delete(ChatHistory).where(ChatHistory.channel == resident.channel,
                                                        ChatHistory.chat == resident.platform_user_id))
    await inbox.forget(db, resident.channel, resident.platform_user_id)
    return {"questions": rowcount(questions), "tickets": rowcount(tickets)}


class FloodGuard:
    """At most `limit` typed messages per `window` seconds per resident.

    One process (SQLite): counted in memory, in a sliding window. PostgreSQL, where
    several workers share the residents: counted in the database (`SharedWindow`, fixed
    windows, so at most twice the limit across a window's edge), so a resident whose
    messages are spread over two workers meets the same limit as with one.

    Parameters:
        limit: typed messages allowed per window.
        window: seconds.
        shared: count in the database (every worker sees the same counts).
    """

    def __init__(self, limit: int = 20, window: float = 60.0, shared: bool = False) -> None:
        self._local = SlidingWindow(limit, window)
        self._shared = SharedWindow("flood", limit, window) if shared else None

    async def allow(self, db: Database, key: str) -> bool:
        """Count one message of `key`; False when the resident is over the limit."""
        if self._shared is None:
            return self._local.allow(key)
        return await self._shared.allow(db, key)


def today() -> dt.date:
    return utcnow().date()
