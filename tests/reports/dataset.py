"""A small known data set for the report tests: every figure in test_figures.py is
counted by hand from these rows (times are UTC, as stored; Đà Nẵng is UTC+7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from bot.storage.db import Database
from bot.storage.models import (
    Area, Campaign, KbEntry, KbGroup, OutboxItem, QuestionLog, Resident, Subscription, Team, TeamMember, Ticket,
)

T = dt.datetime
D1 = T(2026, 1, 10)  # 10/01/2026
D2 = T(2026, 3, 5)  # 05/03/2026


def q(at: dt.datetime, channel: str, who: str, area: str | None, decision: str, entry: str | None = None,
      text: str = "", feedback: str | None = None) -> dict[str, object]:
    return {"asked_at": at, "channel": channel, "resident_hash": who, "normalized": text, "decision": decision,
            "entry_id": entry, "score": 50.0, "suggestions": [], "area_code": area, "language": "vi", "feedback": feedback}


QUESTIONS = [
    q(D1.replace(hour=2), "telegram", "h1", "a1", "answer", "vneid", "vneid la gi", "up"),
    q(D1.replace(hour=3), "telegram", "h1", "a1", "answer", "vneid", "vneid dung de lam gi", "down:sai"),
    q(D1.replace(hour=4), "web", "h2", "a2", "unknown", None, "lam sao doi the <b>xanh</b>"),
    q(D1.replace(hour=5), "web", "h3", "a2", "unknown", None, "lam sao doi the <b>xanh</b>"),
    q(D1.replace(hour=6), "zalo", "h4", None, "suggest", None, "the can cuoc"),
    q(D1.replace(hour=7), "telegram", "h1", "a1", "chitchat", None, "cam on"),
    q(D2.replace(hour=10), "telegram", "h1", "a1", "answer", "dvc", "dich vu cong", "up"),
    q(D2.replace(hour=11), "web", "h2", "a2", "unknown", "thoi-tiet", "thoi tiet mai"),  # out of scope
    q(D2.replace(hour=12), "web", "deleted", "a2", "unknown", None, ""),  # the resident deleted their data
    q(T(2025, 11, 30, 17, 0), "telegram", "h5", "a1", "answer", "vneid", "vneid"),  # 00:00 on 01/12/2025
    q(T(2026, 5, 31, 16, 59), "zalo", "h4", None, "unknown", None, "wifi mien phi o dau"),  # 23:59 on 31/05/2026
    # Outside the 6-month period of 2026 by one minute each way:
    q(T(2025, 11, 30, 16, 59), "telegram", "h5", "a1", "answer", "vneid", "vneid"),
    q(T(2026, 5, 31, 17, 0), "web", "h2", "a2", "answer", "vneid", "vneid"),
]


async def load(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(insert(Area.__table__), [
            {"code": "a1", "kind": "phuong", "name": "An Hải"}, {"code": "a2", "kind": "xa", "name": "Bà Nà"}])
        await conn.execute(insert(KbGroup.__table__), [{"id": "g", "title": "Nhóm", "title_en": "", "pillar": "p", "position": 0}])
        await conn.execute(insert(KbEntry.__table__), [
            {"id": e, "group_id": "g", "position": 0, "kind": "faq", "status": "published", "question": title,
             "alternates": [], "answer": "…", "answer_en": "", "links": [], "related": [], "tags": [], "sources": [],
             "updated_at": T(2025, 1, 1), "updated_by": "seed"}
            for e, title in (("vneid", "VNeID là gì?"), ("dvc", "Dịch vụ công trực tuyến là gì?"))])
        await conn.execute(insert(QuestionLog.__table__), QUESTIONS)
        await conn.execute(insert(Team.__table__), [
            {"id": 1, "area_code": "a1", "name": "Tổ CNS An Hải", "created_at": T(2025, 1, 1)},
            {"id": 2, "area_code": "a2", "name": "Tổ CNS Bà Nà", "created_at": T(2025, 1, 1)}])
        await conn.execute(insert(TeamMember.__table__), [
            {"id": 1, "team_id": 1, "channel": "telegram", "platform_user_id": "m1", "chat": "m1", "display_name": "Lan",
             "role": "leader", "joined_at": T(2025, 1, 1)},
            {"id": 2, "team_id": 1, "channel": "telegram", "platform_user_id": "m2", "chat": "m2", "display_name": "Hùng",
             "role": "member", "joined_at": T(2025, 1, 1)},
            {"id": 3, "team_id": 2, "channel": "telegram", "platform_user_id": "m3", "chat": "m3", "display_name": "Minh",
             "role": "leader", "joined_at": T(2025, 1, 1)}])

        def ticket(n: int, created: dt.datetime, area: str, team: int, status: str, by: int | None = None,
                   answered: dt.datetime | None = None, proposed: str | None = None) -> dict[str, object]:
            return {"id": n, "created_at": created, "channel": "telegram", "chat": f"c{n}", "area_code": area,
                    "question": f"câu hỏi {n}", "suggestions": [], "status": status, "display_name": f"Người {n}",
                    "team_id": team, "answered_by": by, "answered_at": answered, "answer": "trả lời" if by else "",
                    "proposed_entry_id": proposed}

        await conn.execute(insert(Ticket.__table__), [
            ticket(1, T(2026, 1, 10, 8), "a1", 1, "answered", 1, T(2026, 1, 10, 10), "de-xuat-1"),  # 2 h
            ticket(2, T(2026, 2, 1), "a1", 1, "answered", 1, T(2026, 2, 1, 6)),  # 6 h
            ticket(3, T(2026, 2, 2), "a2", 2, "answered", 3, T(2026, 2, 3)),  # 24 h
            ticket(4, T(2026, 3, 1), "a1", 1, "open"),
            ticket(5, T(2026, 3, 2), "a2", 2, "rejected", None, T(2026, 3, 3)),
            ticket(6, T(2025, 11, 20), "a1", 1, "answered", 2, T(2025, 12, 2)),  # before the period, answered in it: 288 h
        ])
        await conn.execute(insert(Resident.__table__), [
            {"id": i, "channel": "telegram", "platform_user_id": f"r{i}", "language": "vi", "area_code": area,
             "created_at": T(2025, 1, 1), "last_seen_at": T(2025, 1, 1), "display_name": "", "state": {}, "waiting": False}
            for i, area in ((1, "a1"), (2, "a2"), (3, "a2"), (4, "a1"), (5, "a1"))])
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": r, "area_code": area, "topics": [], "active": ended is None, "consented_at": consented,
             "ended_at": ended, "end_reason": "blocked" if ended else None}
            for r, area, consented, ended in (
                (1, "a1", T(2025, 6, 1), None), (2, "a2", T(2026, 1, 5), None), (3, "a2", T(2025, 10, 1), T(2026, 2, 10)),
                (4, "a1", T(2026, 4, 1), None), (5, "a1", T(2026, 7, 1), None))])

        def campaign(n: int, started: dt.datetime | None, state: str) -> dict[str, object]:
            return {"id": n, "text": f"Thông báo {n} <script>alert(1)</script>", "links": [], "channels": [], "areas": [],
                    "topics": [], "state": state, "created_at": T(2026, 1, 1), "created_by": "editor", "started_at": started}

        await conn.execute(insert(Campaign.__table__), [
            campaign(1, T(2026, 2, 10), "done"), campaign(2, T(2026, 7, 1), "done"), campaign(3, None, "draft")])
        await conn.execute(insert(OutboxItem.__table__), [
            {"campaign_id": c, "resident_id": r, "channel": "telegram", "chat": f"r{r}", "status": s, "attempts": 1,
             "error": "", "updated_at": T(2026, 2, 10)}
            for c, r, s in ((1, 1, "sent"), (1, 2, "sent"), (1, 3, "blocked"), (1, 4, "failed"), (2, 1, "sent"))])
