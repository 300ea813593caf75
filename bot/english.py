"""English as a first-class language: detection per message, and an English index.

Detection (`is_english`) votes word by word on a message typed without Vietnamese marks:
a word that cannot be a Vietnamese syllable and is not chat shorthand the lexicon knows
(`what`, `register`, `password`) votes English; a Vietnamese syllable that is not also a
common English word (`lam`, `sao`, `dang`) or a shorthand (`ko`, `dc`) votes Vietnamese;
words both languages use (`vneid`, `zalo`, `can`, `the`, `to`, numbers) do not vote.

An English message is never put through the Vietnamese lexicon (English "a" is not
"anh"). It is matched by `EnglishIndex` against each entry's English text: its English
alternates (full weight) and `answer_en` (lower weight), tokenised as English (stop words
dropped, a light suffix stemmer), BM25 to shortlist, then a bounded confidence of the
same scale as the Vietnamese one: the share of the message's informative words (by IDF)
the entry's English text contains, mixed with `token_set_ratio` against its closest
English alternate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import yaml

from bot.bm25 import BM25Index
from bot.telex import surely_telex
from bot.text import canon, fold, has_diacritics

__all__ = ["EnglishIndex", "Glossary", "en_tokens", "is_english", "is_vietnamese_syllable", "stem"]

_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx]"
_SYLLABLE = re.compile(rf"^(?:{_ONSET})?(?:[aeiouy]{{1,3}})(?:ch|ng|nh|[cmnpt])?$")

#: Common English words that are also (folded) Vietnamese syllables, or too short to tell:
#: they do not vote.
_AMBIGUOUS = frozenset("a an the to do in on me my can no so go hi he be by at as or it us up ban may lot".split())
#: The city's name as English writes it (as two words, "da nang", it does not vote either).
_CITY = frozenset({"danang"})
#: English function and question words that are not Vietnamese syllables: they vote English.
_FUNCTION = frozenset(
    "what whats how where when who whom whose which why is are was were does did i im ive id you your yours "
    "of for with and this that these those there their they them please should would could will wont "
    "have has had need get got from about into if any some our we its been being am not dont doesnt "
    "cant cannot help tell want know find use used using hello thanks thank thx okay bye".split()
)
#: Lexicon keys that are English words too: they vote English, not Vietnamese.
_ENGLISH_SHORTHAND = frozenset(
    "thanks thank pls plz please ok okay app apps online login password pass inbox help check smartphone "
    "hello hi bye".split()
)

_STOP = frozenset(
    "a an the to do does did in on at by of for with and or is are was were be been being am i me my mine you your "
    "yours we our us they them their it its this that these those there here what whats which who whom whose "
    "how where when why can could should would will shall may might must have has had having get got please "
    "if so as from into about any some s t im ive id dont doesnt didnt cant cannot not no yes just also "
    "want need like know tell let help hi hello thanks thank there one".split()
)

_WORD = re.compile(r"[a-z0-9]+")


def is_vietnamese_syllable(word: str) -> bool:
    """Whether a folded word could be a Vietnamese syllable (onset, vowels, final)."""
    return bool(_SYLLABLE.match(word))


def is_english(tokens: Sequence[str], vietnamese_words: frozenset[str] = frozenset(),
               neutral: frozenset[str] = frozenset()) -> bool:
    """Whether canonical tokens are an English message (see the module docstring).

    `vietnamese_words`: shorthand the lexicon expands (`ko`, `dc`, `tk`); `neutral`:
    words the knowledge base's Vietnamese text uses although they are not Vietnamese
    syllables (`vneid`, `zalo`, `wifi`).
    """
    if not tokens or any(has_diacritics(t) for t in tokens):
        return False
    en = vi = 0
    for i, t in enumerate(tokens):
        if t in _CITY or (t == "da" and tokens[i + 1:i + 2] == ["nang"]) or (t == "nang" and tokens[i - 1:i] == ["da"]):
            continue  # "Da Nang" written without marks is English as much as Vietnamese
        if t.isdigit() or t in _AMBIGUOUS:
            continue
        if t in _FUNCTION or t in _ENGLISH_SHORTHAND:
            en += 1
        elif t in vietnamese_words:
            vi += 1
        elif t in neutral:
            continue
        elif is_vietnamese_syllable(t) or surely_telex(t):
            vi += 1
        elif t.isascii() and len(t) > 1:
            en += 1
    return en > vi and en >= 1


def stem(word: str) -> str:
    """A light English suffix stemmer (registers, registered, registering → regist...)."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "ls":  # stopped → stop
                w = w[:-1]
            return w
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def en_tokens(text: str) -> list[str]:
    """Content words of English text, stemmed (stop words dropped)."""
    words = _WORD.findall(fold(canon(text)))
    return [stem(w) for w in words if w not in _STOP]


def _features(stems: Sequence[str]) -> Counter[str]:
    out: Counter[str] = Counter(stems)
    out.update(f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False))
    return out


_KINDS = {"w": 0, "b": 1}


def _kind(feature: str) -> str:
    return "b" if "_" in feature else "w"


ANSWER_WEIGHT = 0.5  # a word of `answer_en` counts this much as one of an English alternate
ANSWER_CREDIT = 0.8  # in the coverage, a message word found only in the answer
UNKNOWN_WEIGHT = 0.5
# The confidence: message words the entry's English text has, words of its closest English
# alternate the message has, and BM25 relative to the best candidate's.
W_COVER = 0.5
W_DOC = 0.3
W_BM25 = 0.2


