"""A learned second opinion: which entry a Vietnamese message is about, from the entries' own strings.

A multinomial logistic regression over TF-IDF features of the normalised key (word 1-2-grams
and character 2-5-grams within words, sublinear tf), one class per entry (out-of-scope
entries too), trained on every question string of the knowledge base when the matcher is
built (`shared/reference/vietnamese-retrieval.md`, section 6, measured the idea). The
matcher uses it only to confirm or doubt its own best entry (`Matcher._decide`): it never
ranks on its own.

Training takes a few seconds, so a trained model is kept per set of strings in this
process (tests and `cdsbot eval` build the same knowledge base many times), and it is
skipped above `MAX_ENTRIES` entries, where a class per entry costs too much memory and time
(the lexical matcher alone is measured at 10,000 entries in `bench/matcher.py`).
scikit-learn missing means no second opinion, not an error.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

__all__ = ["EntryClassifier", "MAX_ENTRIES"]

logger = logging.getLogger(__name__)
MAX_ENTRIES = 400
C = 20.0
_CACHE: OrderedDict[tuple[tuple[int, str], ...], EntryClassifier] = OrderedDict()
_CACHE_SIZE = 4


class EntryClassifier:
    """Trained on (key, entry index) pairs; `predict(key)` gives the likeliest entry and its probability."""

    def __init__(self, keys: Sequence[str], labels: Sequence[int]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_union

        self.vectorizer = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"),
        )
        x = self.vectorizer.fit_transform(list(keys))
        self.model = LogisticRegression(C=C, max_iter=1000)
        self.model.fit(x, np.asarray(labels))
        self.classes = self.model.classes_

    @classmethod
    def build(cls, keys: Sequence[str], labels: Sequence[int]) -> EntryClassifier | None:
        """A classifier for these strings (from this process's cache when it has one), or
        None when there is too little or too much to learn, or no scikit-learn."""
        n = len(set(labels))
        if n < 2 or n > MAX_ENTRIES:
            return None
        key = tuple(zip(labels, keys, strict=True))
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
        try:
            made = cls(keys, labels)
        except ImportError:
            logger.warning("scikit-learn is not installed: matching without the learned second opinion")
            return None
        _CACHE[key] = made
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return made

    def predict(self, key: str) -> tuple[int, float]:
        """(entry index, probability) of the likeliest entry for a normalised key."""
        p = self.model.predict_proba(self.vectorizer.transform([key]))[0]
        i = int(np.argmax(p))
        return int(self.classes[i]), float(p[i])
