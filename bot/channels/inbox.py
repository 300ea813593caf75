"""The inbox: every update a channel receives is stored (keyed by the platform's id)
before it is confirmed to the platform, then processed from here.

- `store`: insert a batch in one transaction; returns only the items not seen before,
  so an update the platform delivers twice is processed once.
- `pending`: what was received but not answered (resumed at start).
- `finish`: mark an item done (or failed, after the resident got an apology); items
  finished at the same time are written together. A finished item keeps its texts only
  redacted (phone, ID-card numbers and e-mail addresses masked, `bot/redact.py`) for the
  `RAW_KEEP` days it stays (bot/reports/retention.py).
- `forget`: delete every item of one chat account (`/xoadulieu`).
- `reject`: an item the channel cannot decode (a malformed update, with the right
  secret): marked failed, logged and counted (`cdsbot_inbox_undecodable`), so it never
  stops a start or the items behind it.

- `store` also records whose an item is (`resident`, the platform's user id) and its
  place in the platform's order (`seq`: Telegram's `update_id`); `next_of` gives a
  resident's oldest unhandled items, which `bot/channels/ordered.py` handles one at a
  time per resident, across workers.

Bound on duplicates after a crash: an update whose reply was sent but not yet marked
done is answered again at restart; at most the updates in flight at that moment
(the channel's concurrency: TELEGRAM_CONCURRENCY, by default 128 on SQLite and 32 on
PostgreSQL), per worker killed.
An update whose change to the resident was saved but whose reply was not sent is
handled again from the resident as they were before it (`bot.conversation.replayed`),
so it gets the reply it would have got: a ward's name is not taken for a question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from bot import metrics
from bot.redact import redact
from bot.storage.db import Database
from bot.storage.models import InboxItem

__all__ = ["backlog", "finish", "forget", "next_of", "pending", "pending_residents", "reject", "redacted", "store"]

#: Keys whose string values are what a person wrote (Telegram, Zalo Bot, Zalo OA).
TEXT_KEYS = frozenset({"text", "caption"})
#: Keys whose object's `id` is a chat account (Telegram from/chat, Zalo Bot from/chat, OA sender/follower).
PERSON_KEYS = frozenset({"from", "chat", "sender", "follower"})

logger = logging.getLogger(__name__)
Order = Callable[[dict[str, Any]], tuple[str | None, int | None]]  # payload -> (resident, seq)


def _unordered(payload: dict[str, Any]) -> tuple[str | None, int | None]:
    return None, None


async def store(db: Database, channel: str, items: Sequence[tuple[str, dict[str, Any]]],
                order: Order = _unordered) -> list[tuple[str, dict[str, Any]]]:
    """Insert new items; return those that were not already in the inbox. `order` tells
    whose each item is and its place in the platform's order."""
    if not items:
        return []
    ids = [external for external, _ in items]
    table = InboxItem.__table__
    async with db.engine.begin() as conn:
        known = set((await conn.execute(
            select(table.c.external_id).where(table.c.channel == channel, table.c.external_id.in_(ids))
        )).scalars())
        fresh = []
        for external, payload in items:
            if external in known:
                continue
            known.add(external)
            fresh.append((external, payload))
        if fresh:
            rows = []
            for external, payload in fresh:
                resident, seq = order(payload)
                rows.append({"channel": channel, "external_id": external, "payload": payload,
                             "resident": resident, "seq": seq})
            await conn.execute(insert(table), rows)
    return fresh


async def next_of(db: Database, channel: str, resident: str, limit: int = 1) -> list[tuple[str, dict[str, Any], int | None]]:
    """A resident's oldest unhandled items, at most `limit` (platform order, then
    arrival): external id, payload, seq. The requests of residents asking at the same
    time are one query (group commit: one statement per group, not per resident)."""
    return await db.group("inbox-next", _next_of).submit((channel, resident, limit))


async def _next_of(db: Database, wanted: Sequence[tuple[str, str, int]]) -> list[list[tuple[str, dict[str, Any], int | None]]]:
    table = InboxItem.__table__
    found: dict[tuple[str, str], list[tuple[str, dict[str, Any], int | None]]] = {}
    async with db.engine.connect() as conn:
        for channel in sorted({c for c, _, _ in wanted}):
            residents = sorted({r for c, r, _ in wanted if c == channel})
            most = max(n for c, _, n in wanted if c == channel)
            place = func.row_number().over(partition_by=table.c.resident, order_by=(table.c.seq, table.c.id)).label("place")
            ranked = (select(table.c.resident, table.c.external_id, table.c.payload, table.c.seq, place)
                      .where(table.c.channel == channel, table.c.resident.in_(residents), table.c.status == "received")
                      .subquery())
            rows = await conn.execute(select(ranked.c.resident, ranked.c.external_id, ranked.c.payload, ranked.c.seq)
                                      .where(ranked.c.place <= most).order_by(ranked.c.resident, ranked.c.place))
            for row in rows:
                found.setdefault((channel, row[0]), []).append((row[1], row[2], row[3]))
    return [found.get((c, r), [])[:n] for c, r, n in wanted]


