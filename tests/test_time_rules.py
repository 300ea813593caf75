"""The time rules at awkward moments, all on the set clock (`bot.clock`): the last minute
of a reporting year, 29 February 2028, a Sunday night, the night before Tết, and a year
the holiday file does not list yet."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.app import Assistant
from bot.campaigns import service
from bot.campaigns.sender import Sender
from bot.channels.zalo_oa import next_morning
from bot.reports import retention
from bot.reports.periods import due_next, six_month, yearly
from bot.services import teams
from bot.services.worktime import holidays_listed, is_working_time, load_holidays
from bot.settings import ROOT, Settings
from bot.storage.models import Ticket
from tests.helpers import prepared

HOLIDAYS = load_holidays(ROOT / "knowledge" / "holidays.yaml")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    """A Đà Nẵng wall-clock time as the naive UTC time the database stores."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=clock.TZ).astimezone(dt.UTC).replace(tzinfo=None)


def working(when: dt.datetime) -> bool:
    return is_working_time(when, "07:30-17:00", "1-5", HOLIDAYS)


# -- the clock itself ------------------------------------------------------------------


def test_a_set_clock_runs_on_or_stands_still() -> None:
    clock.set_now(local(2026, 11, 30, 23, 59), frozen=True)
    assert clock.now() == dt.datetime(2026, 11, 30, 16, 59) and clock.now() == clock.now()
    assert clock.local_now().isoformat() == "2026-11-30T23:59:00+07:00"
    clock.advance(dt.timedelta(minutes=1))
    assert clock.local_today() == dt.date(2026, 12, 1) and clock.now() == dt.datetime(2026, 11, 30, 17, 0)
    clock.set_now(dt.datetime(2030, 1, 1, 3, 0, tzinfo=dt.UTC))  # aware input is taken as what it says
    first = clock.now()
    assert first >= dt.datetime(2030, 1, 1, 3, 0) and clock.now() >= first  # runs on, never back


def test_the_environment_sets_the_clock_of_a_started_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_START, "2027-06-15T16:30:00")
    clock.reset()
    assert clock.is_set() and clock.local_today() == dt.date(2027, 6, 15)
    monkeypatch.delenv(clock.ENV_START)
    clock.reset()
    assert not clock.is_set()


# -- the last minute of a reporting year -----------------------------------------------


def test_the_report_due_next_turns_at_midnight_of_1_december() -> None:
    clock.set_now(local(2026, 11, 30, 23, 59), frozen=True)
    assert due_next(clock.local_today()) == yearly(2026)
    clock.set_now(local(2026, 12, 1, 0, 0), frozen=True)
    assert due_next(clock.local_today()) == six_month(2027)


def test_a_question_at_23_59_on_30_november_is_in_that_year_and_one_at_midnight_is_not() -> None:
    start, end = yearly(2026).utc_bounds
    assert start <= local(2026, 11, 30, 23, 59) < end
    assert not local(2026, 12, 1, 0, 0) < end
    assert six_month(2027).utc_bounds[0] == local(2026, 12, 1, 0, 0) == end


def test_retention_keeps_whole_days_of_da_nang_time_across_the_year_end() -> None:
    clock.set_now(local(2026, 12, 1, 0, 30), frozen=True)  # still 30 November in UTC
    assert retention.cutoff(365) == dt.date(2025, 12, 1)
    clock.set_now(local(2026, 11, 30, 23, 59), frozen=True)
    assert retention.cutoff(365) == dt.date(2025, 11, 30)


# -- 29 February 2028 ------------------------------------------------------------------


def test_29_february_2028_is_an_ordinary_working_tuesday() -> None:
    assert dt.date(2028, 2, 29).isoweekday() == 2
    assert working(local(2028, 2, 29, 8, 0)) and not working(local(2028, 2, 29, 17, 0))
    assert clock.local_day_start(dt.date(2028, 2, 29)) == dt.datetime(2028, 2, 28, 17, 0)
    assert (six_month(2028).end - six_month(2028).start).days == 183  # 1 Dec 2027 – 31 May 2028, leap day included
    clock.set_now(local(2028, 2, 29, 12, 0), frozen=True)
    assert retention.cutoff(1) == dt.date(2028, 2, 28) and due_next(clock.local_today()) == six_month(2028)
    clock.set_now(local(2029, 3, 1, 12, 0), frozen=True)
    assert retention.cutoff(366) == dt.date(2028, 2, 29)  # a year and a day back lands on the leap day


# -- a Sunday night and the Zalo OA's promotion hours ----------------------------------


def test_sunday_night_is_outside_working_time_and_promotions_wait_for_monday_morning() -> None:
    sunday_night = local(2026, 11, 29, 23, 30)
    assert not working(sunday_night) and not working(local(2026, 11, 29, 10, 0))
    assert next_morning(sunday_night) == pytest.approx(6 * 3600 + 35 * 60)  # until 06:05 on Monday
    assert next_morning(local(2026, 11, 29, 21, 59)) is None
    assert next_morning(local(2026, 11, 29, 22, 0)) == pytest.approx(8 * 3600 + 5 * 60)
    assert next_morning(local(2026, 11, 30, 5, 59)) == pytest.approx(6 * 60)
    assert next_morning(local(2026, 11, 30, 6, 0)) is None
    assert working(local(2026, 11, 30, 7, 30)) and not working(local(2026, 11, 30, 7, 29))


