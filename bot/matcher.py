"""The FAQ matcher: from a resident's message to answer / suggest / unknown / chitchat.

How it decides (design card, "Answering"; measurements in `bench/matcher.py`):

1. Small talk (greetings, thanks, goodbyes, "who are you", insults) is recognised first
   by `chitchat.Chitchat` and never answered with an entry.
2. Every question string (the question and each alternate of a published entry) is a
   BM25 document over features of its accent-free key: syllables, syllable bigrams,
   character 3-grams; plus its accented syllables, which count only when the message
   itself has diacritics (so "đường" ranks above "dương" when typed with marks, and a
   message typed without marks loses nothing). An entry scores its best string.
3. The top entries are re-ranked by a bounded confidence (0-100):
   half the share of the string's own BM25 weight the message covers, half rapidfuzz
   `token_set_ratio` of the two keys (never `WRatio`, which saturates on this task).
4. Confidence ≥ `answer_threshold` answers; ≥ `suggest_threshold` offers up to three
   entries; below, or when the best entry is an out-of-scope entry (a known kind of
   question the assistant must not answer), the decision is `unknown`.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.bm25 import BM25Index
from bot.chitchat import Chitchat
from bot.classifier import EntryClassifier
from bot.english import EnglishIndex, Glossary, en_tokens, english_strings, is_english, is_vietnamese_syllable
from bot.text import Lexicon, Query, fold
from bot.token_sets import TokenSets

__all__ = ["Decision", "Doc", "Match", "Matcher", "features"]


class Decision(str, enum.Enum):
    """What the assistant does with a message."""

    ANSWER = "answer"  # one entry is confidently right: show its answer
    SUGGEST = "suggest"  # plausible entries: "Có phải bạn muốn hỏi:" with up to 3
    UNKNOWN = "unknown"  # no answer in the knowledge base: say so, offer a person
    CHITCHAT = "chitchat"  # greeting, thanks, goodbye...: a short polite reply


@dataclass(frozen=True)
class Doc:
    """An entry as the matcher needs it."""

    entry_id: str
    strings: tuple[str, ...]  # question first, then alternates
    out_of_scope: bool = False
    english: tuple[str, ...] = ()  # English text that is not a question string (answer_en)


@dataclass(frozen=True)
class Match:
    """The outcome of matching one message."""

    decision: Decision
    score: float  # bounded confidence 0..100 of the best entry
    entry_id: str | None = None  # the answered entry (or best guess when suggesting)
    suggestions: tuple[str, ...] = ()
    refusal_id: str | None = None  # out-of-scope entry that recognised the message
    chitchat: str | None = None  # chitchat intent name
    english: bool = False
    normalized: str = ""
    candidates: tuple[tuple[str, float], ...] = field(default=(), repr=False)


# Query-side weight of each kind of feature. Words and bigrams carry the meaning;
# character 3-grams rescue typos; accented words only break ties between homographs.
_KINDS = {"w": 0, "b": 1, "c": 2, "t": 3}
_MULT = {"w": 1.0, "b": 1.0, "c": 0.2, "t": 0.5}
# A candidate this far ahead of the next one is answered even a little below the
# answer threshold: "did you mean" with one obvious choice only costs the resident a tap.
LEAD_MARGIN = 12.0
LEAD_SLACK = 8.0
UNKNOWN_WEIGHT = 0.5
TRIGRAM_MAX_DF = 0.02  # character 3-grams in more than this share (and 500) of strings are not indexed
FOLD_ONLY_CREDIT = 0.6
AGREE_P = 0.3  # a suggestion is answered when the classifier picks the same entry this surely
AGREE_P_ALONE = 0.2  # ... or this surely when it is the only entry suggested
AGREE_LEAD = 5.0  # ... or, when the entry leads the next in-scope one by this much,
AGREE_P_LEAD = 0.12  # ... only this surely (two opinions agreeing on an indirect question)
VAGUE_WORDS = 3  # ... not when two entries tie on a message this short
PICK_WORDS = 15  # on a message this long, a suggestion the classifier picks at AGREE_P is answered even if ranked below
DOUBT_LOW = 0.1  # ... and when the classifier gives the answered entry less than this
DOUBT_SURE = 0.2  # ... unless the classifier is less sure than this of its own pick and the entry leads by LEAD_MARGIN
DOUBT_P = 0.5  # an answer becomes a suggestion when the classifier picks another entry this surely
OOS_GAP = 10.0  # an out-of-scope entry this close to the best in-scope one: refuse, do not suggest
OOS_AGREE_P = 0.3  # ... unless the in-scope one is ranked first and the classifier picks it this surely
SUGGEST_SPREAD = 15.0  # a suggestion this far below the best one is noise, not a choice
AMBIGUOUS_MARGIN = 3.0  # two in-scope entries closer than this: ask which one
VAGUE_MARGIN = 6.0  # ... or this close, on a message of VAGUE_WORDS words or fewer
EN_FUSE = 0.5  # an English message: weight of the English index where both ranked the entry
EN_COVER = 0.5  # ... and the glossary side times (share of its content words translated) ** this
EN_ALONE = 0.9  # ... and the factor on an entry only one of the two ranked
EN_SHIFT = 6.0  # an English message's answer threshold is this much lower (its scores come through translation;
#                the suggestion threshold stays: lowered too, it cost refusals and won nothing)
W_DOC = 0.5  # weight of the string-side confidence; the rest is the message-side coverage
TOKEN_SET_WORDS = 30  # from this many words, a message's token_set_ratio is first worked out from word lengths


LONG_TOKENS = 16  # a message this long is also matched on its asking clause
# Fusing the two confidences (ASK_BONUS = 0, ASK_WEIGHT 0.3-0.7) lowered "helpful" on dev,
# blind and leave-one-out alike; a small bonus to the asking clause's best entry, among
# the whole message's candidates, raised "correct" on all three.
ASK_BONUS = 0.0
ASK_GAIN = 0.5  # plus this share of the asking clause's lead over its second entry
ASK_CAP = 12.0
ASK_WEIGHT = 0.5  # weight of the asking clause's confidence against the whole message's (when ASK_BONUS = 0)
_CLAUSE = re.compile(r"[.!?;:\n]+|,\s|\s-\s")
_ASKING = re.compile(
    r"\b(lam sao|lam the nao|lam gi|co cach nao|cach nao|cho hoi|xin hoi|hoi chut|phai lam|nen lam|the nao|ra sao|"
    r"o dau|cho nao|duoc khong|co duoc|co phai|khong a|la gi|bao nhieu|bao lau|khi nao|tai sao|vi sao|sao|ai|"
    r"how|what|where|when|which|why|who|can i|should i|is there|do i|is it)\b")


def asking_part(text: str) -> str:
    """The clauses of a long message that ask something ("làm sao", "cho hỏi", "how do
    I", a question mark), with the clause before a short one; "" when none does."""
    raw = [c.strip() for c in _CLAUSE.split(text) if c.strip()]
    marks = [m.group() for m in _CLAUSE.finditer(text)]
    picked: list[int] = []
    for i, clause in enumerate(raw):
        asks = (i < len(marks) and "?" in marks[i]) or bool(_ASKING.search(fold(clause.lower())))
        if asks:
            if len(clause.split()) < 6 and i > 0 and i - 1 not in picked:
                picked.append(i - 1)
            picked.append(i)
    return ". ".join(raw[i] for i in sorted(set(picked)))


def _fuse(whole: list[tuple[int, float]], part: list[tuple[int, float]], w: float) -> list[tuple[int, float]]:
    """Per entry, (1 - w) × the whole message's confidence + w × the asking part's."""
    if ASK_BONUS or ASK_GAIN:
        top = part[0][0] if part else None
        lead = part[0][1] - part[1][1] if len(part) > 1 else part[0][1] if part else 0.0
        bonus = ASK_BONUS + min(ASK_CAP, ASK_GAIN * lead)
        fused = {e: c + (bonus if e == top else 0.0) for e, c in whole}
        return sorted(fused.items(), key=lambda x: -x[1])
    a, b = dict(whole), dict(part)
    fused = {e: (1.0 - w) * a.get(e, 0.0) + w * b.get(e, 0.0) for e in set(a) | set(b)}
    return sorted(fused.items(), key=lambda x: -x[1])


def _kind(feature: str) -> str:
    if feature.startswith("c:"):
        return "c"
    if feature.startswith("t:"):
        return "t"
    return "b" if "_" in feature else "w"


_SLOT_FEATURES: dict[tuple[object, ...], tuple[list[str], list[str], list[str], list[str], tuple[str, ...], tuple[str, ...]]] = {}
_SLOT_FEATURES_MAX = 200_000


def _slot_features(slot: tuple[tuple[str, ...], ...], tslot: tuple[tuple[str, ...], ...]
                   ) -> tuple[list[str], list[str], list[str], list[str], tuple[str, ...], tuple[str, ...]]:
    """One token's features (cached: residents' words repeat): its words, the bigrams
    inside its readings, its character 3-grams, its toned words, and each reading's first
    and last word (for the bigrams across tokens)."""
    key = (slot, tslot)
    found = _SLOT_FEATURES.get(key)
    if found is None:
        words: list[str] = []
        pairs: list[str] = []
        grams: list[str] = []
        for reading in slot:
            words.extend(reading)
            for w in reading:
                padded = f"#{w}#"
                grams.extend("c:" + padded[i : i + 3] for i in range(len(padded) - 2))
            pairs.extend(f"{a}_{b}" for a, b in zip(reading, reading[1:], strict=False))
        marks = ["t:" + w for reading in tslot for w in reading]
        found = (words, pairs, grams, marks, tuple(r[0] for r in slot), tuple(r[-1] for r in slot))
        if len(_SLOT_FEATURES) < _SLOT_FEATURES_MAX:
            _SLOT_FEATURES[key] = found
    return found


def _feature_parts(q: Query, toned: bool) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    """Counts of a message's words, bigrams ("a_b"), character 3-grams ("c:") and toned words ("t:")."""
    words: list[str] = []
    pairs: list[str] = []
    grams: list[str] = []
    marks: list[str] = []
    prev_last: tuple[str, ...] = ()
    for slot, tslot in zip(q.folded, q.toned, strict=True):
        w, p, g, t, firsts, lasts = _slot_features(slot, tslot)
        words += w
        pairs += p
        grams += g
        if toned:
            marks += t
        if prev_last:
            pairs.extend(f"{a}_{b}" for a in prev_last for b in firsts)
        prev_last = lasts
    return Counter(words), Counter(pairs), Counter(grams), Counter(marks)


def features(q: Query, *, toned: bool) -> Counter[str]:
    """Feature counts of a normalised message or question string."""
    words, pairs, grams, marks = _feature_parts(q, toned)
    words.update(pairs)
    words.update(grams)
    words.update(marks)
    return words


class Matcher:
    """An immutable index of published entries; rebuild it when the knowledge base changes.

    Parameters:
        docs: the entries to match against (published ones only).
        lexicon: abbreviations, teencode and dialect words.
        chitchat: small-talk intents, recognised before retrieval.
        answer_threshold, suggest_threshold: confidence bands, 0-100.
        use_classifier: the learned second opinions (`bot.classifier`: one on the Vietnamese
            strings, one on the English ones), trained here unless one of `trained` was
            trained on the same strings.
    """

    def __init__(
        self,
        docs: Sequence[Doc],
        lexicon: Lexicon,
        chitchat: Chitchat,
        answer_threshold: float = 64.0,
        suggest_threshold: float = 48.0,
        glossary: Glossary | None = None,
        use_classifier: bool = False,
        trained: Sequence[EntryClassifier] = (),
    ) -> None:
        self.lexicon = lexicon
        self.glossary = glossary if glossary is not None else Glossary()
        self.chitchat = chitchat
        self.answer_threshold = answer_threshold
        self.suggest_threshold = suggest_threshold
        self.docs = list(docs)
        self._owner: list[int] = []
        self._keys: list[str] = []
        bags: list[Counter[str]] = []
        starts: list[int] = []
        for e_index, doc in enumerate(self.docs):
            starts.append(len(bags))
            for s in doc.strings:
                q = lexicon.query(s)
                bags.append(features(q, toned=True))
                self._keys.append(q.key)
                self._owner.append(e_index)
        self._vocab: list[frozenset[str]] = []
        self._toned_vocab: list[frozenset[str]] = []
        for e_index in range(len(self.docs)):
            lo = starts[e_index]
            hi = starts[e_index + 1] if e_index + 1 < len(starts) else len(bags)
            self._vocab.append(frozenset(t for b in bags[lo:hi] for t in b if _kind(t) == "w"))
            self._toned_vocab.append(frozenset(t[2:] for b in bags[lo:hi] for t in b if _kind(t) == "t"))
        self._starts = np.array(starts, dtype=np.int64)
        self._owner_arr = np.array(self._owner, dtype=np.int64)
        self._token_sets = TokenSets(self._keys)
        self._slot_readings: dict[tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]],
                                  tuple[tuple[tuple[str, str], ...], tuple[float, ...], tuple[int, ...], tuple[float, ...]]] = {}
        self.index = BM25Index(bags, kind_of=_kind, kinds=_KINDS, max_df=TRIGRAM_MAX_DF, min_df=500, prune=lambda t: t.startswith("c:"))
        mult = np.array([_MULT[k] for k in _KINDS], dtype=np.float64)
        plain = mult.copy()
        plain[_KINDS["t"]] = 0.0
        # A word no entry knows ("xèo", "xổ") is evidence the message is about something
        # else; it weighs like a rare known word, scaled by UNKNOWN_WEIGHT.
        self._unknown_idf = UNKNOWN_WEIGHT * max(self.index.idf.values(), default=1.0)
        self._self_toned = self.index.self_parts @ mult
        self._self_plain = self.index.self_parts @ plain
        # English: which words are Vietnamese shorthand, which the knowledge base's
        # Vietnamese text shares with English ("vneid", "zalo"); an English index.
        self._vi_words = frozenset(fold(k) for k in lexicon.keys())
        strings_en = [english_strings(d.strings, self._vi_words, frozenset()) for d in self.docs]
        english_of = [frozenset(e) for e in strings_en]
        neutral: set[str] = set()
        for d, en in zip(self.docs, strings_en, strict=True):
            for s in d.strings:
                if s not in en:
                    neutral.update(w for w in fold(s.lower()).split() if w.isalnum() and not is_vietnamese_syllable(w))
        self._neutral = frozenset(neutral)
        self.english_index = EnglishIndex(strings_en, [" ".join(d.english) for d in self.docs])
        # The learned second opinion, on the Vietnamese strings (English ones have their own index).
        vi = [(k, o) for k, o, s in zip(self._keys, self._owner, (s for d in self.docs for s in d.strings), strict=True)
              if s not in english_of[o]] if use_classifier else []
        # `trained`: a classifier already trained on these strings elsewhere (the match
        # worker gets the serving process's); used only when its fingerprint says so.
        self.classifier = EntryClassifier.build([k for k, _ in vi], [o for _, o in vi], trained) if vi else None
        # ... and one on the English strings (stemmed content words), for English messages.
        en_pairs = [(" ".join(en_tokens(s)), o) for o, ss in enumerate(strings_en) for s in ss] if use_classifier else []
        self.classifier_en = (EntryClassifier.build([k for k, _ in en_pairs], [o for _, o in en_pairs], trained)
                              if en_pairs else None)

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def classifiers(self) -> tuple[EntryClassifier, ...]:
        """The trained second opinions (Vietnamese, English), to hand to another matcher
        of the same entries (`trained`) instead of training them again."""
        return tuple(c for c in (self.classifier, self.classifier_en) if c is not None)

    def with_docs(self, docs: Sequence[Doc]) -> Matcher:
        """A matcher with the same lexicon, small talk and thresholds over other entries."""
        return Matcher(docs, self.lexicon, self.chitchat, answer_threshold=self.answer_threshold,
                       suggest_threshold=self.suggest_threshold, glossary=self.glossary,
                       use_classifier=self.classifier is not None)

    def is_english(self, q: Query) -> bool:
        """Whether a normalised message is written in English (`bot.english.is_english`)."""
        return is_english(q.tokens, self._vi_words, self._neutral)

    def match(self, text: str) -> Match:
        """Match one message and decide what to do with it."""
        q = self.lexicon.query(text)
        english = self.is_english(q)
        normalized = " ".join(q.tokens) if english else q.text
        intent = self.chitchat.detect(q)
        if intent is not None:
            return Match(Decision.CHITCHAT, 100.0, chitchat=intent, english=english, normalized=normalized)
        asking = asking_part(text) if len(q.tokens) >= LONG_TOKENS else ""
        aq = self.lexicon.query(asking) if asking else None
        if aq is not None and len(aq.tokens) < len(q.tokens):
            if english:
                ranked = _fuse(self.rank_english(q.tokens), self.rank_english(aq.tokens), ASK_WEIGHT)
            else:
                ranked = _fuse(*self.rank_long(q, aq), ASK_WEIGHT)
        else:
            ranked = self.rank_english(q.tokens) if english else self.rank(q)
        return self._decide(ranked, english, normalized, " ".join(en_tokens(normalized)) if english else q.key)

    def rank_english(self, tokens: Sequence[str]) -> list[tuple[int, float]]:
        """An English message: its English index confidence and, through the glossary,
        the Vietnamese one, fused per entry."""
        en = dict(self.english_index.rank(" ".join(tokens)))
        vi: dict[int, float] = {}
        if len(self.glossary):
            text, share = self.glossary.translate(tokens, self.index.known)
            if text:
                # Only as sure as the translation is whole: what it left out may be the point.
                vi = {e: c * share ** EN_COVER for e, c in self.rank(self.lexicon.query(text))}
        fused = {e: EN_FUSE * en.get(e, 0.0) + (1.0 - EN_FUSE) * vi.get(e, 0.0) if e in en and e in vi
                 else EN_ALONE * max(en.get(e, 0.0), vi.get(e, 0.0)) for e in set(en) | set(vi)}
        return sorted(fused.items(), key=lambda x: -x[1])

    def _decide(self, ranked: list[tuple[int, float]], english: bool, normalized: str, key: str | None = None) -> Match:
        """The decision on ranked entries; `key` (a Vietnamese message's normalised key)
        lets the learned classifier confirm a suggestion or doubt an answer."""
        opinion: list[tuple[int, dict[int, float]]] = []

        def second_opinion() -> tuple[int, dict[int, float]] | None:
            """The classifier's likeliest entry and its probability of each entry (by index),
            or None without one."""
            clf = self.classifier_en if english else self.classifier
            if key is None or clf is None:
                return None
            if not opinion:
                probs = dict(zip(clf.classes.tolist(), clf.probabilities(key).tolist(), strict=True))
                opinion.append((max(probs, key=probs.__getitem__), probs))
            return opinion[0]

        answer_t = self.answer_threshold - (EN_SHIFT if english else 0.0)
        if not ranked:
            return Match(Decision.UNKNOWN, 0.0, english=english, normalized=normalized)
        best_index, best_conf = ranked[0]
        best = self.docs[best_index]
        candidates = tuple((self.docs[i].entry_id, round(c, 1)) for i, c in ranked)
        in_scope = [(i, c) for i, c in ranked if not self.docs[i].out_of_scope]
        score = round(best_conf, 1)
        words = len(key.split()) if key is not None else 0
        short = key is not None and words <= VAGUE_WORDS
        # On a Vietnamese message of a word or two ("ai", "app"), an out-of-scope entry only
        # a little ahead of an in-scope one is chance, not a near miss: no referral then.
        # (An English message's key is its content words: "weather tomorrow" is short but clear.)
        chance = short and bool(in_scope) and not english
        if best.out_of_scope and best_conf >= self.suggest_threshold and not (
                chance and best_conf - in_scope[0][1] < VAGUE_MARGIN):
            return Match(
                Decision.UNKNOWN, score, refusal_id=best.entry_id, english=english,
                normalized=normalized, candidates=candidates,
            )
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        clear_lead = best_conf >= answer_t - LEAD_SLACK and best_conf - runner_up >= LEAD_MARGIN
        # Two in-scope entries this close are a choice for the resident; on a message of a
        # word or two ("hồ sơ": a topic, not yet a question) a wider gap still is.
        margin = VAGUE_MARGIN if short else AMBIGUOUS_MARGIN
        # How far the best in-scope entry leads the next (all of its confidence when alone).
        in_lead = in_scope[0][1] - in_scope[1][1] if len(in_scope) > 1 else in_scope[0][1] if in_scope else 0.0
        ambiguous = len(in_scope) > 1 and in_lead < margin
        if (best_conf >= answer_t or clear_lead) and not best.out_of_scope and not ambiguous:
            doubt = second_opinion()
            # A flat opinion (the classifier's own pick below DOUBT_SURE: often so on English,
            # learned from few strings) doubts nothing of an entry that clearly leads.
            flat = doubt is not None and doubt[1][doubt[0]] < DOUBT_SURE and best_conf - runner_up >= LEAD_MARGIN
            if doubt is None or ((doubt[1].get(best_index, 0.0) >= DOUBT_LOW or flat)
                                 and (doubt[0] == best_index or doubt[1][doubt[0]] < DOUBT_P)):
                return Match(
                    Decision.ANSWER, score, entry_id=best.entry_id, english=english,
                    normalized=normalized, candidates=candidates,
                )
        top = in_scope[0][1] if in_scope else 0.0
        # An out-of-scope entry nearly as close as the best in-scope one: the message is
        # most likely a near miss (another office's business), so no in-scope suggestions
        # that only look alike; that entry's referral when it is itself close to answering
        # (a weak one may be a different near miss: then the plain "no answer yet").
        oos = [(i, c) for i, c in ranked if self.docs[i].out_of_scope]
        if oos and top >= self.suggest_threshold and oos[0][1] >= top - OOS_GAP and not (
                chance and oos[0][1] - top < VAGUE_MARGIN) and not self._picked(second_opinion(), best_index, OOS_AGREE_P):
            near = self.docs[oos[0][0]].entry_id if oos[0][1] >= answer_t - LEAD_SLACK else None
            return Match(Decision.UNKNOWN, round(oos[0][1], 1), refusal_id=near, english=english,
                         normalized=normalized, candidates=candidates)
        suggest = tuple(
            self.docs[i].entry_id for i, c in in_scope[:3] if c >= self.suggest_threshold and c >= top - SUGGEST_SPREAD
        )
        if suggest:
            agree = second_opinion()
            vague = ambiguous and short
            sure = AGREE_P if len(suggest) > 1 else AGREE_P_ALONE
            if in_lead >= AGREE_LEAD:
                sure = min(sure, AGREE_P_LEAD)
            if self._picked(agree, in_scope[0][0], sure) and not vague:
                # The classifier, trained on the entries' own strings, picks the same entry: answer
                # it, unless two entries tie on a message of a word or two ("hồ sơ": which one
                # is for the resident to say; on a longer one the classifier breaks ties well).
                return Match(Decision.ANSWER, round(in_scope[0][1], 1), entry_id=suggest[0], english=english,
                             normalized=normalized, candidates=candidates)
            if (agree is not None and words >= PICK_WORDS and agree[1][agree[0]] >= AGREE_P
                    and self.docs[agree[0]].entry_id in suggest):
                # A long message: the lexical scores of the entries suggested are close (each
                # matches some of its words), the classifier reads all of them and surely picks one.
                conf = next(c for i, c in in_scope if i == agree[0])
                return Match(Decision.ANSWER, round(conf, 1), entry_id=self.docs[agree[0]].entry_id, english=english,
                             normalized=normalized, candidates=candidates)
            return Match(
                Decision.SUGGEST, round(in_scope[0][1], 1), entry_id=suggest[0], suggestions=suggest,
                english=english, normalized=normalized, candidates=candidates,
            )
        return Match(Decision.UNKNOWN, score, english=english, normalized=normalized, candidates=candidates)

    def _picked(self, opinion: tuple[int, dict[int, float]] | None, best_index: int, p: float) -> bool:
        """Whether the classifier picks the best-ranked entry, an in-scope one, at least this surely."""
        return (opinion is not None and opinion[0] == best_index and not self.docs[best_index].out_of_scope
                and opinion[1][best_index] >= p)

    def _readings(self, q: Query) -> _Readings:
        """The message's words, reading by reading and slot by slot, with their IDF
        (computed once per message, shared by every shortlisted entry; each slot's part
        is kept, as residents' words repeat and a long message's asking clause repeats it)."""
        cache = self._slot_readings
        pairs: list[tuple[str, str]] = []
        weights: list[float] = []
        reading_lens: list[int] = []
        reading_means: list[float] = []
        per_slot: list[int] = []
        for key in zip(q.folded, q.toned, strict=True):
            found = cache.get(key)
            if found is None:
                found = self._slot_reading(*key)
                if len(cache) < _SLOT_FEATURES_MAX:
                    cache[key] = found
            pairs.extend(found[0])
            weights.extend(found[1])
            reading_lens.extend(found[2])
            reading_means.extend(found[3])
            per_slot.append(len(found[2]))
        lens = np.array(reading_lens, dtype=np.int64)
        reading_starts = np.cumsum(lens) - lens
        counts = np.array(per_slot, dtype=np.int64)
        slot_starts = np.cumsum(counts) - counts
        means = np.array(reading_means)
        best_w = np.maximum.reduceat(means, slot_starts) if len(slot_starts) else means
        return _Readings(pairs, np.array(weights), reading_starts, lens.astype(np.float64), slot_starts, best_w)

    def _slot_reading(self, slot: tuple[tuple[str, ...], ...], tslot: tuple[tuple[str, ...], ...]
                      ) -> tuple[tuple[tuple[str, str], ...], tuple[float, ...], tuple[int, ...], tuple[float, ...]]:
        """One slot's (folded, toned) word pairs, their IDF, and each reading's length and mean IDF."""
        idf = self.index.idf
        pairs: list[tuple[str, str]] = []
        weights: list[float] = []
        lens: list[int] = []
        means: list[float] = []
        for reading, treading in zip(slot, tslot, strict=True):
            ws = [idf.get(x, self._unknown_idf) for x in reading]
            pairs.extend(zip(reading, treading, strict=True))
            weights.extend(ws)
            lens.append(len(ws))
            means.append(sum(ws) / len(ws))
        return tuple(pairs), tuple(weights), tuple(lens), tuple(means)

    def query_coverage(self, q: Query, entries: Sequence[int], r: _Readings) -> np.ndarray:
        """For each entry, the share of the message's informative words (by IDF) that
        its strings contain: a short string inside a long message must not speak for all
        of it. Per slot, the best reading counts; `r` is the message's `_readings`."""
        if not r.pairs:
            return np.zeros(len(entries))
        rows = []
        for e in entries:
            vocab = self._vocab[e]
            toned_vocab = self._toned_vocab[e]
            # Typed with marks, "toán" is not "toàn": an accent-free-only match counts less.
            rows.append([0.0 if x not in vocab else 1.0 if not q.accented or tx == x or tx in toned_vocab else FOLD_ONLY_CREDIT
                         for x, tx in r.pairs])
        credit = np.array(rows) * r.weights
        per_reading = np.add.reduceat(credit, r.reading_starts, axis=1) / r.reading_lens
        per_slot = np.maximum.reduceat(per_reading, r.slot_starts, axis=1)
        total = float(r.best_w.sum())
        return np.minimum(per_slot, r.best_w).sum(axis=1) / total if total else np.zeros(len(entries))

    def _weights(self, q: Query, toned: bool) -> dict[str, float]:
        """Query-side weight of each feature: its count times its kind's multiplier."""
        words, pairs, grams, marks = _feature_parts(q, toned)
        mw, mb, mc, mt = _MULT["w"], _MULT["b"], _MULT["c"], _MULT["t"]
        out: dict[str, float] = {t: n * mw for t, n in words.items()}
        out.update((t, n * mb) for t, n in pairs.items())
        out.update((t, n * mc) for t, n in grams.items())
        out.update((t, n * mt) for t, n in marks.items())
        return out

    def rank_long(self, q: Query, aq: Query) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """A long message and its asking clause: the whole message ranked, and the clause
        re-ranked on the whole's candidates. BM25 is linear in the query's feature weights,
        so the features they share are scored once: whole = shared + rest, clause = shared + extra."""
        if not self.docs or not q.folded or not aq.folded:
            return self.rank(q), []
        w_all = self._weights(q, q.accented)
        w_ask = self._weights(aq, q.accented)
        shared = {t: min(w, w_all[t]) for t, w in w_ask.items() if t in w_all}
        rest = {t: w - shared.get(t, 0.0) for t, w in w_all.items() if w > shared.get(t, 0.0)}
        extra = {t: w - shared.get(t, 0.0) for t, w in w_ask.items() if w > shared.get(t, 0.0)}
        s_shared = self.index.scores(shared)
        whole = self.rank(q, scores=s_shared + self.index.scores(rest))
        ask_scores = s_shared + self.index.scores(extra) if extra else s_shared
        # `_fuse` reads only the clause's best entry and its lead over the second.
        return whole, self.rank(aq, only=[e for e, _ in whole], scores=ask_scores, accented=q.accented, leaders=2)

    def rank(self, q: Query, top: int = 6, only: Sequence[int] | None = None, scores: np.ndarray | None = None,
             accented: bool | None = None, leaders: int = 0) -> list[tuple[int, float]]:
        """Entries (index, confidence 0-100) best first: BM25 shortlist, re-ranked.
        `only`: re-rank these entries instead of a shortlist (the asking clause of a long
        message is scored on the whole message's candidates); `scores`: the BM25 scores of
        the message's features when already computed (`rank_long`), with `accented` the
        marks setting they were computed with; `leaders`: only this many best entries are
        wanted (exactly as without it), so entries that cannot reach them are not scored."""
        if not self.docs or not q.folded:
            return []
        if scores is None:
            scores = self.index.scores(self._weights(q, q.accented))
        if accented is not None and accented != q.accented:
            q = Query(toned=q.toned, folded=q.folded, accented=accented, tokens=q.tokens)
        if only is not None:
            n = len(scores)
            shortlist = [e for e in only
                         if scores[int(self._starts[e]):(int(self._starts[e + 1]) if e + 1 < len(self._starts) else n)].max() > 0]
        else:
            shortlist = self._top_entries(scores, top)
        if not shortlist:
            return []
        selfs = self._self_toned if q.accented else self._self_plain
        # Every string of the shortlisted entries that shares a feature with the message:
        # half its own BM25 weight covered, half token_set_ratio of the keys.
        ends = [int(self._starts[e + 1]) if e + 1 < len(self._starts) else len(scores) for e in shortlist]
        strings = np.concatenate([np.arange(int(self._starts[e]), end) for e, end in zip(shortlist, ends, strict=True)])
        strings = strings[scores[strings] > 0]
        selfs_of = selfs[strings]
        covered = 50.0 * np.minimum(1.0, scores[strings] / np.where(selfs_of == 0, 1.0, selfs_of))
        entries = self._owner_arr[strings]
        side = (1.0 - W_DOC) * 100.0 * self.query_coverage(q, shortlist, self._readings(q))  # message-side part
        rest = None
        if leaders:
            rest = np.zeros(len(self.docs))
            rest[shortlist] = side
        doc_conf = self._best_strings(q.key, strings, entries, covered, rest, leaders)
        # The strings are grouped by entry in shortlist order, and every entry has one.
        starts = np.flatnonzero(np.r_[True, entries[1:] != entries[:-1]])
        best = W_DOC * np.maximum.reduceat(doc_conf, starts) + side
        out = list(zip(shortlist, best.tolist(), strict=True))
        out.sort(key=lambda x: -x[1])
        return out[:leaders] if leaders else out

    def _top_entries(self, scores: np.ndarray, k: int) -> list[int]:
        """The k entries whose best string scores highest (above 0). An entry's rank is
        that of its best string, so the best strings are walked in order until k entries
        are found: a partition of the scores instead of a per-entry maximum, which costs
        a few hundred microseconds at 10,000 entries of two or three strings."""
        n = len(scores)
        want = min(k, len(self.docs))
        pool = min(n, max(8 * want, 64))
        while True:
            if pool < n:
                cut = np.argpartition(-scores, pool - 1)[:pool]
                cut = cut[np.argsort(-scores[cut], kind="stable")]
            else:
                cut = np.argsort(-scores, kind="stable")
            found: list[int] = []
            for score, e in zip(scores[cut].tolist(), self._owner_arr[cut].tolist(), strict=True):
                if score <= 0:
                    return found
                if e not in found:
                    found.append(e)
                    if len(found) == want:
                        return found
            if pool >= n:
                return found
            pool = min(n, pool * 4)

    def _best_strings(self, key: str, strings: np.ndarray, owner: np.ndarray, covered: np.ndarray,
                      rest: np.ndarray | None = None, leaders: int = 0) -> np.ndarray:
        """`covered + 0.5 × token_set_ratio` for each string, or -inf where it cannot be
        its entry's best. `owner` is each string's entry.

        The ratio is the costly part, so it is computed only where it can matter:
        - a message of `TOKEN_SET_WORDS` words or more: the word lengths settle the ratio
          against most strings (`bot.token_sets`), and bound it against the others;
        - first for each entry's most promising string, then only for strings whose
          ceiling (`covered` plus half the ratio's bound) beats the best value their
          entry already has;
        - with `leaders` and `rest` (each entry's other part of the confidence,
          `W_DOC × this + rest`): only for strings that can lift their entry to the
          `leaders` best.
        Each entry's best value is exactly what scoring every string gives (for
        `leaders`: each of the `leaders` best entries', and which entries they are)."""
        if key.count(" ") + 1 >= TOKEN_SET_WORDS:
            exact, upper = self._token_sets.bounds(key, strings)
        else:
            exact, upper = np.full(len(strings), np.nan), np.full(len(strings), 100.0)
        conf = covered + 0.5 * exact  # NaN where not yet known
        ceiling = covered + 0.5 * upper
        floor = np.full(len(self.docs), -np.inf)
        settled = ~np.isnan(conf)
        np.maximum.at(floor, owner[settled], conf[settled])
        todo = np.flatnonzero(~settled & (ceiling > floor[owner]))
        if len(todo):
            # Each entry's most promising string first: its value often rules out the others.
            order = todo[np.lexsort((-ceiling[todo], owner[todo]))]
            first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
            conf[first] = covered[first] + 0.5 * self._token_sets.compute(key, strings[first])
            np.maximum.at(floor, owner[first], conf[first])
            todo = todo[np.isnan(conf[todo]) & (ceiling[todo] > floor[owner[todo]])]
            if leaders and rest is not None and len(todo):
                reached = np.isfinite(floor)
                lows = W_DOC * floor[reached] + rest[reached]
                if len(lows) >= leaders:
                    bar = np.partition(lows, len(lows) - leaders)[len(lows) - leaders]
                    todo = todo[W_DOC * ceiling[todo] + rest[owner[todo]] >= bar]
            if len(todo):
                conf[todo] = covered[todo] + 0.5 * self._token_sets.compute(key, strings[todo])
        conf[np.isnan(conf)] = -np.inf
        return conf


@dataclass(frozen=True)
class _Readings:
    """A message's words flattened for `Matcher.query_coverage`: (folded, toned) pairs
    with their IDF, where each reading and each slot starts, and each slot's best mean IDF."""

    pairs: list[tuple[str, str]]
    weights: np.ndarray
    reading_starts: np.ndarray
    reading_lens: np.ndarray
    slot_starts: np.ndarray
    best_w: np.ndarray
