"""What the web inbox (admin/pages/inbox.py) reads: the tickets one account may handle,
the filters' counts, the target time counted in working hours, what the resident asked
earlier that day, and a cheap snapshot for the live event stream.

Every change of a ticket goes through bot/services/teams.py (claim, answer, transfer,
reject, close): the same single conditional UPDATE as the chat commands. Nothing here
writes.

Who sees what is decided by `Scope`, built on the server from the signed-in account:
a team leader or member sees the tickets held by their area's team; city staff see the
city queue (tickets with no team) and every ward's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, true

from bot import clock
from bot.pseudonyms import resident_hash
from bot.services.areas import list_areas
from bot.services.worktime import working_seconds
from bot.storage.db import Database
from bot.storage.models import QuestionLog, Resident, Team, TeamMember, Ticket

__all__ = ["CITY_TEAM_NAME", "FILTERS", "Scope", "Row", "Timing", "area_labels", "counts", "earlier_messages",
           "listing", "row", "snapshot", "timing"]

CITY_TEAM_NAME = "Tổ hỗ trợ của Thành phố Đà Nẵng"  # how city staff sign their answers
WAITING = ("open", "claimed")
FILTERS = {"open": "Chờ nhận", "mine": "Tôi đã nhận", "overdue": "Quá hạn", "answered": "Đã trả lời"}
LIMIT = 500


@dataclass(frozen=True)
class Scope:
    """The tickets an account may see and act on. `team_id` set: exactly that team's
    (a ward account). `city`: every ticket; `area` narrows it ("city": the city queue)."""

    city: bool
    team_id: int | None = None
    area: str = ""

    def where(self):
        if not self.city:
            return Ticket.team_id == (self.team_id if self.team_id is not None else -1)
        if self.area == "city":
            return Ticket.team_id.is_(None)
        if self.area:
            return Ticket.area_code == self.area
        return true()

    def allows(self, ticket_team_id: int | None) -> bool:
        return self.city or (self.team_id is not None and ticket_team_id == self.team_id)


@dataclass(frozen=True)
class Timing:
    """The target time counted in working hours since the ticket came in."""

    target_seconds: float
    used_seconds: float

    @property
    def left_seconds(self) -> float:
        return self.target_seconds - self.used_seconds

    @property
    def overdue(self) -> bool:
        return self.left_seconds < 0

    @property
    def text(self) -> str:
        left = abs(self.left_seconds)
        hours, minutes = int(left // 3600), int(left % 3600 // 60)
        span = (f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ") if hours else f"{minutes} phút"
        return f"quá hạn {span} (giờ làm việc)" if self.overdue else f"còn {span} (giờ làm việc)"


@dataclass
class Row:
    id: int
    status: str
    question: str
    display_name: str
    area_code: str | None
    area_label: str
    team_id: int | None
    team_name: str
    channel: str
    chat: str
    suggestions: list[str]
    answer: str
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    answered_at: dt.datetime | None
    claimer: str  # who claimed: "tên (web)" or a chat member's display name
    answerer: str
    claimed_by_user: str | None
    resident_id: int | None
    proposed_entry_id: str | None
    timing: Timing | None = None
    extra: dict[str, object] = field(default_factory=dict)


def timing(created_at: dt.datetime, settings, holidays: frozenset[dt.date], now: dt.datetime | None = None) -> Timing:
    used = working_seconds(created_at, now or clock.now(), settings.team_working_hours, settings.team_working_days, holidays)
    return Timing(settings.team_target_hours * 3600.0, used)


async def area_labels(db: Database) -> dict[str, str]:
    """Area code → its name ("Phường Hải Châu")."""
    return {a.code: a.label for a in await list_areas(db)}


async def _rows(db: Database, query, labels: dict[str, str]) -> list[Row]:
    async with db.session() as session:
        tickets = list((await session.scalars(query)).all())
        member_ids = {i for t in tickets for i in (t.claimed_by, t.answered_by) if i}
        team_ids = {t.team_id for t in tickets if t.team_id}
        members = dict((await session.execute(select(TeamMember.id, TeamMember.display_name)
                                              .where(TeamMember.id.in_(member_ids)))).all()) if member_ids else {}
        team_names = dict((await session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))).all()) if team_ids else {}

    def who(member_id: int | None, user: str | None) -> str:
        if user:
            return f"{user} (web)"
        if member_id:
            return str(members.get(member_id) or f"thành viên số {member_id}")
        return ""

    return [Row(t.id, t.status, t.question, t.display_name, t.area_code,
                labels.get(t.area_code or "", t.area_code or "") or "chưa rõ phường, xã",
                t.team_id, team_names.get(t.team_id, "") if t.team_id else CITY_TEAM_NAME, t.channel, t.chat,
                [str(s) for s in (t.suggestions or [])], t.answer, t.created_at, t.claimed_at, t.answered_at,
                who(t.claimed_by, t.claimed_by_user), who(t.answered_by, t.answered_by_user), t.claimed_by_user,
                t.resident_id, t.proposed_entry_id) for t in tickets]


async def listing(db: Database, scope: Scope, which: str, me: str, settings, holidays: frozenset[dt.date]
                  ) -> tuple[list[Row], dict[str, int]]:
    """The tickets of one filter (open, mine, overdue, answered; "" = waiting, oldest
    first) and the count of every filter."""
    labels = await area_labels(db)
    waiting = await _rows(db, select(Ticket).where(scope.where(), Ticket.status.in_(WAITING))
                          .order_by(Ticket.created_at).limit(LIMIT), labels)
    for r in waiting:
        r.timing = timing(r.created_at, settings, holidays)
    async with db.session() as session:
        answered = int(await session.scalar(select(func.count()).select_from(Ticket)
                                            .where(scope.where(), Ticket.status == "answered")) or 0)
    number = {
        "open": sum(1 for r in waiting if r.status == "open"),
        "mine": sum(1 for r in waiting if r.status == "claimed" and r.claimed_by_user == me),
        "overdue": sum(1 for r in waiting if r.timing and r.timing.overdue),
        "answered": answered,
    }
    if which == "answered":
        rows = await _rows(db, select(Ticket).where(scope.where(), Ticket.status == "answered")
                           .order_by(Ticket.answered_at.desc()).limit(100), labels)
    elif which == "open":
        rows = [r for r in waiting if r.status == "open"]
    elif which == "mine":
        rows = [r for r in waiting if r.status == "claimed" and r.claimed_by_user == me]
    elif which == "overdue":
        rows = [r for r in waiting if r.timing and r.timing.overdue]
    else:
        rows = waiting
    return rows, number


async def counts(db: Database, scope: Scope, me: str, settings, holidays: frozenset[dt.date]) -> dict[str, int]:
    return (await listing(db, scope, "open", me, settings, holidays))[1]


async def row(db: Database, ticket_id: int, settings, holidays: frozenset[dt.date]) -> Row | None:
    rows = await _rows(db, select(Ticket).where(Ticket.id == ticket_id), await area_labels(db))
    if not rows:
        return None
    r = rows[0]
    if r.status in WAITING:
        r.timing = timing(r.created_at, settings, holidays)
    return r


async def earlier_messages(db: Database, r: Row, salt: str) -> list[dict[str, object]]:
    """What the resident asked on the ticket's day (Đà Nẵng time), up to the ticket, with
    how the assistant answered and any 👎 reason. Text as the question log keeps it
    (normalized, personal numbers removed)."""
    user = r.chat
    if r.resident_id is not None:
        async with db.session() as session:
            resident = await session.get(Resident, r.resident_id)
        if resident is not None:
            user = resident.platform_user_id
    if not user:
        return []
    day = clock.local_today(r.created_at)
    start = clock.local_day_start(day)
    async with db.session() as session:
        logs = (await session.scalars(
            select(QuestionLog).where(QuestionLog.resident_hash == resident_hash(r.channel, user, salt),
                                      QuestionLog.asked_at >= start, QuestionLog.asked_at <= r.created_at + dt.timedelta(minutes=1))
            .order_by(QuestionLog.asked_at).limit(50)
        )).all()
    out = []
    for q in logs:
        feedback = q.feedback or ""
        out.append({"at": q.asked_at, "text": q.normalized, "decision": q.decision, "entry_id": q.entry_id,
                    "down": feedback.startswith("down"), "reason": feedback.partition(":")[2]})
    return out


async def snapshot(db: Database, scope: Scope) -> dict[int, str]:
    """A small picture of the scope for the event stream: each waiting ticket's state
    and claimer, and the latest answered ones (one indexed query)."""
    since = clock.now() - dt.timedelta(days=2)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(
            select(Ticket.id, Ticket.status, Ticket.team_id, Ticket.claimed_by, Ticket.claimed_by_user)
            .where(scope.where(), or_(Ticket.status.in_(WAITING), Ticket.answered_at >= since))
            .order_by(Ticket.id.desc()).limit(LIMIT)
        )).all()
    return {int(i): f"{s}:{t or ''}:{c or ''}:{u or ''}" for i, s, t, c, u in rows}