# -- the night before Tết --------------------------------------------------------------


def test_tet_2026_in_the_holiday_file_stops_working_time() -> None:
    tet = [d for d in sorted(HOLIDAYS) if d.year == 2026 and d.month == 2]
    assert tet[0] == dt.date(2026, 2, 16) and len(tet) == 5
    assert working(local(2026, 2, 13, 16, 59))  # the last working afternoon before Tết
    assert not working(local(2026, 2, 15, 23, 59))  # the night before the first day off
    assert not any(working(local(2026, 2, d, 10, 0)) for d in range(16, 21))
    assert working(local(2026, 2, 23, 7, 30))  # Monday after Tết


@pytest_asyncio.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'time.sqlite3'}", knowledge_dir=ROOT / "knowledge")
    ready = await prepared(settings)
    try:
        yield ready
    finally:
        await ready.db.dispose()


async def open_ticket(a: Assistant, at: dt.datetime) -> int:
    team = await teams.create_team(a.db, "phuong-hai-chau", "Tổ CNS phường Hải Châu")
    async with a.db.session() as session, session.begin():
        ticket = Ticket(created_at=at, channel="web", chat="c1", area_code="phuong-hai-chau", question="?", team_id=team)
        session.add(ticket)
        await session.flush()
        return ticket.id


@pytest.mark.asyncio
async def test_a_ticket_from_before_tet_is_reminded_after_it(assistant: Assistant) -> None:
    await open_ticket(assistant, local(2026, 2, 13, 10, 0))
    assert await assistant.check_tickets(local(2026, 2, 15, 23, 59)) == (0, 0)
    assert await assistant.check_tickets(local(2026, 2, 16, 8, 0)) == (0, 0)  # 29 Tết: a holiday
    assert await assistant.check_tickets(local(2026, 2, 23, 8, 0)) == (1, 0)
    assert await assistant.check_tickets(local(2026, 2, 23, 16, 1)) == (0, 1)  # 8 hours after the reminder


@pytest.mark.asyncio
async def test_the_ticket_check_reads_the_clock_when_no_time_is_given(assistant: Assistant) -> None:
    await open_ticket(assistant, local(2026, 11, 27, 15, 0))  # Friday afternoon
    clock.set_now(local(2026, 11, 29, 22, 0), frozen=True)  # Sunday night
    assert await assistant.check_tickets() == (0, 0)
    clock.set_now(local(2026, 11, 30, 8, 0), frozen=True)  # Monday morning
    assert await assistant.check_tickets() == (1, 0)


# -- a year the holiday file does not list ---------------------------------------------


@pytest.mark.asyncio
async def test_a_year_after_the_holiday_file_warns_and_goes_on(assistant: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    assert max(d.year for d in HOLIDAYS) < 2030 and not holidays_listed(HOLIDAYS, 2030)
    await open_ticket(assistant, local(2029, 12, 31, 16, 0))
    with caplog.at_level(logging.WARNING, logger="bot.services.worktime"):
        # Tuesday 1 January 2030 is a public holiday the file cannot know yet: a working day, with a warning.
        assert await assistant.check_tickets(local(2030, 1, 1, 9, 0)) == (1, 0)
        assert await assistant.check_tickets(local(2030, 1, 1, 17, 30)) == (0, 0)  # after hours
        assert await assistant.check_tickets(local(2030, 1, 2, 8, 0)) == (0, 1)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.services.worktime"]
    assert len(warnings) == 1 and "no public holiday in 2030" in warnings[0]  # once, not at every check


def test_a_broken_holiday_line_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("- 2027-01-01\n- 2027-02-30\n- Tết\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.services.worktime"):
        assert load_holidays(path) == frozenset({dt.date(2027, 1, 1)})
    assert sum("is not a date" in r.getMessage() for r in caplog.records) == 2
    path.write_text("- [unclosed\n", encoding="utf-8")
    assert load_holidays(path) == frozenset()


# -- campaign schedules ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_campaign_for_midnight_of_1_december_starts_at_that_minute(assistant: Assistant) -> None:
    sent: list[str] = []

    async def deliver(chat: str, reply: object) -> object:  # no subscriber: never called
        sent.append(chat)
        raise AssertionError("no subscriber to deliver to")

    campaign = await service.create(assistant.db, "Chúc mừng năm mới", channels=["web"], at=service.parse_time("2026-12-01T00:00"))
    sender = Sender(assistant.db, {"web": deliver}, {"web": 10.0})
    clock.set_now(local(2026, 11, 30, 23, 59), frozen=True)
    await sender.run_once()
    assert (await service.status(assistant.db, campaign))["state"] == "scheduled"
    clock.set_now(local(2026, 12, 1, 0, 0), frozen=True)
    await sender.run_once()
    assert (await service.status(assistant.db, campaign))["state"] in ("sending", "done") and sent == []
