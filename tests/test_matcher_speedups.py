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
from bot.token_sets import TokenSets

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


def _token_set_cases(seed: int = 11) -> tuple[list[str], list[str]]:
    """Keys of every length against strings: shared words, subsets, repeats, no words in common."""
    rng = random.Random(seed)
    vocab = ["lam", "sao", "dang", "ky", "vneid", "tai", "khoan", "dinh", "danh", "muc", "2", "cho", "me", "toi",
             "bi", "lua", "dao", "chuyen", "tien", "phuong", "xa", "hoi", "a", "oi", "giay", "to", "nop", "thue"]
    strings = [" ".join(rng.choices(vocab, k=rng.randint(1, 12))) for _ in range(300)]
    strings += ["", "lam sao", "sao lam lam", "vneid", ""]  # an empty string last too
    keys = [" ".join(rng.choices(vocab, k=n)) for n in (1, 2, 3, 5, 8, 12, 20, 30, 45, 60) for _ in range(6)]
    keys += ["", "lam sao", "vneid vneid", "khong co tu nao chung"]
    return keys, strings


def test_token_set_ratios_are_rapidfuzz_s_own() -> None:
    keys, strings = _token_set_cases()
    sets = TokenSets(strings)
    which = np.arange(len(strings))
    settled_long = 0
    for key in keys:
        want = sets.compute(key, which)
        exact, upper = sets.bounds(key, which)
        known = ~np.isnan(exact)
        assert np.array_equal(exact[known], want[known]), key  # what the lengths settle is exact
        assert (upper >= want - 1e-9).all(), key  # and the bound holds everywhere
        assert np.array_equal(sets.ratios(key, which), want), key
        if len(key.split()) >= 30:
            settled_long += int(known.sum())
    # A long message against short strings: most ratios need no edit distance at all.
    assert settled_long > 0.5 * len(strings) * sum(len(k.split()) >= 30 for k in keys)


def test_scoring_only_the_leading_entries_changes_none_of_them() -> None:
    """`_best_strings(leaders=2)` skips strings that cannot lift their entry to the first
    two; which two entries lead, and their confidences, are what scoring every string
    gives. Random confidences put many strings right at the pruning bar."""
    from bot.matcher import W_DOC

    keys, strings = _token_set_cases(seed=4)
    rng = np.random.default_rng(9)
    docs = [Doc(f"e{i}", tuple(strings[j] or "trống" for j in range(i * 10, i * 10 + 10))) for i in range(30)]
    m = Matcher(docs, LEX, CHAT)
    pruned = 0
    for key in keys:
        if not key:
            continue
        entries = np.sort(rng.choice(len(docs), 6, replace=False))
        which = np.concatenate([np.arange(e * 10, e * 10 + 10) for e in entries])
        owner = np.repeat(entries, 10)
        covered = rng.uniform(0.0, 50.0, len(which))
        rest = np.zeros(len(docs))
        rest[entries] = rng.uniform(0.0, 50.0, len(entries))

        def leading(conf: np.ndarray) -> list[tuple[int, float]]:
            best = [(int(e), W_DOC * float(conf[owner == e].max()) + float(rest[e])) for e in entries]
            return sorted(best, key=lambda x: -x[1])[:2]

        full = m._best_strings(key, which, owner, covered)
        some = m._best_strings(key, which, owner, covered, rest, leaders=2)
        assert leading(some) == leading(full), key
        pruned += int(np.isinf(some).sum() - np.isinf(full).sum())
    assert pruned > 0  # the pruning happened


def test_ranking_only_the_leading_entries_changes_none_of_them() -> None:
    """`rank(leaders=2)` on long messages made of the real entries' own words."""
    from bot.kb_files import read_dir
    from bot.services.knowledge import docs_from_groups

    docs = docs_from_groups(read_dir(ROOT / "knowledge" / "entries"))
    m = Matcher(docs, LEX, CHAT)
    rng = random.Random(5)
    strings = [s for d in docs for s in d.strings]
    compared = 0
    for _ in range(60):
        parts = []
        for s in rng.sample(strings, rng.randint(2, 4)):
            words = s.split()
            parts.append(" ".join(rng.sample(words, max(1, len(words) * 2 // 3))))
        text = ", ".join(parts)
        q = LEX.query(text)
        whole = [e for e, _ in m.rank(q)]
        if len(whole) < 3:
            continue
        assert m.rank(q, only=whole, leaders=2) == m.rank(q, only=whole)[:2], text
        compared += 1
    assert compared > 40


def test_readings_are_the_same_from_the_cache() -> None:
    """Each slot's readings are kept per matcher; "đường" and "dương" fold alike but are
    different slots (the toned word tells the exact-accent credit apart)."""
    docs = [Doc("duong", ("đường phố",)), Doc("duong-lich", ("dương lịch",))]
    texts = ["đường phố ở đâu", "dương lịch là gì", "duong pho"]
    cold = [Matcher(docs, LEX, CHAT)._readings(LEX.query(t)) for t in texts]
    warm = Matcher(docs, LEX, CHAT)
    for _ in range(2):
        for t, want in zip(texts, cold, strict=True):
            got = warm._readings(LEX.query(t))
            assert got.pairs == want.pairs, t
            for name in ("weights", "reading_starts", "reading_lens", "slot_starts", "best_w"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (t, name)
    assert ("dương", "dương") not in cold[0].pairs and ("duong", "dương") in warm._readings(LEX.query("dương")).pairs
