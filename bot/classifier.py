"""A learned second opinion: which entry a Vietnamese message is about, from the entries' own strings.

A multinomial logistic regression over TF-IDF features of the normalised key (word 1-2-grams
and character 2-5-grams within words, sublinear tf), one class per entry (out-of-scope
entries too), trained on every question string of the knowledge base when the matcher is
built (`shared/reference/vietnamese-retrieval.md`, section 6, measured the idea). The
matcher uses it only to confirm or doubt its own best entry (`Matcher._decide`): it never
ranks on its own. On by default (`MATCH_CLASSIFIER`): it raised answered-correct on every
set, the held-back ones included (`eval/matcher2-log.md`).

scikit-learn trains it; `predict` computes the same probabilities itself from the fitted
vocabularies, IDF weights and coefficients (a few hundred microseconds instead of
scikit-learn's 1.5 ms of per-call checks; `tests/test_matcher_generalise.py` checks that
the two agree).

Training takes a few seconds, so a trained model is kept per set of strings in this
process (tests and `cdsbot eval` build the same knowledge base many times), travels to the
match worker inside its recipe (`fingerprint` tells that it was trained on the same
strings), and is skipped above `MAX_ENTRIES` entries, where a class per entry costs too
much memory and time (the lexical matcher alone is measured at 10,000 entries in
`bench/matcher.py`). scikit-learn missing means no second opinion, not an error.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["EntryClassifier", "MAX_ENTRIES", "fingerprint"]

logger = logging.getLogger(__name__)
MAX_ENTRIES = 400
C = 20.0
_CACHE: OrderedDict[str, EntryClassifier] = OrderedDict()
_CACHE_SIZE = 4


def fingerprint(keys: Sequence[str], labels: Sequence[int]) -> str:
    """What a classifier was trained on, in 32 hex digits (the same strings, the same entries)."""
    h = hashlib.blake2b(digest_size=16)
    for key, label in zip(keys, labels, strict=True):
        h.update(f"{label}\x1f{key}\x1e".encode())
    return h.hexdigest()


class EntryClassifier:
    """Trained on (key, entry index) pairs; `predict(key)` gives the likeliest entry and its probability."""

    def __init__(self, keys: Sequence[str], labels: Sequence[int]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_union

        self.fingerprint = fingerprint(keys, labels)
        self.vectorizer = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"),
        )
        x = self.vectorizer.fit_transform(list(keys))
        self.model = LogisticRegression(C=C, max_iter=1000)
        self.model.fit(x, np.asarray(labels))
        self.classes = self.model.classes_
        self._fast: _Fast | None = None

    @classmethod
    def build(cls, keys: Sequence[str], labels: Sequence[int], trained: Sequence[EntryClassifier] = ()
              ) -> EntryClassifier | None:
        """A classifier for these strings: one of `trained` that was trained on them, else one
        from this process's cache, else a new one; None when there is too little or too much
        to learn, or no scikit-learn."""
        n = len(set(labels))
        if n < 2 or n > MAX_ENTRIES:
            return None
        key = fingerprint(keys, labels)
        found = next((t for t in trained if t.fingerprint == key), None) or _CACHE.get(key)
        if found is None:
            try:
                found = cls(keys, labels)
            except ImportError:
                logger.warning("scikit-learn is not installed: matching without the learned second opinion")
                return None
        _CACHE[key] = found
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fast"] = None  # rebuilt on first use: half the size on the pipe to the match worker
        return state

    def predict(self, key: str) -> tuple[int, float]:
        """(entry index, probability) of the likeliest entry for a normalised key."""
        p = self.probabilities(key)
        i = int(np.argmax(p))
        return int(self.classes[i]), float(p[i])

    def probabilities(self, key: str) -> np.ndarray:
        """Each class's probability, as scikit-learn's `predict_proba` gives it: per part of
        the feature union, counts of the analyser's n-grams, sublinear tf × IDF, L2-normed;
        then the linear model and the softmax."""
        fast = self._fast
        if fast is None:
            fast = self._fast = _Fast(self)
        columns: list[int] = []
        values: list[np.ndarray] = []
        for analyse, vocabulary, idf, offset in fast.parts:
            found: list[int] = []
            weights: list[float] = []
            for gram, count in Counter(analyse(key)).items():
                j = vocabulary.get(gram)
                if j is not None:
                    found.append(j)
                    weights.append((1.0 + math.log(count)) * idf[j])
            if weights:
                v = np.array(weights)
                v /= np.linalg.norm(v)
                columns.extend(j + offset for j in found)
                values.append(v)
        z = fast.intercept.copy()
        if columns:
            z += np.concatenate(values) @ fast.coef_t[columns]
        if len(z) == 1:  # two entries: one coefficient row, the logistic function
            p = 1.0 / (1.0 + math.exp(-float(z[0])))
            return np.array([1.0 - p, p])
        z -= z.max()
        e = np.exp(z)
        return e / e.sum()


class _Fast:
    """What `EntryClassifier.probabilities` needs, taken once from the fitted pipeline."""

    def __init__(self, clf: EntryClassifier) -> None:
        self.parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]] = []
        offset = 0
        for _, vectorizer in clf.vectorizer.transformer_list:
            self.parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        self.coef_t = np.ascontiguousarray(clf.model.coef_.T)
        self.intercept = np.asarray(clf.model.intercept_, dtype=np.float64)
