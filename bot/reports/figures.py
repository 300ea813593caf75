"""The figures of one report: what residents asked, how they were answered, what the
teams did, what campaigns reached, for one period and the whole city or one area.

Definitions (days are Đà Nẵng days; see `bot/reports/periods.py`):

- residents: residents who wrote to the assistant, counted once per day per channel
  and area (`bot/reports/daily.py` says why per day); residents who deleted their data
  are no longer counted, their questions are;
- questions: every logged message except greetings and thanks (`chitchat`, counted
  apart); answered by the assistant: decision `answer`; suggestions: "did you mean";
  out of scope: recognised as off-topic; unanswered: no answer in the knowledge base
  (the gaps);
- tickets (questions passed to a Tổ CNS or the city): created in the period, with
  their state now (answered, not in scope, waiting, closed by the resident);
- median hours to a human answer, and each member's answers: tickets answered in the
  period (wall-clock hours from the ticket to the answer);
- satisfaction: 👍 share of the rated answers;
- top topics: entries answered most; top gaps: unanswered questions grouped by their
  normalised text;
- campaigns: those that started sending in the period, with their outbox counts (reach =
  messages sent); for one area, only its subscribers' messages;
- subscribers per area: active at the end of the period (or now, for a period not over),
  subscribed and ended within it.

The question figures read raw log rows and purged aggregates alike, so they do not
change when old rows are purged (QUESTION_RETENTION_DAYS).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import now as utcnow
from bot.reports import daily
from bot.reports.periods import Period
from bot.services.areas import AreaRow
from bot.storage.db import Database
from bot.storage.models import Area, Campaign, KbEntry, OutboxItem, Subscription, Team, TeamMember, Ticket

__all__ = ["Report", "TicketFigures", "CampaignFigure", "MemberFigure", "SubscriberFigure", "compute", "TOP"]

TOP = 20  # rows in the top-topics and top-gaps lists
UNKNOWN_AREA = "(chưa rõ phường, xã)"


@dataclass(frozen=True)
class TicketFigures:
    passed: int  # created in the period
    answered: int
    rejected: int  # not in scope of the team
    waiting: int  # open or claimed
    closed: int  # the resident deleted their data
    median_hours: float | None  # of the tickets answered in the period


@dataclass(frozen=True)
class CampaignFigure:
    id: int
    started_at: dt.datetime
    sender: str  # "Thành phố" or the sending area's code
    state: str
    text: str
    recipients: int
    sent: int
    failed: int
    blocked: int
    skipped: int


@dataclass(frozen=True)
class MemberFigure:
    team: str
    member: str
    answered: int
    median_hours: float | None
    proposed: int  # answers proposed as new FAQ entries


@dataclass(frozen=True)
class SubscriberFigure:
    area: str
    active_at_end: int
    new: int
    ended: int


@dataclass(frozen=True)
class Report:
    period: Period
    area: str | None  # None: the whole city
    area_names: dict[str, str]
    residents: int
    residents_by_channel: dict[str, int]
    residents_by_area: dict[str, int]
    questions: int
    answered: int
    suggested: int
    out_of_scope: int
    unanswered: int
    chitchat: int
    questions_by_channel: dict[str, int]
    answered_by_channel: dict[str, int]
    questions_by_area: dict[str, int]
    answered_by_area: dict[str, int]
    per_day: list[tuple[dt.date, int, int]]  # (day, questions, answered by the assistant)
    rated_up: int
    rated_down: int
    tickets: TicketFigures
    top_topics: list[tuple[str, str, int, int, int]]  # (entry, its question, answered, 👍, 👎)
    top_gaps: list[tuple[str, int]]  # (normalised text, times asked)
    campaigns: list[CampaignFigure]
    subscribers: list[SubscriberFigure]
    members: list[MemberFigure]
    generated_at: dt.datetime = field(default_factory=utcnow, compare=False)

    @property
    def satisfaction(self) -> float | None:
        """👍 share of the rated answers (0..1), None when nothing was rated."""
        rated = self.rated_up + self.rated_down
        return self.rated_up / rated if rated else None

    @property
    def campaign_reach(self) -> int:
        return sum(c.sent for c in self.campaigns)

    @property
    def subscribers_at_end(self) -> int:
        return sum(s.active_at_end for s in self.subscribers)

    def area_name(self, code: str) -> str:
        return self.area_names.get(code, code) if code else UNKNOWN_AREA


def _median_hours(pairs: list[tuple[dt.datetime, dt.datetime]]) -> float | None:
    hours = [(b - a).total_seconds() / 3600 for a, b in pairs]
    return round(statistics.median(hours), 2) if hours else None


def _question_figures(rows: daily.Totals) -> dict[str, Any]:
    by_channel, by_area, answered_channel, answered_area = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    kinds, topics, up, down = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    for channel, area, decision, entry, n, n_up, n_down in rows.questions:
        if decision == "chitchat":
            kinds["chitchat"] += n
            continue
        kind = decision
        if decision == "unknown":
            kind = "out_of_scope" if entry else "unanswered"
        kinds[kind] += n
        by_channel[channel] += n
        by_area[area] += n
        if decision == "answer":
            answered_channel[channel] += n
            answered_area[area] += n
            topics[entry] += n
        up[entry] += n_up
        down[entry] += n_down
    per_day: dict[dt.date, list[int]] = {}
    for day, decision, n in rows.per_day:
        if decision != "chitchat":
            counts = per_day.setdefault(day, [0, 0])
            counts[0] += n
            counts[1] += n if decision == "answer" else 0
    residents_channel, residents_area = Counter[str](), Counter[str]()
    for channel, area, n in rows.residents:
        residents_channel[channel] += n
        residents_area[area] += n
    gaps = Counter[str]()
    for text, n in rows.gaps:
        gaps[text] += n
    return {
        "residents": sum(residents_channel.values()),
        "residents_by_channel": dict(sorted(residents_channel.items())),
        "residents_by_area": dict(sorted(residents_area.items())),
        "questions": sum(by_channel.values()),
        "answered": kinds["answer"], "suggested": kinds["suggest"], "out_of_scope": kinds["out_of_scope"],
        "unanswered": kinds["unanswered"], "chitchat": kinds["chitchat"],
        "questions_by_channel": dict(sorted(by_channel.items())),
        "answered_by_channel": dict(sorted(answered_channel.items())),
        "questions_by_area": dict(sorted(by_area.items())),
        "answered_by_area": dict(sorted(answered_area.items())),
        "per_day": [(d, n, a) for d, (n, a) in sorted(per_day.items())],
        "rated_up": sum(up.values()), "rated_down": sum(down.values()),
        # Ties are broken by name so that the lists are the same on every run.
        "_topics": sorted(((e, n, up[e], down[e]) for e, n in topics.items()), key=lambda t: (-t[1], t[0]))[:TOP],
        "top_gaps": sorted(gaps.items(), key=lambda t: (-t[1], t[0]))[:TOP],
    }


async def compute(db: Database, period: Period, area: str | None = None) -> Report:
    """Every figure of `period`, for the whole city (`area` None) or one area's code."""
    start, end = period.utc_bounds
    async with db.engine.connect() as conn:
        rows = (await daily.totals_from_aggregates(conn, period.start, period.end, area)
                + await daily.totals_from_log(conn, start, end, area))
    figures = _question_figures(rows)
    topics = figures.pop("_topics")
    async with db.session() as session:
        area_names = {c: AreaRow(c, k, n).label for c, k, n in (await session.execute(select(Area.code, Area.kind, Area.name))).all()}
        titles = dict((await session.execute(
            select(KbEntry.id, KbEntry.question).where(KbEntry.id.in_([t[0] for t in topics]))
        )).all())
        tickets = await _tickets(session, start, end, area)
        members = await _members(session, start, end, area)
        campaigns = await _campaigns(session, start, end, area)
        subscribers = await _subscribers(session, start, end, area)
    return Report(
        period=period, area=area, area_names=area_names, tickets=tickets, members=members, campaigns=campaigns,
        subscribers=subscribers,
        top_topics=[(e, titles.get(e, ""), n, u, d) for e, n, u, d in topics],
        **figures,
    )


