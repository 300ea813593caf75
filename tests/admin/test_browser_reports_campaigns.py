"""The reports and campaigns pages in a real browser: Debian's headless Chromium driven
by Playwright, against `cdsbot run` started as a process whose Telegram is the fake Bot
API server (tests/fakes/telegram_api.py). A campaign composed on the page reaches the
fake; a report's XLSX downloaded from the page holds the figures.

Screenshots go to test-output/ (not committed).
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import insert

from bot.settings import ROOT
from bot.storage.db import open_database
from bot.storage.models import Area, Resident, Subscription
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import launch_chromium, start_cdsbot, stop_cdsbot
from tests.reports import dataset

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
OUTPUT = ROOT / "test-output"
PASSWORD = "mot-mat-khau-dai"
SUBSCRIBERS = [81001, 81002, 81003]


async def seed(url: str) -> None:
    """The report data set, and three Telegram subscribers in an area of their own."""
    db = await open_database(url)
    await dataset.load(db)
    async with db.engine.begin() as conn:
        await conn.execute(insert(Area.__table__), [{"code": "a3", "kind": "phuong", "name": "Thử Nghiệm"}])
        await conn.execute(insert(Resident.__table__), [
            {"id": user, "channel": "telegram", "platform_user_id": str(user), "language": "vi", "area_code": "a3",
             "display_name": "", "state": {}, "waiting": False} for user in SUBSCRIBERS])
        await conn.execute(insert(Subscription.__table__), [
            {"resident_id": user, "area_code": "a3", "topics": [], "active": True} for user in SUBSCRIBERS])
    await db.dispose()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake: FakeTelegram) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("admin-browser")
    url = f"sqlite+aiosqlite:///{tmp / 'admin.sqlite3'}"
    asyncio.run(seed(url))
    proc, base = start_cdsbot(tmp, {"DATABASE_URL": url, "ADMIN_PASSWORD": PASSWORD,
                                    "ADMIN_SECRET_KEY": "test-secret-key-0123456789", "TELEGRAM_BOT_TOKEN": fake.token,
                                    "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_POLL_TIMEOUT": "1"})
    yield base
    stop_cdsbot(proc)


@pytest.fixture
def page(server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        pg = context.new_page()
        pg.goto(server + "/admin/login")
        pg.get_by_label("Tên đăng nhập").fill("admin")
        pg.get_by_label("Mật khẩu").fill(PASSWORD)
        pg.get_by_role("button", name="Đăng nhập").click()
        pg.wait_for_url(server + "/admin/")
        yield pg
        context.close()
        browser.close()


def test_compose_preview_and_send_a_campaign(page, server: str, fake: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect  # waits by locator: the pages' CSP forbids eval
    OUTPUT.mkdir(exist_ok=True)
    page.get_by_role("navigation").get_by_role("link", name="Chiến dịch").click()
    page.get_by_role("link", name="Soạn chiến dịch mới").click()
    page.get_by_label("Nội dung", exact=True).fill("Ngày hội chuyển đổi số phường Thử Nghiệm: 8 giờ sáng Chủ nhật tại nhà văn hóa.")
    page.get_by_label('Nút liên kết, mỗi dòng một nút "nhãn|https://…"').fill("Xem chương trình|https://danang.gov.vn")
    page.get_by_label("Telegram", exact=True).check()
    page.get_by_label("Phường, xã (không chọn: toàn thành phố)").select_option("a3")
    page.get_by_label("Gửi ngay", exact=True).check()
    page.get_by_role("button", name="Xem trước").click()
    assert page.locator("#audience").inner_text() == "3"
    assert "Xem chương trình: https://danang.gov.vn" in page.locator(".preview.zalo").inner_text()
    page.locator("#preview").screenshot(path=str(OUTPUT / "admin-campaign-preview.png"))
    page.get_by_role("button", name="Tạo chiến dịch").click()
    page.wait_for_url("**/admin/campaigns/*")
    # The page polls the status and reloads once the campaign is done.
    expect(page.locator("#state")).to_contain_text("đã gửi xong", timeout=60_000)
    assert page.locator("#sent").inner_text() == "3"
    page.screenshot(path=str(OUTPUT / "admin-campaign-done.png"), full_page=True)
    received = {str(m["chat_id"]): m for m in fake.sent() if "Ngày hội chuyển đổi số" in str(m.get("text", ""))}
    assert set(received) == {str(u) for u in SUBSCRIBERS}


def test_open_a_report_and_download_its_xlsx(page, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    OUTPUT.mkdir(exist_ok=True)
    page.get_by_role("navigation").get_by_role("link", name="Báo cáo").click()
    page.get_by_role("link", name="Báo cáo 6 tháng 2026").click()
    page.wait_for_selector("body[data-charts-ready=yes]")
    assert page.locator("#fig-questions").inner_text() == "10"
    page.screenshot(path=str(OUTPUT / "admin-report-6-months.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải XLSX").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "bao-cao-20251201-20260531.xlsx"
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["Tổng quan"].iter_rows(values_only=True)}
    assert summary["Câu hỏi"] == 10 and summary["Tổ CNS đã trả lời"] == 3


def test_team_page_shows_waiting_tickets(page, server: str) -> None:  # type: ignore[no-untyped-def]
    OUTPUT.mkdir(exist_ok=True)
    page.get_by_role("navigation").get_by_role("link", name="Tổ CNS").click()
    page.get_by_role("link", name="Tổ CNS An Hải").click()
    page.get_by_role("button", name="Tạo mã mời").click()
    assert page.locator(".flash").inner_text().startswith("Mã mời mới:")
    assert page.locator("text=chờ nhận").count() == 1
    page.screenshot(path=str(OUTPUT / "admin-team.png"), full_page=True)


def test_a_resident_checks_a_message_and_the_city_sees_it_in_the_week(page, server: str) -> None:  # type: ignore[no-untyped-def]
    """Issue 22, seen as people see it: a resident pastes a message after /kiemtra in the web
    chat and is told it is a scam and what to do; the city's weekly view counts the check
    (no text kept) and offers the warning campaign."""
    from playwright.sync_api import expect

    from tests.test_browser import ask, last_bot

    OUTPUT.mkdir(exist_ok=True)
    chat = page.context.new_page()
    chat.set_viewport_size({"width": 390, "height": 844})
    chat.goto(server + "/")
    ask(chat, "/kiemtra")
    ask(chat, "DIEN LUC DA NANG: Ho gia dinh ong/ba no tien dien 2 ky, se bi ngung cap dien luc 17h hom nay. "
              "Thanh toan ngay tai dienluc-danang.com.vn/thanhtoan de tranh bi cat dien.")
    said = last_bot(chat)
    assert "LỪA ĐẢO" in said and "113" in said, said
    chat.screenshot(path=str(OUTPUT / "scamcheck-web-chat.png"), full_page=True)
    page.goto(server + "/admin/scam-checks")
    expect(page.locator("h1")).to_have_text("Tin nhắn lừa đảo người dân đã kiểm tra")
    body = page.locator("main").inner_text() if page.locator("main").count() else page.locator("body").inner_text()
    assert "1 tin nhắn được kiểm tra: 1 lừa đảo" in body, body[:600]
    assert "DIEN LUC" not in body and "dienluc-danang" not in body  # counts only, never the text
    expect(page.get_by_role("link", name="Soạn thông báo cảnh báo (chọn nơi nhận)")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "admin-scam-checks-week.png"), full_page=True)
