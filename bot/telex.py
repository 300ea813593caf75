"""Words typed in Telex with the input method off: "lamf sao ddeer ddawng kys" is
"làm sao để đăng ký". A resident whose keyboard stopped converting sends the keys as
letters; `decode` turns one such word back into its syllable, and `bot.text.Lexicon`
reads it both ways (the syllable first, the letters as typed second).

Only a word that carries a mark no Vietnamese syllable written without diacritics can
have is read: a final tone key (s f r x j: no syllable ends in one), "dd", "w", "aa",
"ee" or "oo" (only in a few loanwords: xoong, boong, which keep their reading as typed);
and only when the result is a well-formed syllable (onset, vowels, final), so "apps",
"wifi" or "fb" stay as typed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.tones import place_tone

__all__ = ["decode", "surely_telex"]

_TONE_KEYS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
# Longest first: "uow" before "ow", "uwow" before "uw".
_QUALITY = (("uwow", "ươ"), ("uow", "ươ"), ("uwo", "ươ"), ("uw", "ư"), ("ow", "ơ"), ("aw", "ă"), ("aa", "â"), ("ee", "ê"),
            ("oo", "ô"))
_TONE_INSIDE = re.compile(r"(.*[aeiouywăâêôơư])([sfrxj])(ch|ng|nh|[cmnpt])")
_LETTERS = re.compile(r"[a-zđăâêôơư]+")
# A syllable's letters without tone marks: onset, vowel nucleus, final.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(?:a|ă|â|e|ê|i|o|ô|ơ|u|ư|y|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|iê|iêu|oa|oă|oe|oi|oai|oao|oay|oeo|ôi|ơi|ua|uâ|uê|ui|"
    r"uy|uya|uyê|uôi|uô|ươ|ươi|ươu|ưa|ưi|ưu|yê|yêu|uơ|uai|uây|uyu)"
    r"(?:ch|ng|nh|[cmnpt])?"
)


def _quality_keys(word: str) -> bool:
    """Whether a word holds a Telex key for đ, ă, â, ê, ô, ơ or ư."""
    return word.startswith("dd") or any(keys in word for keys in ("w", "aa", "ee", "oo"))


@functools.lru_cache(maxsize=16384)
def decode(word: str) -> str | None:
    """The syllable a word typed in Telex stands for, or None when it is not one
    (a canonical, lower-case token; the result is NFC with its tone mark placed)."""
    if not _LETTERS.fullmatch(word) or len(word) < 2:
        return None
    tone = ""
    body = word
    if body[-1] in _TONE_KEYS and any(ch in "aeiouyăâêôơư" for ch in body[:-1]):
        tone, body = _TONE_KEYS[body[-1]], body[:-1]
    elif (inner := _TONE_INSIDE.fullmatch(body)) is not None:  # the tone key before the final: "dduwojc"
        tone, body = _TONE_KEYS[inner.group(2)], inner.group(1) + inner.group(3)
    if not tone and not _quality_keys(body):
        return None
    if body.startswith("dd"):
        body = "đ" + body[2:]
    for keys, letter in _QUALITY:
        body = body.replace(keys, letter)
    if "w" in body or not _SYLLABLE.fullmatch(body):
        return None
    if not tone:
        return body
    syllable = place_tone(unicodedata.normalize("NFD", body) + tone)
    return unicodedata.normalize("NFC", syllable)


def surely_telex(word: str) -> bool:
    """A word typed in Telex that no English word looks like: decoded, of three letters
    or more ("of", "or"), and marked by more than a final or inner "s" (English plurals
    and "its": "gas", "bus")."""
    if len(word) < 3 or decode(word) is None:
        return False
    if _quality_keys(word):
        return True
    inner = _TONE_INSIDE.fullmatch(word)
    return word[-1] in "frxj" or (inner is not None and inner.group(2) != "s")
