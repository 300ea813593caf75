"""Small talk: greetings, thanks, goodbyes, "who are you", insults — answered politely.

The intents, their phrases and their replies are data (`knowledge/chitchat.yaml`). A
message is small talk when, once normalised, it is (nearly) one of the phrases, or made
only of phrase words and polite filler ("chào ad ạ", "cảm ơn nhiều nha"). A question
that merely starts with a greeting ("chào bạn, VNeID là gì") is not small talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from bot.text import Lexicon, Query, canon

__all__ = ["Chitchat", "Intent"]

UNCLEAR = "unclear"  # the intent of a message with nothing to match yet ("hả", "a", "e ơi")


@dataclass(frozen=True)
class Intent:
    """One kind of small talk and its replies."""

    name: str
    phrases: tuple[str, ...]  # folded keys
    reply_vi: str
    reply_en: str


class Chitchat:
    """Recognises small-talk intents in a normalised `Query`.

    Parameters:
        intents: the intents, phrases already normalised to folded keys.
        filler: folded words that may surround a phrase ("a", "nhe", "ad", ...).
        unclear_words: words that ask nothing on their own, as typed (canonical, with their
            marks): the filler words and the `unclear` intent's words.
    """

    def __init__(self, intents: list[Intent], filler: frozenset[str], unclear_words: frozenset[str] = frozenset()) -> None:
        self.intents = {i.name: i for i in intents}
        self.filler = filler
        self.unclear_words = unclear_words
        self._phrases = [(p, i.name) for i in intents for p in i.phrases]
        self._words = {w for p, _ in self._phrases for w in p.split()}

    @classmethod
    def load(cls, path: Path, lexicon: Lexicon) -> Chitchat:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents = [
            Intent(
                name=name,
                phrases=tuple(lexicon.query(p).key for p in spec.get("phrases") or []),
                reply_vi=spec["reply_vi"].strip(),
                reply_en=spec["reply_en"].strip(),
            )
            for name, spec in (data.get("intents") or {}).items()
        ]
        filler = frozenset(w for f in data.get("filler") or [] for w in lexicon.query(str(f)).key.split())
        typed = frozenset(w for f in data.get("filler") or [] for w in canon(str(f)).split())
        unclear = frozenset(w for f in (data.get("intents") or {}).get(UNCLEAR, {}).get("words") or []
                            for w in canon(str(f)).split())
        return cls(intents, filler, typed | unclear)

    def detect(self, q: Query) -> str | None:
        """The intent name when the message is small talk, else None."""
        if len(q.folded) > 12:  # every slot gives a word at least: more than `flat` may hold
            return None
        # Per slot, a reading that is polite filler or a phrase word wins ("nghe" → nhé,
        # "o" → cô): dialect and shorthand are recognised like the standard words.
        words = [next((r for r in slot if all(w in self.filler or w in self._words for w in r)), slot[0])
                 for slot in q.folded]
        flat = [w for reading in words for w in reading]
        if not flat or len(flat) > 12:
            return None
        core = " ".join(w for w in flat if w not in self.filler) or " ".join(flat)
        best_name, best = None, 0.0
        for phrase, name in self._phrases:
            score = fuzz.ratio(core, phrase)
            if score > best:
                best_name, best = name, score
        if best >= 88:
            return best_name
        # Only phrase words and filler ("chao ad a cam on nhieu"): still small talk.
        if all(w in self._words or w in self.filler for w in flat) and len(flat) <= 8:
            padded = f" {' '.join(flat)} "
            for phrase, name in sorted(self._phrases, key=lambda p: -len(p[0])):  # the longest phrase wins
                if f" {phrase} " in padded:
                    return name
        # Only filler, particles and single letters or digits ("a", "e ơi", "hả", "cho hỏi"):
        # nothing an entry could be about, so not matched against the knowledge base (where
        # every string has such a word and the best one would be chance). Checked on the
        # tokens as typed: folded, such words are also content words ("so" is "sổ" and "số").
        if UNCLEAR in self.intents and len(q.tokens) <= 4 and all(
                t in self.unclear_words or len(t) == 1 for t in q.tokens):
            return UNCLEAR
        return None

    def reply(self, intent: str, english: bool = False) -> str:
        i = self.intents[intent]
        return i.reply_en if english else i.reply_vi
