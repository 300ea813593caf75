"""Community digital teams (Tổ CNS) and the tickets they answer.

Ticket lifecycle (each transition is one conditional UPDATE, so two members racing for
the same ticket cannot both win):

    open ──claim──▶ claimed ──answer──▶ answered
      │  ▲             │
      │  └─transfer────┘ (to another area's team, or to the city: team_id NULL)
      ├──reject (not in scope)──▶ rejected
      ├──(no claim within the target time)──▶ reminded to the whole team
      │        └──(still none after as long again)──▶ escalated to the city's admins
      └──(the resident deletes their data)──▶ closed, text removed

A member acts only on tickets of their own team. An answer can be proposed as a new
FAQ entry: a draft whose first alternate is the resident's question, credited to the team.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update

from bot.clock import now as utcnow
from bot.kb_files import Entry
from bot.storage.db import Database, rowcount
from bot.storage.models import Area, Team, TeamInvite, TeamMember, Ticket

__all__ = [
    "Member", "TicketView", "answer", "claim", "create_invite", "create_team", "join", "list_teams",
    "member_of", "members_of", "open_ages_hours", "propose", "reject", "team_for_area", "ticket", "transfer", "due", "stats",
    "TeamRow", "overview", "team_row", "unused_invites", "tickets_of",
]


@dataclass(frozen=True)
class Member:
    id: int
    team_id: int
    team_name: str
    area_code: str
    channel: str
    chat: str
    display_name: str
    role: str


@dataclass(frozen=True)
class TicketView:
    id: int
    status: str
    question: str
    display_name: str
    area_code: str | None
    team_id: int | None
    channel: str
    chat: str
    suggestions: tuple[str, ...]
    answer: str
    created_at: dt.datetime
    claimed_by: int | None


def _member(m: TeamMember, t: Team) -> Member:
    return Member(m.id, t.id, t.name, t.area_code, m.channel, m.chat, m.display_name, m.role)


def _view(t: Ticket) -> TicketView:
    return TicketView(t.id, t.status, t.question, t.display_name, t.area_code, t.team_id, t.channel, t.chat,
                      tuple(t.suggestions or ()), t.answer, t.created_at, t.claimed_by)


async def create_team(db: Database, area_code: str, name: str) -> int:
    async with db.session() as session, session.begin():
        if await session.get(Area, area_code) is None:
            raise ValueError(f"không có phường, xã mã '{area_code}' (unknown area code; see `cdsbot areas list`)")
        if await session.scalar(select(Team).where(Team.area_code == area_code)) is not None:
            raise ValueError(f"phường, xã '{area_code}' đã có tổ (the area already has a team)")
        team = Team(area_code=area_code, name=name)
        session.add(team)
        await session.flush()
        return int(team.id)


async def create_invite(db: Database, team_id: int, leader: bool = False) -> str:
    code = secrets.token_hex(4).upper()
    async with db.session() as session, session.begin():
        if await session.get(Team, team_id) is None:
            raise ValueError(f"không có tổ số {team_id} (no such team)")
        session.add(TeamInvite(code=code, team_id=team_id, role="leader" if leader else "member"))
    return code


async def join(db: Database, code: str, channel: str, user: str, chat: str, display_name: str) -> Member | None:
    """Use a one-time code. None when the code is unknown or used."""
    async with db.session() as session, session.begin():
        used = await session.execute(
            update(TeamInvite).where(TeamInvite.code == code.strip().upper(), TeamInvite.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if not rowcount(used):
            return None
        invite = await session.get(TeamInvite, code.strip().upper())
        assert invite is not None
        existing = await session.scalar(
            select(TeamMember).where(TeamMember.channel == channel, TeamMember.platform_user_id == user)
        )
        if existing is None:
            session.add(TeamMember(team_id=invite.team_id, channel=channel, platform_user_id=user, chat=chat,
                                   display_name=display_name[:100], role=invite.role))
        else:
            existing.team_id, existing.role, existing.chat = invite.team_id, invite.role, chat
    return await member_of(db, channel, user)


async def member_of(db: Database, channel: str, user: str) -> Member | None:
    async with db.session() as session:
        row = (await session.execute(
            select(TeamMember, Team).join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.channel == channel, TeamMember.platform_user_id == user)
        )).first()
    if row is None:
        return None
    return _member(*row)


async def members_of(db: Database, team_id: int) -> list[Member]:
    async with db.session() as session:
        rows = (await session.execute(
            select(TeamMember, Team).join(Team, Team.id == TeamMember.team_id).where(Team.id == team_id)
            .order_by(TeamMember.id)
        )).all()
    return [_member(m, t) for m, t in rows]


async def team_for_area(db: Database, area_code: str | None) -> tuple[int, str] | None:
    if not area_code:
        return None
    async with db.session() as session:
        team = await session.scalar(select(Team).where(Team.area_code == area_code))
    return (team.id, team.name) if team else None


async def list_teams(db: Database) -> list[tuple[int, str, str, int]]:
    """(id, area code, name, members) for every team."""
    async with db.session() as session:
        rows = (await session.execute(
            select(Team.id, Team.area_code, Team.name, func.count(TeamMember.id))
            .outerjoin(TeamMember, TeamMember.team_id == Team.id).group_by(Team.id).order_by(Team.id)
        )).all()
    return [(int(i), a, n, int(c)) for i, a, n, c in rows]


async def ticket(db: Database, ticket_id: int) -> TicketView | None:
    async with db.session() as session:
        t = await session.get(Ticket, ticket_id)
    return _view(t) if t is not None else None


async def _transition(db: Database, ticket_id: int, member: Member, allowed: tuple[str, ...], **values: object) -> bool:
    """Apply `values` if the ticket belongs to the member's team and is in an allowed state."""
    async with db.engine.begin() as conn:
        table = Ticket.__table__
        result = await conn.execute(
            update(table)
            .where(table.c.id == ticket_id, table.c.team_id == member.team_id, table.c.status.in_(allowed))
            .values(**values)
        )
    return bool(result.rowcount)


