"""The admin site in Debian's headless Chromium (Playwright) against `cdsbot run`:
log in, edit a published entry with the live preview (kept as a draft: the web chat still
gives the old answer), publish the draft, and see the change answered in the web chat of
the same app. Screenshots go to test-output/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import launch_chromium
from tests.test_browser import OUTPUT, ask, last_bot, server  # noqa: F401  (server is a fixture)

pytestmark = pytest.mark.browser
MARK = "Mã 4821."


@pytest.fixture
def desktop(server: str) -> Iterator:  # type: ignore[type-arg]  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context
        context.close()
        browser.close()


def test_edit_an_entry_and_see_it_answered_in_the_web_chat(server: str, desktop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect  # waits by locator: the pages' CSP forbids eval
    OUTPUT.mkdir(exist_ok=True)
    page = desktop.new_page()
    page.goto(server + "/admin/kb")
    assert "/admin/login" in page.url  # anonymous: sent to the login page
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "mot-mat-khau-dai")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/kb")
    page.fill("input[name=q]", "vneid")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_load_state()
    page.screenshot(path=str(OUTPUT / "admin-kb-search.png"), full_page=True)
    page.get_by_role("link", name="VNeID là gì, dùng để làm gì?").click()
    page.wait_for_url("**/kb/vneid-la-gi/edit")
    answer = page.locator("textarea[name=answer]")
    answer.fill(answer.input_value() + "\n" + MARK)
    english = page.locator("textarea[name=answer_en]")  # the same number in both languages (a publishing rule)
    english.fill(english.input_value() + "\nBrowser test code 4821.")
    expect(page.locator("#preview")).to_contain_text("4821")  # the live preview
    page.fill("input[name=try_question]", "vneid la gi")
    page.get_by_role("button", name="Thử với bản này").click()
    page.wait_for_load_state()
    assert "Trợ lý sẽ trả lời bằng mục này" in page.inner_text("#try-result")
    page.screenshot(path=str(OUTPUT / "admin-kb-editor.png"), full_page=True)
    page.get_by_role("button", name="Lưu bản nháp (chưa đổi câu trả lời đang dùng)").click()
    page.wait_for_load_state()
    assert "Đã lưu bản nháp" in page.inner_text("main")

    chat = desktop.new_page()
    chat.goto(server + "/")
    chat.wait_for_selector(".msg.bot")
    ask(chat, "VNeID là gì?")
    assert MARK not in last_bot(chat)  # a saved draft does not change what residents get

    page.once("dialog", lambda dialog: dialog.accept())  # "Xuất bản bản nháp?"
    page.get_by_role("button", name="Xuất bản bản nháp").click()
    page.wait_for_load_state()
    assert "Đã xuất bản bản nháp" in page.inner_text("main")
    chat.wait_for_timeout(1100)  # the app re-reads the knowledge base's revision at most once a second
    ask(chat, "VNeID là gì?")
    assert MARK in last_bot(chat)
    chat.screenshot(path=str(OUTPUT / "admin-change-in-web-chat.png"))

    page.goto(server + "/admin/kb/vneid-la-gi/history")
    page.get_by_role("button", name="So sánh A với B").click()
    page.wait_for_load_state()
    assert MARK in page.inner_text(".diff")
    page.screenshot(path=str(OUTPUT / "admin-kb-diff.png"), full_page=True)


def fill_new_entry(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/admin/kb/new")
    page.fill("input[name=id]", "muc-thu-xac-nhan")
    page.fill("input[name=question]", "Mục thử hỏi xác nhận trước khi xuất bản?")
    page.fill("textarea[name=alternates]", "\n".join(f"cách hỏi thử số {i}" for i in range(1, 6)))
    page.fill("textarea[name=answer]", "Đây là câu trả lời thử.")
    page.fill("textarea[name=answer_en]", "A test answer.")
    page.fill("textarea[name=sources]", "Kế hoạch của thành phố")
    page.fill("input[name=reviewed]", "2026-11-01")


def test_publishing_a_new_entry_asks_first_and_a_no_keeps_it_unsaved(server: str, desktop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = desktop.new_page()
    page.goto(server + "/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "mot-mat-khau-dai")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/**")
    fill_new_entry(page, server)
    questions: list[str] = []

    def dismiss(dialog):  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Lưu và xuất bản").click()
    page.wait_for_timeout(300)
    assert questions == ["Xuất bản mục này? Người dân sẽ thấy ngay câu trả lời."]
    assert page.url.endswith("/admin/kb/new")  # "no" sent nothing
    page.goto(server + "/admin/kb?q=muc-thu-xac-nhan")
    assert "Mục thử hỏi xác nhận" not in page.inner_text("main")

    fill_new_entry(page, server)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Lưu và xuất bản").click()
    page.wait_for_load_state()
    page.goto(server + "/admin/kb?q=muc-thu-xac-nhan&status=published")
    assert "Mục thử hỏi xác nhận" in page.inner_text("main")
