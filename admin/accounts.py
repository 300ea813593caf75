"""Admin accounts: argon2 password hashes, roles, and the first account."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import AdminUser

__all__ = ["ROLES", "create_user", "verify", "count_users"]

ROLES = ("admin", "editor", "team-leader")
_hasher = PasswordHasher()


async def count_users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AdminUser)) or 0)


async def create_user(db: Database, username: str, role: str, password: str | None = None, area_code: str | None = None) -> str:
    """Create an account; returns the password (generated when none is given)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "team-leader" and not area_code:
        raise ValueError("a team leader needs --area CODE")
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise ValueError("mật khẩu cần ít nhất 10 ký tự (password must have at least 10 characters)")
    async with db.session() as session, session.begin():
        exists = await session.scalar(select(AdminUser).where(AdminUser.username == username))
        if exists is not None:
            raise ValueError(f"tài khoản '{username}' đã có (account exists)")
        session.add(AdminUser(username=username, password_hash=_hasher.hash(password), role=role, area_code=area_code))
    return password


async def verify(db: Database, username: str, password: str) -> AdminUser | None:
    async with db.session() as session:
        user = await session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        _hasher.hash(password)  # same work whether or not the account exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