async def claim(db: Database, ticket_id: int, member: Member) -> bool:
    return await _transition(db, ticket_id, member, ("open",), status="claimed", claimed_by=member.id, claimed_at=utcnow())


async def answer(db: Database, ticket_id: int, member: Member, text: str) -> bool:
    now = utcnow()
    ok = await _transition(db, ticket_id, member, ("claimed",), status="answered", answer=text, answered_by=member.id,
                           answered_at=now)
    if ok:
        return True
    # An open ticket can be answered straight away: the answer claims it.
    return await _transition(db, ticket_id, member, ("open",), status="answered", answer=text, answered_by=member.id,
                             answered_at=now, claimed_by=member.id, claimed_at=now)


async def reject(db: Database, ticket_id: int, member: Member) -> bool:
    return await _transition(db, ticket_id, member, ("open", "claimed"), status="rejected", answered_at=utcnow())


async def transfer(db: Database, ticket_id: int, member: Member, area_code: str | None) -> tuple[bool, tuple[int, str] | None]:
    """Hand the ticket to another area's team (None: to the city). Returns (done, new team)."""
    target = await team_for_area(db, area_code)
    ok = await _transition(db, ticket_id, member, ("open", "claimed"), status="open", team_id=target[0] if target else None,
                           area_code=area_code, claimed_by=None, claimed_at=None, reminded_at=None)
    return ok, target


async def propose(db: Database, ticket_id: int, member: Member) -> str | None:
    """Turn an answered ticket into a draft FAQ entry; returns its id."""
    from bot.services.knowledge import save_entry

    t = await ticket(db, ticket_id)
    if t is None or t.team_id != member.team_id or t.status != "answered" or not t.answer:
        return None
    entry_id = f"de-xuat-{ticket_id}"
    entry = Entry(
        id=entry_id, question=t.question[:300], answer=t.answer, status="draft", alternates=[t.question[:300]],
        sources=[f"Trả lời của {member.team_name} (phiếu số {ticket_id})"], tags=["de-xuat", member.area_code],
    )
    await save_entry(db, entry, "de-xuat", by=f"team:{member.team_id}:{member.display_name}")
    async with db.engine.begin() as conn:
        await conn.execute(update(Ticket.__table__).where(Ticket.__table__.c.id == ticket_id).values(proposed_entry_id=entry_id))
    return entry_id


async def due(db: Database, now: dt.datetime, target: dt.timedelta) -> tuple[list[TicketView], list[TicketView]]:
    """Open tickets to remind (unclaimed past `target`) and to escalate (past twice that,
    already reminded); marks them so each happens once. With several processes on
    PostgreSQL, a ticket another process is marking is skipped (FOR UPDATE SKIP LOCKED),
    so two workers never remind of the same ticket."""
    async with db.session() as session, session.begin():
        remind = (await session.scalars(
            select(Ticket).where(Ticket.status == "open", Ticket.team_id.is_not(None), Ticket.reminded_at.is_(None),
                                 Ticket.created_at <= now - target).with_for_update(skip_locked=True)
        )).all()
        for t in remind:
            t.reminded_at = now
        escalate = (await session.scalars(
            select(Ticket).where(Ticket.status == "open", Ticket.escalated_at.is_(None),
                                 Ticket.reminded_at.is_not(None), Ticket.reminded_at <= now - target)
            .with_for_update(skip_locked=True)
        )).all()
        for t in escalate:
            t.escalated_at = now
        return [_view(t) for t in remind], [_view(t) for t in escalate]


