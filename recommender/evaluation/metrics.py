"""Offline evaluation: metrics on ids and scores, no I/O.

How to use it
-------------
Every function takes plain Python data (article ids, scores, counts) and returns a float, so
it works the same on a model's lists, on precomputed outputs or on another system's logs::

    >>> from recommender.evaluation.metrics import precision_at_k, ndcg_at_k, mean_over_queries
    >>> shown = ["a2", "a7", "a3"]             # a Related list, best first
    >>> story = {"a2", "a3", "a9"}             # what a judge calls relevant
    >>> precision_at_k(shown, story, k=3), round(ndcg_at_k(shown, story, k=3), 3)
    (0.6666666666666666, 0.704)
    >>> mean_over_queries([0.5, float("nan"), 1.0])   # nan = a query nothing can be relevant for
    0.75

Three families:

* **Ranking metrics for one list** (``recommended`` ids best first, ``relevant`` ids):
  :func:`precision_at_k`, :func:`recall_at_k`, :func:`hit_rate_at_k`, :func:`ndcg_at_k`,
  :func:`reciprocal_rank`, :func:`average_precision`. Average them with :func:`mean_over_queries`
  (MAP is the mean of :func:`average_precision`).
* **Beyond accuracy, over a set of lists**: :func:`catalogue_coverage`,
  :func:`intra_list_similarity` (and :func:`intra_list_similarity_rows` for unit vectors),
  :func:`novelty`, :func:`popularity_bias`, :func:`near_duplicate_rate`
  (and :func:`near_duplicate_rate_rows`).
* **Impression metrics** exactly as the MIND benchmark's ``evaluate.py`` computes them from one
  impression's candidate scores and click labels: :func:`auc`, :func:`mrr_impression`,
  :func:`ndcg_impression`; and :func:`pearson`, :func:`spearman` for human-judgment benchmarks
  (see :mod:`recommender.evaluation.lee`).

Conventions
-----------
* The list is judged **as shown**: the first ``k`` positions count; a ``k`` longer than the list
  counts the missing places as misses (precision divides by ``k``); an id repeated in the list
  earns nothing after its first occurrence but still takes its place.
* An empty ``recommended`` list scores ``0``.
* A query with **no relevant item** cannot be judged: ranking metrics return ``nan`` and
  :func:`mean_over_queries` skips it (likewise an impression without clicks, or with only clicks).
* ``relevant`` may be a collection of ids or a mapping ``id -> gain``; ids with a positive gain are
  relevant, and :func:`ndcg_at_k` uses the gains (linear, as scikit-learn's ``ndcg_score``).
* Bad arguments (``k < 1``, mismatched lengths, negative gains) raise
  :class:`~recommender.exceptions.InvalidOptionError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.stats

from ..exceptions import InvalidOptionError

__all__ = [
    "auc", "average_precision", "catalogue_coverage", "hit_rate_at_k", "intra_list_similarity",
    "intra_list_similarity_rows", "mean_over_queries", "mrr_impression", "ndcg_at_k", "ndcg_impression",
    "near_duplicate_rate", "near_duplicate_rate_rows", "novelty", "pearson", "popularity_bias",
    "precision_at_k", "recall_at_k", "reciprocal_rank", "spearman",
]

Relevant = Collection[Hashable] | Mapping[Hashable, float]
NAN = float("nan")


# ---------------------------------------------------------------- argument checks
def _check_k(k: Any, *, optional: bool = False) -> int | None:
    if optional and k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidOptionError(f"k must be a positive integer{' or None' if optional else ''}, got {k!r}")
    return int(k)


def _ids(values: Any, name: str) -> list:
    if isinstance(values, (str, bytes)):
        raise InvalidOptionError(f"{name} must be a collection of ids, not a single string; wrap it in a list")
    return list(values)


def _gains(relevant: Relevant) -> dict:
    """``id -> gain`` of the relevant ids (gain 1 for a plain collection)."""
    if isinstance(relevant, Mapping):
        gains = {}
        for item, gain in relevant.items():
            gain = float(gain)
            if not gain >= 0:
                raise InvalidOptionError(f"gains must be non-negative numbers, got {gain!r} for {item!r}")
            if gain > 0:
                gains[item] = gain
        return gains
    return dict.fromkeys(_ids(relevant, "relevant"), 1.0)


def _first_hits(recommended: Sequence[Hashable], relevant: Relevant, k: int | None) -> tuple[np.ndarray, dict]:
    """Gain earned at each of the first ``k`` positions (repeats earn 0), and the gains."""
    gains = _gains(relevant)
    shown = _ids(recommended, "recommended")[:k]
    seen: set = set()
    earned = np.zeros(len(shown))
    for position, item in enumerate(shown):
        if item not in seen:
            seen.add(item)
            earned[position] = gains.get(item, 0.0)
    return earned, gains


# ---------------------------------------------------------------- one list
def precision_at_k(recommended: Sequence[Hashable], relevant: Relevant, k: int) -> float:
    """Share of the first ``k`` places holding a relevant id (missing places count as misses).

    Examples
    --------
    >>> precision_at_k(["a", "b", "c"], {"a", "c", "z"}, k=2)
    0.5
    >>> precision_at_k(["a"], {"a"}, k=4)   # divides by k, not by the list's length
    0.25
    """
    earned, gains = _first_hits(recommended, relevant, _check_k(k))
    return NAN if not gains else float(np.count_nonzero(earned)) / k


def recall_at_k(recommended: Sequence[Hashable], relevant: Relevant, k: int) -> float:
    """Share of the relevant ids found in the first ``k`` places.

    Examples
    --------
    >>> recall_at_k(["a", "b", "c"], {"a", "c", "z", "y"}, k=3)
    0.5
    """
    earned, gains = _first_hits(recommended, relevant, _check_k(k))
    return NAN if not gains else float(np.count_nonzero(earned)) / len(gains)


def hit_rate_at_k(recommended: Sequence[Hashable], relevant: Relevant, k: int) -> float:
    """``1.0`` if any of the first ``k`` places holds a relevant id, else ``0.0``.

    Examples
    --------
    >>> hit_rate_at_k(["a", "b", "c"], {"c"}, k=2), hit_rate_at_k(["a", "b", "c"], {"c"}, k=3)
    (0.0, 1.0)
    """
    earned, gains = _first_hits(recommended, relevant, _check_k(k))
    return NAN if not gains else float(earned.any())


def ndcg_at_k(recommended: Sequence[Hashable], relevant: Relevant, k: int) -> float:
    """Normalised discounted cumulative gain of the first ``k`` places.

    ``DCG = sum(gain_i / log2(i + 1))`` over positions ``i = 1..k``; the ideal DCG places the
    relevant ids' gains in decreasing order (at most ``k`` of them). Gains are 1 for a collection
    of ids, or the values of an ``id -> gain`` mapping (linear gains).

    Examples
    --------
    >>> round(ndcg_at_k(["x", "a"], {"a"}, k=2), 4)   # 1/log2(3) over 1
    0.6309
    >>> round(ndcg_at_k(["b", "a"], {"a": 3, "b": 1}, k=2), 4)   # (1 + 3/log2(3)) / (3 + 1/log2(3))
    0.7967
    """
    k = _check_k(k)
    earned, gains = _first_hits(recommended, relevant, k)
    if not gains:
        return NAN
    ideal = np.sort(np.fromiter(gains.values(), dtype=float))[::-1][:k]
    dcg = float(np.sum(earned / np.log2(np.arange(len(earned)) + 2)))
    return dcg / float(np.sum(ideal / np.log2(np.arange(len(ideal)) + 2)))


def reciprocal_rank(recommended: Sequence[Hashable], relevant: Relevant, k: int | None = None) -> float:
    """``1 / rank`` of the first relevant id within the first ``k`` places (all if ``None``), else 0.

    Examples
    --------
    >>> reciprocal_rank(["x", "y", "a"], {"a", "b"})
    0.3333333333333333
    >>> reciprocal_rank(["x", "y", "a"], {"a"}, k=2)
    0.0
    """
    earned, gains = _first_hits(recommended, relevant, _check_k(k, optional=True))
    if not gains:
        return NAN
    found = np.flatnonzero(earned)
    return 1.0 / (int(found[0]) + 1) if found.size else 0.0


def average_precision(recommended: Sequence[Hashable], relevant: Relevant, k: int | None = None) -> float:
    """Mean of the precision at each rank holding a relevant id, over the relevant ids.

    Divides by the number of relevant ids, or by ``min(k, n_relevant)`` when ``k`` is given (the
    usual AP@k). MAP is :func:`mean_over_queries` of this value. With every relevant id in the
    list it equals scikit-learn's ``average_precision_score`` on the same ranking.

    Examples
    --------
    >>> average_precision(["a", "x", "b"], {"a", "b"})   # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    k = _check_k(k, optional=True)
    earned, gains = _first_hits(recommended, relevant, k)
    if not gains:
        return NAN
    hits = earned > 0
    precisions = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
    return float(precisions.sum()) / (len(gains) if k is None else min(k, len(gains)))


