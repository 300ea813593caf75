"""The writing rules a published entry must follow (knowledge/FORMAT.md and the
editors' guide): short answers, an English answer, enough alternates, sources, a review
date, at most three related entries, and links only to allow-listed official domains
(knowledge/link-domains.yaml). A wrong answer from a government assistant does more
harm than none, so the admin site refuses to publish an entry that breaks one.

`tests/test_knowledge_content.py` applies the same rules to the files in knowledge/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import yaml

from bot import clock
from bot.kb_files import Entry

__all__ = ["MAX_ANSWER_WORDS", "MAX_SENTENCE_WORDS", "MAX_STEPS", "MIN_ALTERNATES", "REVIEW_AFTER_DAYS", "allowed_domains",
           "bilingual_problems", "content_problems", "link_problem", "past_review_by", "phone_problems",
           "publication_problems", "readability_problems", "safety_problems", "sentences", "words", "needs_review"]

MAX_ANSWER_WORDS = 120  # shared/kb/README.md: "at most about 120 words"
MAX_SENTENCE_WORDS = 25  # one idea per sentence, short enough for elderly readers
MAX_STEPS = 6
MIN_ALTERNATES = 5
MAX_RELATED = 3
REVIEW_AFTER_DAYS = 365  # entries not reviewed for 12 months are flagged
_STEP = re.compile(r"^\s*\d+\.\s", re.MULTILINE)


def words(text: str) -> int:
    return len(text.split())


def allowed_domains(knowledge_dir: Path) -> list[str]:
    """The allow-listed link domains (a host may be one of them or a subdomain)."""
    data = yaml.safe_load((knowledge_dir / "link-domains.yaml").read_text(encoding="utf-8")) or []
    return [str(d).strip().lower() for d in data]


def link_problem(url: str, domains: Iterable[str]) -> str | None:
    """Why a link may not be published, or None when it may."""
    if not url.startswith("https://"):
        return f"liên kết phải bắt đầu bằng https:// ({url})"
    host = (urlparse(url).hostname or "").lower()
    if not any(host == d or host.endswith("." + d) for d in domains):
        return f"tên miền {host or '?'} không nằm trong danh sách cho phép (knowledge/link-domains.yaml)"
    return None


def needs_review(entry: Entry, today: dt.date | None = None) -> bool:
    """Not reviewed for 12 months (or never). (`past_review_by` is the entry's own date.)"""
    today = today or clock.local_today()
    return entry.reviewed is None or (today - entry.reviewed).days > REVIEW_AFTER_DAYS


def past_review_by(entry: Entry, today: dt.date | None = None) -> bool:
    """The entry's facts change (ranks, hotlines, fees, app menus, pilots, laws) and the
    date by which an editor must check them again has passed."""
    today = today or clock.local_today()
    return entry.review_by is not None and entry.review_by < today


# -- content checks (shared/kb/README.md; issue 18) ------------------------------------

_MONTHS = {m: str(i) for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
_NUMBER = re.compile(r"(?<![\w/])\d+(?:[.,]\d+)*")
_DOMAIN = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:vn|com|org|net|gov|int))\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_DATE = re.compile(r"(?<![\w/])(\d{1,2})/(?:(\d{1,2})/)?(\d{4})(?![\w/])")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_SHORT_HOTLINE = re.compile(r"(?<![\d.,/])(10\d\d)(?![\d/])")  # 1022-style city lines: need the area code
_AREA_CODED = re.compile(r"\b0\d{2,3}[ .]?(10\d\d)\b")


def _step_text(text: str) -> str:
    """The text without the numbers of numbered steps ("1. ", "2. " at a line start)."""
    return _STEP.sub(" ", text)


def numbers(text: str) -> set[str]:
    """The numbers an answer states, written the same way in both languages: thousands
    and decimal separators dropped (0,6419 = 0.6419), English month names as numbers
    (3 June 2020 = 3/6/2020), step numbers and placeholders left out."""
    text = _PLACEHOLDER.sub(" ", _step_text(text))
    text = _DOMAIN.sub(" ", text)
    found: set[str] = set()
    for date in _DATE.findall(text):  # 3/6/2020 and 8/2023: every part counts
        found.update(part.lstrip("0") for part in date if part)
    text = _DATE.sub(" ", text)
    found |= {re.sub(r"[.,]", "", n).lstrip("0") or "0" for n in _NUMBER.findall(text)}
    for word in re.findall(r"[A-Za-z]+", text):
        if word.lower() in _MONTHS and word[0].isupper():
            found.add(_MONTHS[word.lower()])
    return found


def domains_in(text: str) -> set[str]:
    return {d.lower() for d in _DOMAIN.findall(text)}


def steps(text: str) -> int:
    return len(_STEP.findall(text))


def sentences(text: str) -> list[str]:
    """The sentences of an answer: a list line is one sentence; a sentence ends at . ! ? …
    followed by a space (so 0,6419 and dichvucong.gov.vn do not end one)."""
    return [s.strip() for s in _SENTENCE_END.split(_step_text(text)) if s and s.strip()]


def bilingual_problems(entry: Entry) -> list[str]:
    """The Vietnamese and English answers must say the same: the same numbers, the same
    web addresses (in the text and as links) and the same number of numbered steps."""
    if not entry.answer_en.strip():
        return []
    problems = []
    vi, en = numbers(entry.answer), numbers(entry.answer_en)
    if vi != en:
        diff = ", ".join(sorted(vi - en)) or "-"
        extra = ", ".join(sorted(en - vi)) or "-"
        problems.append(f"số liệu khác nhau giữa hai thứ tiếng (chỉ tiếng Việt: {diff}; chỉ tiếng Anh: {extra})")
    if domains_in(entry.answer) != domains_in(entry.answer_en):
        problems.append(f"địa chỉ web khác nhau giữa hai thứ tiếng ({sorted(domains_in(entry.answer) ^ domains_in(entry.answer_en))})")
    if steps(entry.answer) != steps(entry.answer_en):
        problems.append(f"số bước đánh số khác nhau: tiếng Việt {steps(entry.answer)}, tiếng Anh {steps(entry.answer_en)}")
    return problems


