"""The knowledge base in the admin site: search through the normaliser, filters, the
editor (refusals like `cdsbot kb import`, the writing rules before publishing), try it,
preview, history with diff, import and export."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from bot.app import Assistant
from bot.kb_sheets import read_csv, read_xlsx, write_csv, write_xlsx
from tests.admin.conftest import Client, csrf_of

pytestmark = pytest.mark.asyncio

GOOD = {
    "id": "muon-may-tinh-bang", "group": "dinh-danh", "kind": "faq", "status": "draft",
    "question": "Mượn máy tính bảng ở nhà văn hóa được không?",
    "alternates": "mượn máy tính bảng ở đâu\nnhà văn hóa có cho mượn máy tính bảng không\nmượn ipad ở nhà văn hóa\nmáy tính bảng cộng đồng\ncho mượn máy tính bảng miễn phí",
    "answer": "Bạn đến Tổ Công nghệ số cộng đồng ở phường, xã để được hướng dẫn miễn phí.",
    "answer_en": "Ask the community digital team of your ward; it is free.",
    "links": "Cổng thành phố | https://danang.gov.vn", "related": "vneid-la-gi", "tags": "xa-hoi-so, nguoi-dan",
    "sources": "Hướng dẫn chung (general guidance)", "reviewed": "2026-11-01",
}


async def save(c, action: str = "save", original: str = "", **changes: str):  # type: ignore[no-untyped-def]
    data = {"csrftoken": csrf_of(c), "original": original, "action": action, **GOOD, **changes}
    return await c.post("/admin/kb/save", data=data)


async def test_search_uses_the_normaliser(client: Client) -> None:
    c = await client("editor")
    r = await c.get("/admin/kb", params={"q": "vneid"})
    assert "vneid-la-gi" in r.text and "VNeID là gì" in r.text
    r = await c.get("/admin/kb", params={"q": "dinh danh dien tu"})  # no diacritics typed
    assert "vneid-la-gi" in r.text
    r = await c.get("/admin/kb", params={"q": "khongcotrongkho"})
    assert "Không có mục nào khớp" in r.text


async def test_filters_by_status_tag_and_review_date(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    assert (await save(c, reviewed="2020-01-01")).status_code == 303  # a draft reviewed long ago
    r = await c.get("/admin/kb", params={"review": "stale"})
    assert "muon-may-tinh-bang" in r.text and "⚠" in r.text and "vneid-la-gi" not in r.text
    r = await c.get("/admin/kb", params={"status": "draft"})
    assert "muon-may-tinh-bang" in r.text and "vneid-la-gi" not in r.text
    r = await c.get("/admin/kb", params={"tag": "nguoi-lon-tuoi"})
    assert "vneid-la-gi" in r.text and "muon-may-tinh-bang" not in r.text


async def test_editor_refuses_what_kb_import_refuses_and_keeps_the_text(client: Client) -> None:
    c = await client("editor")
    r = await save(c, id="Not Kebab", answer="")
    assert r.status_code == 400
    assert "kebab-case" in r.text and "missing or empty &#39;answer&#39;" in r.text
    assert "mượn ipad ở nhà văn hóa" in r.text  # nothing typed is lost
    r = await save(c, related="khong-co-muc-nay")
    assert r.status_code == 400 and "khong-co-muc-nay" in r.text


async def test_publishing_checks_the_writing_rules(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    r = await save(c, "publish", links="Trang lạ | https://evil.example.com/vneid")
    assert r.status_code == 400 and "evil.example.com" in r.text and "link-domains.yaml" in r.text
    r = await save(c, "publish", answer_en="", alternates="chỉ một")
    assert r.status_code == 400 and "tiếng Anh" in r.text and "cách hỏi khác" in r.text
    r = await save(c, "publish")
    assert r.status_code == 303
    await assistant.kb.reload()  # what matcher() does within a second of a publication
    matcher = await assistant.kb.matcher()
    assert matcher.match("cho mượn máy tính bảng miễn phí").entry_id == "muon-may-tinh-bang"


async def test_try_it_runs_the_matcher_on_the_draft_without_saving(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    r = await c.post("/admin/kb/save", data={"csrftoken": csrf_of(c), "original": "", "action": "try",
                                             "try_question": "nha van hoa co cho muon may tinh bang khong", **GOOD})
    assert r.status_code == 200
    assert "Trợ lý sẽ trả lời bằng mục này" in r.text
    assert "Tổ Công nghệ số cộng đồng ở phường" in r.text  # the reply the resident would read
    assert "muon-may-tinh-bang" not in (await assistant.kb.matcher()).match("nha van hoa co cho muon may tinh bang khong").suggestions
    r = await c.get("/admin/kb")
    assert "muon-may-tinh-bang" not in r.text  # nothing was saved


async def test_preview_shows_each_channel_and_the_length(client: Client) -> None:
    c = await client("editor")
    r = await c.post("/admin/kb/preview", data=GOOD, headers={"x-csrftoken": csrf_of(c)})
    assert r.status_code == 200
    for part in ("Telegram", "Zalo", "Web", "(Trả lời bằng số để chọn)", "Cổng thành phố", f"{len(GOOD['answer'].split())} từ"):
        assert part in r.text
    r = await c.post("/admin/kb/preview", data={**GOOD, "answer": "từ " * 2100}, headers={"x-csrftoken": csrf_of(c)})
    assert 'class="over">2100 từ' in r.text.replace("<strong ", "") and "gửi thành 2 tin" in r.text


async def test_status_history_and_diff(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    await save(c)
    await save(c, original="muon-may-tinh-bang", answer="Câu trả lời đã sửa, có thêm chi tiết.")
    r = await c.post("/admin/kb/muon-may-tinh-bang/status", data={"csrftoken": csrf_of(c), "status": "published"})
    assert r.status_code == 303
    await assistant.kb.reload()
    assert (await assistant.kb.matcher()).match("cho mượn máy tính bảng miễn phí").entry_id == "muon-may-tinh-bang"
    r = await c.post("/admin/kb/muon-may-tinh-bang/status", data={"csrftoken": csrf_of(c), "status": "archived"})
    await assistant.kb.reload()
    assert (await assistant.kb.matcher()).match("cho mượn máy tính bảng miễn phí").entry_id != "muon-may-tinh-bang"
    r = await c.get("/admin/kb/muon-may-tinh-bang/history")
    ids = re.findall(r'name="a" value="(\d+)"', r.text)
    assert len(ids) == 4  # create, update, publish, archive
    r = await c.get("/admin/kb/muon-may-tinh-bang/history", params={"a": ids[-1], "b": ids[-2]})  # create vs update
    assert "-answer: Bạn đến Tổ" in r.text and "+answer: Câu trả lời đã sửa" in r.text
    r = await (await client("admin")).get("/admin/audit", params={"action": "kb."})
    assert "kb.status.archived" in r.text and "bientap" in r.text


async def test_proposed_entries_are_listed_for_review(client: Client, assistant: Assistant) -> None:
    from bot.kb_files import Entry
    from bot.services.knowledge import save_entry

    await save_entry(assistant.db, Entry(id="de-xuat-7", question="Đổi mật khẩu VNeID?", answer="Vào Cài đặt.", status="draft"),
                     "de-xuat", by="team:1:Lan")
    c = await client("editor")
    r = await c.get("/admin/kb")
    assert "Đề xuất từ Tổ CNS chờ duyệt (1)" in r.text
    r = await c.get("/admin/kb", params={"group": "de-xuat", "status": "draft"})
    assert "de-xuat-7" in r.text


async def test_export_and_import_round_trip_in_every_format(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
        r = await c.get("/admin/kb/export", params={"format": fmt})
        assert r.status_code == 200
        groups = reader(r.content)
        assert any(e.id == "vneid-la-gi" for g in groups for e in g.entries)
    r = await c.get("/admin/kb/export")
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "entries/dinh-danh.yaml" in names
    # An editor changes one answer in the spreadsheet and imports it back.
    groups = read_xlsx((await c.get("/admin/kb/export", params={"format": "xlsx"})).content)
    book = load_workbook(io.BytesIO(write_xlsx(groups)))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("id")].value == "vneid-la-gi":
            # The same numbers as the English answer (mức 1, mức 2), or the content checks refuse it.
            row[header.index("answer")].value = "VNeID là ứng dụng định danh điện tử của Bộ Công an, có mức 1 và mức 2 (đã sửa qua Excel)."
    out = io.BytesIO()
    book.save(out)
    r = await c.post("/admin/kb/import", data={"csrftoken": csrf_of(c)},
                     files={"file": ("kho.xlsx", out.getvalue(), "application/octet-stream")})
    assert r.status_code == 303, r.text
    r = await c.get("/admin/kb/vneid-la-gi/edit")
    assert "đã sửa qua Excel" in r.text


async def test_import_refuses_invalid_files_and_loads_nothing(client: Client, assistant: Assistant) -> None:
    c = await client("editor")
    groups = read_csv((await c.get("/admin/kb/export", params={"format": "csv"})).content)
    entry = next(e for g in groups for e in g.entries if e.id == "vneid-la-gi")
    entry.answer = "Đã đổi"
    entry.links = [{"label": "Lừa đảo", "url": "https://vneid-gia.example.com"}]
    broken = next(e for g in groups for e in g.entries if e.id != "vneid-la-gi")
    broken.related = ["khong-ton-tai"]
    r = await c.post("/admin/kb/import", data={"csrftoken": csrf_of(c)}, files={"file": ("kho.csv", write_csv(groups), "text/csv")})
    assert r.status_code == 400
    assert "khong-ton-tai" in r.text and "vneid-gia.example.com" in r.text
    r = await c.get("/admin/kb/vneid-la-gi/edit")
    assert "Đã đổi" not in r.text
    yaml_text = "group: dinh-danh\ntitle: x\ntitle_en: x\npillar: sai\nentries: []\n"
    r = await c.post("/admin/kb/import", data={"csrftoken": csrf_of(c)}, files={"file": ("dinh-danh.yaml", yaml_text.encode(), "text/yaml")})
    assert r.status_code == 400 and "pillar must be one of" in r.text
    r = await c.post("/admin/kb/import", data={"csrftoken": csrf_of(c)}, files={"file": ("x.pdf", b"%PDF", "application/pdf")})
    assert r.status_code == 400 and "chỉ nhận" in r.text


async def test_review_by_in_the_form_the_list_and_the_home_page(client: Client) -> None:
    # Entries whose facts change carry a date by which an editor must check them again.
    c = await client("editor")
    r = await save(c, review_by="soon")
    assert r.status_code == 400 and "hạn rà soát lại cần dạng YYYY-MM-DD" in r.text
    assert (await save(c, review_by="2026-10-01")).status_code == 303  # past on the tests' clock (18/11/2026)
    r = await c.get("/admin/kb/muon-may-tinh-bang/edit")
    assert 'name="review_by"' in r.text and 'value="2026-10-01"' in r.text
    r = await c.get("/admin/kb", params={"review": "due"})
    assert "muon-may-tinh-bang" in r.text and "vneid-la-gi" not in r.text and "⚠ 2026-10-01" in r.text
    home = await c.get("/admin/")
    assert home.status_code == 200 and "Mục cần rà soát lại (1)" in home.text and "muon-may-tinh-bang" in home.text
    leader = await client("team-leader")  # the list is for the knowledge base's editors
    home = await leader.get("/admin/")
    assert home.status_code == 200 and "Mục cần rà soát lại" not in home.text
    assert (await save(c, original="muon-may-tinh-bang", review_by="2027-06-30")).status_code == 303
    assert "Mục cần rà soát lại" not in (await c.get("/admin/")).text
