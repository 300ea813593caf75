"""The real knowledge base: every required topic is covered, and every entry follows the
writing rules of shared/kb/README.md (length, English answer, alternates, sources, review
date, links only to allow-listed official domains)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import pytest
import yaml

from bot.kb_files import read_dir
from bot.settings import ROOT

SHARED = ROOT.parent / "shared"
GROUPS = read_dir(ROOT / "knowledge" / "entries")
ENTRIES = [e for g in GROUPS for e in g.entries]
PUBLISHED = [e for e in ENTRIES if e.status == "published"]
ALLOWED = yaml.safe_load((ROOT / "knowledge" / "link-domains.yaml").read_text(encoding="utf-8"))
STEP = re.compile(r"^\s*\d+\.\s", re.MULTILINE)


def words(text: str) -> int:
    return len(text.split())


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
    steps = STEP.findall(entry.answer)
    assert words(entry.answer) <= 130, "answer longer than about 120 words"
    assert len(steps) <= 6, "more than 6 numbered steps"
    assert entry.answer_en.strip(), "no English answer"
    assert len(entry.alternates) >= 5, "fewer than 5 alternates"
    assert entry.sources, "no source"
    assert entry.reviewed is not None, "no review date"
    assert len(entry.related) <= 3
    for link in entry.links:
        host = urlparse(link["url"]).hostname or ""
        assert link["url"].startswith("https://"), link["url"]
        assert any(host == d or host.endswith("." + d) for d in ALLOWED), f"{host} is not an allow-listed domain"


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
