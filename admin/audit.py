"""The audit log: who changed what, when, with the values before and after.

Every admin action that changes something calls `record` once, after the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from admin.guard import User
from bot.storage.db import Database
from bot.storage.models import AuditLog

__all__ = ["record", "recent"]


async def record(db: Database, user: User, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Write one audit row (action: e.g. "account.create", target: e.g. "account:lan")."""
    async with db.session() as session, session.begin():
        session.add(AuditLog(username=user.name, role=user.role, action=action, target=target, before=before, after=after))


async def recent(db: Database, limit: int = 200, action: str = "", username: str = "") -> list[AuditLog]:
    """The latest rows, newest first, optionally for one action prefix or one user."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    if username:
        query = query.where(AuditLog.username == username)
    async with db.session() as session:
        return list((await session.scalars(query)).all())
