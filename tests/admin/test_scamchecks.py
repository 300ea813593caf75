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