async def pending_residents(db: Database, channel: str, below_id: int | None = None,
                            limit: int = 10_000) -> list[str]:
    """Residents with unhandled items (those stored before `below_id`, when given)."""
    table = InboxItem.__table__
    query = select(table.c.resident).where(table.c.channel == channel, table.c.status == "received",
                                           table.c.resident.is_not(None))
    if below_id is not None:
        query = query.where(table.c.id < below_id)
    async with db.engine.connect() as conn:
        return list(dict.fromkeys((await conn.execute(query.order_by(table.c.id).limit(limit))).scalars()))


async def last_id(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.max(InboxItem.__table__.c.id)))).scalar() or 0)


async def pending(db: Database, channel: str, limit: int = 10_000) -> list[tuple[str, dict[str, Any]]]:
    """Items received but not finished whose resident is not known (stored before the
    order columns existed, or not from a resident), oldest first."""
    async with db.session() as session:
        rows = (await session.scalars(
            select(InboxItem).where(InboxItem.channel == channel, InboxItem.status == "received",
                                    InboxItem.resident.is_(None))
            .order_by(InboxItem.id).limit(limit)
        )).all()
    return [(r.external_id, r.payload) for r in rows]


async def finish(db: Database, channel: str, external_id: str, status: str = "done",
                 payload: dict[str, Any] | None = None) -> None:
    """Mark an item done (or failed). Items finished at the same time are one UPDATE per
    status (group commit). `payload`: the item as stored, when the caller holds it; its
    redaction is then worked out from it instead of reading it back."""
    await db.group("inbox", _finish).submit((channel, external_id, status, payload))


async def reject(db: Database, channel: str, external_id: str, why: BaseException | str) -> None:
    """An item that cannot be decoded: failed, logged (without its content) and counted."""
    reason = why if isinstance(why, str) else why.__class__.__name__
    logger.warning("%s: received item %s cannot be decoded (%s): marked failed, skipped", channel, external_id, reason)
    metrics.INBOX_UNDECODABLE.labels(channel).inc()
    await finish(db, channel, external_id, "failed")


def redacted(value: Any, key: str = "") -> Any:
    """A payload with the texts people wrote redacted (ids and the rest unchanged)."""
    if isinstance(value, dict):
        return {k: redacted(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v, key) for v in value]
    if isinstance(value, str) and key in TEXT_KEYS:
        return redact(value)
    return value


def people(value: Any) -> set[str]:
    """The chat accounts an item is from or to (the `id` of its from/chat/sender/follower objects)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in PERSON_KEYS and isinstance(v, dict) and v.get("id") not in (None, ""):
                found.add(str(v["id"]))
            found |= people(v)
    elif isinstance(value, list):
        for v in value:
            found |= people(v)
    return found


async def _finish(db: Database, items: Sequence[tuple[str, str, str, dict[str, Any] | None]]) -> list[None]:
    table = InboxItem.__table__
    async with db.engine.begin() as conn:
        for channel, status in sorted({(c, s) for c, _, s, _ in items}):
            ids = [e for c, e, s, _ in items if c == channel and s == status]
            await conn.execute(update(table).where(table.c.channel == channel, table.c.external_id.in_(ids))
                               .values(status=status))
        # Answered: the words stay only redacted (most items hold no number: only those are written).
        for channel, external, _, payload in items:
            if payload is not None and (masked := redacted(payload)) != payload:
                await conn.execute(update(table).where(table.c.channel == channel, table.c.external_id == external)
                                   .values(payload=masked))
        for channel in sorted({c for c, _, _, p in items if p is None}):  # payloads the callers did not hold
            ids = [e for c, e, _, p in items if c == channel and p is None]
            rows = (await conn.execute(select(table.c.id, table.c.payload)
                                       .where(table.c.channel == channel, table.c.external_id.in_(ids)))).all()
            changed = [(row.id, masked) for row in rows if (masked := redacted(row.payload)) != row.payload]
            for row_id, masked in changed:
                await conn.execute(update(table).where(table.c.id == row_id).values(payload=masked))
    return [None] * len(items)


async def forget(db: Database, channel: str, user: str, batch: int = 1000) -> int:
    """Delete every inbox item from or to a chat account; returns how many."""
    table = InboxItem.__table__
    deleted, after = 0, 0
    while True:  # in batches: the inbox holds RAW_KEEP days of every resident's messages
        async with db.engine.begin() as conn:
            rows = (await conn.execute(select(table.c.id, table.c.payload).where(table.c.channel == channel, table.c.id > after)
                                       .order_by(table.c.id).limit(batch))).all()
            if not rows:
                return deleted
            after = rows[-1].id
            mine = [row.id for row in rows if user in people(row.payload)]
            if mine:
                deleted += (await conn.execute(delete(table).where(table.c.id.in_(mine)))).rowcount or 0


async def backlog(db: Database) -> dict[str, int]:
    """Items received and not yet answered, per channel (for /metrics)."""
    async with db.session() as session:
        rows = (await session.execute(
            select(InboxItem.channel, func.count()).where(InboxItem.status == "received").group_by(InboxItem.channel)
        )).all()
    return {channel: int(n) for channel, n in rows}