def readability_problems(entry: Entry) -> list[str]:
    """Answers of at most 120 words, sentences of at most 25, in both languages."""
    problems = []
    for name, text in (("tiếng Việt", entry.answer), ("tiếng Anh", entry.answer_en)):
        if words(text) > MAX_ANSWER_WORDS:
            problems.append(f"câu trả lời {name} dài {words(text)} từ, tối đa {MAX_ANSWER_WORDS}")
        for sentence in sentences(text):
            if words(sentence) > MAX_SENTENCE_WORDS:
                problems.append(f"câu {name} dài {words(sentence)} từ, tối đa {MAX_SENTENCE_WORDS}: «{sentence[:60]}…»")
    return problems


def phone_problems(entry: Entry) -> list[str]:
    """Every phone number written so a mobile phone can dial it: a city line such as
    1022 needs its area code (0236 1022) somewhere in the answer. National short
    numbers (111, 113, 114, 115) and 1800/1900 numbers dial as they are."""
    problems = []
    for name, text in (("tiếng Việt", entry.answer), ("tiếng Anh", entry.answer_en)):
        coded = set(_AREA_CODED.findall(text))
        for number in sorted(set(_SHORT_HOTLINE.findall(text)) - coded):
            problems.append(f"số {number} ({name}) thiếu mã vùng: gọi từ di động phải bấm cả mã vùng, ví dụ 0236 {number}")
    return problems


SCAM_TAG = "lua-dao"
# The protective rules of shared/kb/README.md, as words each language must contain.
SAFETY_RULES = {
    "vi": (
        ("không đưa mã OTP, mật khẩu", r"(?is)không\b.{0,40}\bOTP\b.{0,80}mật khẩu|không\b.{0,40}mật khẩu.{0,80}\bOTP\b"),
        ("công an không giải quyết qua điện thoại, không bảo chuyển tiền", r"(?is)công an không.{0,80}điện thoại.{0,80}chuyển tiền"),
        ("gọi ngay ngân hàng để khóa tài khoản",
         r"(?is)(ngay|lập tức).{0,60}ngân hàng.{0,80}khóa|ngân hàng.{0,40}(ngay|lập tức).{0,60}khóa"),
        ("báo công an", r"(?is)(báo|trình báo)\b.{0,30}công an"),
    ),
    "en": (
        ("never give an OTP or password", r"(?is)never\b.{0,60}\bOTP\b.{0,60}password|never\b.{0,60}password.{0,60}\bOTP\b"),
        ("the police never handle cases by phone or ask for transfers", r"(?is)police never.{0,80}phone.{0,80}transfer"),
        ("call the bank at once to lock the account",
         r"(?is)(at once|immediately).{0,60}bank.{0,80}lock|bank.{0,60}(at once|immediately).{0,60}lock"),
        ("report to the police", r"(?is)report\b.{0,60}police"),
    ),
}


def safety_problems(entry: Entry) -> list[str]:
    """A scam entry (tag `lua-dao`) carries every protective rule in both languages."""
    if SCAM_TAG not in entry.tags:
        return []
    problems = []
    for lang, text in (("vi", entry.answer), ("en", entry.answer_en)):
        for rule, pattern in SAFETY_RULES[lang]:
            if not re.search(pattern, text):
                problems.append(f"mục lừa đảo thiếu quy tắc an toàn ({'tiếng Việt' if lang == 'vi' else 'tiếng Anh'}): {rule}")
    return problems


def content_problems(entry: Entry) -> list[str]:
    """Every content check of issue 18: both languages say the same, short sentences and
    answers, dialable phone numbers, the safety rules in scam entries."""
    return bilingual_problems(entry) + readability_problems(entry) + phone_problems(entry) + safety_problems(entry)


def publication_problems(entry: Entry, domains: Iterable[str], known_ids: Iterable[str] = ()) -> list[str]:
    """Every rule a published entry breaks, in Vietnamese (empty: it may be published).
    `known_ids`, when given, are the ids `related` may point to."""
    problems = []
    domains = list(domains)
    if len(_STEP.findall(entry.answer)) > MAX_STEPS:
        problems.append(f"câu trả lời có hơn {MAX_STEPS} bước đánh số")
    if not entry.answer_en.strip():
        problems.append("thiếu câu trả lời tiếng Anh")
    if entry.kind == "faq" and len(entry.alternates) < MIN_ALTERNATES:
        problems.append(f"cần ít nhất {MIN_ALTERNATES} cách hỏi khác (đang có {len(entry.alternates)})")
    if not entry.sources:
        problems.append("thiếu nguồn")
    if entry.reviewed is None:
        problems.append("thiếu ngày rà soát")
    if len(entry.related) > MAX_RELATED:
        problems.append(f"tối đa {MAX_RELATED} mục liên quan")
    known = set(known_ids)
    if known:
        problems += [f"mục liên quan '{r}' không tồn tại" for r in entry.related if r not in known]
    for link in entry.links:
        problem = link_problem(link.get("url", ""), domains)
        if problem:
            problems.append(problem)
    problems += content_problems(entry)
    return problems
