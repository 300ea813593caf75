"""The inbox: every update a channel receives is stored (keyed by the platform's id)
before it is confirmed to the platform, then processed from here.

- `store`: insert a batch in one transaction; returns only the items not seen before,
  so an update the platform delivers twice is processed once.
- `pending`: what was received but not answered (resumed at start).
- `finish`: mark an item done (or failed, after the resident got an apology); items
  finished at the same time are written together.

- `store` also records whose an item is (`resident`, the platform's user id) and its
  place in the platform's order (`seq`: Telegram's `update_id`); `next_of` gives a
  resident's oldest unhandled item, which `bot/channels/ordered.py` handles one at a
  time per resident, across workers.

Bound on duplicates after a crash: an update whose reply was sent but not yet marked
done is answered again at restart; at most the updates in flight at that moment
(the channel's concurrency: TELEGRAM_CONCURRENCY, 32 by default), per worker killed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from bot.storage.db import Database
from bot.storage.models import InboxItem

__all__ = ["backlog", "finish", "finish_now", "next_of", "pending", "pending_residents", "store"]

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


async def next_of(db: Database, channel: str, resident: str) -> tuple[str, dict[str, Any], int | None] | None:
    """A resident's oldest unhandled item (platform order, then arrival): external id,
    payload, seq."""
    table = InboxItem.__table__
    async with db.engine.connect() as conn:
        row = (await conn.execute(
            select(table.c.external_id, table.c.payload, table.c.seq)
            .where(table.c.channel == channel, table.c.resident == resident, table.c.status == "received")
            .order_by(table.c.seq, table.c.id).limit(1)
        )).first()
    return (row[0], row[1], row[2]) if row is not None else None


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


async def finish_now(db: Database, channel: str, external_id: str, status: str = "done") -> None:
    """Mark one item done (or failed) in its own transaction, committed on return."""
    table = InboxItem.__table__
    async with db.engine.begin() as conn:
        await conn.execute(update(table).where(table.c.channel == channel, table.c.external_id == external_id)
                           .values(status=status))


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


async def finish(db: Database, channel: str, external_id: str, status: str = "done") -> None:
    """Mark an item done (or failed). Items finished at the same time are one UPDATE per
    status (group commit)."""
    await db.group("inbox", _finish).submit((channel, external_id, status))


async def _finish(db: Database, items: Sequence[tuple[str, str, str]]) -> list[None]:
    table = InboxItem.__table__
    async with db.engine.begin() as conn:
        for channel, status in sorted({(c, s) for c, _, s in items}):
            ids = [e for c, e, s in items if c == channel and s == status]
            await conn.execute(update(table).where(table.c.channel == channel, table.c.external_id.in_(ids))
                               .values(status=status))
    return [None] * len(items)


async def backlog(db: Database) -> dict[str, int]:
    """Items received and not yet answered, per channel (for /metrics)."""
    async with db.session() as session:
        rows = (await session.execute(
            select(InboxItem.channel, func.count()).where(InboxItem.status == "received").group_by(InboxItem.channel)
        )).all()
    return {channel: int(n) for channel, n in rows}
