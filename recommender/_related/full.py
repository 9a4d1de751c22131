"""The full-product strategy: score the query against every article, then walk the best.

How it works
------------
One sparse product ``vectors[rows] @ postings`` gives each query's TF-IDF cosine with every
article that shares a term with it (scipy's CSR kernel), plus ``profiles[rows] @
profile_postings`` for the anchored score; the query's exclusions and filters are masked and
:func:`~recommender._distinct.best_distinct` walks the best candidates (near-duplicates
skipped, ties by id). Exact by construction; its cost grows with the archive (the postings
of every query term), which is why :mod:`.pruned` exists. Memory per block is bounded by
``PRODUCT_ENTRIES``, never by the square of the archive.

Pure computation: arrays in, ``(row, score)`` lists out.
"""

from __future__ import annotations

import numpy as np

from .._distinct import best_distinct
from .._state import ModelState
from .query import RelatedQuery, masked_scores
from .time_prior import TimePrior, decayed_pairs

__all__ = ["PRODUCT_ENTRIES", "full_list", "full_lists"]

PRODUCT_ENTRIES = 16_000_000
"""A full product's entries held at once (~200 MB with the scores)."""


def full_list(state: ModelState, scores: np.ndarray, cosines: np.ndarray, query: RelatedQuery) -> list[tuple[int, float]]:
    """One Related list from a query's ``scores`` (what the list ranks by) and TF-IDF
    ``cosines`` (near-duplicate test and relevance gate) with every row: up to ``query.k``
    ``(row, score)`` pairs, best first."""
    scores = masked_scores(scores, cosines, state.catalog, query)
    return best_distinct(np.arange(len(scores)), scores, state.index, state.catalog, query.k,
                         query.duplicate_threshold, query.exclude_rows, state.profiles)


def full_lists(
    state: ModelState, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
    hidden: np.ndarray | None = None,
    prior: TimePrior | None = None,
) -> list[list[tuple[int, float]]]:
    """Related lists from the full products ``vectors[rows] @ postings`` (and the profiles'),
    never showing the ``hidden`` rows (boolean over every row, or ``None``).

    ``filtered_out`` (boolean over every row, the same for every row of the block) rules rows
    out, as a language filter does. A product row holds up to one entry per article, so rows
    are multiplied a few at a time (at most ``PRODUCT_ENTRIES`` entries in all): memory stays
    bounded whatever the block size.
    """
    step = max(1, PRODUCT_ENTRIES // max(state.index.n_rows, 1))
    if len(rows) > step:
        return [hits for start in range(0, len(rows), step)
                for hits in full_lists(state, rows[start:start + step], k, duplicate_threshold, min_similarity,
                                       hidden, prior)]
    index, catalog = state.index, state.catalog
    cosines = index.product(index.select(rows))
    product = cosines if state.profiles is None else state.profiles.block_scores(rows, cosines)
    scratch = np.zeros(index.n_rows, dtype=np.float32)  # one row's cosines, dense
    lists = []
    for position, row in enumerate(rows):
        start, end = product.indptr[position], product.indptr[position + 1]
        columns, scores = product.indices[start:end], product.data[start:end].copy()
        cosine_start, cosine_end = cosines.indptr[position], cosines.indptr[position + 1]
        scratch[cosines.indices[cosine_start:cosine_end]] = cosines.data[cosine_start:cosine_end]
        cosine = scratch[columns]
        scratch[cosines.indices[cosine_start:cosine_end]] = 0
        if state.profiles is not None:  # the time-proximity prior, as related_rows applies it
            scores = decayed_pairs(state, prior, scores, cosine, row, columns)
        scores[(cosine >= duplicate_threshold) | (cosine < min_similarity) | (columns == row)
               | catalog.removed[columns]] = -np.inf
        if hidden is not None:
            scores[hidden[columns]] = -np.inf
        # the row itself and its near-duplicates are masked above, as in a single related() call
        lists.append(best_distinct(columns.astype(np.int64), scores, index, catalog, k, duplicate_threshold,
                                   profiles=state.profiles))
    return lists