def mean_over_queries(values: Iterable[float]) -> float:
    """Mean of per-query values, skipping ``nan`` (queries that cannot be judged).

    Returns ``nan`` when no value can be averaged.

    Examples
    --------
    >>> mean_over_queries([1.0, 0.0, float("nan")])
    0.5
    """
    values = np.asarray(list(values), dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else NAN


# ---------------------------------------------------------------- a set of lists
def catalogue_coverage(lists: Iterable[Sequence[Hashable]], catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one list.

    Examples
    --------
    >>> catalogue_coverage([["a", "b"], ["b", "c"]], catalogue_size=6)
    0.5
    """
    if isinstance(catalogue_size, bool) or not isinstance(catalogue_size, (int, np.integer)) or catalogue_size < 1:
        raise InvalidOptionError(f"catalogue_size must be a positive integer, got {catalogue_size!r}")
    shown = {item for items in lists for item in _ids(items, "each list")}
    if len(shown) > catalogue_size:
        raise InvalidOptionError(f"the lists hold {len(shown)} distinct ids, more than catalogue_size={catalogue_size}")
    return len(shown) / int(catalogue_size)


def _mean_pairwise(matrices: Iterable[np.ndarray]) -> float:
    """Mean over lists of the mean off-diagonal entry; lists of fewer than 2 items are skipped."""
    means = []
    for pairwise in matrices:
        n = pairwise.shape[0]
        if n >= 2:
            means.append((pairwise.sum() - np.trace(pairwise)) / (n * (n - 1)))
    return mean_over_queries(means)


def intra_list_similarity(lists: Iterable[Sequence[Any]], similarity: Callable[[Any, Any], float] | Any) -> float:
    """Mean pairwise similarity inside a list, averaged over lists (lower = more diverse).

    Parameters
    ----------
    lists : iterable of sequences
        Ids (with a callable ``similarity``) or row numbers (with a matrix).
    similarity : callable or array of shape (n, n)
        ``similarity(a, b) -> float``, or a dense or sparse matrix of pairwise similarities.

    Returns
    -------
    float
        ``nan`` when no list holds two items.

    Examples
    --------
    >>> import numpy as np
    >>> pairwise = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]])
    >>> round(intra_list_similarity([[0, 1, 2], [0, 1]], pairwise), 4)   # mean of 0.2333 and 0.5
    0.3667
    """
    if callable(similarity):
        def pairs(items: list) -> np.ndarray:
            pairwise = np.eye(len(items))
            for i, j in zip(*np.triu_indices(len(items), 1)):
                pairwise[i, j] = pairwise[j, i] = similarity(items[i], items[j])
            return pairwise
    else:
        matrix = similarity.tocsr() if sp.issparse(similarity) else np.asarray(similarity, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise InvalidOptionError(f"a similarity matrix must be square, got shape {matrix.shape}")

        def pairs(items: list) -> np.ndarray:
            block = matrix[np.asarray(items, dtype=np.int64)][:, np.asarray(items, dtype=np.int64)]
            return block.toarray() if sp.issparse(block) else block
    return _mean_pairwise(pairs(_ids(items, "each list")) for items in lists)


def intra_list_similarity_rows(lists: Iterable[Sequence[int]], vectors: Any) -> float:
    """:func:`intra_list_similarity` as mean pairwise cosine of unit-length rows.

    Parameters
    ----------
    lists : iterable of sequences of int
        Row numbers of ``vectors`` (e.g. ``rec.catalog_.rows(ids)``).
    vectors : scipy.sparse matrix or ndarray of shape (n_rows, n_features)
        L2-normalised rows (``rec.index_.vectors``).

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    >>> round(intra_list_similarity_rows([[0, 1, 2]], vectors), 4)   # (0.6 + 0 + 0.8) / 3
    0.4667
    """
    def block(rows: Sequence[int]) -> np.ndarray:
        part = vectors[np.asarray(rows, dtype=np.int64)]
        product = part @ part.T
        return product.toarray() if sp.issparse(product) else np.asarray(product)
    return _mean_pairwise(block(_ids(rows, "each list")) for rows in lists)


def _counts(popularity_counts: Mapping[Hashable, float]) -> dict:
    counts = {item: float(count) for item, count in popularity_counts.items()}
    if any(not count >= 0 for count in counts.values()):
        raise InvalidOptionError("popularity counts must be non-negative numbers")
    return counts


def novelty(lists: Iterable[Sequence[Hashable]], popularity_counts: Mapping[Hashable, float]) -> float:
    """Mean self-information ``-log2 p(i)`` of the recommended items, in bits.

    ``p(i)`` is the item's share of all interactions in ``popularity_counts``; an item with no
    interaction (missing or zero) counts as one interaction, the rarest observable. The mean is
    taken inside each list, then over the non-empty lists.

    Examples
    --------
    >>> round(novelty([["hit", "niche"]], {"hit": 6, "niche": 2}), 4)   # (-log2 0.75 - log2 0.25) / 2
    1.2075
    """
    counts = _counts(popularity_counts)
    total = sum(counts.values())
    if total <= 0:
        raise InvalidOptionError("popularity_counts must hold at least one interaction")
    per_list = []
    for items in lists:
        items = _ids(items, "each list")
        if items:
            per_list.append(np.mean([-math.log2(max(counts.get(item, 0.0), 1.0) / total) for item in items]))
    return mean_over_queries(per_list)


def popularity_bias(lists: Iterable[Sequence[Hashable]], popularity_counts: Mapping[Hashable, float]) -> float:
    """Mean popularity percentile of the recommended items, in [0, 1].

    The catalogue is the keys of ``popularity_counts``; an item's percentile is the share of
    catalogue items less popular than it plus half the share tied with it, so the catalogue
    averages 0.5: above 0.5 the lists favour popular items. Missing items count 0 interactions.
    Averaged inside each list, then over the non-empty lists.

    Examples
    --------
    >>> popularity_bias([["d"], ["a", "d"]], {"a": 1, "b": 2, "c": 3, "d": 4})   # 0.875, 0.5
    0.6875
    """
    counts = _counts(popularity_counts)
    if not counts:
        raise InvalidOptionError("popularity_counts must describe at least one item")
    ordered = np.sort(np.fromiter(counts.values(), dtype=float))
    per_list = []
    for items in lists:
        items = _ids(items, "each list")
        if items:
            values = np.array([counts.get(item, 0.0) for item in items])
            lower = np.searchsorted(ordered, values, side="left")
            tied = np.searchsorted(ordered, values, side="right") - lower
            per_list.append(float(np.mean((lower + tied / 2) / len(ordered))))
    return mean_over_queries(per_list)


def near_duplicate_rate(lists: Iterable[Sequence[Any]], are_duplicates: Callable[[Any, Any], bool]) -> float:
    """Share of lists holding at least one pair of near-duplicates (the same id twice counts).

    Examples
    --------
    >>> same_story = lambda a, b: a[0] == b[0]
    >>> near_duplicate_rate([["a1", "a2", "b1"], ["a1", "b1"], ["c1"]], same_story)
    0.3333333333333333
    """
    flagged = total = 0
    for items in lists:
        items = _ids(items, "each list")
        total += 1
        flagged += any(
            items[i] == items[j] or are_duplicates(items[i], items[j])
            for i in range(len(items)) for j in range(i + 1, len(items))
        )
    return flagged / total if total else NAN


def near_duplicate_rate_rows(lists: Iterable[Sequence[int]], vectors: Any, threshold: float) -> float:
    """:func:`near_duplicate_rate` where a pair of unit rows is a near-duplicate at cosine >= threshold.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0]])
    >>> near_duplicate_rate_rows([[0, 1], [0, 2], [1, 2]], vectors, threshold=0.9)
    0.3333333333333333
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
        raise InvalidOptionError(f"threshold must be a cosine in [-1, 1], got {threshold!r}")
    flagged = total = 0
    for rows in lists:
        rows = np.asarray(_ids(rows, "each list"), dtype=np.int64)
        total += 1
        if len(rows) >= 2:
            part = vectors[rows]
            product = part @ part.T
            pairwise = product.toarray() if sp.issparse(product) else np.asarray(product)
            upper = pairwise[np.triu_indices(len(rows), 1)]
            same = rows[:, None] == rows[None, :]
            flagged += bool((upper >= threshold).any() or same[np.triu_indices(len(rows), 1)].any())
    return flagged / total if total else NAN


