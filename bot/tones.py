"""Where a Vietnamese syllable's tone mark goes (one rule for `bot.text.canon` and
`bot.telex`)."""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["place_tone"]

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = set("aeiouy")


@functools.lru_cache(maxsize=65536)
def place_tone(word: str) -> str:
    """Put the tone mark of one NFD syllable on the vowel Vietnamese spelling rules pick.

    Canonical style puts the mark on the first vowel of an open oa/oe/uy syllable
    (hòa, khỏe, thủy). A word that is not a Vietnamese syllable is returned unchanged.
    """
    tone = ""
    letters: list[list[str]] = []  # [base letter, quality marks]
    for ch in word:
        if ch in _TONES:
            if tone:  # two tone marks: not a syllable we can repair
                return word
            tone = ch
        elif unicodedata.combining(ch):
            if not letters:
                return word
            letters[-1][1] += ch
        else:
            letters.append([ch, ""])
    if not tone:
        return word
    bases = "".join(b for b, _ in letters)
    start = 0
    if bases.startswith("qu"):
        start = 2
    elif bases.startswith("gi") and len(bases) > 2 and bases[2] in _VOWELS:
        start = 2
    first = next((i for i in range(start, len(letters)) if letters[i][0] in _VOWELS), None)
    if first is None:
        # "gì" / "quả"-like words whose only vowel sits in the onset.
        first = next((i for i in range(len(letters)) if letters[i][0] in _VOWELS), None)
        if first is None:
            return word
    end = first
    while end + 1 < len(letters) and letters[end + 1][0] in _VOWELS:
        end += 1
    cluster = range(first, end + 1)
    qualified = [i for i in cluster if letters[i][1]]
    closed = end + 1 < len(letters)
    if qualified:
        target = qualified[-1]  # ươ takes the mark on ơ
    elif len(cluster) == 1:
        target = first
    elif closed:
        target = end
    elif len(cluster) == 3:
        target = first + 1
    else:
        target = first
    letters[target][1] += tone
    return "".join(b + m for b, m in letters)
