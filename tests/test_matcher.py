"""The matcher's rules, on a small knowledge base built here (not the real one)."""

from __future__ import annotations

import pytest

from bot.chitchat import Chitchat
from bot.matcher import Decision, Doc, Matcher
from bot.settings import ROOT
from bot.text import Lexicon

LEX = Lexicon.load(ROOT / "knowledge" / "lexicon")
CHAT = Chitchat.load(ROOT / "knowledge" / "chitchat.yaml", LEX)

DOCS = [
    Doc("vneid", ("VNeID là gì?", "Ứng dụng định danh điện tử dùng để làm gì", "app VNeID của ai")),
    Doc("muc-2", ("Đăng ký VNeID mức 2 ở đâu?", "Làm định danh điện tử mức 2 cần mang gì")),
    Doc("duong", ("Đường dây nóng 1022 là gì?", "Gọi tổng đài đường dây nóng thành phố")),
    Doc("duong-lich", ("Dương lịch và âm lịch khác nhau thế nào?", "Lịch dương tính ra sao")),
    Doc("lua-dao", ("Nhận biết lừa đảo trên mạng", "Người lạ gọi xưng công an đòi chuyển tiền", "Tin nhắn xin mã OTP")),
    Doc("ngoai-thoi-tiet", ("Thời tiết ngày mai thế nào?", "Trời có mưa không", "Dự báo bão"), out_of_scope=True),
]


def matcher(docs: list[Doc] = DOCS) -> Matcher:
    return Matcher(docs, LEX, CHAT, answer_threshold=64, suggest_threshold=48)


@pytest.mark.parametrize(
    "q",
    ["VNeID là gì", "vneid la gi", "vneid là j z ad", "VNEID LÀ GÌ???", "vnêid là gì"],
)
def test_the_same_question_in_many_spellings_is_answered(q: str) -> None:
    m = matcher().match(q)
    assert (m.decision, m.entry_id) == (Decision.ANSWER, "vneid")


def test_dialect_and_teencode_reach_the_right_entry() -> None:
    m = matcher().match("đăng ký vneid mức 2 ở mô rứa")
    assert (m.decision, m.entry_id) == (Decision.ANSWER, "muc-2")
    m = matcher().match("dky dinh danh dien tu muc 2 can mang j")
    assert (m.decision, m.entry_id) == (Decision.ANSWER, "muc-2")


def test_exact_diacritics_rank_above_accent_free_hits() -> None:
    # "đường" and "dương" fold to the same key; typed with marks, the exact one wins.
    docs = [Doc("duong", ("đường",)), Doc("duong-lich", ("dương",))]
    m = matcher(docs)
    q = LEX.query("đường")
    assert m.rank(q)[0][0] == 0 and m.rank(q)[0][1] > m.rank(q)[1][1]
    q = LEX.query("dương")
    assert m.rank(q)[0][0] == 1 and m.rank(q)[0][1] > m.rank(q)[1][1]
    # Without marks the two are equal: nothing typed, nothing to prefer.
    r = m.rank(LEX.query("duong"))
    assert r[0][1] == pytest.approx(r[1][1])


@pytest.mark.parametrize(
    ("q", "intent"),
    [("xin chào", "greeting"), ("chào ad ạ", "greeting"), ("cảm ơn nhiều nha", "thanks"), ("thank you", "thanks"),
     ("bye", "goodbye"), ("bạn là ai", "who"), ("bot ngu quá", "insult")],
)
def test_small_talk_is_never_answered_with_an_entry(q: str, intent: str) -> None:
    m = matcher().match(q)
    assert m.decision == Decision.CHITCHAT and m.chitchat == intent and m.entry_id is None


@pytest.mark.parametrize("q", ["a", "e", "hả", "ủa", "k", "không", "em ơi", "ad ơi", "cho hỏi", "1"])
def test_a_message_with_nothing_to_match_asks_for_the_question(q: str) -> None:
    """A particle, a letter or a call alone: every entry has such a word, so matching it would
    offer entries (or another office's referral) by chance."""
    m = matcher().match(q)
    assert (m.decision, m.chitchat, m.refusal_id, m.suggestions) == (Decision.CHITCHAT, "unclear", None, ())


@pytest.mark.parametrize("q", ["AI là gì", "VNeID là gì", "chào bạn, cho hỏi vneid là gì", "không vào được VNeID"])
def test_a_short_question_is_not_taken_for_an_unclear_message(q: str) -> None:
    assert matcher().match(q).chitchat != "unclear"


def test_a_question_after_a_greeting_is_still_a_question() -> None:
    m = matcher().match("chào bạn, cho hỏi vneid là gì")
    assert (m.decision, m.entry_id) == (Decision.ANSWER, "vneid")


def test_out_of_scope_entry_turns_into_unknown() -> None:
    m = matcher().match("ngày mai trời có mưa không")
    assert m.decision == Decision.UNKNOWN and m.entry_id is None and m.refusal_id == "ngoai-thoi-tiet"


def test_a_single_word_is_not_referred_elsewhere_by_chance() -> None:
    """"zalo" alone is as close to the out-of-scope entry as to the in-scope ones: a question
    back, not another office's referral; a clear near miss is still referred."""
    docs = [Doc("zalo-la-gi", ("zalo là gì",)), Doc("cai-zalo", ("cài zalo thế nào",)),
            Doc("ngoai-zalo", ("zalo bị khóa",), out_of_scope=True)]
    m = matcher(docs).match("zalo")
    assert (m.decision, m.refusal_id) == (Decision.SUGGEST, None) and "zalo-la-gi" in m.suggestions
    m = matcher(docs).match("zalo bị khóa rồi")
    assert (m.decision, m.refusal_id) == (Decision.UNKNOWN, "ngoai-zalo")


def test_nothing_in_common_is_unknown() -> None:
    m = matcher().match("công thức bánh xèo giòn")
    assert m.decision == Decision.UNKNOWN and m.entry_id is None and m.suggestions == ()


def test_in_between_confidence_suggests_up_to_three() -> None:
    m = matcher().match("định danh")
    assert m.decision == Decision.SUGGEST
    assert set(m.suggestions) <= {"vneid", "muc-2"} and 1 <= len(m.suggestions) <= 3
    assert "ngoai-thoi-tiet" not in m.suggestions


def test_scores_are_bounded() -> None:
    for q in ["VNeID là gì", "x", "🙂", "", "a " * 500, "lừa đảo otp công an chuyển tiền " * 30]:
        m = matcher().match(q)
        assert 0.0 <= m.score <= 100.0


def test_empty_and_symbol_only_messages_are_unknown() -> None:
    for q in ["", "   ", "???", "😀😀😀"]:
        assert matcher().match(q).decision == Decision.UNKNOWN


def test_english_questions_are_flagged() -> None:
    docs = [*DOCS, Doc("vneid-en", ("What is the VNeID app?",))]
    m = matcher(docs).match("What is the VNeID app used for?")
    assert m.english


def test_an_empty_knowledge_base_answers_nothing() -> None:
    m = matcher([]).match("VNeID là gì")
    assert m.decision == Decision.UNKNOWN
