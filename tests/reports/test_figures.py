"""Report figures on a known data set (tests/reports/dataset.py), counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from bot.reports import Period, compute, plan_periods, sheets, six_month, to_csv, to_xlsx, yearly
from bot.reports.figures import MemberFigure, SubscriberFigure
from bot.storage.db import Database
from tests.reports import dataset


def test_the_plans_periods_end_on_their_deadlines() -> None:
    half, year = plan_periods(2026)
    assert (half.start, half.end, half.last_day) == (dt.date(2025, 12, 1), dt.date(2026, 6, 1), dt.date(2026, 5, 31))
    assert (year.start, year.end, year.last_day) == (dt.date(2025, 12, 1), dt.date(2026, 12, 1), dt.date(2026, 11, 30))
    # Days are Đà Nẵng days: 01/12/2025 starts at 17:00 UTC the day before.
    assert half.utc_bounds == (dt.datetime(2025, 11, 30, 17), dt.datetime(2026, 5, 31, 17))
    assert half.label == "Báo cáo 6 tháng năm 2026 (01/12/2025 – 31/05/2026)"
    assert Period.of_days(dt.date(2026, 1, 1), dt.date(2026, 6, 30)).end == dt.date(2026, 7, 1)
    with pytest.raises(ValueError):
        Period(dt.date(2026, 2, 1), dt.date(2026, 2, 1))


@pytest.mark.asyncio
async def test_city_figures_of_the_six_month_period(db: Database) -> None:
    await dataset.load(db)
    r = await compute(db, six_month(2026))
    assert (r.questions, r.answered, r.suggested, r.out_of_scope, r.unanswered, r.chitchat) == (10, 4, 1, 1, 4, 1)
    assert r.questions_by_channel == {"telegram": 4, "web": 4, "zalo": 2}
    assert r.answered_by_channel == {"telegram": 4}
    assert r.questions_by_area == {"": 2, "a1": 4, "a2": 4}
    # Residents once per day: h1 on two days, h2 twice but once as a deleted resident, h4 on two days.
    assert r.residents == 8
    assert r.residents_by_channel == {"telegram": 3, "web": 3, "zalo": 2}
    assert r.residents_by_area == {"": 2, "a1": 3, "a2": 3}
    assert (r.rated_up, r.rated_down) == (2, 1) and r.satisfaction == pytest.approx(2 / 3)
    assert r.top_topics == [("vneid", "VNeID là gì?", 3, 1, 1), ("dvc", "Dịch vụ công trực tuyến là gì?", 1, 1, 0)]
    assert r.top_gaps == [("lam sao doi the <b>xanh</b>", 2), ("wifi mien phi o dau", 1)]
    assert r.per_day == [(dt.date(2025, 12, 1), 1, 1), (dt.date(2026, 1, 10), 5, 2), (dt.date(2026, 3, 5), 3, 1),
                         (dt.date(2026, 5, 31), 1, 0)]
    t = r.tickets
    assert (t.passed, t.answered, t.rejected, t.waiting, t.closed) == (5, 3, 1, 1, 0)
    assert t.median_hours == 15.0  # of 2, 6, 24 and 288 hours (ticket 6 was answered in the period)
    assert r.members == [
        MemberFigure("Tổ CNS An Hải", "Lan", 2, 4.0, 1), MemberFigure("Tổ CNS An Hải", "Hùng", 1, 288.0, 0),
        MemberFigure("Tổ CNS Bà Nà", "Minh", 1, 24.0, 0),
    ]
    assert [(c.id, c.recipients, c.sent, c.failed, c.blocked) for c in r.campaigns] == [(1, 4, 2, 1, 1)]
    assert r.campaign_reach == 2
    assert r.subscribers == [SubscriberFigure("a1", 2, 1, 0), SubscriberFigure("a2", 1, 1, 1)]
    assert r.subscribers_at_end == 3


@pytest.mark.asyncio
async def test_one_areas_figures(db: Database) -> None:
    await dataset.load(db)
    r = await compute(db, six_month(2026), area="a1")
    assert (r.questions, r.answered, r.unanswered, r.residents) == (4, 4, 0, 3)
    assert r.questions_by_area == {"a1": 4}
    t = r.tickets
    assert (t.passed, t.answered, t.waiting, t.median_hours) == (3, 2, 1, 6.0)
    assert [m.team for m in r.members] == ["Tổ CNS An Hải", "Tổ CNS An Hải"]
    assert [(c.id, c.recipients, c.sent, c.failed) for c in r.campaigns] == [(1, 2, 1, 1)]
    assert r.subscribers == [SubscriberFigure("a1", 2, 1, 0)]


@pytest.mark.asyncio
async def test_the_yearly_period_holds_the_later_rows(db: Database) -> None:
    await dataset.load(db)
    r = await compute(db, yearly(2026))
    assert r.questions == 11  # the 6-month rows and the one at 00:00 on 01/06/2026
    assert [c.id for c in r.campaigns] == [1, 2]
    assert r.subscribers_at_end == 4  # resident 5 subscribed in July, resident 3 ended in February


@pytest.mark.asyncio
async def test_xlsx_and_csv_hold_the_same_tables(db: Database) -> None:
    await dataset.load(db)
    r = await compute(db, six_month(2026))
    tables = sheets(r)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(r)))
    assert book.sheetnames == [s.title for s in tables]
    summary = {row[0]: row[1] for row in book["Tổng quan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Câu hỏi"] == 10 and summary["Tổ CNS đã trả lời"] == 3
    assert summary["Tỉ lệ hài lòng (đánh giá tốt trên số câu được đánh giá)"] == "66,7 %"
    assert [c.value for c in book["Tổ CNS"][2]] == ["Tổ CNS An Hải", "Lan", 2, 4, 1]
    text = to_csv(r).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["# Tổng quan"] in rows and ["Câu hỏi", "10"] in rows
    assert ["lam sao doi the <b>xanh</b>", "2"] in rows
    assert sum(1 for row in rows if row and row[0].startswith("# ")) == len(tables)