async def stats(db: Database) -> list[dict[str, object]]:
    """Per team, and per member within it: tickets received, claimed, answered, median
    hours to the answer, answers promoted to the knowledge base (the plan wants to
    recognise volunteers)."""
    async with db.session() as session:
        team_rows = (await session.scalars(select(Team).order_by(Team.id))).all()
        tickets = (await session.scalars(select(Ticket).where(Ticket.team_id.is_not(None)))).all()
        members = {m.id: m for m in (await session.scalars(select(TeamMember))).all()}

    def hours(t: Ticket) -> float | None:
        if t.answered_at is None or t.status != "answered":
            return None
        return (t.answered_at - t.created_at).total_seconds() / 3600

    def median(values: list[float]) -> float | None:
        if not values:
            return None
        v = sorted(values)
        mid = len(v) // 2
        return round(v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2, 2)

    out: list[dict[str, object]] = []
    for team in team_rows:
        mine = [t for t in tickets if t.team_id == team.id]
        answered = [t for t in mine if t.status == "answered"]
        per_member = []
        for m in (m for m in members.values() if m.team_id == team.id):
            by = [t for t in answered if t.answered_by == m.id]
            per_member.append({"member": m.display_name, "answered": len(by),
                               "promoted": sum(1 for t in by if t.proposed_entry_id),
                               "median_hours": median([h for t in by if (h := hours(t)) is not None])})
        out.append({
            "team": team.name, "received": len(mine), "claimed": sum(1 for t in mine if t.claimed_at),
            "answered": len(answered), "promoted": sum(1 for t in mine if t.proposed_entry_id),
            "median_hours": median([h for t in answered if (h := hours(t)) is not None]), "members": per_member,
        })
    return out


async def open_ages_hours(db: Database, now: dt.datetime | None = None) -> list[float]:
    """How long each ticket still waiting for a team (open or claimed) has waited, in hours."""
    now = now or utcnow()
    async with db.session() as session:
        created = (await session.scalars(select(Ticket.created_at).where(Ticket.status.in_(("open", "claimed"))))).all()
    return [(now - c).total_seconds() / 3600 for c in created]


# -- what the admin site shows -------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    id: int
    area_code: str
    name: str
    members: int
    waiting: int  # tickets open or claimed
    oldest_waiting: dt.datetime | None


async def overview(db: Database, area_code: str | None = None) -> list[TeamRow]:
    """Every team (or the one of `area_code`) with its members and waiting tickets."""
    async with db.session() as session:
        query = select(Team).order_by(Team.name)
        if area_code is not None:
            query = query.where(Team.area_code == area_code)
        team_rows = (await session.scalars(query)).all()
        ids = [t.id for t in team_rows]
        members = dict((await session.execute(
            select(TeamMember.team_id, func.count()).where(TeamMember.team_id.in_(ids)).group_by(TeamMember.team_id)
        )).all())
        waiting = {tid: (n, oldest) for tid, n, oldest in (await session.execute(
            select(Ticket.team_id, func.count(), func.min(Ticket.created_at))
            .where(Ticket.team_id.in_(ids), Ticket.status.in_(("open", "claimed"))).group_by(Ticket.team_id)
        )).all()}
    return [TeamRow(t.id, t.area_code, t.name, int(members.get(t.id, 0)), int(waiting.get(t.id, (0, None))[0]),
                    waiting.get(t.id, (0, None))[1]) for t in team_rows]


async def team_row(db: Database, team_id: int) -> TeamRow | None:
    async with db.session() as session:
        area = await session.scalar(select(Team.area_code).where(Team.id == team_id))
    if area is None:
        return None
    return (await overview(db, area))[0]


async def unused_invites(db: Database, team_id: int) -> list[tuple[str, str, dt.datetime]]:
    """(code, role, created) of the team's invite codes not used yet, newest first."""
    async with db.session() as session:
        rows = (await session.execute(
            select(TeamInvite.code, TeamInvite.role, TeamInvite.created_at)
            .where(TeamInvite.team_id == team_id, TeamInvite.used_at.is_(None)).order_by(TeamInvite.created_at.desc())
        )).all()
    return [(c, r, t) for c, r, t in rows]


async def tickets_of(db: Database, team_id: int, limit: int = 50) -> list[TicketView]:
    """The team's waiting tickets (oldest first), then its latest others."""
    async with db.session() as session:
        waiting = (await session.scalars(
            select(Ticket).where(Ticket.team_id == team_id, Ticket.status.in_(("open", "claimed"))).order_by(Ticket.created_at)
        )).all()
        others = (await session.scalars(
            select(Ticket).where(Ticket.team_id == team_id, Ticket.status.not_in(("open", "claimed")))
            .order_by(Ticket.created_at.desc()).limit(limit)
        )).all()
    return [_view(t) for t in (*waiting, *others)]
