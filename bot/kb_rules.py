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

__all__ = ["MAX_ANSWER_WORDS", "MAX_STEPS", "MIN_ALTERNATES", "REVIEW_AFTER_DAYS", "allowed_domains",
           "link_problem", "publication_problems", "words", "needs_review"]

MAX_ANSWER_WORDS = 130  # "about 120 words", with a little room
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
    """Not reviewed for 12 months (or never)."""
    today = today or clock.local_today()
    return entry.reviewed is None or (today - entry.reviewed).days > REVIEW_AFTER_DAYS


def publication_problems(entry: Entry, domains: Iterable[str], known_ids: Iterable[str] = ()) -> list[str]:
    """Every rule a published entry breaks, in Vietnamese (empty: it may be published).
    `known_ids`, when given, are the ids `related` may point to."""
    problems = []
    domains = list(domains)
    if words(entry.answer) > MAX_ANSWER_WORDS:
        problems.append(f"câu trả lời dài {words(entry.answer)} từ, tối đa {MAX_ANSWER_WORDS}")
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
    return problems
