"""Vietnamese text normalisation: one canonical form for everything residents type.

Pure functions, no I/O except `Lexicon.load`. The pipeline for a message is

1. `canon`: NFKC, the Ð/ð → Đ/đ repair, lower case, one tone-mark placement per
   syllable (hoà = hòa, thuỷ = thủy, misplaced marks such as tóan → toán repaired),
   zero-width, control, emoji and punctuation characters dropped, letters repeated at
   the end of a word collapsed (khônggg → không).
   A message typed in Telex with the input method off (lamf sao ddawng kys) has its
   words also read as their syllables (làm sao đăng ký), in `Lexicon.query_tokens`
   (`bot/telex.py`).
2. `Lexicon.expand`: abbreviations, teencode and Central dialect words (data files in
   `knowledge/lexicon/`), each token becoming one or more *readings* (`chi` → chi | gì),
   so an ambiguous word keeps its literal reading too.
3. `fold`: the accent-free form (đ → d) that retrieval keys on.

Work is linear in the input; callers that match cap the number of tokens
(`MAX_TOKENS`) so a 100,000-character paste costs the same as a long question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import telex
from bot.tones import place_tone

__all__ = [
    "MAX_TOKENS",
    "Lexicon",
    "Query",
    "canon",
    "fold",
    "has_diacritics",
    "looks_english",
    "place_tone",
]

#: Tokens of a message considered for matching; the rest of a long paste is ignored.
MAX_TOKENS = 120

_WORD_NFD = re.compile(r"[\w\u0300-\u036f]+")  # \w alone does not match combining marks
_NOT_WORD = re.compile(r"[^\w\s]|_")
_REPEAT_END = re.compile(r"(\w)\1{2,}\b")
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")  # zero-width, soft hyphen


def canon(text: str) -> str:
    """The toned canonical form: lower case, one tone placement, no punctuation or emoji."""
    s = _INVISIBLE.sub("", text)
    s = unicodedata.normalize("NFKC", s).replace("Ð", "Đ").replace("ð", "đ").lower()
    s = unicodedata.normalize("NFD", s)
    s = _WORD_NFD.sub(lambda m: place_tone(m.group()), s)
    s = unicodedata.normalize("NFC", s)
    s = _NOT_WORD.sub(" ", s)
    s = _REPEAT_END.sub(r"\1", s)
    return _SPACES.sub(" ", s).strip()


def fold(text: str) -> str:
    """The accent-free form of canonical text: every diacritic dropped, đ → d."""
    s = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def has_diacritics(text: str) -> bool:
    """True when the text carries Vietnamese marks (so accented evidence is meaningful)."""
    return fold(text) != text


_ENGLISH_WORDS = frozenset(
    "the a an is are was what how where when who which why can do does i my me you your "
    "to of in on for with and or it this that there please from get should need have "
    "online app account id card vietnam vietnamese city da nang".split()
)


def looks_english(text: str | list[str] | tuple[str, ...]) -> bool:
    """A cheap language guess: no Vietnamese marks and mostly English function words.

    Takes raw text, or the canonical tokens of a `Query` (`q.tokens`) to skip `canon`.
    """
    words = canon(text).split() if isinstance(text, str) else list(text)
    if any(has_diacritics(w) for w in words):
        return False
    if len(words) < 2:
        return False
    hits = sum(w in _ENGLISH_WORDS for w in words)
    return hits / len(words) >= 0.3


_SLOT_CACHE = 100_000  # words whose readings a lexicon keeps
TELEX_WORDS = 2  # words surely typed in Telex that make a message read as typed in Telex


@dataclass(frozen=True)
class Query:
    """A normalised message: token slots, each with its readings (tuples of words).

    `toned` keeps the diacritics (for the exact-accent bonus), `folded` drops them.
    """

    toned: tuple[tuple[tuple[str, ...], ...], ...]
    folded: tuple[tuple[tuple[str, ...], ...], ...]
    accented: bool
    tokens: tuple[str, ...] = ()  # the canonical tokens as typed, before expansion

    @property
    def key(self) -> str:
        """Every folded word of every reading, in order: the string fuzzy scorers see."""
        return " ".join(w for slot in self.folded for reading in slot for w in reading)

    @property
    def text(self) -> str:
        """The first (preferred) toned reading of every slot: the normalised text to log."""
        return " ".join(w for slot in self.toned for w in slot[0])


class Lexicon:
    """Abbreviations, teencode and dialect words: token → readings.

    A value that is a string replaces the token; a list keeps every reading (write the
    token itself in the list to keep its literal sense: `chi: [chi, gì]`). An empty
    string drops the token (particles such as `hỉ`). Keys are canonical tokens; keys
    written without marks (other than đ) also match the same token typed with đ → d.
    """

    def __init__(self, entries: Mapping[str, str | list[str]] | None = None) -> None:
        self._map: dict[str, tuple[tuple[str, ...], ...]] = {}
        # token → (its readings, the same folded): residents' words repeat, so a message
        # costs a dictionary look-up per word once its words have been seen.
        self._slots: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], bool]] = {}
        self._ascii: dict[str, tuple[tuple[str, ...], ...]] = {}
        for raw_key, value in (entries or {}).items():
            key = canon(str(raw_key))
            values = [value] if isinstance(value, str) else list(value)
            readings = tuple(tuple(canon(str(v)).split()) for v in values)
            self._map[key] = readings
            if key.isascii():
                self._ascii[key] = readings

    @classmethod
    def load(cls, directory: Path) -> Lexicon:
        """Read every `*.yaml` mapping in a folder (later files override earlier ones)."""
        merged: dict[str, str | list[str]] = {}
        for path in sorted(directory.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping of token → expansion")
            merged.update({str(k): v for k, v in data.items()})
        return cls(merged)

    def __len__(self) -> int:
        return len(self._map)

    def keys(self) -> frozenset[str]:
        """The canonical tokens the lexicon rewrites."""
        return frozenset(self._map)

    def readings(self, token: str) -> tuple[tuple[str, ...], ...]:
        """The readings of one canonical token (the token itself when not in the lexicon)."""
        found = self._map.get(token)
        if found is None and "đ" in token:
            found = self._ascii.get(token.replace("đ", "d"))
        return found if found is not None else ((token,),)

    def query(self, text: str, max_tokens: int = MAX_TOKENS) -> Query:
        """Normalise a message into a `Query` (at most `max_tokens` tokens are kept)."""
        tokens = canon(text[: max_tokens * 40]).split()[:max_tokens]
        return self.query_tokens(tokens)

    def query_tokens(self, tokens: Iterable[str]) -> Query:
        toned: list[tuple[tuple[str, ...], ...]] = []
        folded_slots: list[tuple[tuple[str, ...], ...]] = []
        tokens = list(tokens)
        cache = self._slots
        # Whether the resident typed marks (expansions such as cds → chuyển đổi số do not count).
        accented = False
        # Typed in Telex with the input method off ("lamf sao ddeer..."): each word that
        # decodes is read both as its syllable and as typed.
        typed_telex = sum(telex.surely_telex(t) for t in tokens) >= TELEX_WORDS
        for tok in tokens:
            syllable = telex.decode(tok) if typed_telex and tok not in _ENGLISH_WORDS else None
            if syllable is not None:
                toned.append(((syllable,), (tok,)))
                folded_slots.append(((fold(syllable),), (tok,)))
                continue
            found = cache.get(tok)
            if found is None:
                readings = tuple(r for r in self.readings(tok) if r)
                found = (readings, tuple(tuple(fold(w) for w in r) for r in readings), has_diacritics(tok))
                if len(cache) < _SLOT_CACHE:
                    cache[tok] = found
            if found[0]:
                toned.append(found[0])
                folded_slots.append(found[1])
            accented = accented or found[2]
        return Query(toned=tuple(toned), folded=tuple(folded_slots), accented=accented, tokens=tuple(tokens))
