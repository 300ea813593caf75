"""The speed-ups of issue 17 change no score: dense BM25 rows for very common features, the
shortlist walked from the best strings, cached readings and features. And the dialect
words the lexicon learned read as the standard words."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

import bot.bm25
from bot.bm25 import BM25Index
from bot.chitchat import Chitchat
from bot.matcher import Doc, Matcher, features
from bot.settings import ROOT
from bot.text import Lexicon

LEX = Lexicon.load(ROOT / "knowledge" / "lexicon")
CHAT = Chitchat.load(ROOT / "knowledge" / "chitchat.yaml", LEX)


def _kind(t: str) -> str:
    return "w"


def _bags(n: int, seed: int = 3) -> list[Counter[str]]:
    rng = random.Random(seed)
    common = ["cho", "giay", "o", "dau"]
    rare = [f"w{i}" for i in range(300)]
    return [Counter(rng.sample(common, 2) + rng.sample(rare, 4)) for _ in range(n)]


def test_dense_rows_score_exactly_like_postings(monkeypatch: pytest.MonkeyPatch) -> None:
    bags = _bags(400)
    monkeypatch.setattr(bot.bm25, "DENSE_MIN", 10**9)
    sparse = BM25Index(bags, kind_of=_kind, kinds={"w": 0})
    monkeypatch.setattr(bot.bm25, "DENSE_MIN", 50)
    dense = BM25Index(bags, kind_of=_kind, kinds={"w": 0})
    assert dense._row and not sparse._row  # the common words became rows
    query = {"cho": 1.0, "giay": 0.5, "w7": 1.0, "w42": 0.2, "nowhere": 1.0}
    assert np.allclose(dense.scores(query), sparse.scores(query), rtol=1e-6)
    assert dense.known("cho") and dense.known("w7") and not dense.known("nowhere")
    assert np.allclose(dense.self_parts, sparse.self_parts)


def test_the_shortlist_is_the_entries_with_the_best_strings() -> None:
    docs = [Doc(f"e{i}", tuple(f"thủ tục số {i} câu {j} giấy tờ" for j in range(1 + i % 4))) for i in range(60)]
    m = Matcher(docs, LEX, CHAT)
    rng = np.random.default_rng(5)
    for _ in range(20):
        scores = rng.random(len(m._owner)).astype(np.float32)
        scores[rng.random(len(scores)) < 0.5] = 0.0
        per_entry = np.maximum.reduceat(scores, m._starts)
        want = [int(e) for e in np.argsort(-per_entry, kind="stable")[:6] if per_entry[e] > 0]
        assert m._top_entries(scores, 6) == want


def test_features_are_the_same_from_the_cache() -> None:
    q = LEX.query("Bả đổi sim mới vô VNeID không được, làm răng đây nghen")
    first = features(q, toned=True)
    again = features(LEX.query("Bả đổi sim mới vô VNeID không được, làm răng đây nghen"), toned=True)
    assert first == again
    assert first["vneid"] == 1 and first["t:vào"] == 1 and first["c:#vn"] == 1


@pytest.mark.parametrize(("dialect", "standard"), [
    ("xài", "dùng"), ("vô", "vào"), ("coi", "xem"), ("bả", "bà"), ("ổng", "ông"), ("nghen", "nhé"),
    ("nhen", "nhé"), ("hổng", "không"), ("dìa", "về"), ("ck", "chồng"), ("rùi", "rồi"), ("hnay", "hôm"),
])
def test_dialect_and_shorthand_words_read_as_the_standard_word(dialect: str, standard: str) -> None:
    readings = {w for r in LEX.readings(dialect) for w in r}
    assert standard in readings
