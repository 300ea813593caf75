"""Reports, teams/areas and campaigns pages over HTTP: figures and files, a team
leader held to their own area on the server, refusals, and escaped resident text."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import insert, select

from bot import clock
from bot.app import Assistant
from bot.campaigns import service
from bot.storage.models import AuditLog, Campaign, QuestionLog, Resident, Subscription, Team, TeamInvite
from tests.admin.conftest import Client, csrf_of
from tests.reports import dataset

LEADER_AREA = "phuong-hai-chau"


async def load(assistant: Assistant) -> None:
    await dataset.load(assistant.db)
    async with assistant.db.engine.begin() as conn:  # one question from the team leader's own area
        await conn.execute(insert(QuestionLog.__table__), [
            dataset.q(dt.datetime(2026, 2, 1, 3), "web", "h9", LEADER_AREA, "unknown", None, "hỏi ở hải châu")])


@pytest.mark.asyncio
async def test_report_page_shows_the_figures_and_escapes_resident_text(client: Client, assistant: Assistant) -> None:
    await load(assistant)
    c = await client("editor")
    r = await c.get("/admin/reports?plan=six-month&year=2026")
    assert r.status_code == 200
    assert "Báo cáo 6 tháng năm 2026 (01/12/2025 – 31/05/2026)" in r.text
    assert '<strong id="fig-questions">11</strong>' in r.text
    assert "lam sao doi the &lt;b&gt;xanh&lt;/b&gt;" in r.text and "<b>xanh</b>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text
    assert "vendor/chartjs/chart.umd.min.js" in r.text
    js = await c.get("/admin/static/vendor/chartjs/chart.umd.min.js")
    assert js.status_code == 200 and "Chart.js v4.6.1" in js.text[:200]
    one = await c.get("/admin/reports?from=2025-12-01&to=2026-05-31&area=a1")
    assert '<strong id="fig-questions">4</strong>' in one.text


@pytest.mark.asyncio
async def test_the_default_report_turns_at_midnight_of_1_december_in_da_nang(client: Client) -> None:
    c = await client("editor")
    clock.set_now(dt.datetime(2026, 11, 30, 16, 59), frozen=True)  # 23:59 on 30 November in Đà Nẵng
    before = (await c.get("/admin/reports")).text
    assert "Báo cáo năm 2026 (01/12/2025 – 30/11/2026)" in before and "six-month&amp;year=2027" not in before
    clock.set_now(dt.datetime(2026, 11, 30, 17, 0), frozen=True)  # midnight: 1 December, still 30 November in UTC
    page = (await c.get("/admin/reports")).text
    assert "Báo cáo 6 tháng năm 2027 (01/12/2026 – 31/05/2027)" in page
    assert "six-month&amp;year=2027" in page  # next year's reports can be picked from 1 December


@pytest.mark.asyncio
async def test_report_downloads_are_the_same_figures(client: Client, assistant: Assistant) -> None:
    await load(assistant)
    c = await client("admin")
    r = await c.get("/admin/reports/export.xlsx?from=2025-12-01&to=2026-05-31")
    assert r.status_code == 200 and 'filename="bao-cao-20251201-20260531.xlsx"' in r.headers["content-disposition"]
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(r.content))["Tổng quan"].iter_rows(values_only=True)}
    assert summary["Câu hỏi"] == 11 and summary["Trợ lý trả lời"] == 4
    csv = await c.get("/admin/reports/export.csv?from=2025-12-01&to=2026-05-31&area=a2")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Câu hỏi,4" in csv.content.decode("utf-8-sig")


@pytest.mark.asyncio
async def test_team_leader_sees_only_their_area_whatever_the_query(client: Client, assistant: Assistant) -> None:
    await load(assistant)
    c = await client("team-leader")
    r = await c.get("/admin/reports?from=2025-12-01&to=2026-05-31&area=a1")
    assert '<strong id="fig-questions">1</strong>' in r.text  # its own area's one question, not a1's four
    assert 'name="area"' not in r.text
    xlsx = await c.get("/admin/reports/export.xlsx?from=2025-12-01&to=2026-05-31&area=a1")
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(xlsx.content))["Tổng quan"].iter_rows(values_only=True)}
    assert summary["Câu hỏi"] == 1 and summary["Phạm vi"] == "Phường Hải Châu"
    assert (await c.get("/admin/teams/1")).status_code == 403  # team 1 is a1's
    assert (await c.post("/admin/teams/1/invites", data={"csrftoken": csrf_of(c)})).status_code == 403
    areas = await c.get("/admin/areas")
    assert LEADER_AREA in areas.text and ">a1<" not in areas.text


@pytest.mark.asyncio
async def test_bad_period_is_explained(client: Client) -> None:
    c = await client("editor")
    r = await c.get("/admin/reports?from=2026-05-31&to=2026-01-01")
    assert r.status_code == 400 and "Kỳ báo cáo không hợp lệ" in r.text and "Traceback" not in r.text


@pytest.mark.asyncio
async def test_teams_create_invite_and_ticket_ages(client: Client, assistant: Assistant) -> None:
    await load(assistant)
    c = await client("editor")
    r = await c.post("/admin/teams", data={"csrftoken": csrf_of(c), "area": LEADER_AREA, "name": "Tổ CNS <Hải Châu>"})
    assert r.status_code == 303
    async with assistant.db.session() as session:
        team_id = await session.scalar(select(Team.id).where(Team.area_code == LEADER_AREA))
    page = await c.get(f"/admin/teams/{team_id}")
    assert "Tổ CNS &lt;Hải Châu&gt;" in page.text
    leader = await client("team-leader")
    r = await leader.post(f"/admin/teams/{team_id}/invites", data={"csrftoken": csrf_of(leader), "leader": "1"})
    assert r.status_code == 303
    async with assistant.db.session() as session:
        invite = (await session.scalars(select(TeamInvite).where(TeamInvite.team_id == team_id))).one()
        actions = (await session.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert invite.role == "member"  # a team leader cannot make leaders
    assert invite.code in (await leader.get(f"/admin/teams/{team_id}")).text
    assert actions == ["team.create", "team.invite"]
    team1 = await c.get("/admin/teams/1")
    assert "Lan" in team1.text and "Hùng" in team1.text
    assert "chờ nhận" in team1.text and "ngày" in team1.text  # ticket 4, open since 01/03/2026
    listing = await c.get("/admin/teams")
    assert "Tổ CNS An Hải" in listing.text and "Tổ CNS Bà Nà" in listing.text


async def subscribers(assistant: Assistant, area: str, n: int, start: int = 100) -> None:
    async with assistant.db.engine.begin() as conn:
        await conn.execute(insert(Resident.__table__), [
            {"id": start + i, "channel": "telegram", "platform_user_id": str(start + i), "language": "vi", "area_code": area,
             "display_name": "", "state": {}, "waiting": False} for i in range(n)])
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": start + i, "area_code": area, "topics": [], "active": True} for i in range(n)])


@pytest.mark.asyncio
async def test_compose_previews_every_channel_with_the_audience(client: Client, assistant: Assistant) -> None:
    await subscribers(assistant, LEADER_AREA, 3)
    await subscribers(assistant, "phuong-thanh-khe", 2, start=200)
    c = await client("editor")
    form = {"csrftoken": csrf_of(c), "text": "Ngày hội <b>chuyển đổi số</b>", "links": "Xem thêm|https://danang.gov.vn",
            "areas": LEADER_AREA, "when": "now", "action": "preview"}
    r = await c.post("/admin/campaigns/new", data=form)
    assert r.status_code == 200
    assert '<strong id="audience">3</strong>' in r.text
    assert r.text.count("Ngày hội &lt;b&gt;chuyển đổi số&lt;/b&gt;") >= 4  # the form and three previews
    assert "Xem thêm: https://danang.gov.vn" in r.text  # Zalo puts links in the text
    async with assistant.db.session() as session:
        assert (await session.scalars(select(Campaign))).all() == []  # a preview stores nothing


@pytest.mark.asyncio
async def test_compose_errors_keep_what_was_typed(client: Client) -> None:
    c = await client("editor")
    r = await c.post("/admin/campaigns/new", data={"csrftoken": csrf_of(c), "text": "Tin có ảnh", "image_url": "http://x",
                                                     "when": "draft", "action": "create"})
    assert r.status_code == 400 and "https://" in r.text and "Tin có ảnh</textarea>" in r.text


@pytest.mark.asyncio
async def test_team_leader_campaigns_go_to_their_area_only(client: Client, assistant: Assistant) -> None:
    c = await client("team-leader")
    r = await c.post("/admin/campaigns/new", data={"csrftoken": csrf_of(c), "text": "Tin của phường", "when": "draft",
                                                     "areas": "phuong-thanh-khe", "action": "create"})
    assert r.status_code == 303
    async with assistant.db.session() as session:
        mine = (await session.scalars(select(Campaign))).one()
    assert (mine.areas, mine.sender_area, mine.created_by) == ([LEADER_AREA], LEADER_AREA, "totruong")
    city = await service.create(assistant.db, "Tin của thành phố")
    assert (await c.get(f"/admin/campaigns/{city}")).status_code == 403
    assert (await c.get(f"/admin/campaigns/{city}/status")).status_code == 403
    r = await c.post(f"/admin/campaigns/{city}/action", data={"csrftoken": csrf_of(c), "action": "cancel"})
    assert r.status_code == 403
    assert (await service.status(assistant.db, city))["state"] == "draft"
    listing = await c.get("/admin/campaigns")
    assert "Tin của phường" in listing.text and "Tin của thành phố" not in listing.text


@pytest.mark.asyncio
async def test_approval_of_a_team_campaign_is_the_citys(client: Client, assistant: Assistant) -> None:
    assistant.settings = assistant.settings.model_copy(update={"campaign_approval_required": True})
    leader = await client("team-leader")
    await leader.post("/admin/campaigns/new", data={"csrftoken": csrf_of(leader), "text": "Cần duyệt", "when": "now",
                                                      "action": "create"})
    async with assistant.db.session() as session:
        campaign = (await session.scalars(select(Campaign))).one()
    assert campaign.state == "draft"
    page = await leader.get(f"/admin/campaigns/{campaign.id}")
    assert "đang chờ biên tập viên thành phố duyệt" in page.text and 'value="approve"' not in page.text
    r = await leader.post(f"/admin/campaigns/{campaign.id}/action", data={"csrftoken": csrf_of(leader), "action": "approve"})
    assert r.status_code == 403
    editor = await client("editor")
    r = await editor.post(f"/admin/campaigns/{campaign.id}/action", data={"csrftoken": csrf_of(editor), "action": "approve"})
    assert r.status_code == 303
    status = (await editor.get(f"/admin/campaigns/{campaign.id}/status")).json()
    assert status["state"] == "scheduled" and status["state_label"] == "đã lên lịch"
    r = await editor.post(f"/admin/campaigns/{campaign.id}/action", data={"csrftoken": csrf_of(editor), "action": "pause"})
    assert (await service.status(assistant.db, campaign.id))["state"] == "paused"


@pytest.mark.asyncio
async def test_the_campaign_ward_picker_names_the_former_units(client: Client) -> None:
    c = await client("editor")
    page = (await c.get("/admin/campaigns/new")).text
    option = next(line for part in page.split("<option") if 'value="phuong-thanh-khe"' in part for line in [part])
    assert "Thanh Khê (cũ:" in option and "Thạc Gián" in option