async def _tickets(session, start: dt.datetime, end: dt.datetime, area: str | None) -> TicketFigures:
    where = [Ticket.created_at >= start, Ticket.created_at < end] + ([Ticket.area_code == area] if area else [])
    states = dict((await session.execute(select(Ticket.status, func.count()).where(*where).group_by(Ticket.status))).all())
    answered_where = [Ticket.status == "answered", Ticket.answered_at >= start, Ticket.answered_at < end]
    if area:
        answered_where.append(Ticket.area_code == area)
    pairs = (await session.execute(select(Ticket.created_at, Ticket.answered_at).where(*answered_where))).all()
    return TicketFigures(
        passed=sum(states.values()), answered=states.get("answered", 0), rejected=states.get("rejected", 0),
        waiting=states.get("open", 0) + states.get("claimed", 0), closed=states.get("closed", 0),
        median_hours=_median_hours([(a, b) for a, b in pairs]),
    )


async def _members(session, start: dt.datetime, end: dt.datetime, area: str | None) -> list[MemberFigure]:
    """Every member of the teams in scope, with the tickets they answered in the period
    (members who answered nothing are listed too: the plan wants to see who helps)."""
    team_query = select(Team.id, Team.name).order_by(Team.name)
    if area:
        team_query = team_query.where(Team.area_code == area)
    teams = dict((await session.execute(team_query)).all())
    members = (await session.execute(
        select(TeamMember.id, TeamMember.team_id, TeamMember.display_name).where(TeamMember.team_id.in_(list(teams)))
    )).all()
    answers = (await session.execute(
        select(Ticket.answered_by, Ticket.created_at, Ticket.answered_at, Ticket.proposed_entry_id)
        .where(Ticket.status == "answered", Ticket.answered_at >= start, Ticket.answered_at < end,
               Ticket.answered_by.in_([m[0] for m in members]))
    )).all()
    out = []
    for member_id, team_id, name in members:
        mine = [a for a in answers if a[0] == member_id]
        out.append(MemberFigure(teams[team_id], name or f"#{member_id}", len(mine),
                                _median_hours([(a[1], a[2]) for a in mine]), sum(1 for a in mine if a[3])))
    return sorted(out, key=lambda m: (m.team, -m.answered, m.member))