# ---------------------------------------------------------------- MIND impressions
def _impression(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    scores, labels = np.asarray(scores, dtype=float).ravel(), np.asarray(labels, dtype=float).ravel()
    if scores.shape != labels.shape:
        raise InvalidOptionError(f"scores and labels must have the same length, got {scores.size} and {labels.size}")
    if np.isnan(scores).any() or np.isnan(labels).any():
        raise InvalidOptionError("scores and labels must not contain nan")
    return scores, labels


def _mind_order(scores: np.ndarray) -> np.ndarray:
    # MIND: np.argsort(y_score)[::-1]; a stable sort makes ties reproducible (later candidates first)
    return np.argsort(scores, kind="stable")[::-1]


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve of one impression (ties count half, as scikit-learn).

    Equals ``sklearn.metrics.roc_auc_score(labels, scores)``, the MIND ``AUC``; ``nan`` when the
    impression has no click or only clicks (scikit-learn raises there).

    Examples
    --------
    >>> auc([0.9, 0.4, 0.4, 0.1], [1, 0, 1, 0])
    0.875
    """
    scores, labels = _impression(scores, labels)
    if not np.isin(labels, (0, 1)).all():
        raise InvalidOptionError("auc needs binary labels (0 = not clicked, 1 = clicked)")
    positive = labels == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return NAN
    ranks = scipy.stats.rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def mrr_impression(scores: Sequence[float], labels: Sequence[int]) -> float:
    """MIND's ``mrr_score``: ``sum(label / rank) / sum(label)`` with candidates ranked by score.

    Note it averages the reciprocal ranks of *all* clicked candidates, not only the first.

    Examples
    --------
    >>> mrr_impression([0.9, 0.5, 0.7], [0, 1, 1])   # clicks at ranks 2 and 3
    0.41666666666666663
    """
    scores, labels = _impression(scores, labels)
    if labels.sum() <= 0:
        return NAN
    ranked = labels[_mind_order(scores)]
    return float(np.sum(ranked / (np.arange(len(ranked)) + 1)) / np.sum(ranked))


def ndcg_impression(scores: Sequence[float], labels: Sequence[float], k: int) -> float:
    """MIND's ``ndcg_score``: gains ``2**label - 1``, discounts ``log2(rank + 1)``, first ``k`` ranks.

    Examples
    --------
    >>> round(ndcg_impression([0.9, 0.5, 0.7], [0, 1, 0], k=5), 4)   # 1/log2(4) over 1
    0.5
    """
    k = _check_k(k)
    scores, labels = _impression(scores, labels)

    def dcg(order_by: np.ndarray) -> float:
        gains = 2 ** labels[_mind_order(order_by)[:k]] - 1
        return float(np.sum(gains / np.log2(np.arange(len(gains)) + 2)))

    best = dcg(labels)
    return dcg(scores) / best if best > 0 else NAN


# ---------------------------------------------------------------- correlation
def _pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size < 2:
        raise InvalidOptionError(f"x and y must have the same length, at least 2; got {x.size} and {y.size}")
    return x, y


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (``scipy.stats.pearsonr``); ``nan`` when either input is constant.

    Examples
    --------
    >>> round(pearson([1, 2, 3, 4], [1, 3, 2, 5]), 4)
    0.8315
    """
    x, y = _pair(x, y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(scipy.stats.pearsonr(x, y)[0])


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (``scipy.stats.spearmanr``); ``nan`` when either input is constant.

    Examples
    --------
    >>> round(spearman([1, 2, 3, 4], [1, 3, 2, 5]), 4)
    0.8
    """
    x, y = _pair(x, y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(scipy.stats.spearmanr(x, y)[0])
