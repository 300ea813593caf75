"""Admin accounts: argon2 password hashes, roles, and the first account."""

from __future__ import annotations

import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from bot.clock import now as utcnow
from bot.storage.db import Database, rowcount
from bot.storage.models import AdminUser, Area, Team, TeamInvite

__all__ = ["ROLES", "change_role", "count_users", "create_from_invite", "create_user", "delete_user", "end_sessions", "invite_team",
           "set_password", "verify"]

ROLES = ("admin", "editor", "team-leader", "team-member")
WARD_ROLES = ("team-leader", "team-member")  # need an area
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")  # always fullmatch: `$` lets a newline through
_hasher = PasswordHasher()


async def count_users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AdminUser)) or 0)


async def create_user(db: Database, username: str, role: str, password: str | None = None, area_code: str | None = None) -> str:
    """Create an account; returns the password (generated when none is given)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not _USERNAME.fullmatch(username):
        raise ValueError("tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch (3-64 ký tự) (username: a-z 0-9 . _ -)")
    password = _checked(password)
    async with db.session() as session, session.begin():
        await _check_area(session, role, area_code)
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


def _checked(password: str | None) -> str:
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise ValueError("mật khẩu cần ít nhất 10 ký tự (password must have at least 10 characters)")
    return password


async def _check_area(session: Any, role: str, area_code: str | None) -> None:
    if role == "team-leader" and not area_code:
        raise ValueError("tổ trưởng cần mã phường, xã (a team leader needs --area CODE)")
    if role == "team-member" and not area_code:
        raise ValueError("thành viên tổ cần mã phường, xã (a team member needs --area CODE)")
    if area_code and await session.get(Area, area_code) is None:
        raise ValueError(f"không có phường, xã mã '{area_code}' (unknown area code; see knowledge/areas.csv)")


async def _admins(session: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(AdminUser).where(AdminUser.role == "admin")) or 0)


async def _get(session: Any, username: str) -> AdminUser:
    user = await session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise ValueError(f"không có tài khoản '{username}'")
    return user


async def change_role(db: Database, username: str, role: str, area_code: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Change an account's role and area; returns (before, after). The last admin stays admin."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    area_code = area_code if role in WARD_ROLES else None
    async with db.session() as session, session.begin():
        user = await _get(session, username)
        await _check_area(session, role, area_code)
        if user.role == "admin" and role != "admin" and await _admins(session) <= 1:
            raise ValueError("phải còn ít nhất một quản trị viên")
        before = {"role": user.role, "area": user.area_code}
        user.role, user.area_code = role, area_code
    return before, {"role": role, "area": area_code}


async def set_password(db: Database, username: str, password: str | None = None) -> str:
    """Set a new password (generated when none is given); returns it. Every session of
    the account ends (its session version moves on)."""
    password = _checked(password)
    async with db.session() as session, session.begin():
        user = await _get(session, username)
        user.password_hash = _hasher.hash(password)
        user.session_version = (user.session_version or 0) + 1
    return password


async def end_sessions(db: Database, username: str) -> None:
    """End every session of an account (signing out ends them on every device)."""
    async with db.engine.begin() as conn:
        await conn.execute(update(AdminUser).where(AdminUser.username == username)
                           .values(session_version=AdminUser.session_version + 1))


async def delete_user(db: Database, username: str) -> dict[str, Any]:
    """Delete an account (never the last admin); returns what it was."""
    async with db.session() as session, session.begin():
        user = await _get(session, username)
        if user.role == "admin" and await _admins(session) <= 1:
            raise ValueError("phải còn ít nhất một quản trị viên")
        before = {"username": user.username, "role": user.role, "area": user.area_code}
        await session.delete(user)
    return before


async def invite_team(db: Database, code: str) -> tuple[str, str, str] | None:
    """(team name, area code, role) of an unused invite code, or None."""
    async with db.session() as session:
        row = (await session.execute(
            select(Team.name, Team.area_code, TeamInvite.role).join(Team, Team.id == TeamInvite.team_id)
            .where(TeamInvite.code == code.strip().upper(), TeamInvite.used_at.is_(None))
        )).first()
    return (row[0], row[1], "team-leader" if row[2] == "leader" else "team-member") if row else None


async def create_from_invite(db: Database, code: str, username: str, password: str) -> tuple[str, str]:
    """Sign up on the web with a team's one-time invite code (the same codes as
    `/thamgia` in the chat): a team-member account (team-leader for a leader's code) of
    the team's area. The code is used and the account made in one transaction, so a code
    makes one account. Returns (role, area code); ValueError says why not."""
    if not _USERNAME.fullmatch(username):
        raise ValueError("tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch (3-64 ký tự)")
    if len(password) < 10:
        raise ValueError("mật khẩu cần ít nhất 10 ký tự")
    code = code.strip().upper()
    async with db.session() as session, session.begin():
        if await session.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
            raise ValueError(f"tên đăng nhập '{username}' đã có người dùng; hãy chọn tên khác")
        used = await session.execute(
            update(TeamInvite).where(TeamInvite.code == code, TeamInvite.used_at.is_(None)).values(used_at=utcnow()))
        if not rowcount(used):
            raise ValueError("mã mời không đúng hoặc đã được dùng; hãy xin mã mới từ tổ trưởng")
        invite = await session.get(TeamInvite, code)
        team = await session.get(Team, invite.team_id) if invite else None
        assert invite is not None and team is not None
        role = "team-leader" if invite.role == "leader" else "team-member"
        session.add(AdminUser(username=username, password_hash=_hasher.hash(password), role=role, area_code=team.area_code))
    return role, team.area_code
