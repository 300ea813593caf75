"""rapidfuzz's `token_set_ratio` of one message against many question strings, mostly
without computing an edit distance.

`token_set_ratio(a, b)` splits both strings into sets of words and, with `sect` the
words they share and `ab`, `ba` the words only one of them has (each sorted and joined
by spaces, lengths in characters), takes the best of three ratios:
- `sect` against `sect ab`, and `sect` against `sect ba`: their distance is the length of
  what is added, so these two follow from the lengths alone;
- `sect ab` against `sect ba`: `100 - 100 × indel(ab, ba) / (|sect ab| + |sect ba|)`,
  which needs the edit distance of `ab` and `ba`; it is 100 when one set holds the other.
The distance is at least the difference of the two lengths, which bounds the third
ratio from above. For a long message against a short string (`ab` long, `ba` short) the
bound is below the first two ratios, so the score is exact without the distance: the
case that made long messages the slowest to match. Where the bound does not settle it,
rapidfuzz computes the ratio.

The words of every string are counted once when the index is built; a message costs a
few array operations for all the strings it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

__all__ = ["TokenSets"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


class TokenSets:
    """The distinct words of each string, for `token_set_ratio` against many strings."""

    def __init__(self, strings: Sequence[str]) -> None:
        self.strings = list(strings)
        ids: dict[str, int] = {}
        flat: list[int] = []
        ptr = [0]
        for s in self.strings:
            for word in set(s.split()):
                flat.append(ids.setdefault(word, len(ids)))
            ptr.append(len(flat))
        self._ids = ids
        self._flat = np.array(flat, dtype=np.intp)
        self._ptr = np.array(ptr, dtype=np.intp)
        word_len = np.zeros(len(ids), dtype=np.float64)
        for word, i in ids.items():
            word_len[i] = len(word)
        self._flat_len = word_len[self._flat]
        counts = np.diff(self._ptr)
        self._count = counts.astype(np.float64)
        # Characters of each string's distinct words (a string without words has none).
        self._chars = np.bincount(np.repeat(np.arange(len(counts)), counts), weights=self._flat_len,
                                  minlength=len(counts))

    def __len__(self) -> int:
        return len(self.strings)

    def bounds(self, key: str, which: IntArray) -> tuple[FloatArray, FloatArray]:
        """For the strings `which`: the ratio where the lengths settle it (NaN elsewhere),
        and an upper bound of the ratio everywhere."""
        words = set(key.split())
        n = len(which)
        if not words or n == 0:
            return np.zeros(n), np.zeros(n)
        member = np.zeros(len(self._ids), dtype=np.float64)
        member[[self._ids[w] for w in words if w in self._ids]] = 1.0
        key_count = float(len(words))
        key_chars = float(sum(len(w) for w in words))
        starts = self._ptr[which]
        sizes = self._ptr[which + 1] - starts
        firsts = np.cumsum(sizes) - sizes
        # Every word of every string asked for, string after string, and whose it is.
        offsets = np.repeat(starts - firsts, sizes) + np.arange(int(sizes.sum()))
        owner = np.repeat(np.arange(n), sizes)
        shared_flags = member[self._flat[offsets]]
        sect_n = np.bincount(owner, weights=shared_flags, minlength=n)
        sect_c = np.bincount(owner, weights=shared_flags * self._flat_len[offsets], minlength=n)
        ba_n = self._count[which] - sect_n
        ab_n = key_count - sect_n
        sect = np.where(sect_n > 0, sect_c + sect_n - 1.0, 0.0)
        ab = np.where(ab_n > 0, key_chars - sect_c + ab_n - 1.0, 0.0)
        ba = np.where(ba_n > 0, self._chars[which] - sect_c + ba_n - 1.0, 0.0)
        glue = (sect_n > 0).astype(np.float64)
        sect_ab = sect + glue + ab
        sect_ba = sect + glue + ba
        with np.errstate(divide="ignore", invalid="ignore"):
            r_ab = np.where(sect_n > 0, 100.0 - 100.0 * (glue + ab) / (sect + sect_ab), 0.0)
            r_ba = np.where(sect_n > 0, 100.0 - 100.0 * (glue + ba) / (sect + sect_ba), 0.0)
            lensum = sect_ab + sect_ba
            r_diff = np.where(lensum > 0, 100.0 - 100.0 * np.abs(ab - ba) / lensum, 100.0)
        upper = np.maximum(np.maximum(r_ab, r_ba), r_diff)
        exact = np.where(r_diff <= np.maximum(r_ab, r_ba), np.maximum(r_ab, r_ba), np.nan)
        subset = (sect_n > 0) & ((ab_n == 0) | (ba_n == 0))
        exact[subset] = 100.0
        upper[subset] = 100.0
        empty = sizes == 0
        exact[empty] = 0.0
        upper[empty] = 0.0
        return exact, upper

    def ratios(self, key: str, which: IntArray) -> FloatArray:
        """`fuzz.token_set_ratio(key, strings[i])` for each i of `which`."""
        exact, _ = self.bounds(key, which)
        todo = np.flatnonzero(np.isnan(exact))
        if len(todo):
            exact[todo] = self.compute(key, which[todo])
        return exact

    def compute(self, key: str, which: IntArray) -> FloatArray:
        """The ratios by rapidfuzz itself."""
        choices = [self.strings[i] for i in which.tolist()]
        out: FloatArray = process.cdist([key], choices, scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
        return out
