"""The weekly view of checked scam messages: counts by kind, sign and ward, no text, and
a prefilled campaign warning for the wards concerned."""

from __future__ import annotations

import pytest

from bot.app import Assistant
from bot.channels.base import Incoming
from bot.conversation import load_resident, save_resident
from bot.storage.models import ScamCheck
from sqlalchemy import select
from tests.admin.conftest import Client


@pytest.mark.asyncio
async def test_weekly_view_counts_checks_without_their_text(assistant: Assistant, client: Client) -> None:
    resident = await load_resident(assistant.db, "web", "u1")
    await save_resident(assistant.db, resident, area_code="phuong-hai-chau")
    scam = "Vietcombank: tai khoan bi khoa, dang nhap tai vcb-xacthuc.com, goi 0905123456"
    await assistant.dispatcher.dispatch(Incoming("web", "u1", "u1", text="/kiemtra " + scam))
    await assistant.dispatcher.dispatch(Incoming("web", "u2", "u2", text="/kiemtra Tuyen CTV viec nhe luong cao 500k/ngay"))
    async with assistant.db.session() as s:
        rows = (await s.scalars(select(ScamCheck))).all()
    assert len(rows) == 2 and {r.kind for r in rows} == {"fake-bank-company", "job-task"}
    editor = await client("editor")
    page = await editor.get("/admin/scam-checks")
    assert page.status_code == 200
    html = page.text
    assert "Giả danh ngân hàng" in html and "Việc nhẹ lương cao" in html and "lookalike-domain" in html
    assert "Hải Châu" in html and "Chưa rõ phường, xã" in html
    assert "vcb-xacthuc" not in html and "0905123456" not in html
    # One click to a prefilled warning for the ward, the second to create it.
    compose = await editor.get("/admin/campaigns/new?text=CANH+BAO&area=phuong-hai-chau")
    assert compose.status_code == 200 and "CANH BAO" in compose.text
    assert "area=phuong-hai-chau" in html.replace("&amp;", "&")


@pytest.mark.asyncio
async def test_editors_keep_the_lists_checked_and_with_history(assistant: Assistant, client: Client) -> None:
    from bot.scamcheck import check
    from bot.services import scamlists
    from tests.admin.conftest import csrf_of

    scamlists.forget()
    try:
        msg = "Xem ngay anh cua ban tai hinh-anh-dep.com"
        assert check(msg).verdict.value == "no_signs"
        editor = await client("editor")
        page = await editor.get("/admin/scam-lists")
        assert page.status_code == 200 and "vietcombank.com.vn" in page.text and "mặc định từ tệp" in page.text
        bad = await editor.post("/admin/scam-lists/known_bad", data={"items": "hinh-anh-dep.com\nkhong phai ten mien",
                                                                     "csrftoken": csrf_of(editor)})
        assert bad.status_code == 303
        assert "không phải tên miền" in (await editor.get("/admin/scam-lists")).text
        assert check(msg).verdict.value == "no_signs"  # nothing saved
        clash = await editor.post("/admin/scam-lists/known_bad", data={"items": "vietcombank.com.vn", "csrftoken": csrf_of(editor)})
        assert clash.status_code == 303 and "danh sách tên miền chính thức" in (await editor.get("/admin/scam-lists")).text
        ok = await editor.post("/admin/scam-lists/known_bad", data={"items": "hinh-anh-dep.com", "csrftoken": csrf_of(editor)})
        assert ok.status_code == 303
        after = (await editor.get("/admin/scam-lists")).text
        assert "Đã lưu" in after and "bientap" in after and "hinh-anh-dep.com" in after
        result = check(msg)
        assert result.verdict.value == "scam" and result.extra == ("hinh-anh-dep.com",)
    finally:
        scamlists.forget()


