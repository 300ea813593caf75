"""The question log: every question with its decision, for reports and KB gaps.

Stores the least needed: a salted hash of the resident (never the platform id), the
normalised text with phone and ID-card numbers masked (`bot/redact.py`), the decision and the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from bot.clock import now as utcnow
from bot.conversation import save_states
from bot.matcher import Match
from bot.pseudonyms import resident_hash
from bot.redact import redact
from bot.storage.db import Database
from bot.storage.models import QuestionLog, Resident

__all__ = ["log_question", "redact", "resident_hash"]


async def log_question(
    db: Database,
    *,
    channel: str,
    user: str,
    salt: str,
    match: Match,
    area_code: str | None = None,
    resident: Resident | None = None,
    state: dict[str, Any] | None = None,
    remember: dict[str, Any] | None = None,
) -> int:
    """Record one question; returns its id (buttons such as 👍/👎 refer to it).

    With `resident` and `state`, the resident's new conversation state is written in the
    same transaction (`remember`, when given, becomes `state["last_question"]` with the
    new id). Questions asked at the same time are written together (group commit)."""
    row = dict(
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
    qid, saved = await db.group("questions", _write).submit((row, resident.id if resident else None, state, remember))
    if resident is not None and saved is not None:
        resident.state = saved
    return qid


Asked = tuple[dict[str, Any], int | None, dict[str, Any] | None, dict[str, Any] | None]  # row, resident, state, remember


async def _write(db: Database, items: Sequence[Asked]) -> list[tuple[int, dict[str, Any] | None]]:
    """Insert the question rows (ids in order) and save the residents' states, in one transaction."""
    table = QuestionLog.__table__
    async with db.engine.begin() as conn:
        result = await conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                    [row for row, _, _, _ in items])
        ids = [int(r[0]) for r in result]
        out: list[tuple[int, dict[str, Any] | None]] = []
        states: list[tuple[int, dict[str, Any]]] = []
        for (_, resident_id, state, remember), qid in zip(items, ids, strict=True):
            if state is not None and remember is not None:
                state = {**state, "last_question": {"id": qid, **remember}}
            if resident_id is not None and state is not None:
                states.append((resident_id, state))
            out.append((qid, state))
        if states:
            await save_states(conn, states)
    return out
