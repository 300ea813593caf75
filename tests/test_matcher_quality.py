"""A regression floor on our own labelled questions (tests/data/residents.jsonl, written
by someone who had seen neither the knowledge base nor the dev set). It guards against
a change to the matcher, lexicon or knowledge base that quietly makes answers worse."""

from __future__ import annotations

from bot.evaluate import evaluate, read_cases
from bot.services.knowledge import matcher_from_files
from bot.settings import ROOT, Settings


def test_quality_floor_on_our_own_questions() -> None:
    matcher, _ = matcher_from_files(Settings(knowledge_dir=ROOT / "knowledge"))
    cases = read_cases((ROOT / "tests" / "data" / "residents.jsonl").read_text(encoding="utf-8").splitlines())
    s = evaluate(matcher, cases).overall
    assert s.in_scope >= 200 and s.out_of_scope >= 40
    assert s.correct / s.in_scope >= 0.75
    assert s.helpful / s.in_scope >= 0.93
    assert s.wrong / s.total <= 0.025  # a wrong answer does more harm than none
    assert s.refused / s.out_of_scope >= 0.90