async def _campaigns(session, start: dt.datetime, end: dt.datetime, area: str | None) -> list[CampaignFigure]:
    campaigns = (await session.scalars(
        select(Campaign).where(Campaign.started_at >= start, Campaign.started_at < end).order_by(Campaign.started_at)
    )).all()
    counts = select(OutboxItem.campaign_id, OutboxItem.status, func.count()).where(
        OutboxItem.campaign_id.in_([c.id for c in campaigns])
    ).group_by(OutboxItem.campaign_id, OutboxItem.status)
    if area:  # only the messages to this area's subscribers
        counts = counts.join(Subscription, Subscription.resident_id == OutboxItem.resident_id).where(Subscription.area_code == area)
    by: dict[int, Counter[str]] = {}
    for campaign_id, status, n in (await session.execute(counts)).all():
        by.setdefault(campaign_id, Counter())[status] += int(n)
    out = []
    for c in campaigns:
        n = by.get(c.id, Counter())
        if area and not n:
            continue
        out.append(CampaignFigure(c.id, c.started_at, c.sender_area or "Thành phố", c.state, c.text[:120],
                                  sum(n.values()), n["sent"], n["failed"], n["blocked"], n["skipped"]))
    return out


async def _subscribers(session, start: dt.datetime, end: dt.datetime, area: str | None) -> list[SubscriberFigure]:
    s = Subscription

    def count(*conditions: ColumnElement[bool]):
        return func.sum(case((and_(*conditions), 1), else_=0))

    query = select(
        s.area_code,
        count(s.consented_at < end, or_(s.ended_at.is_(None), s.ended_at >= end)),
        count(s.consented_at >= start, s.consented_at < end),
        count(s.ended_at.is_not(None), s.ended_at >= start, s.ended_at < end),
    ).group_by(s.area_code)
    if area:
        query = query.where(s.area_code == area)
    rows = [SubscriberFigure(code or "", int(a or 0), int(n or 0), int(e or 0)) for code, a, n, e in (await session.execute(query)).all()]
    return sorted((r for r in rows if r.active_at_end or r.new or r.ended), key=lambda r: r.area)