@pytest.mark.asyncio
async def test_editors_keep_the_phrase_lists_the_same_way(assistant: Assistant, client: Client) -> None:
    """The phrases the checker reads for signs are lists on the same page: each line checked,
    then the whole checker against the sample messages; a bad list is refused with a clear
    message and changes nothing; a good one is used at once and shows in the history."""
    from bot.scamcheck import check
    from bot.services import scamlists
    from bot.storage.models import ScamList
    from tests.admin.conftest import csrf_of

    scamlists.forget()
    try:
        msg = "Tham gia nhom san vang ao cung chuyen gia de nhan tin hieu"
        assert check(msg).verdict.value == "no_signs"
        editor = await client("editor")
        page = (await editor.get("/admin/scam-lists")).text
        for name in ("sign.prize-or-too-good", "word.otp", "received", "own_request", "question"):
            assert f"/admin/scam-lists/{name}" in page
        assert "luong cao" in page and "mặc định từ tệp" in page  # a sign's patterns, from the file

        current = scamlists.file_lists(assistant.settings.knowledge_dir)["sign.prize-or-too-good"]

        async def save(name: str, lines: list[str]) -> str:
            r = await editor.post(f"/admin/scam-lists/{name}", data={"items": "\n".join(lines), "csrftoken": csrf_of(editor)})
            assert r.status_code == 303
            return (await editor.get("/admin/scam-lists")).text

        # Lines that cannot be read, or that would fire on every message.
        refused = await save("sign.prize-or-too-good", [*current, "nhan {qua_tang}", "(lai suat", "Lãi suất cao", "\\w*"])
        assert "Chưa lưu" in refused and "không có danh sách từ {qua_tang}" in refused
        assert "không đọc được mẫu" in refused and "không dấu, chữ thường: “lai suat cao”" in refused
        assert "khớp với cả tin nhắn rỗng" in refused
        # A list that reads, but would call the bank's own OTP message a scam.
        refused = await save("sign.remote-access-app", ["anydesk", "ma otp"])
        assert "tin nhắn hợp lệ mẫu bị coi là lừa đảo" in refused and "Mã OTP của Quý khách là 552901" in refused
        # A list that would check a resident's own request instead of answering it.
        refused = await save("own_request", ["zzzz qqqq"])
        assert "câu người dân tự hỏi bị coi là tin nhắn nhận được" in refused
        async with assistant.db.session() as s:
            assert (await s.scalars(select(ScamList))).all() == []
        assert check(msg).verdict.value == "no_signs"

        saved = await save("sign.prize-or-too-good", [*current, "san vang ao"])
        assert "Đã lưu danh sách" in saved and "list:sign.prize-or-too-good" in saved and "bientap" in saved
        assert "<code>san vang ao</code>" in saved  # the history shows the line added
        result = check(msg)
        assert result.verdict.value == "suspicious" and ("prize-or-too-good", "san vang ao") in [(f.sign, f.quote) for f in result.findings]

        # Others may not; a form without its CSRF token changes nothing.
        leader = await client("team-leader")
        assert (await leader.post("/admin/scam-lists/sign.prize-or-too-good",
                                  data={"items": "x", "csrftoken": csrf_of(leader)})).status_code == 403
        assert (await editor.post("/admin/scam-lists/sign.prize-or-too-good", data={"items": "abc"})).status_code == 403
        async with assistant.db.session() as s:
            row = await s.get(ScamList, "sign.prize-or-too-good")
        assert row is not None and row.items[-1] == "san vang ao" and row.updated_by == "bientap"
    finally:
        scamlists.forget()


def test_the_sample_messages_hold_with_the_files_lists() -> None:
    """The samples a saved list is checked against are judged right by the files' lists."""
    from pathlib import Path

    import yaml

    from bot.scamcheck import check

    samples = yaml.safe_load((Path(__file__).parents[2] / "knowledge" / "scamcheck" / "samples.yaml").read_text(encoding="utf-8"))
    assert min(len(samples[k]) for k in ("scam", "legit", "own_request")) >= 5
    assert [t for t in samples["scam"] if check(t).verdict.value == "no_signs"] == []
    assert [t for t in samples["legit"] if check(t).verdict.value == "scam"] == []
    assert [t for t in samples["own_request"] if check(t).looks_received] == []
