"""The web chat in a real browser: Debian's headless Chromium driven by Playwright,
against `cdsbot run` started as a process on a free loopback port.

Skipped when Chromium is not installed (`.ci/run` installs it). Screenshots go to
test-output/ (not committed) for a reviewer to look at. Accessibility is checked with
axe-core, vendored in tests/vendor/axe-core (never downloaded at test time): the web chat
and every admin page must have no serious or critical violation.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import ROOT
from tests.helpers import launch_chromium, start_cdsbot, stop_cdsbot

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
OUTPUT = ROOT / "test-output"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 800}, "device_scale_factor": 2, "is_mobile": True}
# Only the accessibility checks bypass the Content-Security-Policy, to inject axe-core;
# every other test runs the page under the policy it is served with.
PHONE_AXE = {**PHONE, "bypass_csp": True}




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
def page(server: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(**(PHONE_AXE if "accessibility" in request.node.name else PHONE))
        pg = context.new_page()
        pg.goto(server + "/")
        yield pg
        context.close()
        browser.close()


def ask(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
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
    page.locator(".msg.bot").last.locator(".buttons button").first.click()
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


def tap(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Tap a button (the last one of that name) and wait for the assistant's reply."""
    page.wait_for_selector(".msg.bot")
    count = page.locator(".msg.bot").count()
    page.get_by_role("button", name=name, exact=True).last.click()
    page.locator(".msg.bot").nth(count).wait_for()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / name))


