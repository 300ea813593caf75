"""The real knowledge base: every required topic is covered, and every entry follows the
writing rules of shared/kb/README.md (length, English answer, alternates, sources, review
date, links only to allow-listed official domains)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bot.kb_files import read_dir
from bot.kb_rules import allowed_domains, publication_problems
from bot.settings import ROOT

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
    for part in ("tối đa 130", "tiếng Anh", "cách hỏi khác", "nguồn", "ngày rà soát", "evil.example.com"):
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
