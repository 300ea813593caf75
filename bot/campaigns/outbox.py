"""The outbox rows: one per (campaign, recipient), unique, with a status.

    queued ──claim──▶ sending ──platform ok──▶ sent
                         ├──429 / transient──▶ queued (not before T)
                         ├──blocked / gone──▶ blocked (subscription made inactive)
                         └──refused, or too many attempts──▶ failed
    queued ──campaign cancelled──▶ skipped

Claiming marks rows `sending` in one committed statement; a row is marked `sent` only
after the platform's ok. Rows found in `sending` at start (the process died) are queued
again: at-least-once towards the platform, the duplicates bounded by the rows in flight
(one claimed batch, `BATCH` rows). PostgreSQL claims with FOR UPDATE SKIP LOCKED so
several senders share the work without overlap; SQLite has one sender per process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.clock import now as utcnow
from bot.storage.db import Database
from bot.storage.models import Campaign, OutboxItem, Resident, Subscription

__all__ = ["BATCH", "Row", "audience_size", "backlog", "claim_next_batch", "counts", "materialise", "mark", "requeue_stale"]

BATCH = 50


@dataclass(frozen=True)
class Row:
    id: int
    campaign_id: int
    resident_id: int | None
    channel: str
    chat: str
    attempts: int
    error: str = ""  # what the last attempt ended with


def _audience_query(channels: list[str], areas: list[str]):
    """Active subscribers on `channels` in `areas` (empty: all), before the topic filter."""
    r, s = Resident.__table__, Subscription.__table__
    conditions = [s.c.active.is_(True)]
    if channels:
        conditions.append(r.c.channel.in_(channels))
    if areas:
        conditions.append(s.c.area_code.in_(areas))
    return select(r.c.id, r.c.channel, r.c.platform_user_id, s.c.topics).join(s, s.c.resident_id == r.c.id).where(and_(*conditions))


def _wants(topics: list[str], wanted: set[str]) -> bool:
    """A subscriber with no topics takes every topic; a campaign with none goes to all."""
    return not wanted or not topics or bool(wanted & set(topics))


async def audience_size(db: Database, channels: list[str], areas: list[str], topics: list[str]) -> int:
    """How many residents a campaign with this audience would reach now (shown before sending)."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(_audience_query(channels, areas))).all()
    return sum(1 for *_, subscribed in rows if _wants(subscribed or [], set(topics)))


async def materialise(db: Database, campaign: Campaign) -> int:
    """Insert one queued row per matching active subscriber not yet in the outbox."""
    r, o = Resident.__table__, OutboxItem.__table__
    already = select(o.c.resident_id).where(o.c.campaign_id == campaign.id, o.c.resident_id.is_not(None))
    query = _audience_query(campaign.channels or [], campaign.areas or []).where(r.c.id.not_in(already))
    async with db.engine.begin() as conn:
        rows = (await conn.execute(query)).all()
        wanted = set(campaign.topics or [])
        values = [
            {"campaign_id": campaign.id, "resident_id": rid, "channel": channel, "chat": chat, "status": "queued",
             "attempts": 0, "error": "", "updated_at": utcnow()}
            for rid, channel, chat, topics in rows
            if _wants(topics or [], wanted)
        ]
        # Two senders may materialise at once: the unique key keeps one row each.
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(o).on_conflict_do_nothing(index_elements=["campaign_id", "resident_id"])
        for start in range(0, len(values), 5000):
            await conn.execute(statement, values[start : start + 5000])
    return len(values)


async def claim_next_batch(db: Database, campaign_id: int, limit: int = BATCH) -> list[Row]:
    """Mark up to `limit` due rows `sending` and return them (committed before sending)."""
    o = OutboxItem.__table__
    now = utcnow()
    due = and_(o.c.campaign_id == campaign_id, o.c.status == "queued", or_(o.c.not_before.is_(None), o.c.not_before <= now))
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            # One sender per process on SQLite: the write lock makes select-then-update safe.
            ids = [i for (i,) in (await conn.execute(select(o.c.id).where(due).order_by(o.c.id).limit(limit))).all()]
        else:
            # PostgreSQL: rows another sender holds are skipped, not waited for.
            ids = [i for (i,) in (await conn.execute(
                select(o.c.id).where(due).order_by(o.c.id).limit(limit).with_for_update(skip_locked=True)
            )).all()]
        if not ids:
            return []
        await conn.execute(update(o).where(o.c.id.in_(ids)).values(status="sending", attempts=o.c.attempts + 1, updated_at=now))
        rows = (await conn.execute(
            select(o.c.id, o.c.campaign_id, o.c.resident_id, o.c.channel, o.c.chat, o.c.attempts, o.c.error)
            .where(o.c.id.in_(ids))
            .order_by(o.c.id)
        )).all()
    return [Row(*r) for r in rows]


async def mark(db: Database, row_id: int, status: str, error: str = "", not_before: dt.datetime | None = None) -> None:
    o = OutboxItem.__table__
    async with db.engine.begin() as conn:
        await conn.execute(update(o).where(o.c.id == row_id).values(status=status, error=error[:300], not_before=not_before,
                                                                  updated_at=utcnow()))


async def mark_many_sent(db: Database, row_ids: list[int]) -> None:
    if not row_ids:
        return
    o = OutboxItem.__table__
    async with db.engine.begin() as conn:
        await conn.execute(update(o).where(o.c.id.in_(row_ids)).values(status="sent", updated_at=utcnow()))


async def requeue_stale(db: Database, campaign_id: int | None = None, older_than: dt.timedelta = dt.timedelta(0)) -> int:
    """Rows left in `sending` by a process that died go back to the queue."""
    o = OutboxItem.__table__
    cond = [o.c.status == "sending", o.c.updated_at <= utcnow() - older_than]
    if campaign_id is not None:
        cond.append(o.c.campaign_id == campaign_id)
    async with db.engine.begin() as conn:
        result = await conn.execute(update(o).where(and_(*cond)).values(status="queued"))
    return int(result.rowcount or 0)


async def skip_queued(db: Database, campaign_id: int) -> int:
    o = OutboxItem.__table__
    async with db.engine.begin() as conn:
        result = await conn.execute(
            update(o).where(o.c.campaign_id == campaign_id, o.c.status == "queued").values(status="skipped")
        )
    return int(result.rowcount or 0)


async def counts(db: Database, campaign_id: int) -> dict[str, int]:
    o = OutboxItem.__table__
    async with db.engine.connect() as conn:
        rows = (await conn.execute(
            select(o.c.status, func.count()).where(o.c.campaign_id == campaign_id).group_by(o.c.status)
        )).all()
    out = {k: 0 for k in ("queued", "sending", "sent", "failed", "blocked", "skipped")}
    out.update({k: int(v) for k, v in rows})
    return out


async def try_advisory_lock(conn, key: int) -> bool:
    """PostgreSQL: hold a session-level advisory lock (one sender per bot token)."""
    return bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())


async def backlog(db: Database) -> dict[int, int]:
    """Rows queued or being sent, per campaign (for /metrics)."""
    o = OutboxItem.__table__
    async with db.engine.connect() as conn:
        rows = (await conn.execute(
            select(o.c.campaign_id, func.count()).where(o.c.status.in_(("queued", "sending"))).group_by(o.c.campaign_id)
        )).all()
    return {int(c): int(n) for c, n in rows}
