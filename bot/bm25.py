"""A small BM25 index over weighted features, with numpy postings.

Each document is a bag of features (strings). Building precomputes, for every feature,
its postings (document numbers) and the BM25 weight of the feature in each of them, so
scoring a query is one concatenation and one `numpy.bincount`: about a millisecond at
tens of thousands of documents, where a dict-of-postings loop in Python takes ten.
Features found in a large share of the documents (`DENSE_SHARE`: "cho", "giấy" among
10,000 public-service entries) are kept as dense rows instead: adding a row is about five
times cheaper than scattering as many postings, and a long message has many such words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["BM25Index"]

FloatArray = npt.NDArray[np.float32]

DENSE_SHARE = 0.1  # a feature in more than this share of the documents (and DENSE_MIN) is a dense row
DENSE_MIN = 1000


class BM25Index:
    """Okapi BM25 (k1, b) over documents given as feature counters.

    Parameters:
        docs: one `Counter` of features per document.
        kind_of, kinds: the kind of a feature (word, bigram, ...) and each kind's column
            in `self_parts`, so self-scores can be weighted per kind afterwards.
        k1, b: the usual BM25 constants (1.2 and 0.75 as in the measurements).
        max_df, prune: features for which `prune` is true and that occur in more than
            this share of the documents (and in more than `min_df`) are left out.
    """

    def __init__(
        self,
        docs: Sequence[Mapping[str, float]],
        kind_of: Callable[[str], str],
        kinds: Mapping[str, int],
        k1: float = 1.2,
        b: float = 0.75,
        max_df: float = 1.0,
        min_df: int = 0,
        prune: Callable[[str], bool] | None = None,
    ) -> None:
        self.n_docs = len(docs)
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if self.n_docs else 1.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        if prune is not None:
            # Features in a large share of the documents (character 3-grams such as "#ng")
            # say little and cost the most; dropping them from index and self-scores alike
            # keeps scores consistent and queries fast on large knowledge bases.
            limit = max(max_df * self.n_docs, min_df)
            dropped = {t for t, n in df.items() if n > limit and prune(t)}
            for t in dropped:
                del df[t]
            docs = [{t: tf for t, tf in d.items() if t in df} for d in docs]
        self.idf = {t: math.log(1.0 + (self.n_docs - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        post_docs: dict[str, list[int]] = {t: [] for t in df}
        post_w: dict[str, list[float]] = {t: [] for t in df}
        norm = k1 * (1.0 - b + b * lengths / (avg or 1.0))
        # self_parts[i, k]: BM25(d_i, d_i) restricted to features of kind k, query weight 1
        # per occurrence; the matcher mixes the kinds with its own multipliers.
        self.self_parts = np.zeros((self.n_docs, len(kinds)), dtype=np.float64)
        for i, d in enumerate(docs):
            ni = norm[i]
            row = self.self_parts[i]
            for t, tf in d.items():
                w = self.idf[t] * tf * (k1 + 1.0) / (tf + ni)
                post_docs[t].append(i)
                post_w[t].append(w)
                row[kinds[kind_of(t)]] += w * tf
        dense_at = max(DENSE_SHARE * self.n_docs, DENSE_MIN)
        common = [t for t, v in post_docs.items() if len(v) > dense_at]
        self._row = {t: r for r, t in enumerate(common)}
        self._dense = np.zeros((len(common), self.n_docs), dtype=np.float32)
        for t, r in self._row.items():
            self._dense[r, post_docs[t]] = post_w[t]
        self._known = frozenset(df)
        # feature → (its postings, their weights), or the row of a dense feature: one look-up a feature.
        self._post: dict[str, tuple[npt.NDArray[np.int32], FloatArray] | int] = {
            t: (np.array(v, dtype=np.int32), np.array(post_w[t], dtype=np.float32))
            for t, v in post_docs.items() if t not in self._row}
        self._post.update(self._row)

    def scores(self, query: Mapping[str, float]) -> FloatArray:
        """BM25 score of every document for a query given as feature → query weight."""
        parts_d: list[npt.NDArray[np.int32]] = []
        parts_w: list[FloatArray] = []
        qws: list[float] = []
        rows: list[int] = []
        row_ws: list[float] = []
        post = self._post
        for t, qw in query.items():
            found = post.get(t)
            if found is None:
                continue
            if isinstance(found, int):
                rows.append(found)
                row_ws.append(qw)
                continue
            parts_d.append(found[0])
            parts_w.append(found[1])
            qws.append(qw)
        if parts_d:
            # One multiplication for all postings: each posting's weight times its feature's query weight.
            factors = np.repeat(np.array(qws, dtype=np.float32), [len(d) for d in parts_d])
            out = np.bincount(np.concatenate(parts_d), weights=np.concatenate(parts_w) * factors, minlength=self.n_docs)
        else:
            out = np.zeros(self.n_docs, dtype=np.float64)
        scores = out.astype(np.float32)
        if rows:
            tmp = np.empty(self.n_docs, dtype=np.float32)
            for r, qw in zip(rows, row_ws, strict=True):
                np.multiply(self._dense[r], np.float32(qw), out=tmp)
                scores += tmp
        return scores

    def known(self, feature: str) -> bool:
        """Whether any document has this feature."""
        return feature in self._known
