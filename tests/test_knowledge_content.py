"""The real knowledge base: every required topic is covered, and every entry follows the
writing rules of shared/kb/README.md (length, English answer, alternates, sources, review
date, links only to allow-listed official domains) and the content checks of issue 18:
both languages say the same (numbers, links, steps), sentences of at most 25 words and
answers of at most 120, phone numbers a mobile phone can dial, the safety rules in both
languages of every scam entry, and the whole merged city where a city service is named."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import yaml

from bot import clock
from bot.kb_files import Entry, read_dir
from bot.kb_rules import (
    SCAM_TAG, allowed_domains, bilingual_problems, numbers, past_review_by, phone_problems, publication_problems,
    readability_problems, safety_problems, sentences,
)
from bot.settings import ROOT, Settings

SHARED = ROOT.parent / "shared"
GROUPS = read_dir(ROOT / "knowledge" / "entries")
ENTRIES = [e for g in GROUPS for e in g.entries]
PUBLISHED = [e for e in ENTRIES if e.status == "published"]
ALLOWED = allowed_domains(ROOT / "knowledge")


def test_every_listed_topic_has_a_published_entry() -> None:
    path = SHARED / "kb" / "topics.yaml"
    if not path.exists():
        pytest.skip("shared/kb/topics.yaml not beside the repository")
    topics = [t["id"] for t in yaml.safe_load(path.read_text(encoding="utf-8"))]
    published = {e.id for e in PUBLISHED if e.kind == "faq"}
    assert len(topics) == 51
    assert [t for t in topics if t not in published] == []


@pytest.mark.parametrize("entry", PUBLISHED, ids=lambda e: e.id)
def test_entry_follows_the_writing_rules(entry) -> None:  # type: ignore[no-untyped-def]
    assert publication_problems(entry, ALLOWED, {e.id for e in ENTRIES}) == []


def test_the_writing_rules_catch_what_they_say() -> None:
    bad = ENTRIES[0].__class__(id="x", question="q", answer="từ " * 200, links=[{"label": "a", "url": "https://evil.example.com"}])
    found = " | ".join(publication_problems(bad, ALLOWED))
    for part in ("tối đa 120", "tiếng Anh", "cách hỏi khác", "nguồn", "ngày rà soát", "evil.example.com"):
        assert part in found


def test_no_alternate_is_repeated_across_entries() -> None:
    seen: dict[str, str] = {}
    from bot.text import canon

    for e in PUBLISHED:
        for s in (e.question, *e.alternates):
            key = canon(s)
            assert seen.setdefault(key, e.id) == e.id, f"'{s}' is in {seen[key]} and {e.id}"


def test_no_evaluation_line_was_copied_into_the_knowledge_base() -> None:
    from bot.text import canon

    path = SHARED / "eval" / "dev.jsonl"
    if not path.exists():
        pytest.skip("shared/eval/dev.jsonl not beside the repository")
    questions = {canon(json.loads(line)["q"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    copied = [s for e in ENTRIES for s in (e.question, *e.alternates) if canon(s) in questions]
    assert copied == []


def test_safety_answers_carry_the_protective_rules() -> None:
    by_id = {e.id: e for e in PUBLISHED}
    scam = (by_id["lua-dao-truc-tuyen"].answer + by_id["bi-lua-dao-lam-gi"].answer).lower()
    assert "otp" in scam
    assert "ngân hàng" in scam
    assert "công an" in scam


def test_no_current_districts_described() -> None:
    # Since 1 July 2025 there are no districts; naming "quận X" as a current unit is wrong.
    pattern = re.compile(r"\b(UBND quận|UBND huyện|quận, huyện)\b", re.IGNORECASE)
    offenders = [e.id for e in PUBLISHED if pattern.search(e.answer)]
    assert offenders == []


# -- the content checks of issue 18 (bot/kb_rules.py); each must be able to fail -------


def _entry(answer: str, answer_en: str, **kw: object) -> Entry:
    return Entry(id="x", question="q", answer=answer, answer_en=answer_en, **kw)  # type: ignore[arg-type]


def test_numbers_are_compared_the_same_way_in_both_languages() -> None:
    assert numbers("Ngày 3/6/2020, 0,6419 điểm; 12,57% GRDP; 13.200 tỷ; tháng 8/2023") == numbers(
        "On 3 June 2020, 0.6419 points; 12.57% of GRDP; 13,200 billion; in August 2023")
    assert numbers("1. Mở ứng dụng.\n2. Quyết định 2780/QĐ-UBND") == {"2780"}  # step numbers are not facts


def test_bilingual_check_catches_different_numbers_links_and_steps() -> None:
    ok = _entry("1. Gọi 0236 1022.\n2. Vào dichvucong.gov.vn.", "1. Call 0236 1022.\n2. Go to dichvucong.gov.vn.")
    assert bilingual_problems(ok) == []
    found = " | ".join(bilingual_problems(_entry(
        "1. Năm 2021 hạng Nhất.\n2. Vào dichvucong.gov.vn.\n3. Gọi 113.", "In 2022 Da Nang ranked first; see danang.gov.vn.")))
    assert "số liệu khác nhau" in found and "2021" in found and "2022" in found
    assert "địa chỉ web khác nhau" in found
    assert "số bước đánh số khác nhau: tiếng Việt 3, tiếng Anh 0" in found


def test_readability_check_catches_long_sentences_and_answers() -> None:
    long_sentence = " ".join(["từ"] * 26) + "."
    found = " | ".join(readability_problems(_entry(long_sentence, "Short.")))
    assert "câu tiếng Việt dài 26 từ, tối đa 25" in found
    found = " | ".join(readability_problems(_entry("Ngắn.", ("Ten words in this short sentence that is fine here. " * 13).strip())))
    assert "câu trả lời tiếng Anh dài 130 từ, tối đa 120" in found
    assert sentences("Điểm 0,6419 trên dichvucong.gov.vn. Câu hai!\n- Dòng ba") == [
        "Điểm 0,6419 trên dichvucong.gov.vn.", "Câu hai!", "- Dòng ba"]


def test_phone_check_wants_the_area_code_of_a_city_line() -> None:
    assert phone_problems(_entry("Gọi 1022.", "Call 1022."))[0].startswith("số 1022 (tiếng Việt) thiếu mã vùng")
    assert len(phone_problems(_entry("Gọi 1022.", "Call 1022."))) == 2
    fine = _entry("Gọi 0236 1022; ở Đà Nẵng, máy bàn bấm 1022. Khẩn cấp gọi 113, 114, 115; 18001234.",
                  "Call 0236 1022; a Da Nang landline dials 1022. Emergencies: 113, 114, 115; 18001234.")
    assert phone_problems(fine) == []
    assert phone_problems(_entry("Quyết định 1095/QĐ-UBND.", "Decision 1095/QĐ-UBND.")) == []


def test_safety_check_wants_every_rule_in_both_languages_of_a_scam_entry() -> None:
    scam = _entry("Cẩn thận lừa đảo.", "Beware of scams.", tags=[SCAM_TAG])
    found = safety_problems(scam)
    assert len(found) == 8  # four rules, two languages
    assert any("tiếng Anh" in p and "lock the account" in p for p in found)
    assert safety_problems(_entry("Cẩn thận.", "Careful.")) == []  # only scam entries


def test_the_scam_entries_are_tagged_and_carry_the_rules() -> None:
    by_id = {e.id: e for e in PUBLISHED}
    for entry_id in ("lua-dao-truc-tuyen", "bi-lua-dao-lam-gi"):
        assert SCAM_TAG in by_id[entry_id].tags
        assert safety_problems(by_id[entry_id]) == []


CITY_SERVICES = re.compile(r"1022|Danang Smart City|dichvucong\.danang\.gov\.vn", re.IGNORECASE)


@pytest.mark.parametrize("entry", [e for e in PUBLISHED if CITY_SERVICES.search(e.answer + e.answer_en)], ids=lambda e: e.id)
def test_a_named_city_service_says_what_applies_to_the_former_quang_nam(entry) -> None:  # type: ignore[no-untyped-def]
    # Since 1 July 2025 the former Quảng Nam communes are part of the city (issue 18, item 5).
    assert "Quảng Nam" in entry.answer
    assert "Quang Nam" in entry.answer_en


def test_entries_whose_facts_change_carry_a_review_by_date() -> None:
    # Ranks, hotlines, fees, app menus, pilots and laws change: an editor must check them again.
    must = {"tong-dai-1022", "chi-so-dti", "mobile-money", "hoa-don-dien-tu", "thanh-toan-phi-le-phi",
            "vneid-tich-hop-giay-to", "quen-mat-khau-vneid", "bao-ve-du-lieu-ca-nhan", "y-te-so", "bhxh-vssid"}
    by_id = {e.id: e for e in PUBLISHED}
    assert [i for i in sorted(must) if by_id[i].review_by is None] == []
    # None is past its date on the real clock of this change (5 December 2026).
    clock.set_now(dt.datetime(2026, 12, 5, 3, 0))
    assert [e.id for e in PUBLISHED if past_review_by(e)] == []


def test_no_answer_repeats_a_setting_it_can_read() -> None:
    # The retention is a setting (Settings.question_retention_days): answers say {retention}.
    assert [e.id for e in PUBLISHED if re.search(r"\b365\b", e.answer + e.answer_en)] == []
    placeholders = {m for e in PUBLISHED for m in re.findall(r"\{([a-z_]+)\}", e.answer + e.answer_en)}
    from bot.replies import PLACEHOLDERS

    assert placeholders <= set(PLACEHOLDERS)


def test_the_privacy_answer_states_the_live_retention() -> None:
    from bot.replies import render_entry

    entry = {e.id: e for e in PUBLISHED}["quyen-rieng-tu-bot"]
    entries = {e.id: e for e in PUBLISHED}
    vi = render_entry(entry, entries, settings=Settings(question_retention_days=90)).text
    en = render_entry(entry, entries, english=True, settings=Settings(question_retention_days=90)).text
    assert "tối đa 90 ngày" in vi and "{" not in vi
    assert "at most 90 days" in en and "{" not in en
    off = render_entry(entry, entries, settings=Settings(question_retention_days=0)).text
    assert "đến khi bạn xóa" in off and "0 ngày" not in off
