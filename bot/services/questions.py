"""The question log: every question with its decision, for reports and KB gaps.

Stores the least needed: a salted hash of the resident (never the platform id), the
normalised text with phone and ID-card numbers masked (`bot/redact.py`), the decision and the entry.
"""

from __future__ import annotations

import hashlib

from bot.matcher import Match
from bot.redact import redact
from bot.storage.db import Database
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import QuestionLog, utcnow

__all__ = ["log_question", "redact", "resident_hash"]


def resident_hash(channel: str, user: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{channel}:{user}".encode()).hexdigest()


async def log_question(
    db: Database | AsyncConnection,
    *,
    channel: str,
    user: str,
    salt: str,
    match: Match,
    area_code: str | None = None,
) -> int:
    """Record one question; returns its id (buttons such as 👍/👎 refer to it). Given a
    connection, it writes inside that transaction."""
    values = dict(
        asked_at=utcnow(),
        channel=channel,
        resident_hash=resident_hash(channel, user, salt),
        normalized=redact(match.normalized)[:2000],
        decision=match.decision.value,
        entry_id=match.entry_id or match.refusal_id,
        score=match.score,
        suggestions=list(match.suggestions),
        area_code=area_code,
        language="en" if match.english else "vi",
    )
    statement = insert(QuestionLog.__table__).values(**values)  # Core: this runs for every question
    if isinstance(db, AsyncConnection):
        result = await db.execute(statement)
    else:
        async with db.engine.begin() as conn:
            result = await conn.execute(statement)
    return int(result.inserted_primary_key[0])
