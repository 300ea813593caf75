"""The question log: every question with its decision, for reports and KB gaps.

Stores the least needed: a salted hash of the resident (never the platform id), the
normalised text with phone and ID-card numbers masked (`bot/redact.py`), the decision and the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from bot.clock import now as utcnow
from bot.conversation import StaleResident, save_states
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
    who = (resident.id, resident.version or 0) if resident is not None else None
    qid, saved = await db.group("questions", _write).submit((row, who, state, remember))
    if resident is not None and saved is not None:
        resident.state = saved
        resident.version = (resident.version or 0) + 1
    return qid


# row, (resident id, version read), state, remember
Asked = tuple[dict[str, Any], tuple[int, int] | None, dict[str, Any] | None, dict[str, Any] | None]


async def _write(db: Database, items: Sequence[Asked]) -> list[tuple[int, dict[str, Any] | None]]:
    """Insert the question rows (ids in order) and save the residents' states, in one
    transaction. A state written meanwhile by someone else (compare-and-set refused)
    fails the group, which the group commit then writes one by one: only that
    question's caller gets `StaleResident`."""
    table = QuestionLog.__table__
    async with db.engine.begin() as conn:
        # One INSERT for the group. RETURNING gives the rows in no set order (and asking
        # SQLAlchemy to sort them makes SQLite insert row by row), so the ids are matched to
        # the questions by who asked and what: rows alike in both are alike, and take
        # their ids in the order asked.
        result = await conn.execute(insert(table).returning(table.c.id, table.c.resident_hash, table.c.normalized),
                                    [row for row, _, _, _ in items])
        made: dict[tuple[str, str], list[int]] = {}
        for qid, who_hash, text in result:
            made.setdefault((who_hash, text), []).append(int(qid))
        for taken in made.values():
            taken.sort(reverse=True)
        ids = [made[(row["resident_hash"], row["normalized"])].pop() for row, _, _, _ in items]
        out: list[tuple[int, dict[str, Any] | None]] = []
        states: list[tuple[int, int, dict[str, Any]]] = []
        for (_, who, state, remember), qid in zip(items, ids, strict=True):
            if state is not None and remember is not None:
                state = {**state, "last_question": {"id": qid, **remember}}
            if who is not None and state is not None:
                states.append((who[0], who[1], state))
            out.append((qid, state))
        if states and not all(await save_states(conn, states)):
            raise StaleResident("a resident's state changed since it was read")
    return out