class EnglishIndex:
    """English text of entries (index i = the matcher's entry i), BM25 + coverage.

    Parameters:
        alternates: per entry, its English question strings.
        answers: per entry, its English answer (or "").
    """

    def __init__(self, alternates: Sequence[Sequence[str]], answers: Sequence[str]) -> None:
        self.n = len(alternates)
        bags: list[Counter[str]] = []
        self._alt_vocab: list[frozenset[str]] = []
        self._ans_vocab: list[frozenset[str]] = []
        self._alt_sets: list[list[frozenset[str]]] = []
        for alts, answer in zip(alternates, answers, strict=True):
            alt_stems = [en_tokens(a) for a in alts]
            ans_stems = en_tokens(_drop_pointers(answer))
            bag: Counter[str] = Counter()
            for s in alt_stems:
                bag.update(_features(s))
            for f, n in _features(ans_stems).items():
                bag[f] += ANSWER_WEIGHT * n  # type: ignore[assignment]  # a Counter of float weights
            bags.append(bag)
            self._alt_vocab.append(frozenset(w for s in alt_stems for w in s))
            self._ans_vocab.append(frozenset(ans_stems))
            self._alt_sets.append([frozenset(s) for s in alt_stems if s])
        self.index = BM25Index(bags, kind_of=_kind, kinds=_KINDS)
        self._unknown_idf = UNKNOWN_WEIGHT * max(self.index.idf.values(), default=1.0)

    def rank(self, text: str, top: int = 6) -> list[tuple[int, float]]:
        """Entries (index, confidence 0-100), best first."""
        stems = en_tokens(text)
        if not stems or not self.n:
            return []
        scores = self.index.scores(_features(stems))
        k = min(top, self.n)
        shortlist = [int(e) for e in np.argpartition(-scores, k - 1)[:k] if scores[e] > 0]
        if not shortlist:
            return []
        idf = self.index.idf
        weights = [idf.get(w, self._unknown_idf) for w in stems]
        total = sum(weights) or 1.0
        qset = set(stems)
        top_bm25 = float(scores[shortlist].max()) or 1.0
        out = []
        for e in shortlist:
            alt, ans = self._alt_vocab[e], self._ans_vocab[e]
            covered = sum(wt * (1.0 if w in alt else ANSWER_CREDIT if w in ans else 0.0)
                          for w, wt in zip(stems, weights, strict=True)) / total
            # The closest English alternate: the share of its informative words the message has.
            doc_side = 0.0
            for a in self._alt_sets[e]:
                aw = sum(idf.get(w, 0.0) for w in a)
                if aw:
                    doc_side = max(doc_side, sum(idf.get(w, 0.0) for w in a & qset) / aw)
            conf = W_COVER * covered + W_DOC * doc_side + W_BM25 * float(scores[e]) / top_bm25
            out.append((e, 100.0 * conf))
        out.sort(key=lambda x: -x[1])
        return out


_POINTER = re.compile(r"\bI (?:can|could) help\b", re.IGNORECASE)


def _drop_pointers(answer: str) -> str:
    """The answer without its "I can help with ..." sentences (pointers to other topics)."""
    sentences = re.split(r"(?<=[.!?])\s+", answer)
    return " ".join(s for s in sentences if not _POINTER.search(s))


def english_strings(strings: Iterable[str], vietnamese_words: frozenset[str], neutral: frozenset[str]) -> list[str]:
    """The strings of an entry written in English."""
    return [s for s in strings if is_english(canon(s).split(), vietnamese_words, neutral)]


class Glossary:
    """English words and two-word phrases → Vietnamese (`knowledge/english/glossary.yaml`),
    so an English message can also be matched against the Vietnamese question strings."""

    def __init__(self, entries: dict[str, str | list[str]] | None = None) -> None:
        self._map: dict[tuple[str, ...], list[str]] = {}
        for k, v in (entries or {}).items():
            words = tuple(_WORD.findall(str(k).lower()))
            if words:
                self._map[words] = [v] if isinstance(v, str) else [str(x) for x in v]

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of English → Vietnamese")
        return cls({str(k): v for k, v in data.items()})

    def __len__(self) -> int:
        return len(self._map)

    def translate(self, tokens: Sequence[str], keep: Callable[[str], bool]) -> tuple[str, float]:
        """Vietnamese words for English tokens: phrases first, then words; a word the
        glossary lacks is kept when `keep` says the Vietnamese index knows it (`vneid`).
        Also the share of the content words (not stop words) that found Vietnamese: a
        translation that kept only "da nang" of a question about visas says little."""
        out: list[str] = []
        content = covered = 0
        i = 0
        while i < len(tokens):
            two = tuple(tokens[i:i + 2])
            if len(two) == 2 and two in self._map:
                out.extend(self._map[two])
                content += 1
                covered += 1
                i += 2
                continue
            t = tokens[i]
            found = self._map.get((t,)) or self._map.get((stem(t),))
            if t not in _STOP:
                content += 1
            if found:
                out.extend(found)
                covered += t not in _STOP
            elif t not in _STOP and keep(t):
                out.append(t)
                covered += 1
            i += 1
        return " ".join(out), (covered / content if content else 1.0)