def axe(page) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """The serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    OUTPUT.mkdir(exist_ok=True)
    with (OUTPUT / "axe.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"url": page.url, "violations": found}, ensure_ascii=False) + "\n")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def to_ward_prompt(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "khi nào có sóng 5G ở xã Trà My")
    tap(page, "Hỏi người thật")
    assert "phường, xã nào" in last_bot(page)


def test_the_ward_prompt_is_no_trap(page) -> None:  # type: ignore[no-untyped-def]
    """Left four ways: a command, the Chủ đề button, the Thôi button, the word "thôi";
    and an urgent question typed at it is answered."""
    to_ward_prompt(page)
    shot(page, "ward-0-prompt.png")
    ask(page, "/menu")
    assert "Chọn nhóm chủ đề" in last_bot(page)
    shot(page, "ward-1-command-menu.png")
    to_ward_prompt(page)
    tap(page, "Chủ đề")
    assert "Chọn nhóm chủ đề" in last_bot(page)
    shot(page, "ward-2-topics-button.png")
    to_ward_prompt(page)
    tap(page, "Thôi")
    assert "Đã thôi" in last_bot(page)
    shot(page, "ward-3-cancel-button.png")
    to_ward_prompt(page)
    ask(page, "thôi")
    assert "Đã thôi" in last_bot(page)
    shot(page, "ward-4-typed-thoi.png")
    to_ward_prompt(page)
    ask(page, "tui bị lừa chuyển khoản rồi phải làm sao")
    texts = page.locator(".msg.bot").all_inner_texts()
    assert any("đã thôi hỏi phường, xã" in t for t in texts[-3:])
    assert "chưa tìm thấy phường" not in texts[-1]
    shot(page, "ward-5-urgent-question.png")


def test_an_old_ward_name_is_resolved(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "/khuvuc")
    ask(page, "Thạc Gián")
    assert "Phường Thạc Gián cũ nay thuộc phường Thanh Khê" in last_bot(page)
    shot(page, "old-name-thac-gian.png")
    tap(page, "Phường Thanh Khê")
    assert "Đã ghi nhận: bạn ở Phường Thanh Khê" in last_bot(page)
    shot(page, "old-name-confirmed.png")


def test_the_conversation_survives_a_reload(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Đăng ký VNeID mức 2 ở đâu?")
    tap(page, "👍 Hữu ích")
    before = page.locator(".msg").all_inner_texts()
    page.reload()
    page.wait_for_selector("body[data-restored]")
    after = page.locator(".msg").all_inner_texts()
    assert after == before
    assert "Đăng ký VNeID mức 2 ở đâu?" in page.locator(".msg.me").all_inner_texts()
    shot(page, "reloaded-conversation.png")


def test_a_new_answer_shows_its_first_line(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    for _ in range(4):  # large text: an answer taller than the screen
        page.get_by_role("button", name="chữ lớn hơn").click()
    for q in ("vneid là gì", "nop ho so truc tuyen the nao", "chữ ký số là gì"):
        ask(page, q)
        top, height, room = page.evaluate("""() => { const log = document.getElementById('log');
            const all = document.querySelectorAll('.msg.bot'); const last = all[all.length - 1];
            return [last.getBoundingClientRect().top - log.getBoundingClientRect().top,
                    last.getBoundingClientRect().height, log.clientHeight]; }""")
        assert height > room, q  # longer than the screen...
        assert 0 <= top <= 40, q  # ...and shown from its first line, not from the middle


def test_phone_numbers_can_be_tapped_and_a_person_is_one_tap_away(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "khi nào có sóng 5G ở xã Trà My")
    tap(page, "Gặp người thật")
    assert "Chuyển câu hỏi vừa rồi" in page.locator(".msg.bot").last.inner_text()
    tap(page, "Chuyển câu hỏi vừa rồi")
    ask(page, "Hải Châu")
    link = page.locator(".msg.bot a.tel").last
    assert link.get_attribute("href") == "tel:02361022"  # dialable from a mobile phone


def test_text_size_is_remembered(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(".msg.bot")
    base = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("button", name="chữ lớn hơn").click()
    page.get_by_role("button", name="chữ lớn hơn").click()
    larger = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert larger > base
    page.reload()
    page.wait_for_selector(".msg.bot")
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") == larger
    shot(page, "larger-text.png")
    page.get_by_role("button", name="chữ nhỏ hơn").click()
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") < larger


def test_listen_only_with_a_vietnamese_voice(server: str) -> None:
    from playwright.sync_api import sync_playwright

    # The browser's speech synthesis is the outside world here: headless Chromium has no
    # voices, so one run without (the button is hidden) and one with a Vietnamese voice.
    voice = """(() => { const spoken = []; window.__spoken = spoken;
        const synth = { speaking: false, getVoices: () => [{lang: 'vi-VN', name: 'Tiếng Việt'}],
                        speak: (u) => spoken.push(u.text), cancel: () => {}, addEventListener: () => {} };
        Object.defineProperty(window, 'speechSynthesis', {value: synth});
        window.SpeechSynthesisUtterance = function (text) { this.text = text; }; })();"""
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for with_voice in (False, True):
            context = browser.new_context(**PHONE)
            pg = context.new_page()
            if with_voice:
                pg.add_init_script(voice)
            pg.goto(server + "/")
            pg.wait_for_selector(".msg.bot")
            listen = pg.locator(".msg.bot button.listen").first
            assert listen.is_visible() == with_voice
            if with_voice:
                listen.click()
                assert pg.evaluate("window.__spoken.length") == 1
            context.close()
        browser.close()


def test_favicon(server: str) -> None:
    import httpx

    r = httpx.get(server + "/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")


def test_web_chat_has_no_serious_accessibility_violation(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "hồ sơ")
    assert axe(page) == []
    page.get_by_role("button", name="Switch to English").click()
    page.locator("html[lang=en]").wait_for(state="attached")
    ask(page, "What is VNeID?")
    assert axe(page) == []
    page.get_by_role("button", name="larger text").click()
    page.get_by_role("button", name="larger text").click()
    assert axe(page) == []


ADMIN_PAGES = ["/admin/", "/admin/kb", "/admin/kb/new", "/admin/kb/vneid-la-gi/edit", "/admin/kb/vneid-la-gi/history",
               "/admin/kb/transfer", "/admin/questions", "/admin/questions/gaps", "/admin/reports", "/admin/teams",
               "/admin/areas", "/admin/tickets", "/admin/campaigns", "/admin/campaigns/new", "/admin/accounts",
               "/admin/audit"]


def test_admin_pages_have_no_serious_accessibility_violation(server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/admin/login")
    assert axe(page) == []
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "mot-mat-khau-dai")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    problems = {}
    for path in ADMIN_PAGES:
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
        found = axe(page)
        if found:
            problems[path] = found
    page.goto(server + "/admin/teams")  # a team's page: create one through the form (a former name typed)
    page.fill("input[name=area_name]", "Thạc Gián")
    page.fill("input[name=name]", "Tổ CNS phường Thanh Khê")
    page.locator("form[action$='/admin/teams'] button[type=submit]").click()
    page.wait_for_url("**/admin/teams/*")
    assert "Tổ CNS phường Thanh Khê" in page.inner_text("body")
    found = axe(page)
    if found:
        problems[page.url] = found
    assert problems == {}
