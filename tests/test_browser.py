"""The web chat in a real browser: Debian's headless Chromium driven by Playwright,
against `cdsbot run` started as a process on a free loopback port.

Skipped when Chromium is not installed (`.ci/run` installs it). Screenshots go to
test-output/ (not committed) for a reviewer to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from bot.settings import ROOT
from tests.helpers import launch_chromium, start_cdsbot, stop_cdsbot

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
OUTPUT = ROOT / "test-output"




@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("browser")
    proc, base = start_cdsbot(tmp, {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'web.sqlite3'}",
                                    "ADMIN_PASSWORD": "mot-mat-khau-dai", "ADMIN_SECRET_KEY": "test-secret-key-0123456789"})
    yield base
    stop_cdsbot(proc)


@pytest.fixture
def page(server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 390, "height": 800}, device_scale_factor=2, is_mobile=True)
        pg = context.new_page()
        pg.goto(server + "/")
        yield pg
        context.close()
        browser.close()


def ask(page, text: str) -> None:  # type: ignore[no-untyped-def]
    count = page.locator(".msg.bot").count()
    page.get_by_label("Câu hỏi của bạn").fill(text) if page.locator("html[lang=vi]").count() else page.locator("#text").fill(text)
    page.keyboard.press("Enter")
    page.locator(".msg.bot").nth(count).wait_for()  # a locator, not a script string: the page's CSP forbids eval


def last_bot(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(".msg.bot").last.inner_text())


def test_questions_with_and_without_diacritics(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")  # the welcome
    ask(page, "Đăng ký VNeID mức 2 ở đâu?")
    assert "công an" in last_bot(page).lower()
    ask(page, "nop ho so truc tuyen the nao")
    assert "dichvucong" in last_bot(page)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web-chat-phone.png"), full_page=False)


def test_tap_a_suggestion(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    ask(page, "hồ sơ")
    assert "Có phải bạn muốn hỏi" in last_bot(page)
    count = page.locator(".msg.bot").count()
    page.locator(".msg.bot").last.locator("button").first.click()
    page.locator(".msg.bot").nth(count).wait_for()  # a locator, not a script string: the page's CSP forbids eval
    assert "hồ sơ" in last_bot(page)


def test_out_of_scope_then_ask_a_person(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    ask(page, "khi nào có sóng 5G ở xã Trà My")
    assert "chưa có câu trả lời" in last_bot(page)
    count = page.locator(".msg.bot").count()
    page.get_by_role("button", name="Hỏi người thật").last.click()
    page.locator(".msg.bot").nth(count).wait_for()  # a locator, not a script string: the page's CSP forbids eval
    assert "phường, xã nào" in last_bot(page)
    ask(page, "Hải Châu")
    assert "Đã ghi nhận câu hỏi" in page.locator(".msg.bot").last.inner_text()


def test_switch_to_english(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    count = page.locator(".msg.bot").count()
    page.get_by_role("button", name="Switch to English").click()
    page.locator(".msg.bot").nth(count).wait_for()  # a locator, not a script string: the page's CSP forbids eval
    assert page.locator("html").get_attribute("lang") == "en"
    ask(page, "What is VNeID?")
    assert "Ministry of Public Security" in last_bot(page)
    page.screenshot(path=str(OUTPUT / "web-chat-english.png"))


def test_resident_text_is_shown_as_text_not_markup(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    ask(page, "<img src=x onerror=alert(1)> vneid")
    assert page.locator(".msg.me img").count() == 0
    assert "<img" in page.locator(".msg.me").last.inner_text()


def test_admin_login(server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "mot-mat-khau-dai")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/admin" in page.url and "login" not in page.url
    page.goto(server + "/admin/kb")
    assert "vneid-la-gi" in page.inner_text("body")
    page.screenshot(path=str(OUTPUT / "admin-entries.png"), full_page=True)
